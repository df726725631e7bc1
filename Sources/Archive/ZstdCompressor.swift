import CZstd

/// A streaming zstd compressor; same shape as `GzipCompressor`.
public final class ZstdCompressor {
    private let context: OpaquePointer
    private let output: UnsafeMutableRawBufferPointer
    private var finished = false

    /// `level` is zstd's (1 ... 19; 3 is the zstd tool's default).
    public init(level: Int32 = 3) throws {
        guard let context = ZSTD_createCCtx() else { throw ArchiveError("zstd", "cannot allocate a compression context") }
        self.context = context
        output = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
        let rc = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        if ZSTD_isError(rc) != 0 {
            ZSTD_freeCCtx(context)
            output.deallocate()
            throw ArchiveError("zstd", "level \(level): \(String(cString: ZSTD_getErrorName(rc)))")
        }
    }

    deinit {
        ZSTD_freeCCtx(context)
        output.deallocate()
    }

    public func compress(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { throw ArchiveError("zstd", "compress after finish()") }
        guard let base = input.baseAddress else { return }
        var buffer = ZSTD_inBuffer(src: base, size: input.count, pos: 0)
        while buffer.pos < buffer.size {
            _ = try step(&buffer, ZSTD_e_continue, sink)
        }
    }

    /// Ends the frame: flushes what is buffered and writes the frame epilogue.
    public func finish(into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { return }
        finished = true
        var empty = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&empty, ZSTD_e_end, sink) != 0 {}
    }

    public static func compressAll(_ bytes: [UInt8], level: Int32 = 3) throws -> [UInt8] {
        let compressor = try ZstdCompressor(level: level)
        var out: [UInt8] = []
        try bytes.withUnsafeBytes { try compressor.compress($0) { out.append(contentsOf: $0) } }
        try compressor.finish { out.append(contentsOf: $0) }
        return out
    }

    /// One call of ZSTD_compressStream2; returns what zstd says is left to flush.
    private func step(_ input: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective,
                      _ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        var out = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let rc = ZSTD_compressStream2(context, &out, &input, directive)
        if ZSTD_isError(rc) != 0 { throw ArchiveError("zstd", String(cString: ZSTD_getErrorName(rc))) }
        if out.pos > 0 { try sink(UnsafeRawBufferPointer(rebasing: output[0..<out.pos])) }
        return rc
    }
}
