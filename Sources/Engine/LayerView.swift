import Archive
import CLinuxSys
import ContainerSpec
import Glibc
import LinuxSys

/// Layer directories (an image's snapshots and a container's init layer, topmost first) as
/// overlayfs merges them, read without mounting them: what a path is in the merged view, and what
/// a directory of it holds. Whiteouts are overlayfs's (0:0 character devices) and so are opaque
/// directories (`trusted.overlay.opaque=y`), as `LayerUnpacker` writes them. Every lookup goes
/// through directory fds opened with O_NOFOLLOW: a symlink in a layer is an entry, never followed.
final class LayerView {
    private let roots: [Int32]
    let paths: [String]

    static let opaqueXattr = "trusted.overlay.opaque"

    init(layers: [String]) throws(EngineError) {
        var roots: [Int32] = []
        for path in layers {
            let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else {
                let error = SysError("open", path)
                roots.forEach { _ = Glibc.close($0) }
                throw .system("open layer \(path)", error)
            }
            roots.append(fd)
        }
        self.roots = roots
        paths = layers
    }

    deinit { roots.forEach { _ = Glibc.close($0) } }

    /// An entry of the merged view.
    struct Entry {
        var status: stat
        /// `security.capability` of a regular file (Docker counts a changed one as a change).
        var capability: [UInt8]?
    }

    static func isWhiteout(_ st: stat) -> Bool { st.st_mode & S_IFMT == S_IFCHR && st.st_rdev == 0 }
    static func isDirectory(_ st: stat) -> Bool { st.st_mode & S_IFMT == S_IFDIR }

    /// What `components` (a path from the root, split) is in the merged view; nil when no layer
    /// shows anything there (absent, whited out, or below an opaque directory or a file).
    func entry(_ components: [String]) -> Entry? {
        guard let name = components.last else { return nil }
        for root in roots {
            switch walk(root, components.dropLast()) {
            case .hidden:
                return nil
            case .absent(let opaque):
                if opaque { return nil }
            case .directory(let parent, let opaque):
                defer { _ = Glibc.close(parent) }
                var st = stat()
                guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                    if opaque { return nil }
                    continue
                }
                if Self.isWhiteout(st) { return nil }
                let capability = st.st_mode & S_IFMT == S_IFREG
                    ? Xattr.get(path: InRoot.procPath(parent) + "/" + name, name: "security.capability") : nil
                return Entry(status: st, capability: capability)
            }
        }
        return nil
    }

    /// The names in the merged directory `components`; nil when it is not a directory there.
    func names(_ components: [String]) -> Set<String>? {
        var names: Set<String> = []
        var seen: Set<String> = []
        var found = false
        for root in roots {
            switch walk(root, components[...]) {
            case .hidden:
                return found ? names : nil
            case .absent(let opaque):
                if opaque { return found ? names : nil }
            case .directory(let fd, let opaque):
                defer { _ = Glibc.close(fd) }
                found = true
                for name in (try? FS.list(fd)) ?? [] where !seen.contains(name) {
                    seen.insert(name)
                    var st = stat()
                    guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0, !Self.isWhiteout(st) else { continue }
                    names.insert(name)
                }
                if opaque { return names }
            }
        }
        return found ? names : nil
    }

    /// One layer's answer for a directory path.
    private enum Step {
        /// The directory is in this layer: an fd of it (the caller's to close), and whether it or a
        /// directory above it is opaque (the layers below then show nothing under it).
        case directory(Int32, opaque: Bool)
        /// Not in this layer; `opaque` when a directory on the way is, so layers below do not count.
        case absent(opaque: Bool)
        /// A whiteout or a non-directory on the way: nothing at this path shows from here down.
        case hidden
    }

    private func walk(_ root: Int32, _ components: ArraySlice<String>) -> Step {
        var fd = berth_openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        guard fd >= 0 else { return .absent(opaque: false) }
        var opaque = false
        for name in components {
            var st = stat()
            guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                _ = Glibc.close(fd)
                return .absent(opaque: opaque)
            }
            guard Self.isDirectory(st) else {
                _ = Glibc.close(fd)
                return .hidden
            }
            let child = berth_openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
            _ = Glibc.close(fd)
            guard child >= 0 else { return .absent(opaque: opaque) }
            if Xattr.get(fd: child, name: Self.opaqueXattr) == Array("y".utf8) { opaque = true }
            fd = child
        }
        return .directory(fd, opaque: opaque)
    }
}
