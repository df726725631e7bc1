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
        let volumeFD: FileDescriptor
        do { volumeFD = try FS.openOwned(volume, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) } catch {
            throw .system("copy image content to volume: open \(volume)", error)
        }
        // Raw numbers for closures (a closure may not capture the owner here); the owners outlive them.
        let volumeRaw = volumeFD.raw
        // Two containers starting on the same new volume: one copies, the other then sees it filled.
        while flock(volumeRaw, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .system("copy image content to volume: lock \(volume)", SysError("flock", volume)) }
        }
        defer { _ = flock(volumeRaw, LOCK_UN) }
        do {
            guard try FS.list(volumeFD.raw).isEmpty else { return false }
        } catch {
            throw .system("copy image content to volume", error)
        }

        let rootFD: FileDescriptor
        do { rootFD = try FS.openOwned(rootfs, BERTH_O_PATH | O_DIRECTORY) } catch {
            throw .system("copy image content to volume: open rootfs", error)
        }
        let inRoot = InRoot(rootFD: rootFD.raw, rootPath: rootfs)
        let sourceFD: FileDescriptor
        do {
            sourceFD = try inRoot.openOwned(path, O_RDONLY | O_DIRECTORY)
        } catch where error.errno == ENOENT || error.errno == ENOTDIR {
            // Nothing at that path in the image (Docker copies nothing either).
            return false
        } catch {
            throw .system("copy image content to volume", error)
        }
        do throws(SysError) {
            do {
                try SecureTree.copy(contentsOf: sourceFD.raw, into: volumeFD.raw, options: copyUpOptions)
            } catch {
                // Source-side steps name the image path, the rest the entry in the volume (as before).
                switch error.step {
                case .stat: throw SysError("stat", path + "/" + error.path, errno: error.errno)
                case .read: throw error.sysError(error.path)
                default: throw error.sysError(error.onSource ? path + "/" + error.path : error.path)
                }
            }
            var st = stat()
            let sourceRaw = sourceFD.raw
            try sys("stat", inRoot.describe(path)) { fstat(sourceRaw, &st) }
            try sys("chown", volume) { fchown(volumeRaw, st.st_uid, st.st_gid) }
            try sys("chmod", volume) { fchmod(volumeRaw, st.st_mode & 0o7777) }
        } catch {
            throw .system("copy \(path) of the image to volume \(volume)", error)
        }
        return true
    }

    /// Docker's copy-up: everything kept (owners, modes, times; hard links stay links), every
    /// failure but a time's fails the copy; new directories stay 0700 until their contents are in;
    /// sockets are left out.
    static var copyUpOptions: SecureTree.CopyOptions {
        var options = SecureTree.CopyOptions()
        options.mergeDirectories = false
        options.directoryCreationMode = 0o700
        options.existingFile = .fail
        options.hardLinks = true
        options.times = true
        options.specialFileTimes = false
        options.chmodSpecialFiles = true
        options.sockets = false
        options.tolerated = [.times]
        return options
    }

    /// Bytes in the regular files under `path` (each inode once), without following symlinks:
    /// what `volume prune` reports as reclaimed.
    static func size(of path: String) -> Int64 {
        guard let root = try? FS.openOwned(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) else { return 0 }
        var seen = Set<SecureTree.FileKey>()
        var total: Int64 = 0
        // Unreadable entries and directories are left out of the count rather than failing it.
        try? SecureTree.walk(contentsOf: root.raw, sorted: false, skipUnreadable: true) { entry in
            if entry.kind == .regular, seen.insert(entry.key).inserted { total += Int64(entry.status.st_size) }
            return .into
        }
        return total
    }
}
