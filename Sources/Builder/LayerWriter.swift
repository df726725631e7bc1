import Archive
import CLinuxSys
import Glibc
import LinuxSys

/// Writes a COPY/ADD layer into a fresh directory. Every entry is made relative to a directory fd
/// opened without following symlinks, so a symlink that an earlier source put in the layer can
/// never carry a later write outside it. Parent directories the image already has are recreated
/// with the image's own mode, owner and times (looked up in the read-only `view` of the stage),
/// so the layer does not change them; new ones are 0755, owned as the copied files.
final class LayerWriter {
    let root: String
    let rootFD: Int32
    let view: String

    init(root: String, view: String) throws(BuildError) {
        self.root = root
        self.view = view
        do { rootFD = try FS.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) } catch { throw BuildError("open the layer directory", error) }
    }

    func close() { FS.close(rootFD) }

    /// An fd of the directory at `path` (absolute, inside the layer), made as needed.
    func directory(_ path: String, owner: (uid: UInt32, gid: UInt32)?, mode: mode_t = 0o755) throws(BuildError) -> Int32 {
        var fd = dup(rootFD)
        var walked = ""
        for component in path.split(separator: "/").map(String.init) where !component.isEmpty && component != "." {
            walked += "/" + component
            var next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT {
                let existing = try? FS.lstat(view + walked)
                let dirMode = existing.map { $0.st_mode & 0o7777 } ?? mode
                if mkdirat(fd, component, dirMode) != 0 && errno != EEXIST {
                    let error = SysError("mkdir", root + walked)
                    Glibc.close(fd)
                    throw BuildError("create \(walked)", error)
                }
                next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if next >= 0 {
                    if let existing, FS.isDirectory(existing) {
                        _ = fchown(next, existing.st_uid, existing.st_gid)
                        _ = fchmod(next, existing.st_mode & 0o7777)
                        var times = [existing.st_atim, existing.st_mtim]
                        _ = futimens(next, &times)
                    } else {
                        _ = fchown(next, owner?.uid ?? 0, owner?.gid ?? 0)
                        _ = fchmod(next, dirMode)
                    }
                }
            }
            guard next >= 0 else {
                let error = SysError("open", root + walked)
                Glibc.close(fd)
                throw BuildError("create \(walked): not a directory in the layer", error)
            }
            Glibc.close(fd)
            fd = next
        }
        return fd
    }

    func split(_ path: String) -> (parent: String, name: String) {
        let clean = FS.clean(path)
        guard let slash = clean.lastIndex(of: "/") else { return ("/", clean) }
        let parent = String(clean[..<slash])
        return (parent.isEmpty ? "/" : parent, String(clean[clean.index(after: slash)...]))
    }

    /// Copies one file (a regular file, symlink or special file: not followed) to `target`.
    func copyFile(from source: String, to target: String, owner: (uid: UInt32, gid: UInt32)?, mode: mode_t?) throws(BuildError) {
        let (parent, name) = split(target)
        guard !name.isEmpty else { throw BuildError("cannot copy a file to /") }
        let parentFD = try directory(parent, owner: owner)
        defer { Glibc.close(parentFD) }
        let status: stat
        do { status = try FS.lstat(source) } catch { throw BuildError("copy", error) }
        try copyEntry(source: source, status: status, parentFD: parentFD, name: name, owner: owner, mode: mode, described: target)
    }

    /// Copies the contents of `source` into the directory `target` (made with the source's mode
    /// when new). `filter` gets each path relative to `source`.
    func copyDirectory(from source: String, to target: String, owner: (uid: UInt32, gid: UInt32)?, mode: mode_t?,
                       filter: (String) -> Bool) throws(BuildError) {
        let sourceStatus = try? FS.stat(source)
        let targetFD = try directory(target, owner: owner ?? sourceStatus.map { ($0.st_uid, $0.st_gid) },
                                     mode: sourceStatus.map { $0.st_mode & 0o7777 } ?? 0o755)
        defer { Glibc.close(targetFD) }
        try copyChildren(of: source, relative: "", into: targetFD, owner: owner, mode: mode, filter: filter, described: target)
    }

    func copyChildren(of source: String, relative: String, into parentFD: Int32, owner: (uid: UInt32, gid: UInt32)?, mode: mode_t?,
                      filter: (String) -> Bool, described: String) throws(BuildError) {
        let names: [String]
        do { names = try FS.list(path: source).sorted() } catch { throw BuildError("read \(source)", error) }
        for name in names {
            let childRelative = relative.isEmpty ? name : relative + "/" + name
            let child = source + "/" + name
            let status: stat
            do { status = try FS.lstat(child) } catch { throw BuildError("copy", error) }
            if !filter(childRelative) {
                // An excluded directory may still hold entries a `!` exception brought back.
                guard FS.isDirectory(status) else { continue }
            }
            if FS.isDirectory(status) {
                if !filter(childRelative) {
                    // Only descend: make the directory if something inside is copied.
                    var any = false
                    probe(child, childRelative, filter) { any = true }
                    if !any { continue }
                }
                if mkdirat(parentFD, name, status.st_mode & 0o7777) != 0 && errno != EEXIST {
                    throw BuildError("create \(described)/\(childRelative)", SysError("mkdir"))
                }
                let fd = openat(parentFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard fd >= 0 else { throw BuildError("create \(described)/\(childRelative)", SysError("open")) }
                defer { Glibc.close(fd) }
                try copyChildren(of: child, relative: childRelative, into: fd, owner: owner, mode: mode, filter: filter, described: described)
                _ = fchown(fd, owner?.uid ?? status.st_uid, owner?.gid ?? status.st_gid)
                _ = fchmod(fd, mode ?? (status.st_mode & 0o7777))
                var times = [status.st_atim, status.st_mtim]
                _ = futimens(fd, &times)
            } else {
                try copyEntry(source: child, status: status, parentFD: parentFD, name: name, owner: owner, mode: mode,
                              described: described + "/" + childRelative)
            }
        }
    }

    func probe(_ path: String, _ relative: String, _ filter: (String) -> Bool, found: () -> Void) {
        for name in (try? FS.list(path: path)) ?? [] {
            let childRelative = relative + "/" + name
            if filter(childRelative) { found(); return }
            if let status = try? FS.lstat(path + "/" + name), FS.isDirectory(status) {
                probe(path + "/" + name, childRelative, filter, found: found)
            }
        }
    }

    func copyEntry(source: String, status: stat, parentFD: Int32, name: String, owner: (uid: UInt32, gid: UInt32)?,
                   mode: mode_t?, described: String) throws(BuildError) {
        // A later source replaces an earlier one of the same name.
        if unlinkat(parentFD, name, 0) != 0 && errno == EISDIR { _ = unlinkat(parentFD, name, AT_REMOVEDIR) }
        let uid = owner?.uid ?? status.st_uid
        let gid = owner?.gid ?? status.st_gid
        var times = [status.st_atim, status.st_mtim]
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            let input = open(source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard input >= 0 else { throw BuildError("read \(source)", SysError("open", source)) }
            defer { Glibc.close(input) }
            let output = openat(parentFD, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(0o600))
            guard output >= 0 else { throw BuildError("create \(described)", SysError("open", described)) }
            defer { Glibc.close(output) }
            try copyByReading(input, output, described)
            _ = fchown(output, uid, gid)
            _ = fchmod(output, mode ?? (status.st_mode & 0o7777))
            _ = futimens(output, &times)
        case S_IFLNK:
            let target: String
            do { target = try FS.readlink(source) } catch { throw BuildError("read \(source)", error) }
            guard symlinkat(target, parentFD, name) == 0 else { throw BuildError("create \(described)", SysError("symlink", described)) }
            _ = fchownat(parentFD, name, uid, gid, AT_SYMLINK_NOFOLLOW)
            _ = utimensat(parentFD, name, &times, AT_SYMLINK_NOFOLLOW)
        case S_IFDIR:
            throw BuildError("internal: \(source) is a directory")
        default:
            guard mknodat(parentFD, name, status.st_mode, status.st_rdev) == 0 else {
                throw BuildError("create \(described)", SysError("mknod", described))
            }
            _ = fchownat(parentFD, name, uid, gid, AT_SYMLINK_NOFOLLOW)
            _ = utimensat(parentFD, name, &times, AT_SYMLINK_NOFOLLOW)
        }
    }

    func copyByReading(_ input: Int32, _ output: Int32, _ described: String) throws(BuildError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw BuildError("copy \(described)", SysError("read")) }
            if n == 0 { return }
            do { try FS.write(output, Array(buffer[0..<n]), describe: described) } catch { throw BuildError("copy \(described)", error) }
        }
    }

    /// A file made from bytes (a COPY heredoc).
    func writeFile(content: [UInt8], to target: String, owner: (uid: UInt32, gid: UInt32), mode: mode_t) throws(BuildError) {
        let (parent, name) = split(target)
        let parentFD = try directory(parent, owner: owner)
        defer { Glibc.close(parentFD) }
        _ = unlinkat(parentFD, name, 0)
        let output = openat(parentFD, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(0o600))
        guard output >= 0 else { throw BuildError("create \(target)", SysError("open", target)) }
        defer { Glibc.close(output) }
        do { try FS.write(output, content, describe: target) } catch { throw BuildError("write \(target)", error) }
        _ = fchown(output, owner.uid, owner.gid)
        _ = fchmod(output, mode)
    }

    /// ADD of a local archive: its entries extracted into `target` (a directory), each path
    /// resolved inside it; the archive's owners kept unless --chown.
    func unpack(archive path: String, into target: String, owner: (uid: UInt32, gid: UInt32)?) throws(BuildError) {
        let targetFD = try directory(target, owner: owner)
        defer { Glibc.close(targetFD) }
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BuildError("read \(path)", SysError("open", path)) }
        defer { Glibc.close(input) }
        do {
            let extractor = TarExtractor(directoryFD: targetFD, path: root + target, owner: owner.map { (Int($0.uid), Int($0.gid)) })
            try extractor.extract { buffer in
                while true {
                    let n = Glibc.read(input, buffer.baseAddress, buffer.count)
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 { throw BuildError("read \(path)", SysError("read", path)) }
                    return n
                }
            }
        } catch let error as BuildError {
            throw error
        } catch {
            throw BuildError("unpack \(path) into \(target): \(error)")
        }
    }
}
