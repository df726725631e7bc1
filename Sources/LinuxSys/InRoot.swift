import CLinuxSys
import Glibc

/// Paths that come from a bundle or image, resolved strictly inside a root directory.
///
/// Every lookup goes through `openat2(RESOLVE_IN_ROOT)`: `..` stops at the root and an absolute
/// symlink is taken relative to it, so a container's rootfs cannot point a mount or a device
/// outside itself, however its symlinks are arranged.
public struct InRoot: Sendable {
    public let rootFD: Int32
    public let rootPath: String

    public init(rootFD: Int32, rootPath: String) {
        self.rootFD = rootFD
        self.rootPath = rootPath
    }

    private static let resolve = UInt64(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

    public func describe(_ path: String) -> String {
        rootPath + (path.hasPrefix("/") ? path : "/" + path)
    }

    /// Opens `path` inside the root; flags gain O_CLOEXEC.
    public func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(SysError) -> Int32 {
        try sys("open", describe(path)) {
            berth_openat2(rootFD, path, UInt64(flags | O_CLOEXEC), UInt64(mode), Self.resolve)
        }
    }

    /// Creates every missing directory of `path` inside the root and returns an BERTH_O_PATH fd of the last.
    public func mkdirAll(_ path: String, mode: mode_t = 0o755) throws(SysError) -> Int32 {
        var current = try sys("dup", rootPath) { fcntl(rootFD, F_DUPFD_CLOEXEC, 0) }
        var walked = ""
        for component in path.split(separator: "/") where component != "." {
            walked += "/" + component
            let name = String(component)
            // Resolve the prefix from the root each time, so symlinks and `..` stay inside it.
            var next = berth_openat2(rootFD, walked, UInt64(BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC), 0, Self.resolve)
            if next < 0 && errno == ENOENT {
                if mkdirat(current, name, mode) != 0 && errno != EEXIST {
                    let error = SysError("mkdir", describe(walked))
                    FS.close(current)
                    throw error
                }
                next = berth_openat2(rootFD, walked, UInt64(BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC), 0, Self.resolve)
            }
            if next < 0 {
                let error = SysError("open", describe(walked))
                FS.close(current)
                throw error
            }
            FS.close(current)
            current = next
        }
        return current
    }

    /// Makes sure a regular file exists at `path` (a bind-mount target) and returns an BERTH_O_PATH fd of it.
    public func ensureFile(_ path: String, mode: mode_t = 0o644) throws(SysError) -> Int32 {
        let parent = FS.clean("/" + path).split(separator: "/").dropLast().joined(separator: "/")
        FS.close(try mkdirAll(parent))
        let existing = berth_openat2(rootFD, path, UInt64(BERTH_O_PATH | O_CLOEXEC), 0, Self.resolve)
        if existing >= 0 { return existing }
        let created = try sys("create", describe(path)) {
            berth_openat2(rootFD, path, UInt64(O_CREAT | O_WRONLY | O_CLOEXEC), UInt64(mode), Self.resolve)
        }
        FS.close(created)
        return try open(path, BERTH_O_PATH)
    }

    /// The magic-link path through which the kernel reaches exactly the inode behind `fd`.
    public static func procPath(_ fd: Int32) -> String { "/proc/self/fd/\(fd)" }
}
