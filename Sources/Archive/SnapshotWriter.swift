import CLinuxSys
import Glibc
import LinuxSys

/// Applies parsed tar entries to a snapshot directory; the filesystem half of `LayerUnpacker`.
///
/// Containment: each entry's parent directory is opened with openat2(RESOLVE_IN_ROOT), so `..` and
/// symlinks (absolute ones included) resolve as if the snapshot were `/`; the last component is then
/// created and changed only with *at() calls that do not follow it (O_EXCL/O_NOFOLLOW,
/// AT_SYMLINK_NOFOLLOW). Nothing here ever passes a path from the archive to a path-based call.
///
/// Speed: archives list a directory's files together, so the fd of the most recent parent is kept
/// (keyed by its cleaned path) and most entries cost one lookup-free create plus metadata calls.
/// The cache is dropped whenever a directory or symlink is removed, since that can change what a
/// cached path resolves to.
final class SnapshotWriter: TarEntryHandler {
    private let rootFD: Int32
    private let rootPath: String
    private let options: UnpackOptions
    private(set) var warnings: [String] = []

    private var cachedParentPath: String?
    private var cachedParentFD: Int32 = -1
    /// Cache fds invalidated while an entry still uses them; closed when the entry ends.
    private var retiredFDs: [Int32] = []
    /// The regular file whose data is arriving, and its header.
    private var file: Int32 = -1
    private var fileHeader: TarHeader?
    /// The entry's name as the archive spells it, for errors.
    private var entryName = ""
    /// Directory mtimes, set at the end: creating entries inside a directory changes its mtime.
    private var directoryTimes: [String: TarHeader.Time] = [:]

    private static let maxWarnings = 100
    private static let resolve = UInt64(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

    init(rootFD: Int32, rootPath: String, options: UnpackOptions) {
        self.rootFD = rootFD
        self.rootPath = rootPath
        self.options = options
    }

    /// Closes every fd this writer holds (not the root's).
    func close() {
        if file >= 0 { Glibc.close(file) }
        file = -1
        invalidateCache()
        closeRetired()
    }

    // MARK: - TarEntryHandler

    func entry(_ header: TarHeader) throws {
        entryName = header.path
        let path: EntryPath
        do { path = try EntryPath(header.path) } catch { throw ArchiveError.entry(header.path, error.description) }

        if path.isRoot {
            guard header.type == .directory else { throw reject("a \(header.type) cannot replace the layer root") }
            try applyOwnerAndMode(header, parent: rootFD, name: nil, isSymlink: false)
            try applyXattrs(header.xattrs, parent: rootFD, name: nil)
            directoryTimes[""] = header.mtime
            return
        }
        if path.name.hasPrefix(".wh.") {
            try whiteout(path)
            return
        }
        let parent = try parentDirectory(path.parent)
        let name = path.name
        if options.noOverwriteDirNonDir {
            // Docker's words (its archive.Unpack): the entry as named in the archive.
            let existing = kind(parent, name)
            let shown = (rootPath.hasSuffix("/") ? rootPath : rootPath + "/") + path.cleaned
            if existing == S_IFDIR && header.type != .directory {
                throw reject("cannot overwrite directory \"\(shown)\" with non-directory \"\(header.path)\"", errno: EEXIST)
            }
            if existing != 0 && existing != S_IFDIR && header.type == .directory {
                throw reject("cannot overwrite non-directory \"\(shown)\" with directory \"\(header.path)\"", errno: EEXIST)
            }
        }
        switch header.type {
        case .file:
            file = try create(path, parent, "create file") { berth_openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
            fileHeader = header
        case .directory:
            if mkdirat(parent, name, 0o700) != 0 {
                guard errno == EEXIST else { throw sysFailure("mkdir") }
                // An entry for an existing directory updates its metadata and keeps its contents.
                if kind(parent, name) != S_IFDIR {
                    try clear(path, parent)
                    guard mkdirat(parent, name, 0o700) == 0 else { throw sysFailure("mkdir") }
                }
            }
            try applyOwnerAndMode(header, parent: parent, name: name, isSymlink: false)
            try applyXattrs(header.xattrs, parent: parent, name: name)
            directoryTimes[path.cleaned] = header.mtime
        case .symlink:
            let target = header.linkName
            _ = try create(path, parent, "symlink") { symlinkat(target, parent, name) }
            try finishSpecial(header, path, parent, isSymlink: true)
        case .hardlink:
            try hardlink(header, path, parent)
        case .characterDevice, .blockDevice, .fifo:
            let type: mode_t = header.type == .fifo ? S_IFIFO : header.type == .blockDevice ? S_IFBLK : S_IFCHR
            let device = header.type == .fifo ? 0 : berth_makedev(header.devMajor, header.devMinor)
            _ = try create(path, parent, "mknod") { mknodat(parent, name, type | 0o600, device) }
            try finishSpecial(header, path, parent, isSymlink: false)
        }
    }

    func data(_ chunk: UnsafeRawBufferPointer) throws {
        guard file >= 0, var p = chunk.baseAddress else { return }   // a whiteout's (ignored) data
        var left = chunk.count
        while left > 0 {
            let n = write(file, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw sysFailure("write")
            }
            p += n
            left -= n
        }
    }

    func endOfEntry() throws {
        defer { closeRetired() }
        guard file >= 0, let header = fileHeader else { return }
        defer {
            Glibc.close(file)
            file = -1
            fileHeader = nil
        }
        // Order matters: chown clears setuid/setgid bits and security.capability, and writing data
        // clears the capability too, so owner, then mode, then xattrs, then the time.
        let (uid, gid) = try owner(header)
        guard fchown(file, uid, gid) == 0 else { throw sysFailure("chown") }
        guard fchmod(file, mode_t(header.mode & 0o7777)) == 0 else { throw sysFailure("chmod") }
        try applyXattrs(header.xattrs, fd: file)
        var times = Self.timespecs(header.mtime)
        guard futimens(file, &times) == 0 else { throw sysFailure("utimensat") }
    }

    /// Sets directory mtimes, now that nothing more will be created inside them.
    func finish() throws {
        closeRetired()
        for (path, time) in directoryTimes.sorted(by: { $0.key < $1.key }) {
            entryName = path.isEmpty ? "." : path
            var times = Self.timespecs(time)
            if path.isEmpty {
                guard futimens(rootFD, &times) == 0 else { throw sysFailure("utimensat") }
                continue
            }
            guard let entry = try? EntryPath(path), let parent = try existingDirectory(entry.parent) else { continue }
            if utimensat(parent, entry.name, &times, AT_SYMLINK_NOFOLLOW) != 0 && errno != ENOENT {
                throw sysFailure("utimensat")
            }
        }
        invalidateCache()
        closeRetired()
    }

    // MARK: - Entry kinds

    /// `.wh.<name>` deletes `name` of lower layers: overlayfs reads a 0:0 character device as
    /// "not here". `.wh..wh..opq` marks its directory opaque: lower layers' contents are hidden.
    private func whiteout(_ path: EntryPath) throws {
        let parent = try parentDirectory(path.parent)
        if path.name == ".wh..wh..opq" {
            try setXattr(options.overlayXattrPrefix + "opaque", Array("y".utf8), on: Self.procPath(parent), follow: true,
                         tolerant: false)
            return
        }
        if path.name.hasPrefix(".wh..wh.") { return }   // other AUFS metadata (.wh..wh.plnk, ...) means nothing here
        let hidden = String(path.name.dropFirst(4))
        guard !hidden.isEmpty, hidden != ".", hidden != ".." else { throw reject("whiteout of an invalid name") }
        let target = EntryPath(parent: path.parent, name: hidden)
        _ = try create(target, parent, "mknod whiteout") { mknodat(parent, hidden, S_IFCHR, berth_makedev(0, 0)) }
        guard fchownat(parent, hidden, options.uidShift, options.gidShift, AT_SYMLINK_NOFOLLOW) == 0 else { throw sysFailure("chown") }
    }

    /// A hardlink's target is an archive path too: cleaned the same way, its parent resolved inside
    /// the root, and linked without following a symlink at the last component.
    private func hardlink(_ header: TarHeader, _ path: EntryPath, _ parent: Int32) throws {
        let target: EntryPath
        do { target = try EntryPath(header.linkName) } catch {
            throw reject("hardlink target \(ArchiveError.printable(header.linkName)): \(error)")
        }
        guard !target.isRoot else { throw reject("hardlink to the layer root") }
        if target == path { return }   // a link to itself: nothing to do
        let targetParent: Int32
        var ownedFD: Int32 = -1
        if target.parent.isEmpty {
            targetParent = rootFD
        } else if target.parent == cachedParentPath {
            targetParent = cachedParentFD
        } else {
            do {
                ownedFD = try openDirectory(target.parent, what: "hardlink target directory")
            } catch let error as ArchiveError where error.errno == ENOENT || error.errno == ENOTDIR {
                throw reject("hardlink target \(ArchiveError.printable(header.linkName)) does not exist in this layer", errno: error.errno)
            }
            targetParent = ownedFD
        }
        defer { if ownedFD >= 0 { Glibc.close(ownedFD) } }
        let name = path.name
        do {
            _ = try create(path, parent, "link") { linkat(targetParent, target.name, parent, name, 0) }
        } catch let error as ArchiveError where error.errno == ENOENT {
            throw reject("hardlink target \(ArchiveError.printable(header.linkName)) does not exist in this layer", errno: ENOENT)
        }
    }

    private func finishSpecial(_ header: TarHeader, _ path: EntryPath, _ parent: Int32, isSymlink: Bool) throws {
        try applyOwnerAndMode(header, parent: parent, name: path.name, isSymlink: isSymlink)
        try applyXattrs(header.xattrs, parent: parent, name: path.name)
        var times = Self.timespecs(header.mtime)
        guard utimensat(parent, path.name, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw sysFailure("utimensat") }
    }

    // MARK: - Creating and replacing

    /// Runs a creating call; if the name is taken, removes what is there (a directory with all its
    /// contents) and tries once more. Returns the call's result (an fd for open).
    private func create(_ path: EntryPath, _ parent: Int32, _ operation: String, _ call: () -> Int32) throws -> Int32 {
        var result = call()
        if result < 0 && errno == EEXIST {
            try clear(path, parent)
            result = call()
        }
        guard result >= 0 else { throw sysFailure(operation) }
        return result
    }

    /// Removes whatever is at `path` (already resolved to `parent` + name) without following it.
    private func clear(_ path: EntryPath, _ parent: Int32) throws {
        let type = kind(parent, path.name)
        if type == S_IFDIR {
            try removeTree(parent, path.name)
            let prefix = path.cleaned + "/"
            directoryTimes = directoryTimes.filter { $0.key != path.cleaned && !$0.key.hasPrefix(prefix) }
        } else if type != 0 {
            guard unlinkat(parent, path.name, 0) == 0 || errno == ENOENT else { throw sysFailure("unlink") }
        }
        if type == S_IFDIR || type == S_IFLNK { invalidateCache() }
    }

    private func removeTree(_ parent: Int32, _ name: String) throws {
        let directory = berth_openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
        guard directory >= 0 else { throw sysFailure("open directory to replace") }
        let owned = FileDescriptor(adopting: directory)
        let dir = owned.raw
        let children: [String]
        do { children = try FS.list(dir) } catch { throw ArchiveError.entry(entryName, error) }
        for child in children where unlinkat(dir, child, 0) != 0 {
            guard errno == EISDIR else { throw sysFailure("unlink \(child) in replaced directory") }
            try removeTree(dir, child)
        }
        guard unlinkat(parent, name, AT_REMOVEDIR) == 0 else { throw sysFailure("rmdir") }
    }

    /// The file type at parent/name (S_IFDIR, S_IFLNK, ...), 0 if nothing is there.
    private func kind(_ parent: Int32, _ name: String) -> mode_t {
        var st = stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return 0 }
        return st.st_mode & S_IFMT
    }

    // MARK: - Parent directories

    /// An O_PATH fd of the entry's parent, resolved inside the root; missing directories are created
    /// (archives may omit them), following symlinks the way the kernel would with the root as `/`.
    private func parentDirectory(_ parent: String) throws -> Int32 {
        if parent.isEmpty { return rootFD }
        if parent == cachedParentPath { return cachedParentFD }
        return cache(parent, try openDirectory(parent, what: "parent directory", createMissing: true))
    }

    /// Like `parentDirectory`, but nil when the directory is not there (or is no longer a directory).
    private func existingDirectory(_ path: String) throws -> Int32? {
        if path.isEmpty { return rootFD }
        if path == cachedParentPath { return cachedParentFD }
        let fd = berth_openat2(rootFD, path, UInt64(BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC), 0, Self.resolve)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw sysFailure("open directory")
        }
        return cache(path, fd)
    }

    private func cache(_ path: String, _ fd: Int32) -> Int32 {
        invalidateCache()
        closeRetired()
        cachedParentPath = path
        cachedParentFD = fd
        return fd
    }

    private func openDirectory(_ path: String, what: String, createMissing: Bool = false) throws -> Int32 {
        var fd: Int32
        repeat {
            fd = berth_openat2(rootFD, path, UInt64(BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC), 0, Self.resolve)
        } while fd < 0 && (errno == EINTR || errno == EAGAIN)
        if fd >= 0 { return fd }
        if errno == ENOENT && createMissing {
            do {
                return try InRoot(rootFD: rootFD, rootPath: rootPath).mkdirAll(path)
            } catch {
                throw ArchiveError.entry(entryName, "create \(what) \(path): \(error.reason)", errno: error.errno)
            }
        }
        throw sysFailure("open \(what) \(ArchiveError.printable(path))")
    }

    private func invalidateCache() {
        if cachedParentFD >= 0 { retiredFDs.append(cachedParentFD) }
        cachedParentFD = -1
        cachedParentPath = nil
    }

    private func closeRetired() {
        for fd in retiredFDs { Glibc.close(fd) }
        retiredFDs.removeAll(keepingCapacity: true)
    }

    // MARK: - Metadata

    private func owner(_ header: TarHeader) throws -> (uid_t, gid_t) {
        let uid = Int64(header.uid) + Int64(options.uidShift)
        let gid = Int64(header.gid) + Int64(options.gidShift)
        guard header.uid >= 0, header.gid >= 0, uid < Int64(UInt32.max), gid < Int64(UInt32.max) else {
            throw reject("owner \(header.uid):\(header.gid) out of range")
        }
        return (uid_t(uid), gid_t(gid))
    }

    /// `name` nil means the directory `parent` itself (the root entry).
    private func applyOwnerAndMode(_ header: TarHeader, parent: Int32, name: String?, isSymlink: Bool) throws {
        let (uid, gid) = try owner(header)
        let mode = mode_t(header.mode & 0o7777)
        if let name {
            guard fchownat(parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw sysFailure("chown") }
            // Linux has no modes on symlinks. The rest: the tree may be a running container's, which
            // can swap the name for a symlink after we made it, so never follow one.
            if !isSymlink { guard FS.chmodNoFollow(parent, name, mode) == 0 else { throw sysFailure("chmod") } }
        } else {
            guard fchown(parent, uid, gid) == 0 else { throw sysFailure("chown") }
            guard fchmod(parent, mode) == 0 else { throw sysFailure("chmod") }
        }
    }

    private func applyXattrs(_ xattrs: [String: [UInt8]], parent: Int32, name: String?) throws {
        guard !xattrs.isEmpty else { return }
        // No *at() xattr call in glibc: go through the parent's fd in /proc, never following the last component.
        let path = name.map { Self.procPath(parent) + "/" + $0 } ?? Self.procPath(parent)
        for (key, value) in xattrs.sorted(by: { $0.key < $1.key }) where allowed(key) {
            try setXattr(key, value, on: path, follow: name == nil, tolerant: true)
        }
    }

    private func applyXattrs(_ xattrs: [String: [UInt8]], fd: Int32) throws {
        for (key, value) in xattrs.sorted(by: { $0.key < $1.key }) where allowed(key) {
            if Xattr.set(fd: fd, name: key, value: value) != 0 { try xattrFailed(key, tolerant: true) }
        }
    }

    private func allowed(_ key: String) -> Bool {
        if key.hasPrefix(options.overlayXattrPrefix) {
            warn("\(ArchiveError.printable(entryName)): xattr \(key) from the archive dropped (overlay metadata)")
            return false
        }
        return true
    }

    private func setXattr(_ key: String, _ value: [UInt8], on path: String, follow: Bool, tolerant: Bool) throws {
        if Xattr.set(path: path, name: key, value: value, follow: follow) != 0 { try xattrFailed(key, tolerant: tolerant) }
    }

    /// The filesystem may not support a namespace (ENOTSUP), or refuse it for this file type or for
    /// us (EPERM: user.* on symlinks and devices, trusted.* without CAP_SYS_ADMIN): skip with a
    /// warning. Anything else (no space, value too large) fails the entry.
    private func xattrFailed(_ key: String, tolerant: Bool) throws {
        let code = errno
        if tolerant && (code == ENOTSUP || code == EOPNOTSUPP || code == EPERM) {
            warn("\(ArchiveError.printable(entryName)): xattr \(key) skipped: \(SysError("setxattr", errno: code).reason)")
            return
        }
        throw sysFailure("setxattr \(key)", errno: code)
    }

    private func warn(_ message: String) {
        if warnings.count < Self.maxWarnings { warnings.append(message) }
    }

    private static func timespecs(_ time: TarHeader.Time) -> [timespec] {
        let t = timespec(tv_sec: Int(time.seconds), tv_nsec: Int(time.nanoseconds))
        return [t, t]   // atime = mtime: the archive has no atime worth keeping, and this is deterministic
    }

    private static func procPath(_ fd: Int32) -> String { "/proc/self/fd/\(fd)" }

    /// An error naming the current entry, with errno's text.
    /// A failed system call on the current entry: "layer entry a/b: mkdir: permission denied".
    private func sysFailure(_ operation: String, errno code: Int32 = Glibc.errno) -> ArchiveError {
        ArchiveError.entry(entryName, "\(operation): \(SysError(operation, errno: code).reason)", errno: code)
    }

    /// The current entry is not acceptable: "layer entry ./: a file cannot replace the layer root".
    private func reject(_ reason: String, errno code: Int32? = nil) -> ArchiveError {
        ArchiveError.entry(entryName, reason, errno: code)
    }
}

extension EntryPath {
    init(parent: String, name: String) {
        self.parent = parent
        self.name = name
    }
}
