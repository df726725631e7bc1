import CLinuxSys
import Glibc

/// An open file descriptor that closes itself: whoever holds it owns it, and it cannot be copied, so
/// an error path cannot forget the close and two owners cannot close one number twice.
///
/// `raw` lends the number to C calls for as long as the owner keeps the value; `take()` hands the
/// number on to a new owner (an fd kept in a table, passed to a child) without closing it.
public struct FileDescriptor: ~Copyable, Sendable {
    public let raw: Int32

    /// Takes ownership of `raw` (a negative number owns nothing).
    public init(adopting raw: Int32) {
        self.raw = raw
    }

    deinit {
        if raw >= 0 { _ = Glibc.close(raw) }
    }

    /// The number, no longer owned by this value: the caller closes it.
    public consuming func take() -> Int32 {
        let fd = raw
        discard self
        return fd
    }

    /// Closes now rather than at the end of the scope.
    public consuming func close() {
        let fd = raw
        discard self
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// A second descriptor of the same open file, close-on-exec.
    public func duplicate(describe: String? = nil) throws(SysError) -> FileDescriptor {
        try FS.dup(raw, describe: describe)
    }

    /// Runs `body` with the raw number, for a C API that borrows it.
    public func withRaw<T, E: Error>(_ body: (Int32) throws(E) -> T) throws(E) -> T {
        try body(raw)
    }
}

/// The two ends of a pipe, each owned.
@frozen public struct Pipe: ~Copyable, Sendable {
    public var read: FileDescriptor
    public var write: FileDescriptor

    /// pipe2 with O_CLOEXEC (and `flags`, such as O_NONBLOCK).
    public init(flags: Int32 = 0) throws(SysError) {
        var fds: [Int32] = [-1, -1]
        try sys("pipe2") { berth_pipe2(&fds, O_CLOEXEC | flags) }
        read = FileDescriptor(adopting: fds[0])
        write = FileDescriptor(adopting: fds[1])
    }
}

extension FS {
    /// `open`, owned.
    public static func openOwned(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(SysError) -> FileDescriptor {
        FileDescriptor(adopting: try open(path, flags, mode: mode))
    }

    /// `openat`, owned.
    public static func openatOwned(_ dir: Int32, _ path: String, _ flags: Int32, mode: mode_t = 0o644,
                                   describe: String? = nil) throws(SysError) -> FileDescriptor {
        FileDescriptor(adopting: try openat(dir, path, flags, mode: mode, describe: describe))
    }

    /// A close-on-exec duplicate of `fd`.
    public static func dup(_ fd: Int32, describe: String? = nil) throws(SysError) -> FileDescriptor {
        FileDescriptor(adopting: try sys("dup", describe) { fcntl(fd, F_DUPFD_CLOEXEC, 0) })
    }

    /// A close-on-exec pipe.
    public static func pipe(flags: Int32 = 0) throws(SysError) -> Pipe {
        try Pipe(flags: flags)
    }
}

extension InRoot {
    /// `open`, owned.
    public func openOwned(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(SysError) -> FileDescriptor {
        FileDescriptor(adopting: try open(path, flags, mode: mode))
    }

    /// `mkdirAll`, owned.
    public func mkdirAllOwned(_ path: String, mode: mode_t = 0o755) throws(SysError) -> FileDescriptor {
        FileDescriptor(adopting: try mkdirAll(path, mode: mode))
    }

    /// `openContained`, owned.
    public func openContainedOwned(_ path: String) throws(SysError) -> FileDescriptor {
        FileDescriptor(adopting: try openContained(path))
    }
}
