import Foundation
import OCI
import TestSupport
import Testing

/// What a test needs to run real containers: the built berth-runtime, peers from Debian, busybox
/// bundles in temporary directories, and a fresh state root per test.
enum Env {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let berth: String = {
        if let path = ProcessInfo.processInfo.environment["BERTH_RUNTIME"] { return path }
        return packageRoot + "/.build/debug/berth-runtime"
    }()

    static let busybox = "/usr/bin/busybox"

    static var isRoot: Bool { getuid() == 0 }

    static func has(_ program: String) -> Bool {
        ["/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + program) }
    }

    /// Integration tests need root, the built runtime and busybox-static.
    static var canRunContainers: Bool {
        isRoot && FileManager.default.isExecutableFile(atPath: berth) && FileManager.default.fileExists(atPath: busybox)
    }

    static var hasRunc: Bool { canRunContainers && has("runc") }

    static func uniqueID(_ prefix: String) -> String {
        "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }
}


/// A runtime binary (berth-runtime or a peer) with its own state root.
struct RuntimeCLI {
    var binary: String
    var root: String

    static func berth(_ bundle: TestBundle) -> RuntimeCLI { RuntimeCLI(binary: Env.berth, root: bundle.directory + "/state-berth") }
    static func runc(_ bundle: TestBundle) -> RuntimeCLI { RuntimeCLI(binary: "/usr/sbin/runc", root: bundle.directory + "/state-runc") }

    /// berth-runtime or runc, by the name a parameterized test gets.
    static func named(_ name: String, _ bundle: TestBundle) -> RuntimeCLI { name == "runc" ? runc(bundle) : berth(bundle) }

    @discardableResult
    func callAsFunction(_ arguments: String..., stdin: String? = nil) throws -> Output {
        try sh([binary, "--root", root] + arguments, stdin: stdin)
    }

    @discardableResult
    func call(_ arguments: [String], stdin: String? = nil) throws -> Output {
        try sh([binary, "--root", root] + arguments, stdin: stdin)
    }

    /// Creates (or with `started`, runs detached) a container of `bundle` under a fresh id; a failure is
    /// recorded with the runtime's stderr.
    func launch(_ bundle: TestBundle, prefix: String, started: Bool = false) throws -> String {
        let id = Env.uniqueID(prefix)
        let result = started ? try self("run", "-d", "--bundle", bundle.path, id) : try self("create", "--bundle", bundle.path, id)
        #expect(result.status == 0, "\(result.stderr)")
        return id
    }

    func run(_ id: String, bundle: TestBundle) throws -> Output {
        try sh([binary, "--root", root, "run", "--bundle", bundle.path, id])
    }

    func state(_ id: String) throws -> [String: Any]? {
        let output = try self("state", id)
        guard output.status == 0 else { return nil }
        return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
    }
}

/// A bundle with a busybox rootfs and a config.json made from the default spec.
final class TestBundle {
    let directory: String
    var path: String { directory + "/bundle" }
    var rootfs: String { path + "/rootfs" }
    var spec: Spec

    init(args: [String] = ["/bin/true"]) throws {
        directory = NSTemporaryDirectory() + "berth-test-" + Env.uniqueID("b")
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory + "/bundle/rootfs/bin", withIntermediateDirectories: true)
        // A hard link, or a copy through a close-on-exec fd: a writable fd inherited by a process another
        // test spawns meanwhile would make the binary "text file busy".
        if link(Env.busybox, directory + "/bundle/rootfs/bin/busybox") != 0 {
            try writeExecutable(directory + "/bundle/rootfs/bin/busybox", Data(contentsOf: URL(fileURLWithPath: Env.busybox)))
        }
        for applet in ["sh", "true", "false", "cat", "echo", "ls", "id", "hostname", "sleep", "grep", "mount",
                       "readlink", "stat", "ulimit", "kill", "wc", "head", "touch", "mkdir", "test", "env", "sed",
                       "nproc", "dd", "tr", "tty", "stty", "pwd", "ps", "uname", "cut", "ionice"] {
            try fm.createSymbolicLink(atPath: directory + "/bundle/rootfs/bin/" + applet, withDestinationPath: "busybox")
        }
        for dir in ["proc", "sys", "dev", "tmp", "etc", "root"] {
            try fm.createDirectory(atPath: directory + "/bundle/rootfs/" + dir, withIntermediateDirectories: true)
        }
        try "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
            .write(toFile: directory + "/bundle/rootfs/etc/passwd", atomically: true, encoding: .utf8)
        spec = Spec.defaultSpec()
        spec.process?.terminal = false
        spec.process?.args = args
        spec.root?.readonly = false
    }

    /// A bundle whose process sleeps, its config written: a container that stays up while a test looks.
    static func sleeping() throws -> TestBundle {
        let bundle = try TestBundle(args: ["/bin/sleep", "100"])
        try bundle.write()
        return bundle
    }

    /// Writes config.json; runc 1.1 and crun 1.8 read specs up to 1.0.x, so the version written is one they take.
    func write(ociVersion: String = "1.0.2") throws {
        var spec = self.spec
        spec.ociVersion = ociVersion
        try Data(spec.encoded()).write(to: URL(fileURLWithPath: path + "/config.json"))
    }

    /// A shell command as the process.
    func shell(_ script: String) throws {
        spec.process?.args = ["/bin/sh", "-c", script]
        try write()
    }

    deinit {
        _ = try? sh(["/bin/umount", "-R", "-l", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Writes a file through a close-on-exec descriptor. Tests run in parallel and spawn processes from
/// other threads; a writable fd inherited by one of them would make an executable "text file busy".
func writeExecutable(_ path: String, _ text: String) throws {
    try writeExecutable(path, Data(text.utf8))
}

func writeExecutable(_ path: String, _ data: Data) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    let bytes = Array(data)
    guard write(fd, bytes, bytes.count) == bytes.count else { throw POSIXError(.EIO) }
}
