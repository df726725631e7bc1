import Glibc
import LinuxSys

/// Copies a directory tree between two directory fds without following symlinks, keeping modes,
/// owners and symlinks (used for `tmpcopyup`, where a tmpfs starts as a copy of the image's directory).
enum TreeCopy {
    static func copy(from source: Int32, to destination: Int32, describe: String) throws(RuntimeError) {
        let names: [String]
        do { names = try FS.list(source) } catch { throw error.context("tmpcopyup: list \(describe)") }
        for name in names {
            var st = stat()
            guard fstatat(source, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let path = describe + "/" + name
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                if mkdirat(destination, name, st.st_mode & 0o7777) != 0 && errno != EEXIST {
                    throw SysError("mkdir", path).context("tmpcopyup")
                }
                let from = openat(source, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                let to = openat(destination, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                defer { FS.close(from); FS.close(to) }
                guard from >= 0, to >= 0 else { throw SysError("open", path).context("tmpcopyup") }
                try copy(from: from, to: to, describe: path)
            case S_IFREG:
                let from = openat(source, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                let to = openat(destination, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 0o7777)
                defer { FS.close(from); FS.close(to) }
                guard from >= 0, to >= 0 else { throw SysError("open", path).context("tmpcopyup") }
                do { try FS.write(to, try FS.read(from, max: Int.max)) } catch { throw error.context("tmpcopyup \(path)") }
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: 4097)
                let n = readlinkat(source, name, &buffer, 4096)
                guard n >= 0 else { continue }
                buffer[n] = 0
                _ = symlinkat(buffer, destination, name)
            default:
                _ = mknodat(destination, name, st.st_mode, st.st_rdev)
            }
            _ = fchownat(destination, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW)
            if st.st_mode & S_IFMT != S_IFLNK { _ = FS.chmodNoFollow(destination, name, st.st_mode & 0o7777) }
        }
    }
}
