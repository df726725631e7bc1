import Crypto
import Foundation
import NIOCore
import OCI
@testable import Registry
import Testing

// OCI and Crypto each have a Digest.
typealias Digest = OCI.Digest

/// Paths and programs the integration tests need.
enum Harness {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let registryScript = repositoryRoot + "/Tests/Scripts/registry/registry.sh"

    static func executable(_ name: String) -> String? {
        for directory in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    static let registryInstalled = executable("docker-registry") != nil
    static let skopeoInstalled = executable("skopeo") != nil

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Starts a program with posix_spawn: stdio from/to files, signals unblocked and at their defaults
    /// (the test runner's threads block some, and a child must not inherit that; it is also why
    /// Foundation's Process, which waits for SIGCHLD, is not used here).
    static func spawn(_ arguments: [String], stdout: String, stderr: String, environment: [String: String] = [:]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        let cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let cEnvironment: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        defer { (cArguments + cEnvironment).forEach { free($0) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, cArguments, cEnvironment)
        guard rc == 0 else { throw Failure(description: "spawn \(arguments[0]): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Waits for a child; its exit status (128 + signal when killed).
    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal != 0 && signal != 0x7f ? 128 + signal : (status >> 8) & 0xff
    }

    /// Runs a program to completion; stdout and stderr as text (through files, not pipes: registry.sh
    /// leaves a registry running that must not hold our end of anything).
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:], check: Bool = true) throws -> (status: Int32, out: String, err: String) {
        let base = NSTemporaryDirectory() + "berth-registry-tests-run-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(base + ".out"); unlink(base + ".err") }
        let pid = try spawn(arguments, stdout: base + ".out", stderr: base + ".err", environment: environment)
        let status = wait(pid)
        let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        if check, status != 0 {
            throw Failure(description: "\(arguments.joined(separator: " ")) exited \(status): \(err)")
        }
        return (status, out, err)
    }

    static func temporaryDirectory(_ label: String) throws -> String {
        let path = NSTemporaryDirectory() + "berth-registry-tests-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Debian's docker-registry on 127.0.0.1, started by Tests/Scripts/registry/registry.sh (or, when that script
/// is absent, directly with a minimal config, for anonymous access only).
struct LocalRegistry {
    enum Auth { case none, htpasswd(String), token(String) }

    let directory: String
    let address: String
    private let directProcess: pid_t?

    static func start(_ auth: Auth = .none, environment: [String: String] = [:]) throws -> LocalRegistry {
        let directory = try Harness.temporaryDirectory("registry")
        if FileManager.default.isExecutableFile(atPath: Harness.registryScript) {
            var arguments = [Harness.registryScript, "start", directory]
            switch auth {
            case .none: break
            case .htpasswd(let credentials): arguments += ["--htpasswd", credentials]
            case .token(let credentials): arguments += ["--token", credentials]
            }
            let result = try Harness.run(arguments, environment: environment)
            let address = result.out.trimmingCharacters(in: .whitespacesAndNewlines)
            return LocalRegistry(directory: directory, address: address, directProcess: nil)
        }
        guard case .none = auth else {
            throw Harness.Failure(description: "\(Harness.registryScript) is missing; it is needed for registries with auth")
        }
        return try startDirectly(directory)
    }

    private static func startDirectly(_ directory: String) throws -> LocalRegistry {
        let port = Int.random(in: 20_000...40_000)
        let config = """
        version: 0.1
        log:
          level: warn
        storage:
          filesystem:
            rootdirectory: \(directory)/storage
        http:
          addr: 127.0.0.1:\(port)
        """
        try config.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        let process = try Harness.spawn([Harness.executable("docker-registry") ?? "/usr/bin/docker-registry", "serve", directory + "/config.yml"],
                                        stdout: directory + "/registry.log", stderr: directory + "/registry.err")
        for _ in 0..<150 {
            if (try? Harness.run(["/usr/bin/curl", "-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/v2/"], check: false))?.status == 0 {
                return LocalRegistry(directory: directory, address: "127.0.0.1:\(port)", directProcess: process)
            }
            usleep(100_000)
        }
        kill(process, SIGTERM)
        _ = Harness.wait(process)
        throw Harness.Failure(description: "docker-registry did not answer on 127.0.0.1:\(port)")
    }

    func stop() {
        if let directProcess {
            kill(directProcess, SIGTERM)
            _ = Harness.wait(directProcess)
        } else {
            _ = try? Harness.run([Harness.registryScript, "stop", directory], check: false)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    func reference(_ text: String) throws -> ImageReference {
        try ImageReference(parsing: "\(address)/\(text)")
    }

    /// Lines of the token server's log of issued tokens.
    func tokenRequests() -> [String] {
        let text = (try? String(contentsOfFile: directory + "/token-requests.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }
}

/// Starts a registry, runs `body` with it, and stops it however `body` ends.
func withRegistry<T>(_ auth: LocalRegistry.Auth = .none, environment: [String: String] = [:],
                     _ body: (LocalRegistry) async throws -> T) async throws -> T {
    let registry = try LocalRegistry.start(auth, environment: environment)
    do {
        let result = try await body(registry)
        registry.stop()
        return result
    } catch {
        registry.stop()
        throw error
    }
}

/// A blob written to a file, with its descriptor.
struct TestBlob {
    let bytes: [UInt8]
    let path: String
    let descriptor: Descriptor

    init(_ bytes: [UInt8], in directory: String, mediaType: String = MediaType.ociLayerGzip) throws {
        self.bytes = bytes
        let digest = try Digest(algorithm: .sha256, hex: SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
        path = "\(directory)/\(digest.hex)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        descriptor = Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
    }

    static func random(_ count: Int, in directory: String) throws -> TestBlob {
        var generator = SystemRandomNumberGenerator()
        return try TestBlob((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }, in: directory)
    }
}

func sha256(_ bytes: [UInt8]) throws -> Digest {
    try Digest(algorithm: .sha256, hex: SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
}

extension RegistryClient {
    /// A whole blob (from `offset`), gathered from `fetchBlob`'s chunks.
    func blobBytes(_ ref: ImageReference, _ descriptor: Descriptor, from offset: Int64 = 0) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        try await fetchBlob(ref, descriptor, from: offset) { chunk in
            bytes += chunk.readableBytesView
        }
        return bytes
    }
}

/// An image config and OCI manifest over `layers`, pushed under `tag`; returns the manifest's bytes and digest.
@discardableResult
func pushImage(_ client: RegistryClient, _ ref: ImageReference, layers: [TestBlob], directory: String,
               tag: String, annotations: [String: String]? = nil) async throws -> (bytes: [UInt8], digest: Digest, config: TestBlob) {
    let configuration = ImageConfiguration(architecture: "amd64", os: "linux", config: nil,
                                           rootfs: RootFS(diffIDs: layers.map(\.descriptor.digest)), history: nil, created: nil)
    let config = try TestBlob(try JSONTreeEncoder.encode(configuration), in: directory, mediaType: MediaType.ociConfig)
    for blob in [config] + layers {
        _ = try await client.pushBlob(ref, blob.descriptor, file: blob.path)
    }
    let manifest = ImageManifest(config: config.descriptor, layers: layers.map(\.descriptor), annotations: annotations)
    let bytes = try JSONTreeEncoder.encode(manifest)
    let digest = try await client.pushManifest(ref, reference: tag, bytes: bytes, mediaType: MediaType.ociManifest)
    return (bytes, digest, config)
}

/// The RegistryError `body` throws, failing the test when it throws something else or nothing.
func registryError(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> RegistryError? {
    do {
        try await body()
        Issue.record("expected a RegistryError, got success", sourceLocation: sourceLocation)
    } catch let error as RegistryError {
        return error
    } catch {
        Issue.record("expected a RegistryError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
