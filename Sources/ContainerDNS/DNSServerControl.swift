import Glibc
import LinuxSys

/// The engine's handle on the one server process: start it if none runs, tell it to reread.
public enum DNSServerControl {
    /// Starts `binary --config-dir DIR [arguments]` unless a server already holds the lock. The
    /// binary daemonizes (takes the lock, forks, writes the pid file, and its first process exits),
    /// so waiting for that first process leaves no zombie and means the lock is held. Waits at
    /// most about a second; throws if no server holds the lock by then.
    public static func ensureRunning(dir: String, binary: String, arguments: [String] = []) throws(SysError) {
        try DNSConfig.secureDirectory(dir)
        if isRunning(dir: dir) { return }
        let pid = try ProcessSys.spawn([binary, "--config-dir", dir] + arguments, newSession: true)
        var status: Int32 = 0
        var reaped = false
        for _ in 0..<200 {
            if !reaped, waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                if ProcessSys.decode(status: status) != .exited(0) { break }
            }
            if reaped && isRunning(dir: dir) { return }
            usleep(5_000)
        }
        if isRunning(dir: dir) { return }
        throw SysError("start berth-dns", binary, errno: reaped ? ECHILD : ETIMEDOUT)
    }

    /// Asks the running server to rescan now (SIGHUP). Returns false when none runs. Not needed for
    /// correctness (the server notices changes within 2 s by itself), only for promptness.
    @discardableResult
    public static func reload(dir: String) -> Bool {
        guard isRunning(dir: dir), let pid = serverPID(dir: dir) else { return false }
        return Glibc.kill(pid, SIGHUP) == 0
    }

    /// Whether some process holds the server's lock.
    public static func isRunning(dir: String) -> Bool {
        InstanceLock.isHeld(dir: dir)
    }

    /// The pid the running server wrote, if any.
    public static func serverPID(dir: String) -> pid_t? {
        guard let text = try? FS.readText(dir + "/" + DNSConfig.pidFile),
              let pid = pid_t(text.split(separator: "\n").first ?? ""), pid > 0 else { return nil }
        return pid
    }
}

/// The single-instance lock: an exclusive flock on DIR/berth-dns.lock, held for the server's life
/// (the kernel drops it when the process dies, however it dies).
enum InstanceLock {
    /// The locked fd, or nil if another process holds it. Retries for a quarter second, because
    /// `isHeld` takes a shared lock for an instant and must not make a starting server give up.
    static func acquire(dir: String) throws(SysError) -> Int32? {
        let path = dir + "/" + DNSConfig.lockFile
        // Never a link, and only a file of our own: a lock another user made (while the directory
        // let them) could be held by them forever. Such a file is replaced; the directory is ours
        // and 0700 by now, so they cannot make another.
        var fd = try FS.open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode: DNSConfig.fileMode)
        if !isOurs(fd) {
            FS.close(fd)
            if unlink(path) != 0 && errno != ENOENT { throw SysError("unlink foreign dns lock", path) }
            fd = try FS.open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode: DNSConfig.fileMode)
        }
        _ = fchmod(fd, DNSConfig.fileMode)
        for _ in 0..<50 {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return fd }
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let error = SysError("flock", path)
                FS.close(fd)
                throw error
            }
            usleep(5_000)
        }
        FS.close(fd)
        return nil
    }

    static func isHeld(dir: String) -> Bool {
        guard let fd = try? FS.open(dir + "/" + DNSConfig.lockFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) else { return false }
        defer { FS.close(fd) }
        guard isOurs(fd) else { return false } // a foreign file's lock says nothing about a server
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    /// A regular file owned by this process's user.
    static func isOurs(_ fd: Int32) -> Bool {
        var st = stat()
        return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && st.st_uid == geteuid()
    }
}
