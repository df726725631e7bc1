import CLinuxSys
import Foundation
import OCI
import TestSupport
import Testing

/// A listening unix socket standing in for containerd's or conmon's console socket.
final class ConsoleSocketListener {
    let path: String
    let fd: Int32

    init(directory: String) throws {
        path = directory + "/console.sock"
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else { throw POSIXError(.EADDRINUSE) }
    }

    /// The pty master and the name that came with it. The runtime has already sent it: a unix stream
    /// connection is queued, with its data, before it is accepted.
    func receiveMaster() throws -> (fd: Int32, name: String) {
        let connection = accept(fd, nil, nil)
        guard connection >= 0 else { throw POSIXError(.EIO) }
        defer { close(connection) }
        var name = [CChar](repeating: 0, count: 4096)
        let master = berth_recv_fd(connection, &name, name.count - 1)
        guard master >= 0 else { throw POSIXError(.EIO) }
        return (master, String(cString: name))
    }

    deinit { close(fd) }
}

/// Reads a pty master until `marker` appears or it closes.
func readTerminal(_ fd: Int32, until marker: String, timeoutSeconds: Int = 10) -> String {
    var text = ""
    let deadline = Date().addingTimeInterval(TimeInterval(timeoutSeconds))
    var buffer = [UInt8](repeating: 0, count: 4096)
    while !text.contains(marker) && Date() < deadline {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 200) > 0 else { continue }
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        text += String(decoding: buffer[0..<n], as: UTF8.self)
    }
    return text
}

/// `process.terminal`: the pty master over `--console-socket` as runc sends it, and `run` relaying
/// the caller's own terminal.
@Suite(.enabled(if: Env.canRunContainers, "needs root, busybox-static and a built berth-runtime"))
struct TerminalTests {
    @Test(arguments: ["berth", "runc"])
    func consoleSocketReceivesTheMaster(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle()
        bundle.spec.process?.terminal = true
        bundle.spec.process?.consoleSize = ConsoleSize(height: 40, width: 120)
        try bundle.shell("tty; stty size; ls -l /dev/console | grep -c pts; echo done")
        let runtime = RuntimeCLI.named(name, bundle)
        let listener = try ConsoleSocketListener(directory: bundle.directory)
        let id = Env.uniqueID("tty")
        let created = try runtime("create", "--console-socket", listener.path, "--bundle", bundle.path, id)
        #expect(created.status == 0, "\(created.stderr)")
        defer { _ = try? runtime("delete", "-f", id) }
        let (master, payload) = try listener.receiveMaster()
        defer { close(master) }
        #expect(payload == "/dev/ptmx")
        #expect(try runtime("start", id).status == 0)
        let text = readTerminal(master, until: "done")
        #expect(text.contains("/dev/pts/0\r\n"), "\(text)")
        #expect(text.contains("40 120\r\n"), "\(text)")
        #expect(text.contains("done"))
    }

    /// `exec --tty --detach --console-socket`, as containerd's shim runs `docker exec -t`.
    @Test(arguments: ["berth", "runc"])
    func execSendsItsMasterToo(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle.sleeping()
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "ttyexec", started: true)
        defer { _ = try? runtime("delete", "-f", id) }
        let listener = try ConsoleSocketListener(directory: bundle.directory)
        let exec = try runtime("exec", "--tty", "--detach", "--console-socket", listener.path, id, "sh", "-c", "tty; echo exec-done")
        #expect(exec.status == 0, "\(exec.stderr)")
        let (master, _) = try listener.receiveMaster()
        defer { close(master) }
        let text = readTerminal(master, until: "exec-done")
        #expect(text.contains("/dev/pts/"), "\(text)")
        #expect(text.contains("exec-done"))
    }

    /// An image whose /dev/console is a symlink into procfs does not get the pty bound over the procfs
    /// file: /dev/console is replaced by a plain mount point (runc CVE-2025-52565).
    @Test func consoleSymlinkIsNotFollowed() throws {
        let bundle = try TestBundle()
        // The image's own /dev (no tmpfs over it), with devpts and a ptmx link as images have them.
        bundle.spec.mounts = bundle.spec.mounts?.filter { $0.destination != "/dev" }
        try FileManager.default.createDirectory(atPath: bundle.rootfs + "/dev/pts", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: bundle.rootfs + "/dev/ptmx", withDestinationPath: "pts/ptmx")
        try FileManager.default.createSymbolicLink(atPath: bundle.rootfs + "/dev/console", withDestinationPath: "/proc/sys/kernel/core_pattern")
        bundle.spec.process?.terminal = true
        try bundle.shell("stat -c %F /proc/sys/kernel/core_pattern; stat -c %F /dev/console; echo done")
        let berth = RuntimeCLI.berth(bundle)
        let listener = try ConsoleSocketListener(directory: bundle.directory)
        let id = Env.uniqueID("ttylink")
        let created = try berth("create", "--console-socket", listener.path, "--bundle", bundle.path, id)
        #expect(created.status == 0, "\(created.stderr)")
        defer { _ = try? berth("delete", "-f", id) }
        let (master, _) = try listener.receiveMaster()
        defer { close(master) }
        #expect(try berth("start", id).status == 0)
        let text = readTerminal(master, until: "done")
        #expect(text.contains("regular empty file\r\ncharacter special file\r\n"), "\(text)")
    }

    @Test func terminalWithoutConsoleSocketIsRefusedWhenDetached() throws {
        let bundle = try TestBundle()
        bundle.spec.process?.terminal = true
        try bundle.write()
        let berth = RuntimeCLI.berth(bundle)
        let result = try berth("create", "--bundle", bundle.path, Env.uniqueID("notty"))
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot allocate tty"))
    }

    /// In the foreground, run and exec give the process a pty of their own and relay it.
    @Test func runAndExecRelayTheCallersTerminal() throws {
        try #require(Env.has("script"))
        let bundle = try TestBundle(args: ["/bin/sh", "-c", "tty; echo in-run; sleep 100"])
        bundle.spec.process?.terminal = true
        try bundle.write()
        let berth = RuntimeCLI.berth(bundle)
        let id = Env.uniqueID("ttyrun")
        // script(1) gives the runtime a terminal on its stdin, as a user's shell would.
        let listener = try ConsoleSocketListener(directory: bundle.directory)
        #expect(try berth("run", "-d", "--console-socket", listener.path, "--bundle", bundle.path, id).status == 0)
        defer { _ = try? berth("delete", "-f", id) }
        let exec = try sh(["/usr/bin/script", "-qec", "\(Env.berth) --root \(berth.root) exec -t \(id) sh -c 'tty; exit 4'", "/dev/null"])
        #expect(exec.stdout.contains("/dev/pts/"), "\(exec.stdout) \(exec.stderr)")
        #expect(exec.status == 4)

        let once = try TestBundle(args: ["/bin/sh", "-c", "tty; echo ran"])
        once.spec.process?.terminal = true
        try once.write()
        let run = try sh(["/usr/bin/script", "-qec", "\(Env.berth) --root \(berth.root) run --bundle \(once.path) \(Env.uniqueID("ttyfg"))", "/dev/null"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("/dev/pts/0"), "\(run.stdout)")
        #expect(run.stdout.contains("ran"))
    }
}
