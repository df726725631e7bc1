import CLinuxSys
import Glibc

/// mount(2) and friends. Targets are usually `/proc/self/fd/N` of an fd opened with `InRoot`,
/// so the kernel mounts on the inode that was checked, not on whatever a path names later.
public enum MountSys {
    public static func mount(source: String?, target: String, type: String?, flags: UInt, data: String?,
                             describe: String? = nil) throws(SysError) {
        let result: Int32
        if let data, !data.isEmpty {
            result = Glibc.mount(source, target, type, flags, data)
        } else {
            result = Glibc.mount(source, target, type, flags, nil)
        }
        if result != 0 { throw SysError("mount", describe ?? target) }
    }

    public static func umount(_ target: String, flags: Int32 = Int32(MNT_DETACH)) throws(SysError) {
        try sys("umount", target) { umount2(target, flags) }
    }

    public static func pivotRoot(_ newRoot: String, _ putOld: String) throws(SysError) {
        try sys("pivot_root", newRoot) { berth_pivot_root(newRoot, putOld) }
    }

    /// Flags of the mount that holds `path`, as mount(2) flags (for a bind remount that must keep
    /// flags the kernel has locked, such as nodev inherited from the parent).
    public static func lockedFlags(_ path: String) -> UInt {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        var flags: UInt = 0
        let f = UInt(info.f_flag)
        if f & UInt(ST_NOSUID) != 0 { flags |= UInt(MS_NOSUID) }
        if f & UInt(BERTH_ST_NODEV) != 0 { flags |= UInt(MS_NODEV) }
        if f & UInt(BERTH_ST_NOEXEC) != 0 { flags |= UInt(MS_NOEXEC) }
        if f & UInt(ST_RDONLY) != 0 { flags |= UInt(MS_RDONLY) }
        if f & UInt(BERTH_ST_NOATIME) != 0 { flags |= UInt(MS_NOATIME) }
        if f & UInt(BERTH_ST_NODIRATIME) != 0 { flags |= UInt(MS_NODIRATIME) }
        if f & UInt(BERTH_ST_RELATIME) != 0 { flags |= UInt(MS_RELATIME) }
        return flags
    }

    /// A detached copy of the mount at `fd` (open_tree OPEN_TREE_CLONE), reached only through the
    /// returned fd. Without `recursive` it holds that one mount and none mounted below it: a walk of
    /// it sees the filesystem itself, not the volumes a running container has on top.
    public static func cloneTree(_ fd: Int32, recursive: Bool, describe: String) throws(SysError) -> FileDescriptor {
        FileDescriptor(adopting: try sys("open_tree", describe) { berth_clone_tree(fd, recursive ? 1 : 0) })
    }

    /// A fresh procfs instance that is mounted nowhere: reached only through the returned fd,
    /// so nothing inside a container can redirect what is written through it (runc CVE-2025-52881).
    public static func privateProcfs() throws(SysError) -> Int32 {
        let context = try sys("fsopen", "proc") { berth_fsopen("proc", UInt32(FSOPEN_CLOEXEC)) }
        defer { FS.close(context) }
        try sys("fsconfig", "proc") { berth_fsconfig(context, UInt32(FSCONFIG_CMD_CREATE.rawValue), nil, nil, 0) }
        return try sys("fsmount", "proc") { berth_fsmount(context, UInt32(FSMOUNT_CLOEXEC), 0) }
}
}
