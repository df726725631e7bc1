import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// The container's terminal (`process.terminal: true`).
///
/// The pty is made inside the container, from its own devpts, after pivot_root: the master goes
/// out over the console socket (SCM_RIGHTS, as runc sends it, so containerd, conmon and Docker
/// can hold it); the peer becomes the process's controlling terminal and stdio, and /dev/console.
public enum Console {
    /// What runc puts in the message that carries the master: its path.
    static let masterName = "/dev/ptmx"

    /// Connects to the caller's `--console-socket`, in the caller's mount namespace.
    static func connect(_ path: String) throws(RuntimeError) -> Int32 {
        let fd = berth_connect_unix(FS.absolute(path))
        guard fd >= 0 else { throw SysError("connect", path).context("open console socket") }
        return fd
    }

    /// In the container, after pivot_root: opens a pty in its devpts, sizes it, binds the peer on
    /// /dev/console when `bindConsole`, sends the master over `socket` and makes the peer the
    /// controlling terminal and fds 0, 1 and 2.
    static func setUp(socket: Int32, size: ConsoleSize?, bindConsole: Bool) throws(RuntimeError) {
        let root: Int32
        do { root = try FS.open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC) } catch { throw error.context("set up console") }
        defer { FS.close(root) }
        let inRoot = InRoot(rootFD: root, rootPath: "")
        let master: Int32
        do { master = try inRoot.open("/dev/ptmx", O_RDWR | O_NOCTTY) } catch { throw error.context("open pty master") }
        defer { FS.close(master) }
        guard let st = try? FS.fstat(master), st.st_mode & S_IFMT == S_IFCHR, berth_major(st.st_rdev) == 5 else {
            throw RuntimeError("set up console: /dev/ptmx in the container is not a pty multiplexer")
        }
        if berth_pty_unlock(master) != 0 { throw SysError("ioctl(TIOCSPTLCK)", "/dev/ptmx").context("set up console") }
        let peer = berth_pty_peer(master, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard peer >= 0 else { throw SysError("ioctl(TIOCGPTPEER)", "/dev/ptmx").context("set up console") }
        defer { FS.close(peer) }
        if let size {
            if berth_set_winsize(peer, UInt16(clamping: size.height), UInt16(clamping: size.width)) != 0 {
                throw SysError("ioctl(TIOCSWINSZ)", "console").context("set console size")
            }
        }
        if bindConsole {
            let target = try consoleMountPoint(inRoot)
            defer { FS.close(target) }
            do { try sys("bind", "/dev/console") { berth_bind_fd(peer, target) } } catch { throw error.context("mount console") }
        }
        let sent = masterName.withCString { berth_send_fd(socket, master, $0, strlen($0)) }
        if sent < 0 { throw SysError("sendmsg", "console socket").context("send pty master") }
        if berth_set_controlling_tty(peer) != 0 { throw SysError("ioctl(TIOCSCTTY)", "console").context("set up console") }
        for fd: Int32 in 0...2 where dup2(peer, fd) < 0 {
            throw SysError("dup2", "console").context("set up console")
        }
    }

    /// /dev/console as a plain file in the container's /dev, never through a symlink the image put
    /// there: binding the pty onto a file a link points at (a procfs file, say) would let the
    /// container change what that file is (runc CVE-2025-52565).
    private static func consoleMountPoint(_ root: InRoot) throws(RuntimeError) -> Int32 {
        let dev: Int32
        do { dev = try root.mkdirAll("/dev") } catch { throw error.context("mount console") }
        defer { FS.close(dev) }
        var fs = statfs()
        if fstatfs(dev, &fs) == 0 && (fs.f_type == 0x9fa0 || fs.f_type == 0x62656572) {
            throw RuntimeError("mount console: the container's /dev resolves into procfs or sysfs")
        }
        var st = stat()
        if fstatat(dev, "console", &st, AT_SYMLINK_NOFOLLOW) == 0 {
            let kind = st.st_mode & S_IFMT
            if kind != S_IFREG && kind != S_IFCHR && unlinkat(dev, "console", 0) != 0 {
                throw SysError("unlink", "/dev/console").context("mount console")
            }
        }
        let created = berth_openat(dev, "console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if created >= 0 { FS.close(created) } else if errno != EEXIST && errno != EACCES && errno != EROFS && errno != ENXIO {
            throw SysError("create", "/dev/console").context("mount console")
        }
        let fd = berth_openat(dev, "console", BERTH_O_PATH | O_NOFOLLOW | O_CLOEXEC, 0)
        guard fd >= 0 else { throw SysError("open", "/dev/console").context("mount console") }
        guard let target = try? FS.fstat(fd), target.st_mode & S_IFMT == S_IFREG || target.st_mode & S_IFMT == S_IFCHR else {
            FS.close(fd)
            throw RuntimeError("mount console: /dev/console is neither a file nor a device")
        }
        return fd
    }

    /// Receives the master the container sent over our end of a console socket pair.
    public static func receiveMaster(_ socket: Int32) throws(RuntimeError) -> Int32 {
        var name = [CChar](repeating: 0, count: 4096)
        let fd = berth_recv_fd(socket, &name, name.count - 1)
        guard fd >= 0 else { throw SysError("recvmsg", "console socket").context("receive pty master") }
        return fd
    }
}

nonisolated(unsafe) private var windowChanged: Int32 = 0

/// Joins the caller's terminal to a container's pty when `run` or `exec` has a terminal but no
/// console socket: raw mode on our side, bytes copied both ways, window size passed on.
struct TerminalRelay {
    let master: Int32
    /// Our side's input: stdin, or /dev/null when the process gets no keystrokes (`exec -t` without -i).
    var input: Int32 = 0

    /// Copies until `finished` says the process is gone, then drains what the pty still holds.
    func relay(until finished: () -> Bool) {
        var saved = termios()
        let isTTY = isatty(input) == 1
        let raw = isTTY && berth_make_raw(input, &saved) == 0
        defer { if raw { _ = berth_restore_termios(input, &saved) } }
        copyWindowSize()
        Glibc.signal(SIGWINCH) { _ in windowChanged = 1 }
        // A SIGCHLD handler makes poll return when the process ends.
        Glibc.signal(SIGCHLD) { _ in }
        defer {
            Glibc.signal(SIGWINCH, SIG_DFL)
            Glibc.signal(SIGCHLD, SIG_DFL)
        }
        var stdinOpen = true
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        while !finished() {
            if windowChanged != 0 {
                windowChanged = 0
                copyWindowSize()
            }
            var fds = [pollfd(fd: master, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stdinOpen ? input : -1, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, 200)
            if ready < 0 { continue }
            if fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
                if n > 0 { writeAll(1, buffer[0..<n]) } else if n == 0 || errno != EINTR && errno != EAGAIN { break }
            }
            if fds[1].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
                if n > 0 { writeAll(master, buffer[0..<n]) } else if n == 0 || errno != EINTR { stdinOpen = false }
            }
        }
        drain()
    }

    /// What the process wrote just before it ended.
    private func drain() {
        let flags = fcntl(master, F_GETFL)
        _ = berth_fcntl_int(master, F_SETFL, flags | O_NONBLOCK)
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            writeAll(1, buffer[0..<n])
        }
    }

    /// Our terminal's size onto the pty: stdin's, or stdout's when stdin is not a terminal (exec -t without -i).
    private func copyWindowSize() {
        var rows: UInt16 = 0
        var cols: UInt16 = 0
        if berth_get_winsize(input, &rows, &cols) == 0 || berth_get_winsize(1, &rows, &cols) == 0 {
            _ = berth_set_winsize(master, rows, cols)
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            offset += n
        }
    }
}
