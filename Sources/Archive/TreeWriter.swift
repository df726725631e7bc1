import Glibc
import LinuxSys

extension TarWriter {
    /// How `writeTree` reads a directory.
    public struct TreeOptions: Sendable {
        /// Turn overlayfs markers back into OCI whiteouts, for tarring an overlay upper directory
        /// as a layer: a 0:0 character device `name` becomes `.wh.name`, and a directory with
        /// `<prefix>opaque=y` gets a `.wh..wh..opq` entry.
        public var overlayWhiteouts: Bool
        public var overlayXattrPrefix: String

        public init(overlayWhiteouts: Bool = false, overlayXattrPrefix: String = "trusted.overlay.") {
            self.overlayWhiteouts = overlayWhiteouts
            self.overlayXattrPrefix = overlayXattrPrefix
        }
    }

    /// Appends every entry below `directory` (not the directory itself), in name order, with paths
    /// relative to it (`a/b`). Files that share an inode become hardlinks to the first name met.
    /// Owners are numeric (no user names: the output must not depend on the host's passwd), and
    /// mtimes keep their nanoseconds. Call `finish()` afterwards.
    public func writeTree(directory: String, options: TreeOptions = TreeOptions()) throws {
        let root: FileDescriptor
        do { root = try FS.openOwned(directory, O_RDONLY | O_DIRECTORY) } catch {
            throw ArchiveError("directory \(directory)", error.reason, errno: error.errno)
        }
        var walker = TreeWalker(writer: self, options: options, base: directory)
        defer { walker.buffer.deallocate() }
        try walker.walk(root.raw)
    }

    /// `writeTree` of a directory already open (a detached mount's fd, say): every entry below it,
    /// in name order, named as `writeTree` names them; `describe` names it in errors.
    public func writeTree(directoryFD: Int32, describe: String, options: TreeOptions = TreeOptions()) throws {
        var walker = TreeWalker(writer: self, options: options, base: describe)
        defer { walker.buffer.deallocate() }
        try walker.walk(directoryFD)
    }

    /// Appends the entry `name` of the directory `parent` as `path` and, for a directory, everything
    /// below it as `path/…` (`path` "." names the directory's contents `a`, `b/c`). Nothing is
    /// followed: a symlink is archived as one, and the walk goes through fds, so a tree that changes
    /// meanwhile (a running container's) cannot lead it outside `parent`. For `cp`.
    ///
    /// `submounts`: entries below it, by path relative to it (`lib/x`), read from elsewhere instead,
    /// as a directory fd and the name in it ("." for the directory itself): the volumes mounted
    /// inside a container directory being copied. The caller keeps the fds open until this returns.
    public func writeEntry(parent: Int32, name: String, as path: String, submounts: [String: (directory: Int32, name: String)] = [:]) throws {
        var walker = TreeWalker(writer: self, options: TreeOptions(), base: path)
        walker.submounts = submounts
        defer { walker.buffer.deallocate() }
        try walker.walk(entry: name, in: parent, as: path)
    }

    /// A deterministic tar of `directory`, written to `sink` and finished.
    public static func writeTree(directory: String, options: TreeOptions = TreeOptions(), to sink: @escaping Sink) throws {
        let writer = TarWriter(sink: sink)
        try writer.writeTree(directory: directory, options: options)
        try writer.finish()
    }
}

private struct TreeWalker {
    let writer: TarWriter
    let options: TarWriter.TreeOptions
    let base: String
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
    /// (device, inode) of multiply-linked files already written, and the path they were written as.
    var seen: [InodeKey: String] = [:]
    /// Paths relative to `base` read from another directory (see `writeEntry`).
    var submounts: [String: (directory: Int32, name: String)] = [:]

    struct InodeKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    init(writer: TarWriter, options: TarWriter.TreeOptions, base: String) {
        self.writer = writer
        self.options = options
        self.base = base
    }

    private func fail(_ path: String, _ operation: String) -> ArchiveError {
        ArchiveError("tree entry \(base)/\(path)", "\(operation): \(SysError(operation).reason)", errno: errno)
    }

    private func fail(_ failure: SecureTree.Failure) -> ArchiveError {
        let error = failure.sysError()
        return ArchiveError("tree entry \(base)/\(failure.path)", "\(error.operation): \(error.reason)", errno: error.errno)
    }

    /// Where a path below `base` is read from: a submount's tree in place of the entry.
    private var redirect: ((String) -> (directory: Int32, name: String)?)? {
        guard !submounts.isEmpty else { return nil }
        let (submounts, base) = (submounts, base)
        return { path in
            guard path != base else { return nil }
            return submounts[base == "." ? path : String(path.dropFirst(base.count + 1))]
        }
    }

    /// Everything below `directory`, in name order.
    mutating func walk(_ directory: Int32) throws {
        do {
            let redirect = redirect
            try SecureTree.walk(contentsOf: directory, sorted: true, redirect: redirect) { entry in
                try self.entry(entry)
            }
        } catch let failure as SecureTree.Failure {
            throw fail(failure)
        }
    }

    /// `name` in `parent` as `path`, and for a directory what is below it.
    mutating func walk(entry name: String, in parent: Int32, as path: String) throws {
        do {
            let redirect = redirect
            try SecureTree.walk(entry: name, in: parent, as: path, sorted: true, redirect: redirect) { entry in
                try self.entry(entry)
            }
        } catch let failure as SecureTree.Failure {
            throw fail(failure)
        }
    }

    /// One entry's header (and a file's data); a directory's contents follow from the walk.
    mutating func entry(_ entry: SecureTree.Entry) throws -> SecureTree.Descent {
        let (dir, name, path, st) = (entry.parent, entry.name, entry.path, entry.status)
        var header = TarHeader(path: path, mode: UInt32(st.st_mode & 0o7777), uid: Int(st.st_uid), gid: Int(st.st_gid),
                               mtime: TarHeader.Time(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: Int32(st.st_mtim.tv_nsec)))
        header.xattrs = xattrs(dir, name)
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            header.type = .directory
            let opaque = options.overlayWhiteouts && header.xattrs[options.overlayXattrPrefix + "opaque"] == Array("y".utf8)
            if options.overlayWhiteouts { header.xattrs = header.xattrs.filter { !$0.key.hasPrefix(options.overlayXattrPrefix) } }
            try writer.writeHeader(header)
            if opaque { try writer.writeHeader(TarHeader(path: path + "/.wh..wh..opq", mode: 0, mtime: header.mtime)) }
            return .into
        case S_IFREG:
            let key = InodeKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
            if st.st_nlink > 1, let first = seen[key] {
                header.type = .hardlink
                header.linkName = first
                try writer.writeHeader(header)
                return .skip
            }
            if st.st_nlink > 1 { seen[key] = path }
            header.size = Int64(st.st_size)
            try writeFile(dir, name, header)
        case S_IFLNK:
            header.type = .symlink
            do { header.linkName = try SecureTree.readlink(dir, name, path: path) } catch { throw fail(error) }
            try writer.writeHeader(header)
        case S_IFCHR where options.overlayWhiteouts && st.st_rdev == 0:
            let prefix = path.dropLast(name.count)
            try writer.writeHeader(TarHeader(path: prefix + ".wh." + name, mode: 0, mtime: header.mtime))
        case S_IFCHR, S_IFBLK:
            header.type = st.st_mode & S_IFMT == S_IFCHR ? .characterDevice : .blockDevice
            header.devMajor = UInt32((st.st_rdev >> 8) & 0xfff) | UInt32(truncatingIfNeeded: (st.st_rdev >> 32) & ~0xfff)
            header.devMinor = UInt32(st.st_rdev & 0xff) | UInt32(truncatingIfNeeded: (st.st_rdev >> 12) & ~0xff)
            try writer.writeHeader(header)
        case S_IFIFO:
            header.type = .fifo
            try writer.writeHeader(header)
        default:
            break   // sockets cannot be archived
        }
        return .skip
    }

    private func writeFile(_ dir: Int32, _ name: String, _ header: TarHeader) throws {
        let file: FileDescriptor
        do { file = try SecureTree.openFile(dir, name, path: header.path) } catch { throw fail(error) }
        let fd = file.raw
        try writer.writeHeader(header)
        var left = header.size
        while left > 0 {
            let n = read(fd, buffer.baseAddress, Int(min(Int64(buffer.count), left)))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw n < 0 ? fail(header.path, "read") : ArchiveError("tree entry \(base)/\(header.path)", "file shrank while being archived")
            }
            try writer.writeData(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            left -= Int64(n)
        }
    }

    private func xattrs(_ dir: Int32, _ name: String) -> [String: [UInt8]] {
        let path = "/proc/self/fd/\(dir)/\(name)"
        var result: [String: [UInt8]] = [:]
        for key in Xattr.names(path: path) {
            if let value = Xattr.get(path: path, name: key) { result[key] = value }
        }
        return result
    }
}
