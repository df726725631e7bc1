import Archive
import CLinuxSys
import ContainerRuntime
import ContainerSpec
import Glibc
import ImageStore
import LinuxSys

// `cp`: files between a container's filesystem and the host (or a tar stream), with Docker's path
// rules. Every path on the container's side is resolved inside its rootfs with
// openat2(RESOLVE_IN_ROOT) and walked or written through fds, so a symlink in the container (to
// /etc/shadow, to ../../..) resolves inside the container, never to the host's files.

extension Engine {
    /// How `cp` treats ownership and links.
    public struct CopyOptions: Sendable {
        /// `-a`: keep the source's uid/gid (otherwise the container's root, or the caller on the host).
        public var archive = false
        /// `-L`: copy what a symlink SRC points to rather than the link.
        public var followLink = false
        public init(archive: Bool = false, followLink: Bool = false) {
            self.archive = archive
            self.followLink = followLink
        }
    }

    /// `cp CONTAINER:SRC DEST`; DEST "-" writes a tar stream to `outputFD`.
    public func copyFromContainer(_ container: Container, path: String, to destination: String,
                                  options: CopyOptions = CopyOptions(), outputFD: Int32 = 1) throws(EngineError) {
        try withContainerView(container) { (view: ContainerView) throws(EngineError) in
            let source = try locateInContainer(view, path, follow: options.followLink, container: container)
            defer { FS.close(source.parent) }
            if destination == "-" {
                try Self.writeArchive(source, sink: { bytes in try Self.writeAll(outputFD, bytes) }, describe: "copy \(path) from \(container.name)")
                return
            }
            let owner = (uid: Int(getuid()), gid: Int(getgid()))
            try copy(source, into: HostSide(), destination, owner: options.archive ? nil : owner, describe: destination)
        }
    }

    /// `cp SRC CONTAINER:DEST`; SRC "-" reads a tar stream from `inputFD` into the directory DEST.
    public func copyToContainer(_ container: Container, source: String, path: String,
                                options: CopyOptions = CopyOptions(), inputFD: Int32 = 0) throws(EngineError) {
        let owner: (uid: Int, gid: Int)? = options.archive ? nil : (0, 0)
        if source == "-" {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            try extractArchive(container, into: path, owner: owner) {
                while true {
                    let n = buffer.withUnsafeMutableBytes { Glibc.read(inputFD, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 { throw SysError("read", "standard input") }
                    return n == 0 ? nil : Array(buffer[0..<n])
                }
            }
            return
        }
        try withContainerView(container) { (view: ContainerView) throws(EngineError) in
            let side = ContainerSide(view: view, container: container, destination: path)
            let located = try locateOnHost(source, follow: options.followLink)
            defer { FS.close(located.parent) }
            try copy(located, into: side, path, owner: owner, describe: "\(container.name):\(path)")
        }
    }

    /// Extracts the tar stream that `next` delivers (nil at its end) into the existing directory
    /// `path` of the container, resolved inside its root and through its volumes and binds as
    /// `cp - CONTAINER:DEST` does: `PUT /containers/{id}/archive`. `owner` nil keeps the archive's
    /// owners. `noOverwriteDirNonDir`: a directory never replaces a file there, nor a file a directory.
    public func extractArchive(_ container: Container, into path: String, owner: (uid: Int, gid: Int)?,
                               noOverwriteDirNonDir: Bool = false, next: () throws -> [UInt8]?) throws(EngineError) {
        try withContainerView(container) { (view: ContainerView) throws(EngineError) in
            let side = ContainerSide(view: view, container: container, destination: path)
            let directory: Int32
            do {
                let st = try side.stat(path)
                guard FS.isDirectory(st) else { throw EngineError.invalid("extraction point is not a directory", reportedByDaemon: true) }
                directory = try side.openDirectory(path)
            } catch let error as EngineError {
                throw error
            } catch {
                throw side.failure(path, error)
            }
            defer { FS.close(directory) }
            let submounts: [String: TarExtractor.Submount]
            do { submounts = try side.submounts(below: path) } catch { throw side.failure(path, error) }
            let extractor = TarExtractor(directoryFD: directory, path: path, owner: owner, submounts: submounts,
                                         noOverwriteDirNonDir: noOverwriteDirNonDir)
            do {
                while let chunk = try next() {
                    try chunk.withUnsafeBytes { try extractor.consume($0) }
                }
                try extractor.finish()
            } catch let error as ArchiveError where error.errno == EROFS || error.errno == EBUSY {
                throw Self.mountRefusal(error.errno ?? EROFS, error.reason, describe: "\(container.name):\(path)")
            } catch let error as EngineError {
                throw error
            } catch {
                throw .system("copy to \(container.name):\(path): \(error)", reportedByDaemon: true)
            }
        }
    }

    /// The uid and gid of the container's configured user, looked up in its own files: what
    /// Docker's `copyUIDGID` gives the files copied in. Nil when the image and run named no user.
    public func configuredUserOwner(_ container: Container) throws(EngineError) -> (uid: Int, gid: Int)? {
        guard let user = container.config.user, !user.isEmpty else { return nil }
        let resolved = try withRootfs(container) { (root: InRoot) throws(EngineError) in
            try UserLookup.resolve(user, groupAdd: [], rootfs: root.rootPath)
        }
        return (Int(resolved.uid), Int(resolved.gid))
    }

    /// `GET /containers/{id}/archive`: the tar stream of `path` (as `cp CONTAINER:SRC -` writes it),
    /// handed to `sink` as it is made. The last component is not followed unless `followLink`.
    public func archive(_ container: Container, path: String, followLink: Bool = false,
                        sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws(EngineError) {
        try withContainerView(container) { (view: ContainerView) throws(EngineError) in
            let source = try locateInContainer(view, path, follow: followLink, container: container)
            defer { FS.close(source.parent) }
            try Self.writeArchive(source, sink: sink, describe: "copy \(path) from \(container.name)")
        }
    }

    static func writeArchive(_ source: Source, sink: @escaping (UnsafeRawBufferPointer) throws -> Void, describe: String) throws(EngineError) {
        let writer = TarWriter(sink: sink)
        do {
            try writer.writeEntry(parent: source.parent, name: source.name, as: source.contents ? "." : source.baseName,
                                  submounts: source.submounts)
            try writer.finish()
        } catch {
            throw .system("\(describe): \(error)")
        }
    }

    /// Docker's ContainerPathStat: what the archive endpoints report in `X-Docker-Container-Path-Stat`.
    public struct PathStat: Sendable, Equatable {
        /// The path's last component as given ("/" for the root, "." for `dir/.`).
        public var name: String
        public var size: Int64
        /// Go's os.FileMode: the permission bits, with the type and setuid/setgid/sticky bits high.
        public var mode: UInt32
        /// RFC 3339 with nanoseconds, UTC.
        public var mtime: String
        /// For a symlink, what it resolves to in the container (every link followed); "" otherwise.
        public var linkTarget: String
    }

    /// `HEAD /containers/{id}/archive`: lstat of `path` in the container (its parents' links
    /// followed inside the container, the last component not), through its volumes and binds.
    public func statPath(_ container: Container, path given: String) throws(EngineError) -> PathStat {
        try withContainerView(container) { (view: ContainerView) throws(EngineError) -> PathStat in
            let (path, _, asserts) = Self.splitSourcePath(given)
            do {
                let found = try view.resolve(path, followLast: asserts)
                var st = Glibc.stat()
                if let file = found.layer.file {
                    guard fstatat(found.layer.root.rootFD, file, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw SysError("lstat", view.describe(path)) }
                } else if found.relative == "/" {
                    st = try FS.fstat(found.layer.root.rootFD, describe: view.describe(path))
                } else {
                    let (parentPath, name) = Self.split(found.relative)
                    let parent = try found.layer.root.openOwned(parentPath, O_RDONLY | O_DIRECTORY)
                    guard fstatat(parent.raw, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw SysError("lstat", view.describe(path)) }
                }
                if asserts && !FS.isDirectory(st) { throw EngineError.invalid("lstat \(given): not a directory", reportedByDaemon: true) }
                var linkTarget = ""
                if st.st_mode & S_IFMT == S_IFLNK { linkTarget = (try? view.resolve(path, followLast: true).path) ?? "" }
                return PathStat(name: Self.statName(given), size: Int64(st.st_size), mode: Self.goFileMode(st.st_mode),
                                mtime: Clock.format(seconds: st.st_mtim.tv_sec, nanoseconds: st.st_mtim.tv_nsec), linkTarget: linkTarget)
            } catch let error as EngineError {
                throw error
            } catch let error as SysError where error.errno == ENOENT {
                throw .notFound("Could not find the file \(given) in container \(container.name)", reportedByDaemon: true)
            } catch let error as SysError where error.errno == ENOTDIR {
                throw .invalid("lstat \(given): not a directory", reportedByDaemon: true)
            } catch {
                throw .system("\(given) in \(container.name): \(error)", reportedByDaemon: true)
            }
        }
    }

    /// Go's filepath.Base of the path as given, its trailing "/." kept as ".".
    static func statName(_ given: String) -> String {
        if given.hasSuffix("/.") || given == "." { return "." }
        let parts = given.split(separator: "/")
        return parts.last.map(String.init) ?? "/"
    }

    /// Go's os.FileMode for a stat mode.
    static func goFileMode(_ mode: mode_t) -> UInt32 {
        var bits = UInt32(mode & 0o777)
        switch mode & S_IFMT {
        case S_IFDIR: bits |= 1 << 31
        case S_IFLNK: bits |= 1 << 27
        case S_IFBLK: bits |= 1 << 26
        case S_IFCHR: bits |= 1 << 26 | 1 << 21
        case S_IFIFO: bits |= 1 << 25
        case S_IFSOCK: bits |= 1 << 24
        default: break
        }
        if mode & S_ISUID != 0 { bits |= 1 << 23 }
        if mode & S_ISGID != 0 { bits |= 1 << 22 }
        if mode & S_ISVTX != 0 { bits |= 1 << 20 }
        return bits
    }

    // MARK: - Sources

    /// A copy source: `name` in the directory `parent` (an fd this owns), or the directory's
    /// contents ("." with `contents`).
    struct Source {
        var parent: Int32
        var name: String
        var isDirectory: Bool
        /// `SRC/.`: the directory's contents rather than the directory.
        var contents: Bool
        /// The name the copy takes: SRC's last component as given (a followed link keeps its own name).
        var baseName: String
        /// For a directory in a container: the mounts below it, read from their own trees.
        var submounts: [String: (directory: Int32, name: String)] = [:]
    }

    /// Docker: "dir/." copies the contents; a trailing "/" asserts a directory.
    static func splitSourcePath(_ path: String) -> (path: String, contents: Bool, assertsDirectory: Bool) {
        let contents = path == "." || path.hasSuffix("/.")
        let asserts = contents || path.hasSuffix("/")
        return (FS.clean(path.hasPrefix("/") ? path : "/" + path), contents, asserts)
    }

    func locateInContainer(_ view: ContainerView, _ given: String, follow: Bool, container: Container) throws(EngineError) -> Source {
        let (path, contents, asserts) = Self.splitSourcePath(given)
        let notFound = EngineError.notFound("Could not find the file \(given) in container \(container.name)", reportedByDaemon: true)
        let notDirectory = EngineError.invalid("lstat \(given): not a directory", reportedByDaemon: true)
        do {
            // Through the container's mounts: a path in a volume or bind is read from there.
            let found = try view.resolve(path, followLast: follow || asserts)
            let base = Self.split(path).name
            if let file = found.layer.file {
                // A bind-mounted file: its own directory on the host is never listed.
                if asserts { throw notDirectory }
                let parent = try found.layer.root.open("/", O_RDONLY | O_DIRECTORY)
                return Source(parent: parent, name: file, isDirectory: false, contents: false, baseName: base)
            }
            let submounts = view.submounts(below: found.path)
            if contents || found.path == "/" {
                let directory = try found.layer.root.open(found.relative, O_RDONLY | O_DIRECTORY)
                return Source(parent: directory, name: ".", isDirectory: true, contents: true, baseName: ".", submounts: submounts)
            }
            if found.relative == "/" {
                // A mount's own root: the directory itself, under the name the path gave it.
                let directory = try found.layer.root.open("/", O_RDONLY | O_DIRECTORY)
                return Source(parent: directory, name: ".", isDirectory: true, contents: false, baseName: base, submounts: submounts)
            }
            let (parentPath, name) = Self.split(found.relative)
            let parent = try found.layer.root.openOwned(parentPath, O_RDONLY | O_DIRECTORY)
            var st = Glibc.stat()
            guard fstatat(parent.raw, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                let code = errno
                throw SysError("lstat", view.describe(found.path), errno: code)
            }
            let isDirectory = FS.isDirectory(st)
            if asserts && !isDirectory { throw notDirectory }
            return Source(parent: parent.take(), name: name, isDirectory: isDirectory, contents: false, baseName: base,
                          submounts: isDirectory ? submounts : [:])
        } catch let error as EngineError {
            throw error
        } catch let error as SysError where error.errno == ENOENT {
            throw notFound
        } catch let error as SysError where error.errno == ENOTDIR {
            throw notDirectory
        } catch {
            throw .system("\(given) in \(container.name): \(error)", reportedByDaemon: true)
        }
    }

    func locateOnHost(_ given: String, follow: Bool) throws(EngineError) -> Source {
        let contents = given == "." || given.hasSuffix("/.")
        let asserts = contents || given.hasSuffix("/")
        let absolute = FS.clean(FS.absolute(given))
        let st: Glibc.stat
        do {
            if follow || asserts { st = try FS.stat(given) } else { st = try FS.lstat(given) }
        } catch {
            throw .notFound("lstat \(given): \(error.reason)")
        }
        let isDirectory = FS.isDirectory(st)
        if asserts && !isDirectory { throw .invalid("lstat \(given): not a directory") }
        var (parentPath, name) = Self.split(absolute)
        if follow && !contents, (st.st_mode & S_IFMT) != S_IFLNK, let real = Self.realPath(absolute) {
            (parentPath, name) = Self.split(real)
        }
        if contents || name == "." {
            do { return Source(parent: try FS.open(absolute, O_RDONLY | O_DIRECTORY | O_CLOEXEC), name: ".", isDirectory: true, contents: true, baseName: ".") } catch {
                throw .system("open \(given): \(error.reason)")
            }
        }
        let parent: Int32
        do { parent = try FS.open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC) } catch { throw .system("open \(parentPath): \(error.reason)") }
        return Source(parent: parent, name: name, isDirectory: isDirectory, contents: false, baseName: Self.split(absolute).name)
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = Glibc.realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// "/a/b" → ("/a", "b"); "/" → ("/", ".").
    static func split(_ path: String) -> (parent: String, name: String) {
        let clean = FS.clean(path.hasPrefix("/") ? path : "/" + path)
        guard clean != "/", let slash = clean.lastIndex(of: "/") else { return ("/", ".") }
        let parent = String(clean[..<slash])
        return (parent.isEmpty ? "/" : parent, String(clean[clean.index(after: slash)...]))
    }

    // MARK: - Destinations

    /// Docker's rules for where SRC lands (its archive.PrepareArchiveCopy): into an existing
    /// directory; over an existing file (not with a directory); or as a new name, whose parent
    /// must exist (a new name ending in "/" must be a directory copy).
    func copy(_ source: Source, into side: some CopySide, _ destination: String, owner: (uid: Int, gid: Int)?, describe: String) throws(EngineError) {
        let root: Int32
        let top: String
        /// The extraction directory, as `side` names it.
        let rootPath: String
        do {
            let existing: Glibc.stat?
            do { existing = try side.stat(destination) } catch let error as SysError where error.errno == ENOENT {
                existing = nil
            }
            if let existing {
                if FS.isDirectory(existing) {
                    root = try side.openDirectory(destination)
                    top = source.contents ? "." : source.baseName
                    rootPath = destination
                } else if source.isDirectory {
                    throw EngineError.invalid("cannot copy directory")
                } else {
                    // Over what a link names, under the target's name (Docker's CLI follows it too).
                    (rootPath, top) = try side.resolved(destination)
                    root = try side.openDirectory(rootPath)
                }
            } else {
                let (parentPath, name) = Self.split(destination)
                let parent: Glibc.stat
                do { parent = try side.stat(parentPath) } catch let error as SysError where error.errno == ENOENT {
                    throw side.missingParent(parentPath)
                }
                guard FS.isDirectory(parent) else { throw EngineError.invalid("not a directory") }
                if source.isDirectory {
                    let parentFD = try side.openDirectory(parentPath)
                    defer { FS.close(parentFD) }
                    if mkdirat(parentFD, name, 0o755) != 0 && errno != EEXIST { throw SysError("mkdir", describe) }
                    root = try side.openDirectory(destination)
                    top = "."
                    rootPath = destination
                } else if destination.hasSuffix("/") {
                    throw EngineError.invalid("no such directory")
                } else {
                    root = try side.openDirectory(parentPath)
                    top = name
                    rootPath = parentPath
                }
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw side.failure(destination, error)
        }
        defer { FS.close(root) }
        let submounts: [String: TarExtractor.Submount]
        do { submounts = try side.submounts(below: rootPath) } catch { throw side.failure(destination, error) }
        // A refused mount (read-only, a bound file) that the source has an entry for: fail before
        // anything is written, where the extraction alone would stop at that entry.
        for (key, submount) in submounts {
            guard case .refused(let code, let reason) = submount else { continue }
            let inside: String? = top == "." ? key : key == top ? "" : key.hasPrefix(top + "/") ? String(key.dropFirst(top.count + 1)) : nil
            guard let inside else { continue }
            var st = Glibc.stat()
            if fstatat(source.parent, inside.isEmpty ? source.name : source.name + "/" + inside, &st, AT_SYMLINK_NOFOLLOW) == 0 {
                throw Self.mountRefusal(code, reason, describe: describe)
            }
        }
        let extractor = TarExtractor(directoryFD: root, path: describe, owner: owner, submounts: submounts)
        let writer = TarWriter(sink: { bytes in try extractor.consume(bytes) })
        do {
            try writer.writeEntry(parent: source.parent, name: source.name, as: top, submounts: source.submounts)
            try writer.finish()
            try extractor.finish()
        } catch let error as ArchiveError where error.errno == EROFS || error.errno == EBUSY {
            throw Self.mountRefusal(error.errno ?? EROFS, error.reason, describe: describe)
        } catch {
            throw .system("copy to \(describe): \(error)")
        }
    }

    /// An entry the container's mounts refuse (`TarExtractor.Submount.refused`): Docker's words for
    /// a read-only mount, then which.
    static func mountRefusal(_ code: Int32, _ reason: String, describe: String) -> EngineError {
        if code == EROFS { return .invalid("mounted volume is marked read-only (copying to \(describe): \(reason))", reportedByDaemon: true) }
        return .invalid("copying to \(describe): \(reason)", reportedByDaemon: true)
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        guard var pointer = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, pointer, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw SysError("write", "standard output")
            }
            pointer += n
            left -= n
        }
    }

    // MARK: - The rootfs

    /// Runs `body` on the container's rootfs: the mounted overlay of a running container, or one
    /// mounted for the copy (and unmounted after, unless the container started meanwhile).
    func withRootfs<T>(_ container: Container, _ body: (InRoot) throws(EngineError) -> T) throws(EngineError) -> T {
        let target = rootfsPath(container.id)
        var mountedHere = false
        if !isMounted(target) {
            let layers: [String]
            do { layers = images.layerPaths(try images.load(try images.resolve(container.imageID))) } catch {
                throw .system("image \(container.image) of container \(container.name)", error)
            }
            try mountRootfs(container, layers: layers)
            mountedHere = true
        }
        defer { if mountedHere && !status(container).isRunning { unmountRootfs(container.id) } }
        let fd: Int32
        do { fd = try FS.open(target, BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC) } catch { throw .system("open the rootfs of \(container.name)", error) }
        defer { FS.close(fd) }
        return try body(InRoot(rootFD: fd, rootPath: target))
    }
}

/// One side of a copy's destination: the host's filesystem, or a container's resolved inside its root.
protocol CopySide {
    /// stat(2), following symlinks (Docker follows a destination that is a link).
    func stat(_ path: String) throws -> Glibc.stat
    /// An O_RDONLY directory fd, for extraction.
    func openDirectory(_ path: String) throws -> Int32
    /// The parent directory and name of what `path` resolves to (a followed link's target's).
    func resolved(_ path: String) throws -> (parent: String, name: String)
    func missingParent(_ path: String) -> EngineError
    /// What is mounted below the directory `path`, for the extraction into it.
    func submounts(below path: String) throws -> [String: TarExtractor.Submount]
    func failure(_ path: String, _ error: any Error) -> EngineError
}

struct HostSide: CopySide {
    func submounts(below path: String) throws -> [String: TarExtractor.Submount] { [:] }
    func stat(_ path: String) throws -> Glibc.stat { try FS.stat(path) }
    func openDirectory(_ path: String) throws -> Int32 { try FS.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    func resolved(_ path: String) throws -> (parent: String, name: String) {
        Engine.split(Engine.realPath(path) ?? FS.absolute(path))
    }
    func missingParent(_ path: String) -> EngineError { .invalid("lstat \(path): no such file or directory") }
    func failure(_ path: String, _ error: any Error) -> EngineError {
        if let error = error as? SysError { return .system("\(path): \(error.reason)") }
        return .system("\(path): \(error)")
    }
}

/// The container's side: paths resolved through its mounts (`ContainerView`). It is only ever a
/// destination, so every directory it opens is one about to be written, and is refused when its
/// mount is read-only (Docker's rules: a read-only volume or bind, or the rootfs of `--read-only`).
struct ContainerSide: CopySide {
    let view: ContainerView
    let container: Container
    /// The container path the user named, for messages.
    let destination: String

    func stat(_ path: String) throws -> Glibc.stat {
        let fd = try view.open(try view.resolve(path, followLast: true), BERTH_O_PATH)
        defer { FS.close(fd) }
        return try FS.fstat(fd, describe: view.describe(path))
    }

    func openDirectory(_ path: String) throws -> Int32 {
        let found = try view.resolve(path, followLast: true)
        try checkWritable(found)
        return try view.open(found, O_RDONLY | O_DIRECTORY)
    }

    func submounts(below path: String) throws -> [String: TarExtractor.Submount] {
        try view.extractionSubmounts(below: try view.resolve(path, followLast: true).path)
    }

    func resolved(_ path: String) throws -> (parent: String, name: String) {
        let found = try view.resolve(path, followLast: true)
        if found.layer.file != nil {
            // The file is a mount point: it cannot be replaced (Docker fails on it as busy).
            try checkWritable(found)
            throw EngineError.invalid("\(path) in container \(container.name) is a bind-mounted file; cp cannot replace it", reportedByDaemon: true)
        }
        return Engine.split(found.path)
    }

    /// Docker's words, then where: nothing is written below a read-only mount.
    func checkWritable(_ found: ContainerView.Resolved) throws(EngineError) {
        guard found.layer.readOnly else { return }
        switch found.layer.kind {
        case .rootfs, .engineFile:
            // The /etc files are not volumes to Docker: read-only only with the rootfs.
            throw .invalid("container rootfs is marked read-only (copying to \(container.name):\(destination))", reportedByDaemon: true)
        case .volume, .bind:
            throw .invalid("mounted volume is marked read-only (copying to \(container.name):\(destination): \(found.layer.destination) is mounted read-only)", reportedByDaemon: true)
        }
    }

    func missingParent(_ path: String) -> EngineError {
        .notFound("Could not find the file \(path) in container \(container.name)", reportedByDaemon: true)
    }

    func failure(_ path: String, _ error: any Error) -> EngineError {
        if let error = error as? SysError {
            if error.errno == ENOENT { return missingParent(path) }
            if error.errno == ENOTDIR { return .invalid("\(path): not a directory", reportedByDaemon: true) }
            return .system("\(path) in \(container.name): \(error.reason)", reportedByDaemon: true)
        }
        return .system("\(path) in \(container.name): \(error)", reportedByDaemon: true)
    }
}
