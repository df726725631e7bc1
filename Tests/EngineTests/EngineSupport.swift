import Foundation
import TestSupport
import Testing

/// The built `berth` (and `berth-supervisor` beside it), a fresh engine per test, and Podman as the peer.
enum EngineEnv {
    static let packageRoot = TestSupport.packageRoot

    static let berth: String = ProcessInfo.processInfo.environment["BERTH"] ?? packageRoot + "/.build/debug/berth"

    static func executable(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// Container tests need root, the built berth and its supervisor, and umoci for the test image.
    static var ready: Bool {
        getuid() == 0 && executable(berth) && executable(URL(fileURLWithPath: berth).deletingLastPathComponent().path + "/berth-supervisor")
            && executable("/usr/bin/umoci")
    }

    static var hasPodman: Bool { ready && executable("/usr/bin/podman") }

    /// The busybox image made by umoci from Debian's busybox-static, as an OCI layout, and as a tar
    /// of it beside it (`busyboxLayout + ".tar"`); once per test process (TestSupport).
    static var busyboxLayout: String { BusyboxImage.layout }

    /// Short paths: the attach socket's path must fit in a sockaddr_un.
    static func scratch(_ tag: String) -> String {
        let path = "/tmp/be\(tag)-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// `berth --root R --runroot RR …` with the busybox image loaded as `busybox:test`.
struct BerthEngine {
    let base: String
    var root: String { base + "/root" }
    var runRoot: String { base + "/run" }

    /// `loadBusybox: false`: an empty store, for tests that pull.
    init(environment: [String: String] = [:], loadBusybox: Bool = true, binary: String = EngineEnv.berth) throws {
        base = EngineEnv.scratch("b")
        self.environment = environment
        self.binary = binary
        guard loadBusybox else { return }
        let loaded = try callAnyway(["load", "-i", EngineEnv.busyboxLayout + ".tar"])
        try #require(loaded.status == 0, "berth load: \(loaded.stderr)")
        let id = try #require(loaded.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        let imageID = id.hasPrefix("sha256:") ? id : try call("images", "-q", "--no-trunc").split(separator: "\n").first.map(String.init) ?? ""
        try call("tag", imageID, "busybox:test")
    }

    /// Extra environment for every berth command (merged over the test's own).
    var environment: [String: String] = [:]
    /// The berth executable the commands run (a copy, for tests that may damage it).
    var binary = EngineEnv.berth

    @discardableResult
    func callAnyway(_ arguments: [String], stdin: String? = nil) throws -> Output {
        try sh([binary, "--root", root, "--runroot", runRoot] + arguments, stdin: stdin,
               environment: environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 })
    }

    @discardableResult
    func call(_ arguments: String..., stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try callAnyway(arguments, stdin: stdin)
        try #require(result.status == 0, "berth \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)\(result.stdout)", sourceLocation: sourceLocation)
        return result.stdout
    }

    @discardableResult
    func call(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try callAnyway(arguments)
        try #require(result.status == 0, "berth \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)\(result.stdout)", sourceLocation: sourceLocation)
        return result.stdout
    }

    /// Removes every container, then checks nothing of them is left mounted, then the directories.
    func remove() {
        if let ids = try? callAnyway(["ps", "-aq", "--no-trunc"]).stdout.split(separator: "\n").map(String.init), !ids.isEmpty {
            _ = try? callAnyway(["rm", "-f"] + ids)
        }
        // User networks are host-wide things (a bridge, iptables rules): never leave them behind.
        _ = try? callAnyway(["network", "prune", "-f"])
        _ = try? sh(["/bin/sh", "-c", "grep -o ' \(base)[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l"])
        try? FileManager.default.removeItem(atPath: base)
    }

    /// Mount points under this engine's directories.
    var mounts: [String] {
        ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "")
            .split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                return fields.count > 4 && fields[4].hasPrefix(base) ? String(fields[4]) : nil
            }
    }

    func inspect(_ container: String, _ format: String) throws -> String {
        try call("inspect", "--format", format, container).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Podman with its own storage, the same busybox image as `busybox:test`, and no network.
struct PodmanPeer {
    let base: String

    init() throws {
        base = EngineEnv.scratch("p")
        let pulled = try callAnyway(["pull", "-q", "oci:\(EngineEnv.busyboxLayout):latest"])
        try #require(pulled.status == 0, "podman pull: \(pulled.stderr)")
        try #require(try callAnyway(["tag", pulled.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "busybox:test"]).status == 0)
    }

    var global: [String] {
        // --tmpdir too: peers of tests running at once must not share /run/libpod (a peer's first
        // run there raced another's: "creating runtime status file: open /run/libpod/alive").
        // runc, not crun: crun 1.8's exec as another user chowns its stdio to that user, and conmon
        // gives it the host's /dev/null (`podman exec -u nobody` left /dev/null owned by 65534).
        ["/usr/bin/podman", "--root", base + "/root", "--runroot", base + "/run", "--tmpdir", base + "/tmp",
         "--storage-driver", "overlay", "--events-backend", "none", "--cgroup-manager", "cgroupfs",
         "--runtime", "runc"]
    }

    @discardableResult
    func callAnyway(_ arguments: [String], stdin: String? = nil) throws -> Output {
        try sh(global + arguments, stdin: stdin)
    }

    /// `podman run` with what this sandbox needs (no CAP_SYS_RESOURCE: ulimits within the current ones).
    func run(_ arguments: [String], stdin: String? = nil) throws -> Output {
        try callAnyway(["run", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "none"] + arguments, stdin: stdin)
    }

    func remove() {
        _ = try? callAnyway(["rm", "-af"])
        _ = try? sh(["/bin/sh", "-c", "grep -o ' \(base)[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l"])
        try? FileManager.default.removeItem(atPath: base)
    }
}
