import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// A user namespace that exists only to carry id mappings for an idmapped mount: a child is cloned
/// into it, its maps written, the namespace kept by an fd, and the child let go.
enum IDMapNamespace {
    /// `proc` is a procfs of the caller's pid namespace, where the child's pid is valid.
    static func make(uids: [IDMapping], gids: [IDMapping], proc: Int32) throws(RuntimeError) -> Int32 {
        var hold: [Int32] = [0, 0]
        guard pipe(&hold) == 0 else { throw SysError("pipe").context("create idmap user namespace") }
        let pid: pid_t
        do { pid = try ProcessSys.clone(flags: UInt(CLONE_NEWUSER)) } catch {
            FS.close(hold[0]); FS.close(hold[1])
            throw error.context("create idmap user namespace")
        }
        if pid == 0 {
            // Wait, doing nothing, until the parent has what it needs.
            FS.close(hold[1])
            var byte: UInt8 = 0
            _ = read(hold[0], &byte, 1)
            _exit(0)
        }
        FS.close(hold[0])
        defer {
            FS.close(hold[1])
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
        func write(_ file: String, _ text: String) throws(SysError) {
            let fd = try FS.openat(proc, "\(pid)/\(file)", O_WRONLY | O_CLOEXEC, describe: "/proc/\(pid)/\(file)")
            defer { FS.close(fd) }
            try FS.write(fd, Array(text.utf8), describe: "/proc/\(pid)/\(file)")
        }
        do {
            try write("uid_map", IDMapping.procMapText(uids))
            try write("gid_map", IDMapping.procMapText(gids))
            return try FS.openat(proc, "\(pid)/ns/user", O_RDONLY | O_CLOEXEC, describe: "/proc/\(pid)/ns/user")
        } catch {
            throw error.context("create idmap user namespace")
        }
    }
}
