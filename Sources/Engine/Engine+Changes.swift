import Archive
import CLinuxSys
import ContainerSpec
import Glibc
import ImageStore
import LinuxSys

// `diff` (GET /containers/{id}/changes): what a container changed in its filesystem, as Docker
// reports it. Docker compares the container's view with its image's (init layer included) and so
// does this, reading only what can differ: the container's upper directory, against the lower
// layers merged by overlay's rules (`LayerView`).

/// One changed path, with Docker's kind numbers (the API's `{"Path","Kind"}`).
public struct FileChange: Sendable, Equatable, Encodable {
    public enum Kind: Int, Sendable, Encodable {
        case modified = 0
        case added = 1
        case deleted = 2

        /// `docker diff`'s letter.
        public var letter: String {
            switch self {
            case .modified: "C"
            case .added: "A"
            case .deleted: "D"
            }
        }
    }

    public var path: String
    public var kind: Kind

    public init(_ path: String, _ kind: Kind) {
        self.path = path
        self.kind = kind
    }

    enum CodingKeys: String, CodingKey { case path = "Path", kind = "Kind" }
}

extension Engine {
    /// The container's changes against its image: parents before what they hold, names in byte
    /// order within a directory (Docker's own order is a Go map's, different on every call). A
    /// directory holding a change shows as modified; a deleted directory shows alone.
    public func changes(_ container: Container) throws(EngineError) -> [FileChange] {
        let upper = containerDirectory(container.id) + "/upper"
        let upperFD: FileDescriptor
        do { upperFD = try FS.openOwned(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) } catch {
            // Never mounted: nothing changed yet.
            if error.errno == ENOENT { return [] }
            throw .system("open the filesystem of \(container.name)", error)
        }
        let view = try lowerView(container)
        var changes: [FileChange] = []
        do {
            try collectChanges(upperFD.raw, [], lowerIsDirectory: true, opaque: false, view: view, into: &changes)
        } catch let failure as SecureTree.Failure {
            throw .system("changes of \(container.name): \(failure.sysError("/" + failure.path))")
        } catch {
            throw .system("changes of \(container.name): \(error)")
        }
        return changes
    }

    /// The layers under the container's upper directory, topmost first: its init layer (when it
    /// has been made) over its image's.
    func lowerView(_ container: Container) throws(EngineError) -> LayerView {
        let layers: [String]
        do { layers = images.layerPaths(try images.load(try images.resolve(container.imageID))) } catch {
            throw .system("image \(container.image) of container \(container.name)", error)
        }
        let initLayer = initLayerPath(container.id)
        return try LayerView(layers: (FS.exists(initLayer) ? [initLayer] : []) + layers.reversed())
    }

    /// The changes below the upper directory `fd` (at `components`). `lowerIsDirectory`: the
    /// lower view has a directory here, so names in it may be modifications rather than additions;
    /// `opaque`: the upper directory hides it, so what only the lower one holds was deleted.
    private func collectChanges(_ fd: Int32, _ components: [String], lowerIsDirectory: Bool, opaque: Bool,
                                view: LayerView, into changes: inout [FileChange]) throws {
        var names = try FS.list(fd)
        var lowerOnly: Set<String> = []
        if opaque, lowerIsDirectory, let lower = view.names(components) {
            lowerOnly = lower.subtracting(names)
            names += lowerOnly
        }
        names.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        for name in names {
            let path = components + [name]
            let text = "/" + path.joined(separator: "/")
            if lowerOnly.contains(name) {
                changes.append(FileChange(text, .deleted))
                continue
            }
            var st = stat()
            guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw SecureTree.Failure(.stat, path.joined(separator: "/"), onSource: true) }
            let old = lowerIsDirectory ? view.entry(path) : nil
            if LayerView.isWhiteout(st) {
                if old != nil { changes.append(FileChange(text, .deleted)) }
                continue
            }
            let mark = changes.count
            var recorded = true
            if let old {
                if Self.differs(old, st, capability: { Self.capability(fd, name) }) {
                    changes.append(FileChange(text, .modified))
                } else {
                    recorded = false
                }
            } else {
                changes.append(FileChange(text, .added))
            }
            guard LayerView.isDirectory(st) else { continue }
            let child = try SecureTree.openDirectory(fd, name, path: path.joined(separator: "/"))
            let childOpaque = Xattr.get(fd: child.raw, name: LayerView.opaqueXattr) == Array("y".utf8)
            try collectChanges(child.raw, path, lowerIsDirectory: old.map { LayerView.isDirectory($0.status) } ?? false,
                               opaque: childOpaque, view: view, into: &changes)
            // A directory that holds a change is itself changed (Docker keeps its metadata that way).
            if !recorded && changes.count > mark { changes.insert(FileChange(text, .modified), at: mark) }
        }
    }

    /// Docker's test: type and mode, owner, device number, and for all but directories the mtime
    /// (to the second when either side lacks nanoseconds) and size; then the file capabilities.
    static func differs(_ old: LayerView.Entry, _ new: stat, capability: () -> [UInt8]?) -> Bool {
        let was = old.status
        if was.st_mode != new.st_mode || was.st_uid != new.st_uid || was.st_gid != new.st_gid || was.st_rdev != new.st_rdev {
            return true
        }
        if !LayerView.isDirectory(new) {
            let sameTime = was.st_mtim.tv_sec == new.st_mtim.tv_sec
                && (was.st_mtim.tv_nsec == new.st_mtim.tv_nsec || was.st_mtim.tv_nsec == 0 || new.st_mtim.tv_nsec == 0)
            if !sameTime || was.st_size != new.st_size { return true }
        }
        if new.st_mode & S_IFMT == S_IFREG { return old.capability != capability() }
        return false
    }

    static func capability(_ directory: Int32, _ name: String) -> [UInt8]? {
        Xattr.get(path: InRoot.procPath(directory) + "/" + name, name: "security.capability")
    }
}
