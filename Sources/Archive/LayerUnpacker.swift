import Crypto
import Glibc
import LinuxSys

/// Unpacks one OCI/Docker image layer into a snapshot directory that overlayfs can stack as a lowerdir.
///
/// Bytes go in as they arrive from the network — compressed or not, the format is recognised from
/// the first bytes — and flow through one pipeline without touching disk in between:
///
///     compressed chunk → Decompressor → SHA-256 (the DiffID) → TarReader → SnapshotWriter → files
///
///     let unpacker = try LayerUnpacker(into: "/var/lib/berth/snapshots/abc")
///     for chunk in download { try unpacker.consume(chunk) }
///     let layer = try unpacker.finish()   // layer.diffID == "sha256:..."
///
/// What lands in the directory:
/// - files, directories, symlinks, hardlinks, devices and fifos with their owner (plus
///   `UnpackOptions`' id shift), mode (setuid, setgid, sticky included), mtime and xattrs;
/// - whiteouts in overlayfs form: `dir/.wh.name` becomes a 0:0 character device `dir/name`, and
///   `dir/.wh..wh..opq` sets `trusted.overlay.opaque=y` on `dir`;
/// - an entry replaces what an earlier entry put at its path (a directory entry over an existing
///   directory only updates its metadata).
///
/// Every path in the archive is resolved inside the directory (see `SnapshotWriter`): names that
/// climb out with `..` are rejected, absolute names and absolute symlinks are taken relative to it,
/// and a hardlink can only link to something inside it.
///
/// If anything fails, the error names the entry (or the byte offset in the stream) and the directory
/// is left partly written: the caller owns it and must delete it, as it must never be used as a layer.
public final class LayerUnpacker {
    public let directory: String
    /// The compression, once enough bytes have arrived to recognise it.
    public private(set) var compression: Compression?

    private let root: FileDescriptor
    private let writer: SnapshotWriter
    private let reader: TarReader
    private var decompressor: Decompressor?
    private var hasher = SHA256()
    private var uncompressedSize: Int64 = 0
    /// The first bytes, held until there are enough (4) to recognise the compression.
    private var head: [UInt8] = []
    private var failure: Error?
    private var done = false

    /// Prepares to unpack into `directory`, which must exist and be empty.
    public init(into directory: String, options: UnpackOptions = UnpackOptions()) throws {
        self.directory = directory
        // The snapshot directory itself: a path the caller chose, not one from the archive.
        let root = try Self.openSnapshotDirectory(directory)
        let entries: [String]
        do { entries = try FS.list(root.raw) } catch {
            throw ArchiveError("snapshot directory \(directory)", error.description, errno: error.errno)
        }
        guard entries.isEmpty else { throw ArchiveError("snapshot directory \(directory)", "not empty") }
        writer = SnapshotWriter(rootFD: root.raw, rootPath: directory, options: options)
        self.root = root
        reader = TarReader(options: TarReader.Options(skipUnknownEntryTypes: options.skipUnknownEntryTypes))
    }

    deinit {
        // The writer's fds first; `root` closes itself after.
        writer.close()
    }

    private static func openSnapshotDirectory(_ path: String) throws -> FileDescriptor {
        do { return try FS.openOwned(path, O_RDONLY | O_DIRECTORY) } catch {
            throw ArchiveError("snapshot directory \(path)", error.reason, errno: error.errno)
        }
    }

    /// Takes the next bytes of the layer blob, in chunks of any size, and applies whatever entries
    /// they complete. After an error, every later call throws it again.
    public func consume(_ bytes: UnsafeRawBufferPointer) throws {
        if let failure { throw failure }
        guard !done else { throw ArchiveError("layer \(directory)", "consume after finish()") }
        do {
            if let decompressor {
                try decompress(bytes, decompressor)
                return
            }
            head.append(contentsOf: bytes)
            if head.count >= 4 { try start() }
        } catch {
            failure = error
            throw error
        }
    }

    public func consume(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try consume($0) }
    }

    /// Ends the layer: checks that the compressed stream and the tar were complete, sets directory
    /// mtimes, and returns the DiffID. Unpacking is only successful once this returns.
    public func finish() throws -> UnpackedLayer {
        if let failure { throw failure }
        guard !done else { throw ArchiveError("layer \(directory)", "finish() called twice") }
        done = true
        do {
            if decompressor == nil { try start() }
            try decompressor?.finish()
            try reader.finish()
            try writer.finish()
        } catch {
            failure = error
            writer.close()
            throw error
        }
        writer.close()
        let hex = hasher.finalize().map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
        return UnpackedLayer(diffID: "sha256:" + hex, uncompressedSize: uncompressedSize, entryCount: reader.entryCount,
                             compression: compression ?? .none, warnings: writer.warnings)
    }

    /// Unpacks a layer blob from a file, reading it in 1 MiB chunks.
    public static func unpack(file path: String, into directory: String, options: UnpackOptions = UnpackOptions()) throws -> UnpackedLayer {
        let unpacker = try LayerUnpacker(into: directory, options: options)
        let file: FileDescriptor
        do { file = try FS.openOwned(path, O_RDONLY) } catch { throw ArchiveError("layer \(path)", error.description, errno: error.errno) }
        let fd = file.raw
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw ArchiveError("layer \(path)", SysError("read").reason, errno: errno)
            }
            if n == 0 { break }
            try unpacker.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return try unpacker.finish()
    }

    /// Recognises the compression from the first bytes and feeds them through.
    private func start() throws {
        let detected = Compression.detect(head)
        let decompressor = try Decompressor(detected)
        self.decompressor = decompressor
        compression = detected
        let first = head
        head = []
        try first.withUnsafeBytes { try decompress($0, decompressor) }
    }

    private func decompress(_ bytes: UnsafeRawBufferPointer, _ decompressor: Decompressor) throws {
        try decompressor.decompress(bytes) { tar in
            hasher.update(bufferPointer: tar)
            uncompressedSize += Int64(tar.count)
            try reader.feed(tar, to: writer)
        }
    }
}
