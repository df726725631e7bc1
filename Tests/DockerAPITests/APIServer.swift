import Foundation
import TestSupport
import Testing

/// What the API suites need: root, the built berth (with its supervisor), the docker CLI, curl,
/// umoci (for the test image).
enum APIEnv {
    static let packageRoot = TestSupport.packageRoot

    static let berth: String = ProcessInfo.processInfo.environment["BERTH"] ?? packageRoot + "/.build/debug/berth"
    /// The docker CLI 28 this machine ships (Debian's older one is /usr/bin/docker).
    static let docker: String = ProcessInfo.processInfo.environment["DOCKER_CLI"] ?? "/usr/local/bin/docker"
    static let curl = "/usr/bin/curl"
    static let registryScript = packageRoot + "/Tests/Scripts/registry/registry.sh"

    static func executable(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

    static var ready: Bool {
        getuid() == 0 && executable(berth) && executable(URL(fileURLWithPath: berth).deletingLastPathComponent().path + "/berth-supervisor")
            && executable(docker) && executable(curl) && executable("/usr/bin/umoci")
    }

    /// Registry tests need Debian's docker-registry and skopeo too.
    static var registryReady: Bool { ready && executable("/usr/bin/docker-registry") && executable("/usr/bin/skopeo") }

    /// The busybox test image (TestSupport's `BusyboxImage`) as an OCI layout.
    static var busyboxLayout: String { BusyboxImage.layout }

    /// The tar of `busyboxLayout`.
    static var busyboxTar: String { BusyboxImage.tar }

    /// Short paths: sockets must fit in a sockaddr_un.
    static func scratch(_ tag: String) -> String {
        let path = "/tmp/ba\(tag)-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// A `berth serve` of its own for one test: a temporary root, run root, socket and pid file, and a
/// Docker config directory of its own for the docker CLI (logins go there); the berth CLI works on
/// the same root. `terminate()` ends the server alone (SIGTERM), `start()` starts it again;
/// `stop()` ends it and removes every container, network and the directories.
final class APIServer {
    let base: String
    var root: String { base + "/root" }
    var runRoot: String { base + "/run" }
    var socket: String { base + "/api.sock" }
    var pidFile: String { base + "/berth.pid" }
    var dockerConfig: String { base + "/docker-config" }
    /// The server's output file, kept over restarts.
    var log: String { base + "/serve.log" }
    private(set) var pid: pid_t = 0
    private var removed = false

    /// `loadBusybox`: the test image loaded through the CLI and given `tags`. `extraArguments` go
    /// to `serve` (e.g. `--group`); `start: false` leaves starting to the test.
    init(loadBusybox: Bool = true, tags: [String] = ["busybox:test"], extraArguments: [String] = [], start: Bool = true) throws {
        base = APIEnv.scratch("s")
        try FileManager.default.createDirectory(atPath: dockerConfig, withIntermediateDirectories: true)
        if loadBusybox {
            try #require(BusyboxImage.failure == nil, "\(BusyboxImage.failure ?? "")")
            let loaded = try berth(["load", "-i", APIEnv.busyboxTar])
            try #require(loaded.status == 0, "berth load: \(loaded.stderr)")
            let id = try #require(loaded.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
            for tag in tags { try berthOK("tag", id, tag) }
        }
        if start { try self.start(extraArguments) }
    }

    deinit { stop() }

    /// Starts `berth serve` (with `extraArguments`) and waits until it answers `_ping` (the socket
    /// may exist a moment before the server accepts).
    func start(_ extraArguments: [String] = []) throws {
        // No Kubernetes API: suites run many servers at once, and KubeAPITests test that one.
        pid = try spawn([APIEnv.berth, "--root", root, "--runroot", runRoot, "serve", "-H", "unix://" + socket, "--pidfile", pidFile,
                         "--kube-listen", "none"]
                        + extraArguments, output: log)
        var status: Int32 = 0
        for _ in 0..<400 {
            if let ping = try? curl(["/_ping"]), ping.status == 0, ping.stdout == "OK" { return }
            if waitpid(pid, &status, WNOHANG) == pid {
                pid = 0
                break
            }
            usleep(50_000)
        }
        let text = serverLog
        terminate()
        Issue.record("berth serve did not come up: \(text)")
        throw CancellationError()
    }

    /// Ends the server alone with SIGTERM (SIGKILL after 20 s) and returns its exit status, as a
    /// shell reports it; containers and directories stay.
    @discardableResult
    func terminate() -> Int32 {
        guard pid > 0 else { return 0 }
        defer { pid = 0 }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<400 {
            if waitpid(pid, &status, WNOHANG) == pid { return exitStatus(status) }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return exitStatus(status)
    }

    /// Ends the server, removes every container and user network, unmounts what is mounted below
    /// the directories and deletes them. Once: later calls do nothing.
    func stop() {
        terminate()
        guard !removed else { return }
        removed = true
        if let ids = try? berth(["ps", "-aq", "--no-trunc"]).stdout.split(separator: "\n").map(String.init), !ids.isEmpty {
            _ = try? berth(["rm", "-f"] + ids)
        }
        _ = try? berth(["network", "prune", "-f"])
        _ = try? sh(["/bin/sh", "-c", "grep -o ' \(base)[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l"])
        try? FileManager.default.removeItem(atPath: base)
    }

    /// What the server wrote so far.
    var serverLog: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// The CLI against the same root: containers and images are shared with the server.
    @discardableResult
    func berth(_ arguments: [String], stdin: String? = nil) throws -> Output {
        try sh([APIEnv.berth, "--root", root, "--runroot", runRoot] + arguments, stdin: stdin)
    }

    /// Runs the berth CLI and requires success; returns stdout.
    @discardableResult
    func berthOK(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try berth(arguments)
        try #require(result.status == 0, "berth \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)",
                     sourceLocation: sourceLocation)
        return result.stdout
    }

    /// A running busybox container (`busybox:test`), its ID.
    @discardableResult
    func sleeper(_ name: String, _ extra: [String] = []) throws -> String {
        let result = try berth(["run", "-d", "--name", name] + extra + ["busybox:test", "sleep", "600"])
        try #require(result.status == 0, "berth run: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The environment the docker CLI gets: DOCKER_HOST on this server, the config directory of
    /// its own, no hints, the legacy builder (no buildx here).
    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_HOST"] = "unix://" + socket
        environment["DOCKER_CONFIG"] = dockerConfig
        environment["DOCKER_CLI_HINTS"] = "false"
        environment["DOCKER_BUILDKIT"] = "0"
        return environment
    }

    /// The docker CLI with DOCKER_HOST on this server.
    @discardableResult
    func docker(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:]) throws -> Output {
        try sh([APIEnv.docker] + arguments, stdin: stdin, environment: environment.merging(extra) { $1 })
    }

    /// Runs the docker CLI and requires success; returns stdout.
    @discardableResult
    func dockerOK(_ arguments: String..., stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try docker(arguments, stdin: stdin)
        try #require(result.status == 0, "docker \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)\(result.stdout)\nserver log:\n\(serverLog.suffix(4000))",
                     sourceLocation: sourceLocation)
        return result.stdout
    }

    /// A shell command line in the docker CLI's environment (pipes, `script` for a terminal).
    @discardableResult
    func shell(_ command: String) throws -> Output {
        try sh(["/bin/sh", "-c", command], environment: environment)
    }

    /// curl's options whose value may be a file's path (it stays one).
    private static let curlPathOptions: Set<String> = ["-o", "--output", "-T", "--upload-file", "-D", "--dump-header", "-K", "--config",
                                                       "-b", "--cookie", "-c", "--cookie-jar", "--unix-socket", "--trace", "--trace-ascii"]

    /// curl on the socket (`-sS`, at most 120 s unless `arguments` say otherwise): `arguments` are
    /// curl's; a URL among them is a request's path like `/v1.51/images/json` (or a whole
    /// `http://d/…`). With `status`, stdout ends with a line holding the HTTP status.
    @discardableResult
    func curl(_ arguments: [String], status: Bool = false, stdin: String? = nil) throws -> Output {
        var command = [APIEnv.curl, "-sS", "--max-time", "120", "--unix-socket", socket]
        if status { command += ["-w", "\n%{http_code}"] }
        let fixed = arguments.indices.map { index in
            let argument = arguments[index]
            let isPath = index > 0 && Self.curlPathOptions.contains(arguments[index - 1])
            return argument.hasPrefix("/") && !isPath ? "http://localhost" + argument : argument
        }
        return try sh(command + fixed, stdin: stdin)
    }

    /// A request's body and status: (`status`, body without the status line).
    func request(_ method: String, _ path: String, _ extra: [String] = []) throws -> (status: Int, body: String) {
        let result = try curl(["-X", method] + extra + [path], status: true)
        var lines = result.stdout.components(separatedBy: "\n")
        let code = Int(lines.removeLast()) ?? 0
        return (code, lines.joined(separator: "\n"))
    }

    /// A request with a JSON body: (`status`, body).
    func request(_ method: String, _ path: String, json: String) throws -> (status: Int, body: String) {
        try request(method, path, ["-H", "Content-Type: application/json", "--data-binary", json])
    }

    /// A JSON body parsed (objects as dictionaries, lists as arrays).
    func json(_ path: String) throws -> Any {
        let result = try curl([path])
        try #require(result.status == 0, "curl \(path): \(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8), options: [.fragmentsAllowed])
    }

    /// A text parsed as a JSON object.
    func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// Starts a program in the background, stdout and stderr appended to `output`, with no signal
    /// blocked (the test runner's threads block some, and the server must see SIGTERM).
    func spawn(_ arguments: [String], output: String) throws -> pid_t {
        try TestSupport.spawn(arguments, stdout: output, append: true)
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
