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

    /// Creates every missing directory of `path` inside the root and returns an O_PATH fd of the last.
    ///
    /// Symlinks on the way are followed the way the kernel would follow them with the rootfs as `/`
    /// (a dangling one gets its target created, as runc does), `..` stops at the root, and the final
    /// open is again `RESOLVE_IN_ROOT`, so even a directory swapped for a symlink meanwhile stays inside.
    public func mkdirAll(_ path: String, mode: mode_t = 0o755) throws(SysError) -> Int32 {
        var pending = path.split(separator: "/").map(String.init)
        var resolved: [String] = []
        var linksFollowed = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component.isEmpty || component == "." { continue }
            if component == ".." {
                if !resolved.isEmpty { resolved.removeLast() }
                continue
            }
            let parentPath = "/" + resolved.joined(separator: "/")
            let parentFD = try openOwned(parentPath, BERTH_O_PATH | O_DIRECTORY)
            let parent = parentFD.raw
            var st = stat()
            if fstatat(parent, component, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                guard errno == ENOENT else { throw SysError("stat", describe(parentPath + "/" + component)) }
                if mkdirat(parent, component, mode) != 0 && errno != EEXIST {
                    throw SysError("mkdir", describe(parentPath + "/" + component))
                }
                resolved.append(component)
                continue
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                resolved.append(component)
            case S_IFLNK:
                linksFollowed += 1
                guard linksFollowed <= 40 else { throw SysError("resolve", describe(path), errno: ELOOP) }
                var buffer = [CChar](repeating: 0, count: 4097)
                let n = readlinkat(parent, component, &buffer, 4096)
                guard n >= 0 else { throw SysError("readlink", describe(parentPath + "/" + component)) }
                let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if target.hasPrefix("/") { resolved = [] }
                pending = target.split(separator: "/").map(String.init) + pending
            default:
                throw SysError("mkdir", describe(parentPath + "/" + component), errno: ENOTDIR)
            }
        }
        return try open("/" + resolved.joined(separator: "/"), BERTH_O_PATH | O_DIRECTORY)
    }

    /// Makes sure a regular file exists at `path` (a bind-mount target) and returns an BERTH_O_PATH fd of it.
    public func ensureFile(_ path: String, mode: mode_t = 0o644) throws(SysError) -> Int32 {
        let parent = FS.clean("/" + path).split(separator: "/").dropLast().joined(separator: "/")
        _ = try mkdirAllOwned(parent)
        let existing = berth_openat2(rootFD, path, UInt64(BERTH_O_PATH | O_CLOEXEC), 0, Self.resolve)
        if existing >= 0 { return existing }
        _ = FileDescriptor(adopting: try sys("create", describe(path)) {
            berth_openat2(rootFD, path, UInt64(O_CREAT | O_WRONLY | O_CLOEXEC), UInt64(mode), Self.resolve)
        })
        return try open(path, BERTH_O_PATH)
    }

    /// The host path `path` names when resolved inside the root (symlinks taken as if the root
    /// were `/`, `..` stopping at it): what a caller that must hand a path on to mount(2), which
    /// resolves on the host, may use. Checked to lie under `rootPath` so a race cannot widen it.
    public func resolvedHostPath(_ path: String) throws(SysError) -> String {
        let fd = try openContainedOwned(path)
        return try FS.readlink(Self.procPath(fd.raw))
    }

    /// An O_PATH fd of what `path` names inside the root, checked as `resolvedHostPath` checks it:
    /// for callers that act on the inode itself rather than hand a path on.
    public func openContained(_ path: String) throws(SysError) -> Int32 {
        let fd = try openOwned(path.isEmpty ? "." : path, BERTH_O_PATH)
        let real = try FS.readlink(Self.procPath(fd.raw))
        // The root's own real path: `rootPath` may itself run through a symlink.
        let rootReal = try FS.readlink(Self.procPath(rootFD))
        let base = rootReal == "/" ? "" : rootReal
        guard real == base || real.hasPrefix(base + "/") else {
            throw SysError("resolve", describe(path), errno: EXDEV)
        }
        return fd.take()
    }

    /// The magic-link path through which the kernel reaches exactly the inode behind `fd`.
    public static func procPath(_ fd: Int32) -> String { "/proc/self/fd/\(fd)" }
}
