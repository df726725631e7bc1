import Foundation
import TestSupport
import Testing

/// The built `berth`, a fresh store per test, and Debian's docker-registry on 127.0.0.1 as the peer.
enum ImageEnv {
    static let packageRoot = TestSupport.packageRoot

    static let berth: String = ProcessInfo.processInfo.environment["BERTH"] ?? packageRoot + "/.build/debug/berth"
    static let registryScript = packageRoot + "/Tests/Scripts/registry/registry.sh"

    static func has(_ program: String) -> Bool {
        ["/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + program) }
    }

    /// Registry tests need root (snapshots keep ownership), the built berth, docker-registry and skopeo.
    static var ready: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: berth) && has("docker-registry") && has("skopeo") && has("umoci")
    }

    static func temporaryDirectory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "berth-image-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The busybox image made by umoci (no Berth involved), once per test process (TestSupport).
    static var busyboxLayout: String { BusyboxImage.layout }
}

/// A docker-registry started for one test (anonymous, Basic or Bearer), stopped by `stop()`.
final class LocalRegistry {
    let directory: String
    let address: String

    enum Auth { case none, basic(String, String), token(String, String) }

    init(_ auth: Auth = .none, logRequests: Bool = false) throws {
        directory = try ImageEnv.temporaryDirectory("registry")
        var arguments = ["/bin/bash", ImageEnv.registryScript, "start", directory]
        switch auth {
        case .none: break
        case .basic(let user, let password): arguments += ["--htpasswd", "\(user):\(password)"]
        case .token(let user, let password): arguments += ["--token", "\(user):\(password)"]
        }
        var environment = ProcessInfo.processInfo.environment
        if logRequests { environment["REGISTRY_LOG_LEVEL"] = "info" }
        let result = try sh(arguments, environment: environment)
        try #require(result.status == 0, "registry.sh start: \(result.stderr)")
        address = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stop() {
        _ = try? sh(["/bin/bash", ImageEnv.registryScript, "stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    var log: String { (try? String(contentsOfFile: directory + "/registry.log", encoding: .utf8)) ?? "" }
    var tokenRequests: Int {
        ((try? String(contentsOfFile: directory + "/token-requests.log", encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    /// Pushes the umoci-made busybox image with skopeo (the peer), as `repository:tag`.
    func pushBusybox(_ repository: String, credentials: String? = nil) throws {
        var arguments = ["/usr/bin/skopeo", "copy", "--dest-tls-verify=false"]
        if let credentials { arguments += ["--dest-creds", credentials] }
        arguments += ["oci:\(ImageEnv.busyboxLayout):latest", "docker://\(address)/\(repository)"]
        let result = try sh(arguments)
        try #require(result.status == 0, "skopeo copy: \(result.stderr)")
    }

    /// The registry's manifest digest for a reference, as skopeo reports it.
    func skopeoDigest(_ repository: String, credentials: String? = nil) throws -> String {
        var arguments = ["/usr/bin/skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}"]
        if let credentials { arguments += ["--creds", credentials] }
        let result = try sh(arguments + ["docker://\(address)/\(repository)"])
        try #require(result.status == 0, "skopeo inspect: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// `berth --root <fresh> …` for one test, with its own Docker config for credentials.
struct BerthCLI {
    let root: String
    let dockerConfig: String

    init() throws {
        root = try ImageEnv.temporaryDirectory("root")
        dockerConfig = try ImageEnv.temporaryDirectory("docker-config")
    }

    @discardableResult
    func callAnyway(_ arguments: [String], stdin: String? = nil) throws -> Output {
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_CONFIG"] = dockerConfig
        return try sh([ImageEnv.berth, "--root", root] + arguments, stdin: stdin, environment: environment)
    }

    /// Runs berth and requires success; returns stdout.
    @discardableResult
    func call(_ arguments: String..., stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try callAnyway(arguments, stdin: stdin)
        try #require(result.status == 0, "berth \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)\(result.stdout)", sourceLocation: sourceLocation)
        return result.stdout
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: dockerConfig)
    }

    /// What the store holds on disk: blob digests and snapshot names.
    var blobs: Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256")) ?? []))
    }
    var snapshots: Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: root + "/snapshots")) ?? []).filter { $0 != "ingest" })
    }
}

func trimmed(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

func sha256Hex(ofFile path: String) throws -> String {
    let result = try sh(["/usr/bin/sha256sum", path])
    return String(result.stdout.prefix(64))
}
