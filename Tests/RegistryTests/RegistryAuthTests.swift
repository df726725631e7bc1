import Foundation
import OCI
@testable import Registry
import Testing

@Suite("Auth against docker-registry", .enabled(if: Harness.registryInstalled, "docker-registry is not installed (apt-get install docker-registry)"))
struct RegistryAuthTests {
    /// A credential store in a fresh directory holding `user:password` for `registry`.
    func store(_ registry: String, _ user: String, _ password: String, in directory: String) throws -> CredentialStore {
        let store = CredentialStore(path: directory + "/config.json")
        try store.save(Credentials(username: user, password: password), for: registry)
        return store
    }

    @Test("Basic auth: a wrong password is refused clearly, the right one pushes and pulls")
    func basicAuth() async throws {
        try await withRegistry(.htpasswd("alice:s3cret")) { registry in
            let directory = try Harness.temporaryDirectory("basic")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let ref = try registry.reference("private/app:1")
            let layer = try TestBlob.random(5_000, in: directory)

            let wrong = RegistryClient(credentials: try store(registry.address, "alice", "wrong", in: directory + "/wrong"))
            let refused = await registryError { _ = try await wrong.pushBlob(ref, layer.descriptor, file: layer.path) }
            #expect(refused?.kind == .unauthorized)
            #expect(refused?.status == 401)
            #expect(refused?.description.contains("unauthorized") == true)
            #expect(refused?.description.contains("alice") == true)
            #expect(refused?.description.contains("push blob \(layer.descriptor.digest) to \(ref.name)") == true)

            let anonymous = RegistryClient(credentials: nil)
            let denied = await registryError { _ = try await anonymous.manifest(ref) }
            #expect(denied?.kind == .unauthorized)
            #expect(denied?.description.contains("authentication required") == true)
            #expect(denied?.description.contains("no credentials for \(registry.address)") == true)

            let loginWrong = await registryError { try await anonymous.login(registry: registry.address, Credentials(username: "alice", password: "nope")) }
            #expect(loginWrong?.kind == .unauthorized)
            #expect(loginWrong?.description.contains("unauthorized") == true)
            try await anonymous.login(registry: registry.address, Credentials(username: "alice", password: "s3cret"))

            let right = RegistryClient(credentials: try store(registry.address, "alice", "s3cret", in: directory + "/right"))
            let image = try await pushImage(right, ref, layers: [layer], directory: directory, tag: "1")
            #expect(try await right.manifest(ref).digest == image.digest)
            #expect(try await right.blobBytes(ref, layer.descriptor) == layer.bytes)
            #expect(try await right.tags(ref) == ["1"])
        }
    }

    @Test("Bearer auth: push and pull with tokens, one token per scope, anonymous and wrong credentials refused")
    func bearerAuth() async throws {
        try await withRegistry(.token("bob:hunter2")) { registry in
            let directory = try Harness.temporaryDirectory("bearer")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let ref = try registry.reference("secure/app:1")
            let layers = try (0..<3).map { _ in try TestBlob.random(20_000, in: directory) }
            let credentials = try store(registry.address, "bob", "hunter2", in: directory + "/right")

            let pusher = RegistryClient(credentials: credentials)
            let image = try await pushImage(pusher, ref, layers: layers, directory: directory, tag: "1")
            let pushScope = "scope=repository:secure/app:pull,push "
            #expect(registry.tokenRequests().filter { $0.contains(pushScope) }.count == 1)

            // A fresh client pulls the manifest and every blob, several at once: one pull token.
            let before = registry.tokenRequests().count
            let puller = RegistryClient(credentials: credentials)
            let fetched = try await puller.manifest(ref)
            #expect(fetched.digest == image.digest)
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for blob in layers + [image.config] {
                    group.addTask { try await puller.blobBytes(ref, blob.descriptor) == blob.bytes }
                }
                for try await same in group { #expect(same) }
            }
            #expect(try await puller.manifestDescriptor(ref)?.digest == image.digest)
            let pulls = registry.tokenRequests().dropFirst(before)
            #expect(pulls.filter { $0.contains("scope=repository:secure/app:pull ") }.count == 1, "\(Array(pulls))")
            #expect(pulls.count == 1, "\(Array(pulls))")

            let anonymous = RegistryClient(credentials: nil)
            let refused = await registryError { _ = try await anonymous.manifest(ref) }
            #expect(refused?.kind == .unauthorized)
            #expect(refused?.description.contains("unauthorized") == true)
            #expect(refused?.description.contains("no credentials for \(registry.address)") == true)

            let wrong = RegistryClient(credentials: try store(registry.address, "bob", "guess", in: directory + "/wrong"))
            let rejected = await registryError { _ = try await wrong.blobBytes(ref, layers[0].descriptor) }
            #expect(rejected?.kind == .unauthorized)
            #expect(rejected?.description.contains("token server did not accept the credentials of bob") == true)

            try await anonymous.login(registry: registry.address, Credentials(username: "bob", password: "hunter2"))
            let badLogin = await registryError { try await anonymous.login(registry: registry.address, Credentials(username: "bob", password: "x")) }
            #expect(badLogin?.kind == .unauthorized)
        }
    }

    @Test("an expired token is fetched again")
    func tokenExpiry() async throws {
        // Long enough that a loaded machine still uses each token within its life (2 s was not:
        // a push's second request met an expired token again), short enough to wait out.
        try await withRegistry(.token("bob:hunter2"), environment: ["TOKEN_TTL": "6"]) { registry in
            let directory = try Harness.temporaryDirectory("expiry")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let ref = try registry.reference("secure/expiry:1")
            let layer = try TestBlob.random(1_000, in: directory)
            let client = RegistryClient(credentials: try store(registry.address, "bob", "hunter2", in: directory))
            _ = try await client.pushBlob(ref, layer.descriptor, file: layer.path)
            #expect(try await client.blobExists(ref, layer.descriptor.digest))
            let before = registry.tokenRequests().count
            try await Task.sleep(for: .seconds(6.5))
            #expect(try await client.blobExists(ref, layer.descriptor.digest))
            #expect(registry.tokenRequests().count == before + 1)
        }
    }
}
