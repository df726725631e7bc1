import CLinuxSys
import Glibc

/// Paths inside a directory that others write to (a Pod's volume), opened so that nothing in them
/// leads out: `openat2(RESOLVE_BENEATH)` refuses (EXDEV) a symlink or `..` that would leave the
/// directory instead of following it, and the check and the open are one step (no race).
public enum Beneath {
    private static let resolve = UInt64(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

    /// An O_PATH fd of `path` itself (a symlink at the end is not followed): a directory to resolve
    /// beneath, a mount target.
    public static func openPath(_ path: String) throws(SysError) -> FileDescriptor {
        FileDescriptor(adopting: try sys("open", path) { Glibc.open(path, BERTH_O_PATH | O_NOFOLLOW | O_CLOEXEC) })
    }

    /// An O_PATH fd of the directory `path` names (symlinks followed: the caller trusts this path,
    /// and what lies beneath it is what `open` checks).
    public static func openDirectory(_ path: String) throws(SysError) -> FileDescriptor {
        FileDescriptor(adopting: try sys("open", path) { Glibc.open(path, BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC) })
    }

    /// Opens `path` under `directoryFD`; flags gain O_CLOEXEC.
    public static func open(_ directoryFD: Int32, _ path: String, _ flags: Int32, describe: String) throws(SysError) -> FileDescriptor {
        FileDescriptor(adopting: try sys("open", describe) {
            berth_openat2(directoryFD, path.isEmpty ? "." : path, UInt64(flags | O_CLOEXEC), 0, resolve)
        })
    }

    /// Opens `path` under `directoryFD` as O_PATH, making each missing directory on the way; an
    /// existing part is never replaced, and every step is resolved beneath `directoryFD` again.
    public static func openMakingDirectories(_ directoryFD: Int32, _ path: String, mode: mode_t, describe: String) throws(SysError) -> FileDescriptor {
        let parts = path.split(separator: "/").map(String.init).filter { $0 != "." && !$0.isEmpty }
        for count in 1...max(1, parts.count) where !parts.isEmpty {
            let prefix = parts[..<count].joined(separator: "/")
            let existing = berth_openat2(directoryFD, prefix, UInt64(BERTH_O_PATH | O_CLOEXEC), 0, resolve)
            if existing >= 0 {
                _ = Glibc.close(existing)
                continue
            }
            guard errno == ENOENT else { throw SysError("open", describe + " (" + prefix + ")") }
            let parent = try open(directoryFD, parts[..<(count - 1)].joined(separator: "/"), BERTH_O_PATH | O_DIRECTORY, describe: describe)
            if mkdirat(parent.raw, parts[count - 1], mode) != 0 && errno != EEXIST { throw SysError("mkdir", describe + " (" + prefix + ")") }
        }
        return try open(directoryFD, parts.joined(separator: "/"), BERTH_O_PATH, describe: describe)
    }
}

extension MountSys {
    /// Binds the file or directory behind `source` (any fd, O_PATH too) onto the one behind
    /// `target`: the kernel mounts the inodes that were opened, whatever their paths name now.
    public static func bind(_ source: Int32, onto target: Int32, describe: String) throws(SysError) {
        try sys("bind", describe) { berth_bind_fd(source, target) }
    }

    /// Mount points at or under `path` (/proc/self/mountinfo), deepest first: the order to unmount them.
    public static func mounts(under path: String) -> [String] {
        guard let text = try? FS.readText("/proc/self/mountinfo") else { return [] }
        var found: [String] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5)
            guard fields.count > 4 else { continue }
            let point = String(fields[4]).replacing("\\040", with: " ")
            if point == path || point.hasPrefix(path + "/") { found.append(point) }
        }
        return found.sorted { $0.count > $1.count }
    }
}
