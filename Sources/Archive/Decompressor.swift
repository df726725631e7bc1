import CZlib
import CZstd

/// A streaming, push-based decompressor for layer blobs.
///
/// Feed compressed bytes in chunks of any size as they arrive; each call hands the decompressed
/// bytes to `sink` in pieces of at most `outputChunkSize` bytes (one reused buffer, valid only
/// during the call). `finish()` then says whether the stream was complete.
///
///     let d = try Decompressor(.gzip)
///     try d.decompress(chunk) { piece in try tar.feed(piece, to: handler) }
///     try d.finish()
///
/// gzip accepts concatenated members (as `gzip -c a b` and parallel compressors write them) and
/// zero padding after the last member; zstd accepts concatenated frames.
public final class Decompressor {
    public let compression: Compression
    /// Compressed bytes taken in so far (error messages give offsets in this count).
    public private(set) var bytesIn: Int64 = 0
    /// Decompressed bytes handed out so far.
    public private(set) var bytesOut: Int64 = 0

    public static let outputChunkSize = 128 * 1024

    private var zlib: UnsafeMutablePointer<z_stream>?
    private var zstd: OpaquePointer?
    private let output: UnsafeMutableRawBufferPointer
    private var gzipState = GzipState.beforeFirstMember
    private var membersDone = 0
    private var zstdFrameOpen = false
    private var finished = false

    private enum GzipState { case beforeFirstMember, inMember, betweenMembers, trailingZeros }

    public init(_ compression: Compression) throws {
        self.compression = compression
        output = .allocate(byteCount: Self.outputChunkSize, alignment: 16)
        switch compression {
        case .none:
            break
        case .gzip:
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            // 15 + 32: the largest window, and let zlib recognise the gzip (or zlib) header itself.
            let rc = inflateInit2_(stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard rc == Z_OK else {
                stream.deallocate()
                output.deallocate()
                throw ArchiveError("gzip", "inflateInit2 failed (\(rc))")
            }
            zlib = stream
        case .zstd:
            guard let stream = ZSTD_createDStream() else {
                output.deallocate()
                throw ArchiveError("zstd", "cannot allocate a decompression stream")
            }
            ZSTD_initDStream(stream)
            zstd = stream
        }
    }

    deinit {
        if let zlib {
            inflateEnd(zlib)
            zlib.deallocate()
        }
        if let zstd { ZSTD_freeDStream(zstd) }
        output.deallocate()
    }

    /// Decompresses one chunk of input, passing every decompressed piece to `sink`.
    public func decompress(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { throw ArchiveError("\(compression) stream", "data after finish()") }
        guard let base = input.baseAddress, input.count > 0 else { return }
        switch compression {
        case .none:
            bytesIn += Int64(input.count)
            bytesOut += Int64(input.count)
            try sink(input)
        case .gzip:
            try inflate(base, input.count, sink)
        case .zstd:
            try decompressZstd(base, input.count, sink)
        }
    }

    /// Checks that the stream ended where a complete stream ends; a truncated one is an error.
    public func finish() throws {
        finished = true
        switch compression {
        case .none:
            return
        case .gzip:
            if gzipState == .inMember || membersDone == 0 {
                throw ArchiveError("gzip stream", bytesIn == 0 ? "empty" : "truncated after \(bytesIn) bytes")
            }
        case .zstd:
            if zstdFrameOpen || bytesIn == 0 {
                throw ArchiveError("zstd stream", bytesIn == 0 ? "empty" : "truncated after \(bytesIn) bytes")
            }
        }
    }

    /// Decompresses a whole blob in memory, detecting its compression. For small blobs and tests;
    /// layers go through the streaming interface.
    public static func decompressAll(_ bytes: [UInt8]) throws -> [UInt8] {
        let decompressor = try Decompressor(Compression.detect(bytes.prefix(4)))
        var out: [UInt8] = []
        try bytes.withUnsafeBytes { raw in
            try decompressor.decompress(raw) { out.append(contentsOf: $0) }
        }
        try decompressor.finish()
        return out
    }

    private func inflate(_ base: UnsafeRawPointer, _ count: Int, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let z = zlib else { return }
        var offset = 0
        defer { bytesIn += Int64(offset) }
        while offset < count {
            switch gzipState {
            case .betweenMembers, .trailingZeros:
                // Another member may follow; so may zero padding (tape-style blocking), but nothing else.
                let byte = base.load(fromByteOffset: offset, as: UInt8.self)
                if byte == 0 {
                    gzipState = .trailingZeros
                    offset += 1
                    continue
                }
                if gzipState == .trailingZeros {
                    throw ArchiveError("gzip stream at offset \(bytesIn + Int64(offset))", "garbage after the compressed data")
                }
                inflateReset(z)
                gzipState = .inMember
            case .beforeFirstMember, .inMember:
                gzipState = .inMember
                let mutableBase = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
                let available = min(count - offset, 1 << 30)
                z.pointee.next_in = mutableBase + offset
                z.pointee.avail_in = UInt32(available)
                var rc: Int32
                repeat {
                    z.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
                    z.pointee.avail_out = UInt32(output.count)
                    rc = CZlib.inflate(z, Z_NO_FLUSH)
                    let produced = output.count - Int(z.pointee.avail_out)
                    if produced > 0 {
                        bytesOut += Int64(produced)
                        try sink(UnsafeRawBufferPointer(rebasing: output[0..<produced]))
                    }
                    if rc == Z_STREAM_END {
                        gzipState = .betweenMembers
                        membersDone += 1
                        break
                    }
                    // Z_BUF_ERROR only means "no progress possible": more input is needed.
                    if rc != Z_OK && rc != Z_BUF_ERROR {
                        let used = available - Int(z.pointee.avail_in)
                        let message = z.pointee.msg.map { String(cString: $0) } ?? "error \(rc)"
                        throw ArchiveError("gzip stream at offset \(bytesIn + Int64(offset + used))", message)
                    }
                } while rc == Z_OK && (z.pointee.avail_in > 0 || z.pointee.avail_out == 0)
                offset += available - Int(z.pointee.avail_in)
            }
        }
    }

    private func decompressZstd(_ base: UnsafeRawPointer, _ count: Int, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let stream = zstd, let outBase = output.baseAddress else { return }
        var input = ZSTD_inBuffer(src: base, size: count, pos: 0)
        defer { bytesIn += Int64(input.pos) }
        var out: ZSTD_outBuffer
        repeat {
            out = ZSTD_outBuffer(dst: outBase, size: output.count, pos: 0)
            let rc = ZSTD_decompressStream(stream, &out, &input)
            if ZSTD_isError(rc) != 0 {
                throw ArchiveError("zstd stream at offset \(bytesIn + Int64(input.pos))", String(cString: ZSTD_getErrorName(rc)))
            }
            if out.pos > 0 {
                bytesOut += Int64(out.pos)
                try sink(UnsafeRawBufferPointer(start: outBase, count: out.pos))
            }
            // 0 means a frame was completely decoded and flushed.
            zstdFrameOpen = rc != 0
        } while input.pos < input.size || out.pos == out.size
    }
}
