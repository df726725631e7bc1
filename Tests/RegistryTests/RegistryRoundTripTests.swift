import Foundation
import NIOCore
import OCI
@testable import Registry
import Testing

@Suite("Push and pull against docker-registry", .enabled(if: Harness.registryInstalled, "docker-registry is not installed (apt-get install docker-registry)"))
struct RegistryRoundTripTests {
    @Test("blobs (monolithic and chunked), config and manifest go up and come back byte for byte")
    func pushAndPull() async throws {
        try await withRegistry { registry in
            let directory = try Harness.temporaryDirectory("blobs")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let client = RegistryClient(credentials: nil)
            let ref = try registry.reference("berth/app:v1")

            let small = try TestBlob.random(1_000, in: directory)
            let large = try TestBlob.random(300_001, in: directory)
            let empty = try TestBlob([], in: directory)
            #expect(try await client.pushBlob(ref, small.descriptor, file: small.path) == .uploaded)
            // 300 001 bytes in 64 KiB chunks: four full PATCHes, a short fifth, then PUT ?digest=.
            #expect(try await client.pushBlob(ref, large.descriptor, file: large.path, chunkSize: 65_536) == .uploaded)
            #expect(try await client.pushBlob(ref, empty.descriptor, file: empty.path) == .uploaded)
            #expect(try await client.pushBlob(ref, small.descriptor, file: small.path) == .existed)
            #expect(try await client.blobExists(ref, large.descriptor.digest))
            #expect(try await client.blobExists(ref, try sha256(Array("absent".utf8))) == false)

            let image = try await pushImage(client, ref, layers: [small, large, empty], directory: directory, tag: "v1")
            #expect(image.digest == (try sha256(image.bytes)))

            let byTag = try await client.manifest(ref)
            #expect(byTag.bytes == image.bytes)
            #expect(byTag.digest == image.digest)
            #expect(byTag.mediaType == MediaType.ociManifest)
            let byDigest = try await client.manifest(ref, digest: image.digest)
            #expect(byDigest.bytes == image.bytes && byDigest.digest == image.digest)
            var pinned = ref
            pinned.digest = image.digest
            #expect(try await client.manifest(pinned).bytes == image.bytes)
            guard case .manifest(let decoded) = try ManifestDocument.decode(byTag.bytes, contentType: byTag.mediaType) else {
                Issue.record("not a manifest")
                return
            }
            #expect(decoded.layers.map(\.digest) == [small, large, empty].map(\.descriptor.digest))

            let head = try await client.manifestDescriptor(ref)
            #expect(head == Descriptor(mediaType: MediaType.ociManifest, digest: image.digest, size: Int64(image.bytes.count)))
            #expect(try await client.manifestDescriptor(ref.with(tag: "nope")) == nil)

            for blob in [small, large, empty, image.config] {
                #expect(try await client.blobBytes(ref, blob.descriptor) == blob.bytes, "blob \(blob.descriptor.digest)")
            }
        }
    }

    @Test("fetchBlob from an offset delivers exactly the tail; at the end, nothing")
    func resumeFromOffset() async throws {
        try await withRegistry { registry in
            let directory = try Harness.temporaryDirectory("offset")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let client = RegistryClient(credentials: nil)
            let ref = try registry.reference("berth/offset:1")
            let blob = try TestBlob.random(200_000, in: directory)
            _ = try await client.pushBlob(ref, blob.descriptor, file: blob.path)
            for offset in [1, 65_536, 123_457, 199_999] {
                let tail = try await client.blobBytes(ref, blob.descriptor, from: Int64(offset))
                #expect(tail == Array(blob.bytes[offset...]), "from \(offset)")
            }
            var chunks = 0
            try await client.fetchBlob(ref, blob.descriptor, from: 200_000) { _ in chunks += 1 }
            #expect(chunks == 0)
            let error = await registryError { _ = try await client.blobBytes(ref, blob.descriptor, from: 200_001) }
            #expect(error?.kind == .local)
        }
    }

    @Test("cross-repository mount, tags with Link pagination, and not-found errors")
    func mountTagsAndErrors() async throws {
        try await withRegistry { registry in
            let directory = try Harness.temporaryDirectory("mount")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let client = RegistryClient(credentials: nil)
            let source = try registry.reference("team/base:1")
            let target = try registry.reference("team/derived:1")
            let layer = try TestBlob.random(50_000, in: directory)
            let image = try await pushImage(client, source, layers: [layer], directory: directory, tag: "1")

            #expect(try await client.pushBlob(target, layer.descriptor, file: layer.path, mountFrom: "team/base") == .mounted)
            #expect(try await client.pushBlob(target, layer.descriptor, file: layer.path, mountFrom: "team/base") == .existed)
            #expect(try await client.blobBytes(target, layer.descriptor) == layer.bytes)
            // A mount from a repository that lacks the blob falls back to uploading it.
            let other = try TestBlob.random(10_000, in: directory)
            #expect(try await client.pushBlob(target, other.descriptor, file: other.path, mountFrom: "team/base") == .uploaded)

            for tag in ["2", "alpha", "beta", "latest"] {
                _ = try await client.pushManifest(source, reference: tag, bytes: image.bytes, mediaType: MediaType.ociManifest)
            }
            let expected = ["1", "2", "alpha", "beta", "latest"]
            #expect(try await client.tags(source).sorted() == expected)
            #expect(try await client.tags(source, pageSize: 2).sorted() == expected)

            let missingTag = await registryError { _ = try await client.manifest(source.with(tag: "missing")) }
            #expect(missingTag?.kind == .notFound)
            #expect(missingTag?.status == 404)
            #expect(missingTag?.description.contains("manifest unknown") == true)
            #expect(missingTag?.description.contains("team/base:missing") == true)

            let absent = try TestBlob.random(10, in: directory)
            let missingBlob = await registryError { _ = try await client.blobBytes(source, absent.descriptor) }
            #expect(missingBlob?.kind == .notFound)
            #expect(missingBlob?.description.contains(absent.descriptor.digest.description) == true)

            let noRepository = await registryError { _ = try await client.tags(try registry.reference("nobody/here")) }
            #expect(noRepository?.kind == .notFound)
        }
    }

    @Test("a manifest whose bytes do not hash to the digest asked for, or announced, is refused")
    func tamperedManifest() async throws {
        try await withRegistry { registry in
            let directory = try Harness.temporaryDirectory("tamper")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let client = RegistryClient(credentials: nil)
            let ref = try registry.reference("berth/tamper:1")
            let layer = try TestBlob.random(100, in: directory)
            let image = try await pushImage(client, ref, layers: [layer], directory: directory, tag: "1",
                                            annotations: ["note": "original"])
            // Change the stored manifest in place, same length, behind the registry's back.
            let hex = image.digest.hex
            let stored = "\(registry.directory)/storage/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
            let original = try String(contentsOfFile: stored, encoding: .utf8)
            #expect(original.contains("original"))
            try original.replacingOccurrences(of: "original", with: "tampered").write(toFile: stored, atomically: false, encoding: .utf8)

            let byDigest = await registryError { _ = try await client.manifest(ref, digest: image.digest) }
            #expect(byDigest?.kind == .digestMismatch)
            #expect(byDigest?.description.contains(image.digest.description) == true)
            // By tag, the registry's Docker-Content-Digest no longer matches the bytes.
            let byTag = await registryError { _ = try await client.manifest(ref) }
            #expect(byTag?.kind == .digestMismatch)

            let unknown = try sha256(Array("no such manifest".utf8))
            let missing = await registryError { _ = try await client.manifest(ref, digest: unknown) }
            #expect(missing?.kind == .notFound)
        }
    }

    @Test("what the client pushes, skopeo inspects with the same digest and copies to an OCI layout",
          .enabled(if: Harness.skopeoInstalled, "skopeo is not installed"))
    func skopeoReadsWhatWePush() async throws {
        try await withRegistry { registry in
            let directory = try Harness.temporaryDirectory("skopeo")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            // A real (uncompressed) tar layer, so its digest is also its diff ID.
            let root = directory + "/root"
            try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
            try "hello from berth\n".write(toFile: root + "/etc/motd", atomically: true, encoding: .utf8)
            try Harness.run(["/bin/tar", "-C", root, "-cf", directory + "/layer.tar", "."])
            let tarBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/layer.tar")))
            let layer = try TestBlob(tarBytes, in: directory, mediaType: MediaType.ociLayer)

            let client = RegistryClient(credentials: nil)
            let ref = try registry.reference("interop/hello:1.0")
            let image = try await pushImage(client, ref, layers: [layer], directory: directory, tag: "1.0")

            let inspect = try Harness.run(["/usr/bin/skopeo", "inspect", "--tls-verify=false", "docker://\(ref.name):1.0"])
            struct Inspect: Decodable { var Digest: String; var Layers: [String] }
            let inspected = try JSONTreeDecoder.decode(Inspect.self, from: Array(inspect.out.utf8))
            #expect(inspected.Digest == image.digest.description)
            #expect(inspected.Layers == [layer.descriptor.digest.description])

            let layout = directory + "/layout"
            // Uncompressed layers are kept as they are (skopeo would otherwise gzip them and change every digest).
            try Harness.run(["/usr/bin/skopeo", "copy", "--src-tls-verify=false", "--dest-oci-accept-uncompressed-layers",
                             "docker://\(ref.name):1.0", "oci:\(layout):1.0"])
            let copied = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(layer.descriptor.digest.hex)")))
            #expect(copied == tarBytes)
            let manifest = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(image.digest.hex)")))
            #expect(manifest == image.bytes)
        }
    }
}

@Suite("Interrupted downloads", .enabled(if: Harness.registryInstalled, "docker-registry is not installed (apt-get install docker-registry)"))
struct InterruptedDownloadTests {
    @Test("a blob download cut in the middle resumes with a Range request and delivers every byte once")
    func resumeAfterCut() async throws {
        try await withRegistry { registry in
            let directory = try Harness.temporaryDirectory("cut")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let client = RegistryClient(credentials: nil)
            let blob = try TestBlob.random(600_000, in: directory)
            _ = try await client.pushBlob(try registry.reference("berth/cut:1"), blob.descriptor, file: blob.path)

            let log = directory + "/proxy.log"
            try cutProxyScript.write(toFile: directory + "/cut-proxy.py", atomically: true, encoding: .utf8)
            let proxy = try Harness.spawn(["/usr/bin/python3", directory + "/cut-proxy.py", registry.address, "200000", log],
                                          stdout: directory + "/proxy.port", stderr: directory + "/proxy.err")
            defer { kill(proxy, SIGTERM); _ = Harness.wait(proxy) }
            var line = ""
            for _ in 0..<100 where !line.hasSuffix("\n") {
                usleep(50_000)
                line = (try? String(contentsOfFile: directory + "/proxy.port", encoding: .utf8)) ?? ""
            }
            let port = line.trimmingCharacters(in: .whitespacesAndNewlines)
            let viaProxy = try ImageReference(parsing: "127.0.0.1:\(port)/berth/cut:1")

            var offsets: [Int] = []
            var bytes: [UInt8] = []
            try await client.fetchBlob(viaProxy, blob.descriptor) { chunk in
                offsets.append(bytes.count)
                bytes += chunk.readableBytesView
            }
            #expect(bytes == blob.bytes)
            let events = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
            #expect(events.first == "cut", "\(events)")
            #expect(events.contains { $0.lowercased().hasPrefix("range: bytes=") && !$0.hasSuffix("=0-") }, "\(events)")
        }
    }
}
