import CZlib

/// A streaming gzip compressor (zlib deflate with a gzip wrapper).
///
/// Output is deterministic for the same input and level: the gzip header carries no name and a
/// zero mtime, so the same tar always gives the same blob digest.
public final class GzipCompressor {
    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer
    private var finished = false

    /// `level` is zlib's 0 (store) ... 9 (smallest); 6 is gzip's default.
    public init(level: Int32 = 6) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = .allocate(byteCount: 128 * 1024, alignment: 16)
        // 15 + 16: the largest window, with a gzip header and trailer instead of zlib's.
        let rc = deflateInit2_(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                               zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            stream.deallocate()
            output.deallocate()
            throw ArchiveError("gzip", "deflateInit2 failed (\(rc))")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    /// Compresses a chunk; compressed pieces go to `sink` as zlib produces them.
    public func compress(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { throw ArchiveError("gzip", "compress after finish()") }
        guard let base = input.baseAddress else { return }
        var offset = 0
        while offset < input.count {
            let n = min(input.count - offset, 1 << 30)
            stream.pointee.next_in = UnsafeMutablePointer(mutating: (base + offset).assumingMemoryBound(to: UInt8.self))
            stream.pointee.avail_in = UInt32(n)
            try run(Z_NO_FLUSH, sink)
            offset += n
        }
    }

    /// Flushes what is left and writes the gzip trailer (CRC and length).
    public func finish(into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { return }
        finished = true
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try run(Z_FINISH, sink)
    }

    /// Compresses a whole buffer in memory (small blobs, tests).
    public static func compressAll(_ bytes: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        let compressor = try GzipCompressor(level: level)
        var out: [UInt8] = []
        try bytes.withUnsafeBytes { try compressor.compress($0) { out.append(contentsOf: $0) } }
        try compressor.finish { out.append(contentsOf: $0) }
        return out
    }

    private func run(_ flush: Int32, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
            stream.pointee.avail_out = UInt32(output.count)
            let rc = deflate(stream, flush)
            guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
                throw ArchiveError("gzip", "deflate failed (\(rc))")
            }
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 { try sink(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
            if rc == Z_STREAM_END { return }
            // Output space left over means deflate has taken all input and has nothing pending.
            if flush != Z_FINISH && stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return }
        }
    }
}
