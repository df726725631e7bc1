import Archive
import Foundation
import Testing

@Suite struct CompressionTests {
    static let sample: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 1000) }

    @Test func detectsMagic() {
        #expect(Compression.detect([0x1f, 0x8b, 8, 0]) == .gzip)
        #expect(Compression.detect([0x28, 0xb5, 0x2f, 0xfd, 1]) == .zstd)
        #expect(Compression.detect([0x28, 0xb5, 0x2f]) == .none)
        #expect(Compression.detect(Array("ustar".utf8)) == .none)
        #expect(Compression.detect([UInt8]()) == .none)
    }

    @Test func gzipRoundTripsAndMatchesTheGzipTool() throws {
        let tmp = try TempDir()
        let compressed = try GzipCompressor.compressAll(Self.sample)
        #expect(try Decompressor.decompressAll(compressed) == Self.sample)
        #expect(try GzipCompressor.compressAll(Self.sample) == compressed, "deterministic output")
        // Our gzip is readable by gzip(1), and gzip(1)'s by us.
        try writeBytes(tmp.path + "/ours.gz", compressed)
        try shell("gzip -dc \(tmp.path)/ours.gz > \(tmp.path)/ours && cp \(tmp.path)/ours \(tmp.path)/theirs && gzip -9 \(tmp.path)/theirs")
        #expect(try readBytes(tmp.path + "/ours") == Self.sample)
        #expect(try Decompressor.decompressAll(readBytes(tmp.path + "/theirs.gz")) == Self.sample)
    }

    @Test(.enabled(if: has("zstd"), "the zstd command-line tool is not installed"))
    func zstdRoundTripsAndMatchesTheZstdTool() throws {
        let tmp = try TempDir()
        let compressed = try ZstdCompressor.compressAll(Self.sample)
        #expect(Compression.detect(compressed) == .zstd)
        #expect(try Decompressor.decompressAll(compressed) == Self.sample)
        try writeBytes(tmp.path + "/ours.zst", compressed)
        try shell("zstd -q -d \(tmp.path)/ours.zst -o \(tmp.path)/ours && zstd -q -19 \(tmp.path)/ours -o \(tmp.path)/theirs.zst")
        #expect(try readBytes(tmp.path + "/ours") == Self.sample)
        #expect(try Decompressor.decompressAll(readBytes(tmp.path + "/theirs.zst")) == Self.sample)
    }

    @Test func concatenatedGzipMembersAndZstdFrames() throws {
        let a = Array("first member\n".utf8), b = Array(repeating: UInt8(ascii: "b"), count: 100_000)
        let gzip = try GzipCompressor.compressAll(a) + GzipCompressor.compressAll(b) + GzipCompressor.compressAll([])
        #expect(try Decompressor.decompressAll(gzip) == a + b)
        // Zero padding after the last member (tape blocking) is accepted; other trailing bytes are not.
        #expect(try Decompressor.decompressAll(gzip + [0, 0, 0, 0]) == a + b)
        #expect(throws: ArchiveError.self) { try Decompressor.decompressAll(gzip + [0, 0, 7]) }
        let zstd = try ZstdCompressor.compressAll(a) + ZstdCompressor.compressAll(b)
        #expect(try Decompressor.decompressAll(zstd) == a + b)
    }

    @Test(arguments: [Compression.gzip, .zstd])
    func truncatedStreamsAreErrors(_ compression: Compression) throws {
        let whole = compression == .gzip ? try GzipCompressor.compressAll(Self.sample) : try ZstdCompressor.compressAll(Self.sample)
        for cut in [4, 10, whole.count / 2, whole.count - 1] {
            let error = archiveError { _ = try Decompressor.decompressAll(Array(whole.prefix(cut))) }
            #expect(error != nil, "\(compression) cut at \(cut) of \(whole.count)")
            #expect(error?.context.hasPrefix("\(compression) stream") == true, "\(error?.description ?? "")")
        }
        let empty = archiveError { try Decompressor(compression).finish() }
        #expect(empty?.reason == "empty")
    }

    @Test func corruptGzipNamesTheOffset() throws {
        var bytes = try GzipCompressor.compressAll(Self.sample)
        for i in 20..<60 { bytes[i] ^= 0x55 }
        let error = archiveError { _ = try Decompressor.decompressAll(bytes) }
        #expect(error?.context.hasPrefix("gzip stream at offset ") == true, "\(String(describing: error))")
    }

    @Test(arguments: [1, 7, 4096])
    func smallChunksGiveTheSameOutput(_ chunk: Int) throws {
        for compressed in [try GzipCompressor.compressAll(Self.sample), try ZstdCompressor.compressAll(Self.sample)] {
            let decompressor = try Decompressor(Compression.detect(compressed))
            var out: [UInt8] = []
            try compressed.withUnsafeBytes { raw in
                for start in stride(from: 0, to: raw.count, by: chunk) {
                    try decompressor.decompress(UnsafeRawBufferPointer(rebasing: raw[start..<min(start + chunk, raw.count)])) {
                        out.append(contentsOf: $0)
                    }
                }
            }
            try decompressor.finish()
            #expect(out == Self.sample)
            #expect(decompressor.bytesIn == Int64(compressed.count))
            #expect(decompressor.bytesOut == Int64(Self.sample.count))
        }
    }

    @Test func streamingCompressorsAcceptChunks() throws {
        let gzip = try GzipCompressor(level: 1)
        let zstd = try ZstdCompressor(level: 1)
        var gz: [UInt8] = [], zs: [UInt8] = []
        try Self.sample.withUnsafeBytes { raw in
            for start in stride(from: 0, to: raw.count, by: 10_000) {
                let piece = UnsafeRawBufferPointer(rebasing: raw[start..<min(start + 10_000, raw.count)])
                try gzip.compress(piece) { gz.append(contentsOf: $0) }
                try zstd.compress(piece) { zs.append(contentsOf: $0) }
            }
        }
        try gzip.finish { gz.append(contentsOf: $0) }
        try zstd.finish { zs.append(contentsOf: $0) }
        #expect(try Decompressor.decompressAll(gz) == Self.sample)
        #expect(try Decompressor.decompressAll(zs) == Self.sample)
    }
}
