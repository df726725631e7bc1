import Foundation
import TestSupport
import Testing

/// What the API tests need: root, the built berth (with its supervisor and runtime), umoci for
/// the busybox image, the docker CLI and curl.
enum EndpointEnv {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let berth: String = ProcessInfo.processInfo.environment["BERTH"] ?? packageRoot + "/.build/debug/berth"
    static let docker = "/usr/local/bin/docker"
    static let curl = "/usr/bin/curl"

    static var ready: Bool {
        let fm = FileManager.default
        return getuid() == 0 && fm.isExecutableFile(atPath: berth)
            && fm.isExecutableFile(atPath: URL(fileURLWithPath: berth).deletingLastPathComponent().path + "/berth-supervisor")
            && fm.isExecutableFile(atPath: "/usr/bin/umoci") && fm.isExecutableFile(atPath: docker) && fm.isExecutableFile(atPath: curl)
    }

    static var busyboxTar: String { APIEnv.busyboxTar }
}

/// The real `berth serve` on a socket of its own, over a root of its own that has busybox loaded
/// as `busybox:test`; the docker CLI and curl talk to it, the berth CLI works on the same root.
final class EndpointServer {
    let base: String
    var root: String { base + "/root" }
    var runRoot: String { base + "/run" }
    var socket: String { base + "/api.sock" }
    var log: String { base + "/serve.log" }
    private var pid: pid_t = 0

    init() throws {
        // Short: the socket's path must fit in a sockaddr_un.
        base = "/tmp/ba\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        try FileManager.default.createDirectory(atPath: base + "/docker-config", withIntermediateDirectories: true)
        let loaded = try berthAnyway(["load", "-i", EndpointEnv.busyboxTar])
        try #require(loaded.status == 0, "berth load: \(loaded.stderr)")
        let imageID = try berth("images", "-q", "--no-trunc").split(separator: "\n").first.map(String.init) ?? ""
        try berth("tag", imageID, "busybox:test")
        try start()
    }

    deinit { remove() }

    /// Starts `berth serve` and waits until it answers `_ping`.
    func start() throws {
        let argv = [EndpointEnv.berth, "--root", root, "--runroot", runRoot, "serve", "-H", "unix://" + socket, "--pidfile", base + "/serve.pid"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
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
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let rc = posix_spawn(&pid, argv[0], &actions, &attributes, &cArgs, environ)
        try #require(rc == 0, "spawn berth serve: \(rc)")
        for _ in 0..<100 {
            if let ping = try? curl(["http://d/_ping"]), ping.stdout == "OK" { return }
            usleep(100_000)
        }
        Issue.record("berth serve did not answer: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// SIGTERM, and the server's exit.
    func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        pid = 0
    }

    /// Stops the server, removes every container and user network, unmounts and deletes the root.
    func remove() {
        stop()
        if let ids = try? berthAnyway(["ps", "-aq", "--no-trunc"]).stdout.split(separator: "\n").map(String.init), !ids.isEmpty {
            _ = try? berthAnyway(["rm", "-f"] + ids)
        }
        _ = try? berthAnyway(["network", "prune", "-f"])
        _ = try? sh(["/bin/sh", "-c", "grep -o ' \(base)[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l"])
        try? FileManager.default.removeItem(atPath: base)
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["DOCKER_HOST"] = "unix://" + socket
        env["DOCKER_CONFIG"] = base + "/docker-config"
        env["DOCKER_CLI_HINTS"] = "false"
        return env
    }

    /// The docker CLI against this server.
    @discardableResult
    func docker(_ arguments: [String], stdin: String? = nil) throws -> Output {
        try sh([EndpointEnv.docker] + arguments, stdin: stdin, environment: environment)
    }

    /// A shell command line with DOCKER_HOST set (pipes, `script` for a terminal).
    @discardableResult
    func shell(_ command: String) throws -> Output {
        try sh(["/bin/sh", "-c", command], environment: environment)
    }

    /// curl on the socket: `-s`, the body on stdout; with `status`, the HTTP status as the last line.
    @discardableResult
    func curl(_ arguments: [String], status: Bool = false) throws -> Output {
        try sh([EndpointEnv.curl, "-s", "--unix-socket", socket] + (status ? ["-w", "\n%{http_code}"] : []) + arguments)
    }

    /// A JSON request: (status, body).
    func request(_ method: String, _ path: String, json: String? = nil) throws -> (status: Int, body: String) {
        var arguments = ["-X", method, "http://d" + path]
        if let json { arguments += ["-H", "Content-Type: application/json", "--data-binary", json] }
        let out = try curl(arguments, status: true)
        var lines = out.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let code = Int(lines.popLast() ?? "") ?? 0
        return (code, lines.joined(separator: "\n"))
    }

    /// The body parsed as a JSON object.
    func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    @discardableResult
    func berthAnyway(_ arguments: [String], stdin: String? = nil) throws -> Output {
        try sh([EndpointEnv.berth, "--root", root, "--runroot", runRoot] + arguments, stdin: stdin)
    }

    @discardableResult
    func berth(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try berthAnyway(arguments)
        try #require(result.status == 0, "berth \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)", sourceLocation: sourceLocation)
        return result.stdout
    }

    /// A running busybox container.
    @discardableResult
    func sleeper(_ name: String, _ extra: [String] = []) throws -> String {
        let result = try berthAnyway(["run", "-d", "--name", name] + extra + ["busybox:test", "sleep", "600"])
        try #require(result.status == 0, "berth run: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
