import OCI
import Testing

/// References normalised as Docker does (distribution's reference grammar).
struct ImageReferenceTests {
    @Test(arguments: [
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1"),
        ("me/app", "docker.io/me/app:latest", "me/app:latest"),
        ("quay.io/org/app:v1.2", "quay.io/org/app:v1.2", "quay.io/org/app:v1.2"),
        ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
        ("localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t"),
        ("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", "127.0.0.1:5000/app:latest"),
        ("[::1]:5000/app:x", "[::1]:5000/app:x", "[::1]:5000/app:x"),
        ("a__b/c-d.e_f---g:T_1.x-y", "docker.io/a__b/c-d.e_f---g:T_1.x-y", "a__b/c-d.e_f---g:T_1.x-y"),
    ])
    func normalises(_ input: String, _ full: String, _ familiar: String) throws {
        let reference = try ImageReference(parsing: input)
        #expect(reference.description == full)
        #expect(reference.familiar == familiar)
    }

    @Test func digestsKeepNoDefaultTag() throws {
        let hex = String(repeating: "ab", count: 32)
        let byDigest = try ImageReference(parsing: "busybox@sha256:\(hex)")
        #expect(byDigest.tag == nil)
        #expect(byDigest.description == "docker.io/library/busybox@sha256:\(hex)")
        #expect(byDigest.manifestReference == "sha256:\(hex)")
        let both = try ImageReference(parsing: "127.0.0.1:5000/app:1@sha256:\(hex)")
        #expect(both.registry == "127.0.0.1:5000")
        #expect(both.tag == "1")
        #expect(both.manifestReference == "sha256:\(hex)")
        let sha512 = try ImageReference(parsing: "app@sha512:\(String(repeating: "0", count: 128))")
        #expect(sha512.digest?.algorithm == .sha512)
    }

    @Test(arguments: [
        ("", "empty"),
        ("Busybox", "must be lowercase"),
        ("busybox:", "tag"),
        ("busybox:-x", "tag"),
        ("busybox@sha256:abc", "64"),
        ("busybox@md5:\(String(repeating: "0", count: 32))", "unsupported algorithm"),
        ("a//b", "empty path component"),
        ("a/b_-c", "path component"),
        ("-a", "path component"),
        ("busybox:\(String(repeating: "t", count: 129))", "tag"),
    ])
    func badReferencesSayWhy(_ input: String, _ reason: String) {
        #expect {
            _ = try ImageReference(parsing: input)
        } throws: { error in
            let message = (error as? ImageSpecError)?.message ?? ""
            return message.contains("invalid reference \"\(input)\"") && message.contains(reason)
        }
    }

    @Test func indexChoosesThePlatformAndSkipsAttestations() throws {
        let json = """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
             {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(String(repeating: "1", count: 64))","size":1,"platform":{"architecture":"unknown","os":"unknown"}},
             {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(String(repeating: "2", count: 64))","size":1,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
             {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(String(repeating: "3", count: 64))","size":1,"platform":{"architecture":"amd64","os":"linux"}}]}
            """
        guard case .index(let index) = try ManifestDocument.decode(Array(json.utf8), contentType: nil) else {
            Issue.record("not read as an index")
            return
        }
        #expect(index.manifest(for: Platform(architecture: "amd64", os: "linux"))?.digest.hex == String(repeating: "3", count: 64))
        #expect(index.manifest(for: try Platform(parsing: "linux/arm64"))?.digest.hex == String(repeating: "2", count: 64))
        #expect(index.manifest(for: try Platform(parsing: "linux/s390x")) == nil)
    }

    @Test func schemaOneIsRefusedClearly() {
        #expect(throws: ImageSpecError.self) {
            _ = try ManifestDocument.decode(Array(#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#.utf8), contentType: nil)
        }
    }
}
