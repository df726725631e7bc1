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
    func directory(_ path: String, owner: (uid: UInt32, gid: UInt32)?, mode: mode_t = 0o755) throws(BuildError) -> FileDescriptor {
        var fd: FileDescriptor
        do { fd = try FS.dup(rootFD, describe: root) } catch { throw BuildError("open the layer directory", error) }
        var walked = ""
        for component in path.split(separator: "/").map(String.init) where !component.isEmpty && component != "." {
            walked += "/" + component
            var next = openat(fd.raw, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT {
                let existing = try? FS.lstat(view + walked)
                let dirMode = existing.map { $0.st_mode & 0o7777 } ?? mode
                if mkdirat(fd.raw, component, dirMode) != 0 && errno != EEXIST {
                    throw BuildError("create \(walked)", SysError("mkdir", root + walked))
                }
                next = openat(fd.raw, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
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
                throw BuildError("create \(walked): not a directory in the layer", SysError("open", root + walked))
            }
            fd = FileDescriptor(adopting: next)
        }
        return fd
    }

    func split(_ path: String) -> (parent: String, name: String) {
        let clean = FS.clean(path)
        guard let slash = clean.lastIndex(of: "/") else { return ("/", clean) }
        let parent = String(clean[..<slash])
        return (parent.isEmpty ? "/" : parent, String(clean[clean.index(after: slash)...]))
    }

    /// A COPY's rules: sources in name order; what an earlier source put at a name is replaced;
    /// owners (or --chown), modes (or --chmod) and times kept where they can be; no hard links.
    func copyOptions(owner: (uid: UInt32, gid: UInt32)?, mode: mode_t?, filter: ((String) -> Bool)? = nil) -> SecureTree.CopyOptions {
        var options = SecureTree.CopyOptions()
        options.sorted = true
        options.mergeDirectories = true
        options.existingFile = .replace
        options.owner = owner
        options.mode = mode
        options.times = true
        options.specialFileTimes = true
        options.chmodSpecialFiles = false
        options.sockets = true
        options.tolerated = [.chown, .chmod, .times]
        options.filter = filter
        return options
    }

    /// A copy failure in a COPY's words: `source` is the source directory (or file), `described`
    /// the target it was copied to; the failure's path is below both.
    func failure(_ error: SecureTree.Failure, source: String, described: String, single: Bool = false) -> BuildError {
        let sourcePath = single || error.path.isEmpty ? source : source + "/" + error.path
        let targetPath = single || error.path.isEmpty ? described : described + "/" + error.path
        switch error.step {
        case .list, .readlink: return BuildError("read \(sourcePath)", error.sysError(sourcePath))
        case .stat: return BuildError("copy", error.sysError(sourcePath))
        case .open where error.onSource: return BuildError("read \(sourcePath)", error.sysError(sourcePath))
        case .mkdir, .open: return BuildError("create \(targetPath)", SysError(error.operation, nil, errno: error.errno))
        case .read: return BuildError("copy \(targetPath)", SysError("read", nil, errno: error.errno))
        case .write: return BuildError("copy \(targetPath)", SysError("write", targetPath, errno: error.errno))
        default: return BuildError("create \(targetPath)", error.sysError(targetPath))
        }
    }

    /// Copies one file (a regular file, symlink or special file: not followed) to `target`.
    func copyFile(from source: String, to target: String, owner: (uid: UInt32, gid: UInt32)?, mode: mode_t?) throws(BuildError) {
        let (parent, name) = split(target)
        guard !name.isEmpty else { throw BuildError("cannot copy a file to /") }
        let parentDirectory = try directory(parent, owner: owner)
        let parentFD = parentDirectory.raw
        let (sourceParent, sourceName) = split(source)
        let sourceDirectory: FileDescriptor
        do { sourceDirectory = try FS.openOwned(sourceParent, O_RDONLY | O_DIRECTORY) } catch { throw BuildError("copy", error) }
        var st = stat()
        guard fstatat(sourceDirectory.raw, sourceName, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw BuildError("copy", SysError("lstat", source)) }
        guard !FS.isDirectory(st) else { throw BuildError("internal: \(source) is a directory") }
        do {
            try SecureTree.copy(entry: sourceName, in: sourceDirectory.raw, to: name, in: parentFD, options: copyOptions(owner: owner, mode: mode))
        } catch {
            throw failure(error, source: source, described: target, single: true)
        }
    }

    /// Copies the contents of `source` into the directory `target` (made with the source's mode
    /// when new). `filter` gets each path relative to `source`.
    func copyDirectory(from source: String, to target: String, owner: (uid: UInt32, gid: UInt32)?, mode: mode_t?,
                       filter: @escaping (String) -> Bool) throws(BuildError) {
        let sourceStatus = try? FS.stat(source)
        let targetDirectory = try directory(target, owner: owner ?? sourceStatus.map { ($0.st_uid, $0.st_gid) },
                                     mode: sourceStatus.map { $0.st_mode & 0o7777 } ?? 0o755)
        let targetFD = targetDirectory.raw
        let sourceFD: FileDescriptor
        do { sourceFD = try FS.openOwned(source, O_RDONLY | O_DIRECTORY) } catch { throw BuildError("read \(source)", error) }
        do {
            try SecureTree.copy(contentsOf: sourceFD.raw, into: targetFD, options: copyOptions(owner: owner, mode: mode, filter: filter))
        } catch {
            throw failure(error, source: source, described: target)
        }
    }

    /// A file made from bytes (a COPY heredoc).
    func writeFile(content: [UInt8], to target: String, owner: (uid: UInt32, gid: UInt32), mode: mode_t) throws(BuildError) {
        let (parent, name) = split(target)
        let parentDirectory = try directory(parent, owner: owner)
        let parentFD = parentDirectory.raw
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
        let targetDirectory = try directory(target, owner: owner)
        let targetFD = targetDirectory.raw
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
