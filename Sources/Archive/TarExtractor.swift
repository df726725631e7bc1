import Glibc
import LinuxSys

/// Extracts a plain tar stream into an existing directory, for `cp`: the same containment as layer
/// unpacking (every entry's parent is opened with openat2(RESOLVE_IN_ROOT) below `directoryFD`,
/// the last component is never followed), without layer semantics: `.wh.` names are not
/// whiteouts (they are skipped, since overlayfs would read them back as deletions), and with
/// `owner` every entry gets that uid:gid instead of the archive's.
///
///     let extractor = TarExtractor(directoryFD: fd, path: "/dest", owner: (0, 0))
///     for chunk in stream { try extractor.consume(chunk) }
///     try extractor.finish()
public final class TarExtractor {
    /// What is mounted at a path below the directory: entries there go to its own tree, or fail.
    public enum Submount {
        /// An O_RDONLY directory fd (the caller's) that the entries below the path are extracted into.
        case directory(Int32)
        /// Entries there fail with this errno (EROFS for a read-only mount, EBUSY for a mounted file).
        case refused(errno: Int32, reason: String)
    }

    private let reader = TarReader()
    private let handler: RewritingHandler
    private var failure: Error?

    /// `directoryFD` stays the caller's (not closed here); `path` is only for messages.
    /// `submounts`: by path relative to the directory (`data`, `srv/x`), the trees mounted there in
    /// the container being copied into; an entry at or below one is extracted into it instead.
    /// `noOverwriteDirNonDir`: Docker's option of that name (see `UnpackOptions`).
    public init(directoryFD: Int32, path: String, owner: (uid: Int, gid: Int)?, submounts: [String: Submount] = [:],
                noOverwriteDirNonDir: Bool = false) {
        var options = UnpackOptions()
        options.noOverwriteDirNonDir = noOverwriteDirNonDir
        let writer = SnapshotWriter(rootFD: directoryFD, rootPath: path, options: options)
        handler = RewritingHandler(writer: writer, owner: owner, submounts: submounts, path: path, options: options)
    }

    deinit { handler.closeAll() }

    public func consume(_ bytes: UnsafeRawBufferPointer) throws {
        if let failure { throw failure }
        do { try reader.feed(bytes, to: handler) } catch {
            failure = error
            throw error
        }
    }

    /// Checks the archive was complete and sets directory mtimes.
    public func finish() throws {
        if let failure { throw failure }
        try reader.finish()
        try handler.finishAll()
    }

    /// Names of entries skipped (whiteout-like names).
    public var skipped: [String] { handler.skipped }

    /// Extracts a whole archive, plain, gzip or zstd (told by its first bytes), that `read`
    /// delivers (it fills the buffer and returns the count, 0 at the end), then finishes.
    public func extract(read: (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        var first = true
        var decompressor: Decompressor?
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try read($0) }
            if count == 0 { break }
            try buffer.withUnsafeBytes { raw in
                let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                if first {
                    first = false
                    let kind = Compression.detect(chunk)
                    if kind != .none { decompressor = try Decompressor(kind) }
                }
                if let decompressor {
                    try decompressor.decompress(chunk) { out in try consume(out) }
                } else {
                    try consume(chunk)
                }
            }
        }
        try decompressor?.finish()
        try finish()
    }
}

private final class RewritingHandler: TarEntryHandler {
    /// The directory's writer, then one per submount an entry went to (by its path).
    let main: SnapshotWriter
    var mounted: [String: SnapshotWriter] = [:]
    /// Where the current entry's data goes.
    var writer: SnapshotWriter
    let owner: (uid: Int, gid: Int)?
    let submounts: [String: TarExtractor.Submount]
    let path: String
    var skipping = false
    var skipped: [String] = []

    let options: UnpackOptions

    init(writer: SnapshotWriter, owner: (uid: Int, gid: Int)?, submounts: [String: TarExtractor.Submount], path: String, options: UnpackOptions) {
        self.options = options
        self.main = writer
        self.writer = writer
        self.owner = owner
        self.submounts = submounts
        self.path = path
    }

    /// The submount `entryPath` is at or below (the deepest), and the path inside it.
    func route(_ entryPath: String) -> (mount: String, rest: String)? {
        guard !submounts.isEmpty, let cleaned = try? EntryPath(entryPath).cleaned else { return nil }
        var best: (mount: String, rest: String)?
        for mount in submounts.keys where cleaned == mount || cleaned.hasPrefix(mount + "/") {
            if best == nil || mount.count > best!.mount.count {
                best = (mount, cleaned == mount ? "." : String(cleaned.dropFirst(mount.count + 1)))
            }
        }
        return best
    }

    /// Sends the entry to the tree it lands in: the directory's, or a submount's (its path rewritten
    /// to be inside it; a hard link must stay in the same tree, as across mounts in the container).
    func select(_ header: inout TarHeader) throws {
        writer = main
        let target = route(header.path)
        if header.type == .hardlink, route(header.linkName)?.mount != target?.mount {
            throw ArchiveError.entry(header.path, "hard link to \(header.linkName) across a mount point", errno: EXDEV)
        }
        guard let target, let submount = submounts[target.mount] else { return }
        switch submount {
        case .refused(let code, let reason):
            throw ArchiveError.entry(header.path, reason, errno: code)
        case .directory(let fd):
            header.path = target.rest
            if header.type == .hardlink, let link = route(header.linkName) { header.linkName = link.rest }
            if let existing = mounted[target.mount] {
                writer = existing
            } else {
                let made = SnapshotWriter(rootFD: fd, rootPath: path + "/" + target.mount, options: options)
                mounted[target.mount] = made
                writer = made
            }
        }
    }

    func finishAll() throws {
        try main.finish()
        for (_, mountWriter) in mounted.sorted(by: { $0.key < $1.key }) { try mountWriter.finish() }
        closeAll()
    }

    func closeAll() {
        main.close()
        for mountWriter in mounted.values { mountWriter.close() }
    }

    func entry(_ header: TarHeader) throws {
        let name = header.path.split(separator: "/").last ?? ""
        skipping = name.hasPrefix(".wh.")
        if skipping {
            skipped.append(header.path)
            return
        }
        var header = header
        try select(&header)
        if let owner {
            header.uid = owner.uid
            header.gid = owner.gid
        }
        try writer.entry(header)
    }

    func data(_ chunk: UnsafeRawBufferPointer) throws {
        if !skipping { try writer.data(chunk) }
    }

    func endOfEntry() throws {
        if !skipping { try writer.endOfEntry() }
        skipping = false
    }
}
