import Foundation
import TestSupport
import Testing

/// What the API suites need: the built berth, the docker CLI, curl, umoci (for the test image).
enum APIEnv {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let berth: String = ProcessInfo.processInfo.environment["BERTH"] ?? packageRoot + "/.build/debug/berth"
    /// The docker CLI 28 this machine ships (Debian's older one is /usr/bin/docker).
    static let docker: String = ProcessInfo.processInfo.environment["DOCKER_CLI"] ?? "/usr/local/bin/docker"
    static let registryScript = packageRoot + "/Tests/Scripts/registry/registry.sh"

    static func executable(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

    static var ready: Bool {
        getuid() == 0 && executable(berth) && executable(URL(fileURLWithPath: berth).deletingLastPathComponent().path + "/berth-supervisor")
            && executable(docker) && executable("/usr/bin/curl") && executable("/usr/bin/umoci")
    }

    /// Registry tests need Debian's docker-registry and skopeo too.
    static var registryReady: Bool { ready && executable("/usr/bin/docker-registry") && executable("/usr/bin/skopeo") }

    /// The busybox image made by umoci from Debian's busybox-static (no Berth involved), as an OCI
    /// layout and as a tar of it (`docker load` takes it; the image comes in untagged). Made once per
    /// test process, under a temporary name and renamed into place, so no suite can see it half-made.
    static let busyboxLayout: String = {
        let path = NSTemporaryDirectory() + "berth-api-busybox-\(getpid())"
        if !FileManager.default.fileExists(atPath: path + ".tar") {
            let making = path + ".making"
            _ = try? sh(["/bin/rm", "-rf", making, making + ".tar"])
            _ = try? sh(["/bin/bash", packageRoot + "/Tests/Scripts/registry/make-busybox-image.sh", making])
            _ = try? sh(["/bin/tar", "-C", making, "-cf", making + ".tar", "."])
            rename(making, path)
            rename(making + ".tar", path + ".tar")
        }
        return path
    }()

    /// The tar of `busyboxLayout`.
    static var busyboxTar: String { busyboxLayout + ".tar" }

    /// Short paths: sockets must fit in a sockaddr_un.
    static func scratch(_ tag: String) -> String {
        let path = "/tmp/ba\(tag)-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// A `berth serve` of its own for one test: a temporary root, run root, socket and pid file, and a
/// Docker config directory of its own for the docker CLI (logins go there). `stop()` ends the
/// server with SIGTERM, removes every container, and the directories.
final class APIServer {
    let base: String
    var root: String { base + "/root" }
    var runRoot: String { base + "/run" }
    var socket: String { base + "/api.sock" }
    var pidFile: String { base + "/berth.pid" }
    var dockerConfig: String { base + "/docker-config" }
    var log: String { base + "/serve.log" }
    private(set) var pid: pid_t = 0

    /// `loadBusybox`: the test image loaded through the CLI and tagged `busybox:test`.
    init(loadBusybox: Bool = true) throws {
        base = APIEnv.scratch("s")
        try FileManager.default.createDirectory(atPath: dockerConfig, withIntermediateDirectories: true)
        if loadBusybox {
            let loaded = try berth(["load", "-i", APIEnv.busyboxLayout + ".tar"])
            try #require(loaded.status == 0, "berth load: \(loaded.stderr)")
            let id = try #require(loaded.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
            try #require(try berth(["tag", id, "busybox:test"]).status == 0)
        }
        pid = try spawn([APIEnv.berth, "--root", root, "--runroot", runRoot, "serve", "-H", "unix://" + socket, "--pidfile", pidFile],
                        output: log)
        // Up when _ping answers (the socket may exist a moment before the server accepts).
        for _ in 0..<200 {
            if let ping = try? curl(["/_ping"]), ping.status == 0, ping.stdout == "OK" { return }
            if kill(pid, 0) != 0 { break }
            usleep(50_000)
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        stop()
        Issue.record("berth serve did not come up: \(text)")
        throw CancellationError()
    }

    /// The CLI against the same root: containers and images are shared with the server.
    @discardableResult
    func berth(_ arguments: [String], stdin: String? = nil) throws -> Output {
        try sh([APIEnv.berth, "--root", root, "--runroot", runRoot] + arguments, stdin: stdin)
    }

    /// The docker CLI with DOCKER_HOST on this server.
    @discardableResult
    func docker(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:]) throws -> Output {
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_HOST"] = "unix://" + socket
        environment["DOCKER_CONFIG"] = dockerConfig
        environment["DOCKER_CLI_HINTS"] = "false"
        for (key, value) in extra { environment[key] = value }
        return try sh([APIEnv.docker] + arguments, stdin: stdin, environment: environment)
    }

    /// Runs the docker CLI and requires success; returns stdout.
    @discardableResult
    func dockerOK(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try docker(arguments)
        try #require(result.status == 0, "docker \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)\(result.stdout)",
                     sourceLocation: sourceLocation)
        return result.stdout
    }

    /// curl on the socket: `arguments` are curl's (a path like `/v1.51/images/json` among them).
    /// With `status`, stdout ends with a line holding the HTTP status.
    func curl(_ arguments: [String], status: Bool = false) throws -> Output {
        var command = ["/usr/bin/curl", "-sS", "--max-time", "120", "--unix-socket", socket]
        if status { command += ["-w", "\n%{http_code}"] }
        let fixed = arguments.map { $0.hasPrefix("/") ? "http://localhost" + $0 : $0 }
        return try sh(command + fixed)
    }

    /// A request's body and status: (`status`, body without the status line).
    func request(_ method: String, _ path: String, _ extra: [String] = []) throws -> (status: Int, body: String) {
        let result = try curl(["-X", method] + extra + [path], status: true)
        var lines = result.stdout.components(separatedBy: "\n")
        let code = Int(lines.removeLast()) ?? 0
        return (code, lines.joined(separator: "\n"))
    }

    /// A JSON body parsed (objects as dictionaries, lists as arrays).
    func json(_ path: String) throws -> Any {
        let result = try curl([path])
        try #require(result.status == 0, "curl \(path): \(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8), options: [.fragmentsAllowed])
    }

    func stop() {
        if pid > 0 {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            for _ in 0..<100 {
                if waitpid(pid, &status, WNOHANG) == pid { break }
                usleep(50_000)
            }
            if kill(pid, 0) == 0 {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
            }
            pid = 0
        }
        if let ids = try? berth(["ps", "-aq", "--no-trunc"]).stdout.split(separator: "\n").map(String.init), !ids.isEmpty {
            _ = try? berth(["rm", "-f"] + ids)
        }
        _ = try? berth(["network", "prune", "-f"])
        _ = try? sh(["/bin/sh", "-c", "grep -o ' \(base)[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l"])
        try? FileManager.default.removeItem(atPath: base)
    }

    /// Starts a program in the background, stdout and stderr to `output`, with no signal blocked
    /// (the test runner's threads block some, and the server must see SIGTERM).
    func spawn(_ arguments: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        var cArgs: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, &cArgs, &cEnv)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        return pid
    }
}

/// Debian's docker-registry on 127.0.0.1 for one test (anonymous or Basic auth), with the busybox
/// image pushed by skopeo (the peer) as `busybox:latest`.
final class TestRegistry {
    let directory: String
    let address: String

    init(htpasswd: (String, String)? = nil) throws {
        directory = APIEnv.scratch("r")
        var arguments = ["/bin/bash", APIEnv.registryScript, "start", directory]
        if let (user, password) = htpasswd { arguments += ["--htpasswd", "\(user):\(password)"] }
        let result = try sh(arguments)
        try #require(result.status == 0, "registry.sh start: \(result.stderr)")
        address = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var copy = ["/usr/bin/skopeo", "copy", "--dest-tls-verify=false"]
        if let (user, password) = htpasswd { copy += ["--dest-creds", "\(user):\(password)"] }
        let pushed = try sh(copy + ["oci:\(APIEnv.busyboxLayout):latest", "docker://\(address)/busybox:latest"])
        try #require(pushed.status == 0, "skopeo copy: \(pushed.stderr)")
    }

    /// The tags of a repository, as the registry lists them.
    func tags(_ repository: String, credentials: (String, String)? = nil) throws -> [String] {
        var arguments = ["/usr/bin/curl", "-sS", "http://\(address)/v2/\(repository)/tags/list"]
        if let (user, password) = credentials { arguments += ["-u", "\(user):\(password)"] }
        let result = try sh(arguments)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (object?["tags"] as? [String]) ?? []
    }

    func stop() {
        _ = try? sh(["/bin/bash", APIEnv.registryScript, "stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// The lines of a JSON-message stream, each parsed.
func jsonLines(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}
