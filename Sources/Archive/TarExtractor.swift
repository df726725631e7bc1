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
    private let reader = TarReader()
    private let handler: RewritingHandler
    private var failure: Error?

    /// `directoryFD` stays the caller's (not closed here); `path` is only for messages.
    public init(directoryFD: Int32, path: String, owner: (uid: Int, gid: Int)?) {
        let writer = SnapshotWriter(rootFD: directoryFD, rootPath: path, options: UnpackOptions())
        handler = RewritingHandler(writer: writer, owner: owner)
    }

    deinit { handler.writer.close() }

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
        try handler.writer.finish()
        handler.writer.close()
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
    let writer: SnapshotWriter
    let owner: (uid: Int, gid: Int)?
    var skipping = false
    var skipped: [String] = []

    init(writer: SnapshotWriter, owner: (uid: Int, gid: Int)?) {
        self.writer = writer
        self.owner = owner
    }

    func entry(_ header: TarHeader) throws {
        let name = header.path.split(separator: "/").last ?? ""
        skipping = name.hasPrefix(".wh.")
        if skipping {
            skipped.append(header.path)
            return
        }
        var header = header
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
