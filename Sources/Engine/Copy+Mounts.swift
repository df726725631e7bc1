import Archive
import CLinuxSys
import ContainerSpec
import Glibc
import LinuxSys

/// `cp`'s view of a container's filesystem: its rootfs with the volumes and bind mounts of its
/// stored configuration laid over it, as Docker's archive code sees it (Docker mounts them; here
/// each is an fd, so a stopped container needs no mount and nothing can be left mounted).
///
/// A container path is resolved one component at a time, symlinks taken as the container would
/// take them: an absolute target and `..` start again from the container's `/`, whichever mount the
/// link was in. The walk only reads names; each final open goes through `openat2(RESOLVE_IN_ROOT)`
/// inside the one mount it lands in, so a name the container swaps for a symlink meanwhile stays
/// inside that mount's tree and never reaches the host.
///
/// As in Docker, tmpfs mounts are not in the view (its setupMounts leaves them out): a path there is
/// the rootfs's below it. The /etc files the engine writes at start are, once it has written them.
final class ContainerView {
    struct Layer {
        enum Kind: Equatable {
            case rootfs
            case volume(String)
            case bind(String)
            /// /etc/hostname, /etc/hosts, /etc/resolv.conf: the engine's, bound over the rootfs's.
            case engineFile
        }
        /// Where it is in the container, symlinks resolved.
        var destination: String
        var kind: Kind
        var readOnly: Bool
        /// The tree, opened as a directory; a single file's bind has its directory here.
        var root: InRoot
        /// For the bind of a single file: its name in `root`.
        var file: String?
    }

    /// A container path, resolved: the mount holding it and the path inside that mount.
    struct Resolved {
        var layer: Layer
        /// Inside `layer.root`, starting with "/" ("/" is the mount's own root).
        var relative: String
        /// The container path with every symlink resolved.
        var path: String
    }

    private(set) var layers: [Layer]
    let containerName: String
    /// O_RDONLY directory fds of mounts extracted into, by destination; closed with the view.
    private var writableRoots: [String: Int32] = [:]

    /// `rootfs` stays the caller's; the fds `add` opens are closed with the view.
    init(rootfs: InRoot, readOnlyRootfs: Bool, containerName: String) {
        layers = [Layer(destination: "/", kind: .rootfs, readOnly: readOnlyRootfs, root: rootfs)]
        self.containerName = containerName
    }

    deinit {
        for layer in layers where layer.kind != .rootfs { FS.close(layer.root.rootFD) }
        for fd in writableRoots.values { FS.close(fd) }
    }

    /// Lays a host directory (or file) over `destination`, as the container's mount of it does. The
    /// destination is resolved through the view so far (parents first), as runc resolves it in the rootfs.
    func add(_ kind: Layer.Kind, hostPath: String, destination: String, readOnly: Bool) throws(SysError) {
        // A bind's host path is the user's, followed as mount(2) follows it; a volume's directory
        // is the engine's and is never a link.
        let noFollow = if case .volume = kind { O_NOFOLLOW } else { Int32(0) }
        let fd = try FS.openOwned(hostPath, BERTH_O_PATH | noFollow)
        var file: String?
        let root: Int32
        let st = try FS.fstat(fd.raw, describe: hostPath)
        if !FS.isDirectory(st) {
            // A single file: the view keeps its directory and its name, and never lists the directory.
            let (parent, name) = Engine.split(try FS.readlink(InRoot.procPath(fd.raw)))
            root = try FS.open(parent, BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC)
            file = name
        } else {
            root = fd.take()
        }
        let place = (try? resolve(destination, followLast: true).path) ?? FS.clean(destination)
        layers.append(Layer(destination: place, kind: kind, readOnly: readOnly, root: InRoot(rootFD: root, rootPath: hostPath), file: file))
    }

    /// The mount `path` (resolved, absolute) is in: the longest destination that is a prefix of it.
    func layer(holding path: String) -> (Layer, relative: String) {
        var best = layers[0]
        for layer in layers.dropFirst() where layer.destination.count >= best.destination.count {
            if path == layer.destination || path.hasPrefix(layer.destination + "/") { best = layer }
        }
        let relative = best.destination == "/" ? path : String(path.dropFirst(best.destination.count))
        return (best, relative.isEmpty ? "/" : relative)
    }

    /// Resolves `path` as the container would, following a final symlink only with `followLast`.
    /// A missing name ends the walk's checks: the rest is taken as written (a name to be created).
    func resolve(_ path: String, followLast: Bool) throws(SysError) -> Resolved {
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
            let candidate = resolved + [component]
            // A mount point is the mounted tree's root, whatever the name below it is.
            if layers.contains(where: { $0.destination == "/" + candidate.joined(separator: "/") }) {
                resolved = candidate
                continue
            }
            let (layer, relative) = layer(holding: parentPath)
            if layer.file != nil { throw SysError("resolve", describe(path), errno: ENOTDIR) }
            let parent = try layer.root.open(relative, BERTH_O_PATH | O_DIRECTORY)
            defer { FS.close(parent) }
            var st = Glibc.stat()
            guard fstatat(parent, component, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                guard errno == ENOENT else { throw SysError("lstat", describe(parentPath + "/" + component)) }
                resolved = candidate + pending.filter { !$0.isEmpty && $0 != "." }
                if pending.contains("..") { throw SysError("resolve", describe(path), errno: ENOENT) }
                break
            }
            guard (st.st_mode & S_IFMT) == S_IFLNK, !pending.isEmpty || followLast else {
                resolved = candidate
                continue
            }
            linksFollowed += 1
            guard linksFollowed <= 40 else { throw SysError("resolve", describe(path), errno: ELOOP) }
            var buffer = [CChar](repeating: 0, count: 4097)
            let n = readlinkat(parent, component, &buffer, 4096)
            guard n >= 0 else { throw SysError("readlink", describe(parentPath + "/" + component)) }
            let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("/") { resolved = [] }
            pending = target.split(separator: "/").map(String.init) + pending
        }
        let full = "/" + resolved.joined(separator: "/")
        let (layer, relative) = layer(holding: full)
        if layer.file != nil && relative != "/" { throw SysError("resolve", describe(path), errno: ENOTDIR) }
        return Resolved(layer: layer, relative: relative, path: full)
    }

    /// The mounts strictly below the directory `path` (resolved), by path relative to it, as a
    /// tree walk of it wants them (`TarWriter.writeEntry`'s `submounts`): what Docker's tar of a
    /// directory with a volume inside it holds. The fds stay the view's.
    func submounts(below path: String) -> [String: (directory: Int32, name: String)] {
        var result: [String: (directory: Int32, name: String)] = [:]
        for layer in layers where layer.kind != .rootfs && layer.destination != path {
            guard path == "/" || layer.destination.hasPrefix(path + "/") else { continue }
            result[String(layer.destination.dropFirst(path == "/" ? 1 : path.count + 1))] = (layer.root.rootFD, layer.file ?? ".")
        }
        return result
    }

    /// The mounts strictly below the directory `path` (resolved) for an extraction into it
    /// (`TarExtractor`'s submounts): a writable one's tree, or a refusal for a read-only one or a
    /// bound file, so a tar entry lands where the container would see it, or nowhere.
    func extractionSubmounts(below path: String) throws(SysError) -> [String: TarExtractor.Submount] {
        var result: [String: TarExtractor.Submount] = [:]
        for layer in layers where layer.kind != .rootfs && layer.destination != path {
            guard path == "/" || layer.destination.hasPrefix(path + "/") else { continue }
            let key = String(layer.destination.dropFirst(path == "/" ? 1 : path.count + 1))
            if layer.file != nil {
                result[key] = .refused(errno: EBUSY, reason: "\(layer.destination) is a bind-mounted file")
            } else if layer.readOnly {
                result[key] = .refused(errno: EROFS, reason: "\(layer.destination) is mounted read-only")
            } else {
                let fd: Int32
                if let open = writableRoots[layer.destination] { fd = open } else { fd = try layer.root.open("/", O_RDONLY | O_DIRECTORY) }
                writableRoots[layer.destination] = fd
                result[key] = .directory(fd)
            }
        }
        return result
    }

    /// Opens what `resolved` names, inside its mount.
    func open(_ resolved: Resolved, _ flags: Int32) throws(SysError) -> Int32 {
        if let file = resolved.layer.file { return try resolved.layer.root.open("/" + file, flags) }
        return try resolved.layer.root.open(resolved.relative, flags)
    }

    /// For messages: the container's path, as the user named it.
    func describe(_ path: String) -> String { "\(containerName):\(path)" }
}

extension Engine {
    /// Runs `body` on the container's filesystem as `cp` sees it: the rootfs (mounted for the copy
    /// when the container is not running) with its volumes and binds, from its stored configuration.
    func withContainerView<T>(_ container: Container, _ body: (ContainerView) throws(EngineError) -> T) throws(EngineError) -> T {
        let attachments = try volumeAttachments(container)
        // A `-v` bind's missing host directory: Docker makes it at create, Berth at start, or here.
        try createBindSources(container)
        return try withRootfs(container) { (rootfs: InRoot) throws(EngineError) -> T in
            let view = ContainerView(rootfs: rootfs, readOnlyRootfs: container.options.readOnlyRootfs, containerName: container.name)
            // Parents first, so a mount's destination resolves through the mounts it lies in.
            var mounts: [(destination: String, kind: ContainerView.Layer.Kind, source: String, readOnly: Bool)] = []
            for request in container.options.mounts where request.kind == .bind {
                guard let source = request.source else { continue }
                mounts.append((FS.clean(request.target), .bind(source), source, request.readOnly))
            }
            for attachment in attachments {
                let request = container.options.mounts.first { $0.kind == .volume && FS.clean($0.target) == attachment.destination }
                mounts.append((attachment.destination, .volume(attachment.name), volumePath(attachment.name), request?.readOnly ?? false))
            }
            // The engine's /etc files, as started containers have them, unless the user bound their own.
            for name in ["hostname", "hosts", "resolv.conf"] where !mounts.contains(where: { $0.destination == "/etc/" + name }) {
                let source = containerDirectory(container.id) + "/" + name
                if FS.exists(source) { mounts.append(("/etc/" + name, .engineFile, source, container.options.readOnlyRootfs)) }
            }
            mounts = mounts.enumerated().sorted { a, b in
                let da = a.element.destination.split(separator: "/").count, db = b.element.destination.split(separator: "/").count
                return da != db ? da < db : a.offset < b.offset
            }.map(\.element)
            for mount in mounts {
                do throws(SysError) {
                    try view.add(mount.kind, hostPath: mount.source, destination: mount.destination, readOnly: mount.readOnly)
                } catch {
                    let what = switch mount.kind {
                    case .volume(let name): "volume \(name)"
                    default: "bind source \(mount.source)"
                    }
                    throw EngineError(error.errno == ENOENT ? .notFound : .internal,
                                      "\(what) mounted at \(mount.destination) in \(container.name): \(error.reason)", underlying: error, reportedByDaemon: true)
                }
            }
            return try body(view)
        }
    }
}
