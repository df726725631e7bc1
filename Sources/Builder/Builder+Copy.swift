import Archive
import CLinuxSys
import ContainerSpec
import Crypto
import Dockerfile
import Glibc
import ImageStore
import LinuxSys
import OCI

extension Builder {
    // MARK: - COPY and ADD

    /// What a COPY/ADD names, resolved enough to key the cache: context paths (patterns expanded),
    /// or for `--from` the raw paths inside that stage or image.
    struct CopySources {
        var contextPaths: [String] = []
        var fromPaths: [String] = []
        var heredocs: [Heredoc] = []
        /// ADD of URLs: the URL and the file it was fetched into.
        var downloads: [(url: String, file: String)] = []
    }

    func copySources(_ copy: CopyInstruction, isAdd: Bool) throws(BuildError) -> CopySources {
        var sources = CopySources()
        for source in copy.sources {
            switch source {
            case .heredoc(let doc):
                sources.heredocs.append(doc)
            case .path(let path):
                if copy.from != nil {
                    sources.fromPaths.append(path)
                    continue
                }
                if isAdd, path.hasPrefix("http://") || path.hasPrefix("https://") {
                    guard let file = options.downloads[path] else { throw BuildError("ADD \(path): it was not downloaded") }
                    sources.downloads.append((path, file))
                    continue
                }
                if isAdd, path.hasPrefix("git@") {
                    throw BuildError("ADD of a git repository (\(path)) is not supported yet")
                }
                let matched = context.match(path)
                guard !matched.isEmpty else {
                    throw BuildError("failed to compute cache key: failed to calculate checksum: \"/\(cleanContextPath(path))\": not found")
                }
                sources.contextPaths.append(contentsOf: matched)
            }
        }
        return sources
    }

    /// The instruction's arguments as history's `created_by` shows them.
    func copyText(_ copy: CopyInstruction) -> String {
        var words: [String] = []
        if let from = copy.from { words.append("--from=\(from)") }
        if let chown = copy.chown { words.append("--chown=\(chown)") }
        if let chmod = copy.chmod { words.append("--chmod=\(chmod)") }
        for source in copy.sources {
            switch source {
            case .path(let path): words.append(path)
            case .heredoc(let doc): words.append("<<" + doc.name)
            }
        }
        words.append(copy.destination)
        return words.joined(separator: " ")
    }

    func copyDescription(_ copy: CopyInstruction, isAdd: Bool, sources: CopySources, result: StageResult) throws(BuildError) -> String {
        var parts = [isAdd ? "ADD" : "COPY", "dest=" + copy.destination, "workdir=" + result.config.workingDir,
                     "chown=" + (copy.chown ?? ""), "chmod=" + (copy.chmod ?? ""), "user=" + result.config.user]
        if !sources.contextPaths.isEmpty {
            parts.append("context=" + sources.contextPaths.joined(separator: "\u{1}"))
            parts.append("content=" + (try context.contentDigest(sources.contextPaths)))
        }
        if let from = copy.from {
            let origin: String
            if let key = stageKey(from) { origin = key } else {
                origin = (try? images.resolve(from).id.description) ?? from
            }
            parts.append("from=" + origin)
            parts.append("paths=" + sources.fromPaths.joined(separator: "\u{1}"))
        }
        for doc in sources.heredocs { parts.append("heredoc=\(doc.name)\u{1}\(doc.rawContent)") }
        for download in sources.downloads {
            var hasher = SHA256()
            try hashFile(download.file, into: &hasher)
            parts.append("url=\(download.url)\u{1}\(hexString(hasher.finalize()))")
        }
        return parts.joined(separator: "\0")
    }

    func copy(_ copy: CopyInstruction, isAdd: Bool, sources: CopySources, result: StageResult) throws -> CommittedLayer {
        try writeLayer(over: result.layers) { writer, view, workspace in

            let owner: (uid: UInt32, gid: UInt32)? = try copy.chown.map { spec throws(BuildError) in
                do {
                    let user = try UserLookup.resolve(spec, groupAdd: [], rootfs: view)
                    // A user without a group takes the user's numeric ID as the group too (Docker's rule
                    // for --chown, unlike USER's).
                    return (user.uid, spec.contains(":") ? user.gid : user.uid)
                } catch {
                    throw BuildError("unable to convert uid/gid chown string to host mapping: \(error)")
                }
            }
            let mode: mode_t? = try copy.chmod.map { text throws(BuildError) in
                guard let value = UInt32(text, radix: 8), value <= 0o7777 else { throw BuildError("invalid chmod parameter: \(text)") }
                return mode_t(value)
            }

            var destination = copy.destination
            if !destination.hasPrefix("/") {
                destination = (result.config.workingDir.isEmpty ? "/" : result.config.workingDir + "/") + destination
            }
            let wantsDirectory = copy.destination.hasSuffix("/") || copy.destination.hasSuffix("/.") || copy.destination == "."
            let count = sources.contextPaths.count + sources.fromPaths.count + sources.heredocs.count + sources.downloads.count
            let patterns = copy.sources.contains { if case .path(let p) = $0 { return p.contains(where: { "*?[".contains($0) }) } else { return false } }
            if (count > 1 || patterns) && !wantsDirectory {
                throw BuildError("When using COPY with more than one source file, the destination must be a directory and end with a /")
            }
            let target = try resolveInView(view, FS.clean(destination))
            let existingIsDirectory = (try? FS.lstat(view + target)).map(FS.isDirectory) ?? false

            // Where each source lands: into the destination directory, or as the destination itself.
            func targetFor(name: String, sourceIsDirectory: Bool) -> String {
                if sourceIsDirectory { return target }
                if wantsDirectory || existingIsDirectory { return (target == "/" ? "" : target) + "/" + name }
                return target
            }

            let contextReal = sources.contextPaths.isEmpty ? "" : try resolveInside(context.root, "", what: "copy from the context")
            for named in sources.contextPaths {
                // A source that is (or runs through) a symlink is followed inside the context, as
                // Docker does, never on the host: `a.tar -> /etc/shadow` or `rootlink -> /` stay in.
                let full = try resolveInside(context.root, named, what: "copy \(named)")
                let path = full == contextReal ? "" : String(full.dropFirst(contextReal.count + 1))
                let status: stat
                do { status = try FS.stat(full) } catch { throw BuildError("copy \(named)", error) }
                let name = named.split(separator: "/").last.map(String.init) ?? ""
                if FS.isDirectory(status) {
                    let allowed = Set(context.tree(path).map(\.path))
                    try writer.copyDirectory(from: full, to: targetFor(name: name, sourceIsDirectory: true), owner: owner ?? (0, 0),
                                             mode: mode, filter: { relative in allowed.contains(path.isEmpty ? relative : path + "/" + relative) })
                } else if isAdd, ArchiveKind.detect(full) != nil {
                    // --chown does not reach the archive's entries (Docker, buildah and BuildKit agree).
                    try writer.unpack(archive: full, into: target, owner: nil)
                } else {
                    try writer.copyFile(from: full, to: targetFor(name: name, sourceIsDirectory: false), owner: owner ?? (0, 0), mode: mode)
                }
            }
            if let from = copy.from {
                let source = try readOnlyView(of: from, workspace: workspace)
                for raw in sources.fromPaths {
                    let inside = try resolveInView(source, FS.clean("/" + raw))
                    let full = source + inside
                    guard let status = try? FS.lstat(full) else {
                        throw BuildError("failed to compute cache key: failed to calculate checksum: \"\(FS.clean("/" + raw))\": not found")
                    }
                    let name = inside.split(separator: "/").last.map(String.init) ?? ""
                    if FS.isDirectory(status) {
                        try writer.copyDirectory(from: full, to: targetFor(name: name, sourceIsDirectory: true), owner: owner, mode: mode, filter: { _ in true })
                    } else {
                        try writer.copyFile(from: full, to: targetFor(name: name, sourceIsDirectory: false), owner: owner, mode: mode)
                    }
                }
            }
            for download in sources.downloads {
                // The file is named after the URL's last path component; Docker gives it mode 0600
                // and does not unpack it, whatever it holds.
                let name = download.url.split(separator: "?").first.map(String.init)?.split(separator: "/").last.map(String.init) ?? "download"
                try writer.copyFile(from: download.file, to: targetFor(name: name, sourceIsDirectory: false), owner: owner ?? (0, 0), mode: mode ?? 0o600)
            }
            for doc in sources.heredocs {
                let content = heredocBody(doc)
                try writer.writeFile(content: Array(content.utf8), to: targetFor(name: doc.name, sourceIsDirectory: false),
                                     owner: owner ?? (0, 0), mode: mode ?? 0o644)
            }
        }
    }

    /// A layer written directly (COPY, ADD, the directories of WORKDIR and VOLUME): `body` gets a
    /// writer on a fresh layer directory, a read-only view of the stage's layers under it, and
    /// the step's workspace for further mounts.
    func writeLayer(over layers: [CommittedLayer], _ body: (LayerWriter, String, BuildWorkspace) throws -> Void) throws -> CommittedLayer {
        let workspace = try BuildWorkspace(runRoot: runRoot)
        defer { workspace.remove() }
        let layerDirectory: String
        do { layerDirectory = try images.snapshots.prepare() } catch { throw BuildError("prepare the layer directory", error) }
        var committed = false
        defer { if !committed { images.snapshots.abandon(layerDirectory) } }
        let view = try workspace.mountReadOnly(layers.map { images.snapshots.path($0.diffID) })
        let writer = try LayerWriter(root: layerDirectory, view: view)
        do { try body(writer, view, workspace) } catch {
            writer.close()
            throw error
        }
        writer.close()
        workspace.unmount(view)
        let layer = try images.commitLayer(directory: layerDirectory)
        committed = true
        return layer
    }

    /// `path` (absolute, clean) with the symlinks among its parents resolved as the container would
    /// resolve them, one component at a time inside `view`, so nothing outside it is ever looked at.
    func resolveInView(_ view: String, _ path: String) throws(BuildError) -> String {
        var pending = path.split(separator: "/").map(String.init)
        var resolved: [String] = []
        var hops = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." || component.isEmpty { continue }
            if component == ".." { if !resolved.isEmpty { resolved.removeLast() }; continue }
            let candidate = view + "/" + (resolved + [component]).joined(separator: "/")
            // The last component is kept as named (COPY onto a symlink replaces it).
            if !pending.isEmpty, let status = try? FS.lstat(candidate), (status.st_mode & S_IFMT) == S_IFLNK {
                hops += 1
                guard hops <= 40, let link = try? FS.readlink(candidate) else { throw BuildError("resolve \(path): too many symlinks") }
                if link.hasPrefix("/") { resolved = [] }
                pending = link.split(separator: "/").map(String.init) + pending
                continue
            }
            resolved.append(component)
        }
        return "/" + resolved.joined(separator: "/")
    }
}

/// ADD unpacks local tar archives, plain or compressed, by their content (not their name).
enum ArchiveKind {
    case tar, gzip, zstd

    static func detect(_ path: String) -> ArchiveKind? {
        guard let fd = try? FS.open(path, O_RDONLY | O_CLOEXEC) else { return nil }
        defer { FS.close(fd) }
        var header = [UInt8](repeating: 0, count: 512)
        let n = header.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, 512, 0) }
        guard n >= 4 else { return nil }
        if header[0] == 0x1F && header[1] == 0x8B { return .gzip }
        if header[0] == 0x28 && header[1] == 0xB5 && header[2] == 0x2F && header[3] == 0xFD { return .zstd }
        if n >= 262, Array(header[257..<262]) == Array("ustar".utf8) { return .tar }
        return nil
    }
}
