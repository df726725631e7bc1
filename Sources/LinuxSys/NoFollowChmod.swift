import CLinuxSys
import Glibc

extension FS {
    /// chmod of `name` in `dir` that never follows a symlink there: a tree a container (or an
    /// image) controls can swap the name for a symlink to a host file between our create and our
    /// chmod, and fchmodat(…, 0) would then chmod the host file (CVE-2018-15664 class). The name
    /// is pinned with O_PATH|O_NOFOLLOW, checked not to be a symlink, and chmod'ed through its
    /// /proc fd, which names that inode and nothing else. 0, or -1 with errno set (ELOOP for a
    /// symlink).
    public static func chmodNoFollow(_ dir: Int32, _ name: String, _ mode: mode_t) -> Int32 {
        let fd = berth_openat(dir, name, BERTH_O_PATH | O_NOFOLLOW | O_CLOEXEC, 0)
        guard fd >= 0 else { return -1 }
        defer { _ = Glibc.close(fd) }
        var st = Glibc.stat()
        guard Glibc.fstat(fd, &st) == 0 else { return -1 }
        guard st.st_mode & S_IFMT != S_IFLNK else { errno = ELOOP; return -1 }
        return Glibc.chmod("/proc/self/fd/\(fd)", mode)
    }
}
