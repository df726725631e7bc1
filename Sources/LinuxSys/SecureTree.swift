import CLinuxSys
import Glibc

/// Walks and copies directory trees that someone else may be changing (a running container's,
/// a build context): every directory is opened relative to its parent's fd with
/// O_DIRECTORY|O_NOFOLLOW, every entry is looked at with AT_SYMLINK_NOFOLLOW, and no path string is
/// ever resolved again. A symlink is an entry, never followed, so no name swapped for a link
/// meanwhile can lead the walk, or a copy's reads and writes, outside the two trees.
public enum SecureTree {
    public enum Kind: Sendable, Equatable {
        case directory, regular, symlink, characterDevice, blockDevice, fifo, socket, unknown

        public init(mode: mode_t) {
            switch mode & S_IFMT {
            case S_IFDIR: self = .directory
            case S_IFREG: self = .regular
            case S_IFLNK: self = .symlink
            case S_IFCHR: self = .characterDevice
            case S_IFBLK: self = .blockDevice
            case S_IFIFO: self = .fifo
            case S_IFSOCK: self = .socket
            default: self = .unknown
            }
        }
    }

    /// An inode, for finding the other names of a multiply-linked file.
    public struct FileKey: Hashable, Sendable {
        public var device: UInt64
        public var inode: UInt64
        public init(_ st: stat) {
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
        }
    }

    /// One entry met by a walk. `parent` is the walk's fd of the directory holding it, valid only
    /// during the visit.
    public struct Entry {
        public let parent: Int32
        public let name: String
        /// Relative to the walk's start: `a/b`.
        public let path: String
        public let status: stat
        public var kind: Kind { Kind(mode: status.st_mode) }
        public var key: FileKey { FileKey(status) }
    }

    /// Whether a walk goes into a directory it visits.
    public enum Descent {
        case into
        case skip
    }

    /// What went wrong, and at which entry: callers word it their own way.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Step: Sendable, Hashable {
            case list, stat, open, mkdir, create, read, write, readlink, symlink, mknod, link, chown, chmod, times
        }
        public var step: Step
        /// The entry, relative to the walk's start ("" for the start itself).
        public var path: String
        /// Whether it happened on the source side (list, stat, open, read, readlink of the source).
        public var onSource: Bool
        public var errno: Int32

        public init(_ step: Step, _ path: String, onSource: Bool, errno: Int32 = Glibc.errno) {
            self.step = step
            self.path = path
            self.onSource = onSource
            self.errno = errno
        }

        /// The syscall's name, as a SysError gives it.
        public var operation: String {
            switch step {
            case .list: "opendir"
            case .stat: "lstat"
            case .open, .create: "open"
            default: "\(step)"
            }
        }

        /// As a SysError naming `describe` (or the entry's path).
        public func sysError(_ describe: String? = nil) -> SysError {
            SysError(operation, describe ?? path, errno: errno)
        }

        public var description: String { sysError().description }
    }

    // MARK: - Walking

    /// Visits every entry below the directory `directory` (not the directory itself), parents before
    /// their contents. `skipUnreadable` leaves out what cannot be looked at, opened or listed
    /// (rather than failing). `visit` decides whether a directory is entered; `leave` runs after a
    /// directory's contents with the walk's fd of it. `prefix` is put before every path.
    public static func walk(contentsOf directory: Int32, prefix: String = "", sorted: Bool = true, skipUnreadable: Bool = false,
                            redirect: ((String) -> (directory: Int32, name: String)?)? = nil,
                            visit: (Entry) throws -> Descent, leave: ((Entry, Int32) throws -> Void)? = nil) throws {
        let walker = Walker(sorted: sorted, skipUnreadable: skipUnreadable, redirect: redirect)
        try walker.children(of: directory, prefix: prefix, visit: visit, leave: leave)
    }

    /// Visits the entry `name` of `parent` as `path` and, for a directory, what is below it (`path`
    /// "." names the contents `a`, `b/c`).
    public static func walk(entry name: String, in parent: Int32, as path: String, sorted: Bool = true, skipUnreadable: Bool = false,
                            redirect: ((String) -> (directory: Int32, name: String)?)? = nil,
                            visit: (Entry) throws -> Descent, leave: ((Entry, Int32) throws -> Void)? = nil) throws {
        let walker = Walker(sorted: sorted, skipUnreadable: skipUnreadable, redirect: redirect)
        try walker.entry(parent, name, path: path, visit: visit, leave: leave)
    }

    private struct Walker {
        let sorted: Bool
        let skipUnreadable: Bool
        let redirect: ((String) -> (directory: Int32, name: String)?)?

        func children(of directory: Int32, prefix: String, visit: (Entry) throws -> Descent,
                      leave: ((Entry, Int32) throws -> Void)?) throws {
            var names: [String]
            do { names = try FS.list(directory) } catch {
                if skipUnreadable { return }
                throw Failure(.list, prefix.isEmpty ? "" : String(prefix.dropLast()), onSource: true, errno: error.errno) }
            if sorted { names.sort() }
            for name in names { try entry(directory, name, path: prefix + name, visit: visit, leave: leave) }
        }

        func entry(_ directory: Int32, _ name: String, path: String, visit: (Entry) throws -> Descent,
                   leave: ((Entry, Int32) throws -> Void)?) throws {
            var (directory, name) = (directory, name)
            if let redirect, let other = redirect(path) { (directory, name) = other }
            var st = stat()
            guard fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                if skipUnreadable { return }
                throw Failure(.stat, path, onSource: true)
            }
            let entry = Entry(parent: directory, name: name, path: path, status: st)
            guard try visit(entry) == .into, entry.kind == .directory else { return }
            let child: FileDescriptor
            do { child = try openDirectory(directory, name, path: path) } catch {
                if skipUnreadable { return }
                throw error
            }
            try children(of: child.raw, prefix: path == "." ? "" : path + "/", visit: visit, leave: leave)
            try leave?(entry, child.raw)
        }
    }

    /// The directory `name` in `parent`, never through a symlink.
    public static func openDirectory(_ parent: Int32, _ name: String, path: String, onSource: Bool = true) throws(Failure) -> FileDescriptor {
        let fd = berth_openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
        guard fd >= 0 else { throw Failure(.open, path, onSource: onSource) }
        return FileDescriptor(adopting: fd)
    }

    /// The regular file `name` in `parent` for reading, never through a symlink.
    public static func openFile(_ parent: Int32, _ name: String, path: String) throws(Failure) -> FileDescriptor {
        let fd = berth_openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0)
        guard fd >= 0 else { throw Failure(.open, path, onSource: true) }
        return FileDescriptor(adopting: fd)
    }

    /// A symlink's target, as bytes would give it.
    public static func readlink(_ parent: Int32, _ name: String, path: String) throws(Failure) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(parent, name, &buffer, Int(PATH_MAX))
        guard n >= 0 else { throw Failure(.readlink, path, onSource: true) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether anything below `directory` passes `filter` (paths `prefix` + relative).
    public static func contains(_ directory: Int32, prefix: String, where filter: (String) -> Bool) -> Bool {
        var found = false
        struct Found: Error {}
        do {
            try walk(contentsOf: directory, prefix: prefix, sorted: false, skipUnreadable: true) { entry in
                if filter(entry.path) {
                    found = true
                    throw Found()
                }
                return .into
            }
        } catch {}
        return found
    }
}
