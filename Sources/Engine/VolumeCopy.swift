import CLinuxSys
import ContainerSpec
import Glibc
import LinuxSys

/// Docker's copy-up: the first time an empty volume is mounted at a path that holds content in the
/// image, that content is copied into the volume (files, directories, symlinks, devices, with their
/// modes, owners and times; hard links stay links), and the volume's root takes the owner and mode
/// of the image's directory.
///
/// The image path is resolved inside the container's rootfs (`openat2(RESOLVE_IN_ROOT)`), and the
/// walk goes fd by fd with `O_NOFOLLOW` on both sides, so no symlink in the image (or one a running
/// container plants in the volume) leads the copy out of either tree.
enum VolumeCopy {
    /// Copies `path` of `rootfs` into `volume` (the volume's `_data`) when the volume is empty and
    /// the path is a directory in the rootfs. Returns whether it copied.
    @discardableResult
    static func copyUp(rootfs: String, path: String, into volume: String) throws(EngineError) -> Bool {
        let volumeFD = berth_open(volume, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
        guard volumeFD >= 0 else { throw .system("copy image content to volume: open \(volume)", SysError("open", volume)) }
        defer { FS.close(volumeFD) }
        // Two containers starting on the same new volume: one copies, the other then sees it filled.
        while flock(volumeFD, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .system("copy image content to volume: lock \(volume)", SysError("flock", volume)) }
        }
        defer { _ = flock(volumeFD, LOCK_UN) }
        do {
            guard try FS.list(volumeFD).isEmpty else { return false }
        } catch {
            throw .system("copy image content to volume", error)
        }

        let rootFD: Int32
        do { rootFD = try FS.open(rootfs, BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC) } catch {
            throw .system("copy image content to volume: open rootfs", error)
        }
        defer { FS.close(rootFD) }
        let inRoot = InRoot(rootFD: rootFD, rootPath: rootfs)
        let sourceFD: Int32
        do {
            sourceFD = try inRoot.open(path, O_RDONLY | O_DIRECTORY)
        } catch where error.errno == ENOENT || error.errno == ENOTDIR {
            // Nothing at that path in the image (Docker copies nothing either).
            return false
        } catch {
            throw .system("copy image content to volume", error)
        }
        defer { FS.close(sourceFD) }
        var copier = Copier()
        defer { copier.closeAll() }
        do {
            try copier.copyDirectory(from: sourceFD, to: volumeFD, path: path, relative: "")
            var st = stat()
            try sys("stat", inRoot.describe(path)) { fstat(sourceFD, &st) }
            try sys("chown", volume) { fchown(volumeFD, st.st_uid, st.st_gid) }
            try sys("chmod", volume) { fchmod(volumeFD, st.st_mode & 0o7777) }
        } catch {
            throw .system("copy \(path) of the image to volume \(volume)", error)
        }
        return true
    }

    struct FileKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// The walk's state: an fd of the first copy of each multiply-linked regular file, so later
    /// names link to it by fd (`AT_EMPTY_PATH`) rather than by a path a container could redirect.
    struct Copier {
        var links: [FileKey: Int32] = [:]
        /// Past this many, further links are copied as separate files rather than holding more fds.
        static let maximumLinkFDs = 512

        func closeAll() {
            for fd in links.values { FS.close(fd) }
        }

        mutating func copyDirectory(from source: Int32, to destination: Int32, path: String, relative: String) throws(SysError) {
            for name in try FS.list(source) {
                var st = stat()
                let sourcePath = path + "/" + name
                let entry = relative.isEmpty ? name : relative + "/" + name
                guard fstatat(source, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw SysError("stat", sourcePath) }
                let type = st.st_mode & S_IFMT
                let key = FileKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
                if type == S_IFREG && st.st_nlink > 1, let first = links[key] {
                    try sys("link", entry) { linkat(first, "", destination, name, BERTH_AT_EMPTY_PATH) }
                    continue
                }
                switch type {
                case S_IFDIR:
                    try sys("mkdir", entry) { mkdirat(destination, name, 0o700) }
                    let from = try FS.openat(source, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, describe: sourcePath)
                    defer { FS.close(from) }
                    let to = try FS.openat(destination, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, describe: entry)
                    defer { FS.close(to) }
                    try copyDirectory(from: from, to: to, path: sourcePath, relative: entry)
                    try sys("chown", entry) { fchown(to, st.st_uid, st.st_gid) }
                    try sys("chmod", entry) { fchmod(to, st.st_mode & 0o7777) }
                    var times = [st.st_atim, st.st_mtim]
                    _ = futimens(to, &times)
                case S_IFREG:
                    let from = try FS.openat(source, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, describe: sourcePath)
                    defer { FS.close(from) }
                    let to = try FS.openat(destination, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                           mode: 0o600, describe: entry)
                    defer { FS.close(to) }
                    try copyData(from: from, to: to, path: entry)
                    try sys("chown", entry) { fchown(to, st.st_uid, st.st_gid) }
                    try sys("chmod", entry) { fchmod(to, st.st_mode & 0o7777) }
                    var times = [st.st_atim, st.st_mtim]
                    _ = futimens(to, &times)
                    if st.st_nlink > 1 && links.count < Self.maximumLinkFDs {
                        let kept = fcntl(to, F_DUPFD_CLOEXEC, 0)
                        if kept >= 0 { links[key] = kept }
                    }
                case S_IFLNK:
                    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                    let n = try sys("readlink", sourcePath) { readlinkat(source, name, &buffer, Int(PATH_MAX)) }
                    buffer[n] = 0
                    try sys("symlink", entry) { symlinkat(buffer, destination, name) }
                    try sys("chown", entry) { fchownat(destination, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) }
                    var times = [st.st_atim, st.st_mtim]
                    _ = utimensat(destination, name, &times, AT_SYMLINK_NOFOLLOW)
                case S_IFCHR, S_IFBLK, S_IFIFO:
                    try sys("mknod", entry) { mknodat(destination, name, st.st_mode, st.st_rdev) }
                    try sys("chown", entry) { fchownat(destination, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) }
                    try sys("chmod", entry) { FS.chmodNoFollow(destination, name, st.st_mode & 0o7777) }
                default:
                    // Sockets mean nothing once copied.
                    continue
                }
            }
        }

        private func copyData(from source: Int32, to destination: Int32, path: String) throws(SysError) {
            var buffer = [UInt8](repeating: 0, count: 1 << 17)
            while true {
                let n = try sys("read", path) { buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) } }
                if n == 0 { return }
                try FS.write(destination, Array(buffer[0..<n]), describe: path)
            }
        }
    }

    /// Bytes in the regular files under `path` (each inode once), without following symlinks:
    /// what `volume prune` reports as reclaimed.
    static func size(of path: String) -> Int64 {
        let fd = berth_open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
        guard fd >= 0 else { return 0 }
        defer { FS.close(fd) }
        var seen = Set<FileKey>()
        return size(fd, &seen)
    }

    private static func size(_ dir: Int32, _ seen: inout Set<FileKey>) -> Int64 {
        var total: Int64 = 0
        for name in (try? FS.list(dir)) ?? [] {
            var st = stat()
            guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                let child = berth_openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
                guard child >= 0 else { continue }
                total += size(child, &seen)
                FS.close(child)
            case S_IFREG:
                if seen.insert(FileKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))).inserted { total += Int64(st.st_size) }
            default:
                continue
            }
        }
        return total
    }
}
