import Foundation
import OCI
@testable import Registry
import Testing

struct AuthChallengeTests {
    @Test("WWW-Authenticate challenges", arguments: [
        (#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
         "bearer", ["realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/busybox:pull"]),
        (#"Bearer realm="http://127.0.0.1:9/token", service="svc", scope="repository:a/b:pull,push", error="insufficient_scope""#,
         "bearer", ["realm": "http://127.0.0.1:9/token", "service": "svc", "scope": "repository:a/b:pull,push", "error": "insufficient_scope"]),
        (#"Basic realm="berth-test-registry""#, "basic", ["realm": "berth-test-registry"]),
        (#"basic realm="with \"quotes\" and, commas""#, "basic", ["realm": #"with "quotes" and, commas"#]),
        ("Bearer realm=https://unquoted/token,service=plain", "bearer", ["realm": "https://unquoted/token", "service": "plain"]),
    ])
    func parse(header: String, scheme: String, parameters: [String: String]) {
        let challenges = AuthChallenge.parse([header])
        #expect(challenges == [AuthChallenge(scheme: scheme, parameters: parameters)])
    }

    @Test("several challenges in one header; Bearer preferred")
    func several() {
        let header = #"Basic realm="r", Bearer realm="https://t/token",service="s""#
        let all = AuthChallenge.parse([header])
        #expect(all.map(\.scheme) == ["basic", "bearer"])
        #expect(AuthChallenge.preferred([header])?.realm == "https://t/token")
        #expect(AuthChallenge.preferred([]) == nil)
        #expect(AuthChallenge.preferred(["Negotiate abc=="]) == nil)
    }
}

struct RegistryErrorTests {
    @Test("distribution's error document becomes code: message")
    func distributionErrors() {
        let body = Array(#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied","detail":null}]}"#.utf8)
        #expect(RegistryError.message(fromBody: body) == "denied: requested access to the resource is denied")
        let two = Array(#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"},{"code":"NAME_UNKNOWN"}]}"#.utf8)
        #expect(RegistryError.message(fromBody: two) == "unauthorized: authentication required; name_unknown")
        #expect(RegistryError.message(fromBody: Array("upstream connect error".utf8)) == "upstream connect error")
        #expect(RegistryError.message(fromBody: Array("<html><body>502</body></html>".utf8)) == nil)
        #expect(RegistryError.message(fromBody: []) == nil)
    }

    @Test("the description names the operation, the registry's words, the status and the request")
    func description() {
        let error = RegistryError(.denied, operation: "push manifest 127.0.0.1:5000/app:1", request: "PUT http://127.0.0.1:5000/v2/app/manifests/1",
                                  status: 403, registryMessage: "denied: requested access to the resource is denied")
        #expect(error.description == "push manifest 127.0.0.1:5000/app:1: denied: requested access to the resource is denied (HTTP 403, PUT http://127.0.0.1:5000/v2/app/manifests/1)")
    }
}

struct URLTests {
    @Test("plain HTTP for loopback and insecure registries, HTTPS otherwise", arguments: [
        ("127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("127.1.2.3", "http://127.1.2.3"),
        ("localhost:5000", "http://localhost:5000"),
        ("[::1]:5000", "http://[::1]:5000"),
        ("registry.local:5000", "http://registry.local:5000"),
        ("ghcr.io", "https://ghcr.io"),
        ("docker.io", "https://registry-1.docker.io"),
        ("127.0.0.1.example.com", "https://127.0.0.1.example.com"),
    ])
    func baseURL(registry: String, expected: String) {
        let client = RegistryClient(credentials: nil, insecureRegistries: ["registry.local"])
        #expect(client.baseURL(registry) == expected)
    }

    @Test("Location and Link targets resolve against the request URL")
    func resolve() {
        let url = "http://127.0.0.1:5000/v2/app/blobs/uploads/"
        #expect(RegistryClient.resolve("/v2/app/blobs/uploads/abc?_state=x", against: url) == "http://127.0.0.1:5000/v2/app/blobs/uploads/abc?_state=x")
        #expect(RegistryClient.resolve("https://storage.example/blob?sig=1", against: url) == "https://storage.example/blob?sig=1")
        #expect(RegistryClient.resolve("abc", against: url + "?x=1") == "http://127.0.0.1:5000/v2/app/blobs/uploads/abc")
        #expect(RegistryClient.nextLink([#"</v2/app/tags/list?last=b&n=2>; rel="next""#]) == "/v2/app/tags/list?last=b&n=2")
        #expect(RegistryClient.nextLink([#"</x>; rel="prev""#]) == nil)
        #expect(RegistryClient.contentRange("bytes 100-199/200")?.start == 100)
        #expect(RegistryClient.contentRange("bytes 100-199/*")?.end == 199)
        #expect(RegistryClient.contentRange("items 1-2/3") == nil)
        #expect(RegistryClient.percentEncoded("repository:a/b:pull,push") == "repository%3Aa%2Fb%3Apull%2Cpush")
    }

    @Test("base64 round trip")
    func base64() {
        for text in ["", "a", "ab", "abc", "user:pässword", "alice:s3cret"] {
            let bytes = Array(text.utf8)
            let encoded = Base64.encode(bytes)
            #expect(encoded == Data(bytes).base64EncodedString())
            #expect(Base64.decode(encoded) == bytes)
        }
        #expect(Base64.decode("not base64!") == nil)
    }

    @Test("token validity keeps a margin before expiry")
    func validity() {
        #expect(TokenCache.validity(expiresIn: nil) == .seconds(54))
        #expect(TokenCache.validity(expiresIn: 300) == .seconds(270))
        #expect(TokenCache.validity(expiresIn: 2) == .seconds(1))
    }
}

struct CredentialStoreTests {
    @Test("save, read and remove keep every other member of config.json")
    func roundTrip() throws {
        let directory = try Harness.temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/docker/config.json"
        try FileManager.default.createDirectory(atPath: directory + "/docker", withIntermediateDirectories: true)
        let original = """
        {
          "auths": {
            "https://index.docker.io/v1/": {"auth": "\(Base64.encode(Array("hubuser:hubpass".utf8)))"},
            "https://ghcr.io": {"auth": "\(Base64.encode(Array("gh:token:with:colons".utf8)))"},
            "quay.io": {"username": "q", "password": "qp"}
          },
          "credsStore": "desktop",
          "HttpHeaders": {"User-Agent": "x", "X-Meta": "ünïcode \\"quoted\\""},
          "experimental": true,
          "proxies": {"default": {"httpProxy": null, "noProxy": ["a", "b"]}},
          "big": 12345678901,
          "ratio": 0.5
        }
        """
        try original.write(toFile: path, atomically: true, encoding: .utf8)
        let store = CredentialStore(path: path)

        #expect(try store.credentials(for: "docker.io") == Credentials(username: "hubuser", password: "hubpass"))
        #expect(try store.credentials(for: "ghcr.io") == Credentials(username: "gh", password: "token:with:colons"))
        #expect(try store.credentials(for: "quay.io") == Credentials(username: "q", password: "qp"))
        #expect(try store.credentials(for: "127.0.0.1:5000") == nil)

        try store.save(Credentials(username: "me", password: "pw"), for: "127.0.0.1:5000")
        try store.save(Credentials(username: "gh2", password: "t2"), for: "ghcr.io")
        #expect(try store.credentials(for: "127.0.0.1:5000") == Credentials(username: "me", password: "pw"))
        #expect(try store.credentials(for: "ghcr.io") == Credentials(username: "gh2", password: "t2"))

        func tree(_ text: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
        }
        let before = try tree(original)
        var after = try tree(try String(contentsOfFile: path, encoding: .utf8))
        let auths = after.removeValue(forKey: "auths") as? [String: Any] ?? [:]
        var beforeOthers = before
        beforeOthers.removeValue(forKey: "auths")
        func canonical(_ object: [String: Any]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        #expect(try canonical(after) == (try canonical(beforeOthers)))
        #expect(Set(auths.keys) == ["https://index.docker.io/v1/", "https://ghcr.io", "quay.io", "127.0.0.1:5000"])
        #expect((auths["127.0.0.1:5000"] as? [String: Any])?["auth"] as? String == Base64.encode(Array("me:pw".utf8)))

        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/docker") == ["config.json"])

        #expect(try store.remove(registry: "ghcr.io"))
        #expect(try store.remove(registry: "ghcr.io") == false)
        #expect(try store.credentials(for: "ghcr.io") == nil)
        #expect(try store.remove(registry: "docker.io"))
        #expect(try store.credentials(for: "docker.io") == nil)
        #expect(try store.credentials(for: "quay.io") == Credentials(username: "q", password: "qp"))
    }

    @Test("a missing file reads as empty and is created 0600 with Docker Hub under its v1 key")
    func fresh() throws {
        let directory = try Harness.temporaryDirectory("fresh")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = CredentialStore(path: directory + "/new/config.json")
        #expect(try store.credentials(for: "docker.io") == nil)
        #expect(try store.remove(registry: "docker.io") == false)
        try store.save(Credentials(username: "u", password: "p"), for: "docker.io")
        let text = try String(contentsOfFile: directory + "/new/config.json", encoding: .utf8)
        #expect(text.contains("https://index.docker.io/v1/"))
        #expect(try store.credentials(for: "index.docker.io") == Credentials(username: "u", password: "p"))
    }

    @Test("malformed config.json is an error naming the file")
    func malformed() throws {
        let directory = try Harness.temporaryDirectory("bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "{\"auths\": ".write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        #expect {
            try CredentialStore(path: directory + "/config.json").credentials(for: "x")
        } throws: { error in
            (error as? RegistryError)?.description.contains(directory + "/config.json") == true
        }
    }

    @Test("default path follows DOCKER_CONFIG, else HOME")
    func defaultPath() {
        let environment = ProcessInfo.processInfo.environment
        if let config = environment["DOCKER_CONFIG"], !config.isEmpty {
            #expect(CredentialStore.defaultPath() == config + "/config.json")
        } else {
            #expect(CredentialStore.defaultPath() == (environment["HOME"] ?? "/root") + "/.docker/config.json")
        }
    }
}
