import Foundation
import TestSupport
import Testing

/// A real `berth serve` (the binary under test: $BERTH, else the debug build) on a socket and an
/// engine root of its own, with the busybox test image loaded as `busybox:test` and `busybox:latest`;
/// the real docker CLI and curl pointed at it.
final class ServeServer: @unchecked Sendable {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static let berth: String = ProcessInfo.processInfo.environment["BERTH"] ?? packageRoot + "/.build/debug/berth"
    static let docker = "/usr/local/bin/docker"

    /// Tests need root, the built berth, umoci (the test image) and the docker CLI.
    static var ready: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: berth)
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/umoci")
            && FileManager.default.isExecutableFile(atPath: docker)
    }

    static var busyboxTar: String { APIEnv.busyboxTar }

    let base: String
    var root: String { base + "/root" }
    var runRoot: String { base + "/run" }
    var socket: String { base + "/api.sock" }
    var pidFile: String { base + "/serve.pid" }
    var logFile: String { base + "/serve.log" }
    private(set) var process: Process?

    /// `extraArguments` go to `serve` (e.g. `--group`); `start: false` leaves starting to the test.
    init(loadBusybox: Bool = true, extraArguments: [String] = [], start: Bool = true) throws {
        base = "/tmp/bapi-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        if loadBusybox {
            let loaded = try berth(["load", "-i", Self.busyboxTar])
            try #require(loaded.status == 0, "berth load: \(loaded.stderr)")
            let id = try berth(["images", "-q", "--no-trunc"]).stdout.split(separator: "\n").first.map(String.init) ?? ""
            try #require(try berth(["tag", id, "busybox:test"]).status == 0)
            try #require(try berth(["tag", id, "busybox:latest"]).status == 0)
        }
        if start { try self.start(extraArguments) }
    }

    /// Starts the server and waits until it answers `_ping`.
    func start(_ extraArguments: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.berth)
        process.arguments = ["--root", root, "--runroot", runRoot, "serve", "-H", "unix://" + socket, "--pidfile", pidFile] + extraArguments
        FileManager.default.createFile(atPath: logFile, contents: nil)
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        logHandle.seekToEndOfFile()
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        self.process = process
        for _ in 0..<200 {
            if (try? curl(["-sf", "http://d/_ping"]))?.stdout == "OK" { return }
            usleep(25_000)
        }
        Issue.record("berth serve did not answer within 5 s: \(log())")
    }

    /// SIGTERM, and waits for the exit; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        guard let process, process.isRunning else { return process?.terminationStatus ?? 0 }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    func log() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["DOCKER_HOST"] = "unix://" + socket
        env["DOCKER_CONFIG"] = base + "/docker-config"
        env["DOCKER_BUILDKIT"] = "0"
        return env
    }

    /// The real docker CLI against this server.
    @discardableResult
    func docker(_ arguments: [String], stdin: String? = nil) throws -> Output {
        try sh([Self.docker] + arguments, stdin: stdin, environment: environment)
    }

    /// `docker …` that must succeed; its stdout.
    @discardableResult
    func dockerOK(_ arguments: String..., stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try docker(arguments, stdin: stdin)
        try #require(result.status == 0, "docker \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)\(result.stdout)\nserver log:\n\(log())", sourceLocation: sourceLocation)
        return result.stdout
    }

    /// curl over the socket (`http://d/…` URLs).
    func curl(_ arguments: [String], stdin: String? = nil) throws -> Output {
        try sh(["/usr/bin/curl", "--unix-socket", socket] + arguments, stdin: stdin)
    }

    /// The berth CLI on the same engine root.
    @discardableResult
    func berth(_ arguments: [String], stdin: String? = nil) throws -> Output {
        try sh([Self.berth, "--root", root, "--runroot", runRoot] + arguments, stdin: stdin)
    }

    /// Stops the server, removes every container and network, unmounts and deletes the directories.
    func remove() {
        stop()
        if let ids = try? berth(["ps", "-aq", "--no-trunc"]).stdout.split(separator: "\n").map(String.init), !ids.isEmpty {
            _ = try? berth(["rm", "-f"] + ids)
        }
        _ = try? berth(["network", "prune", "-f"])
        _ = try? sh(["/bin/sh", "-c", "grep -o ' \(base)[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l"])
        try? FileManager.default.removeItem(atPath: base)
    }
}
