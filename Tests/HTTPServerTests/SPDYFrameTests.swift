import CZlib
import HTTPServer
import Testing

/// SPDY/3.1 frames and header blocks as the spec lays them out, byte for byte, and the header
/// compression round trip (each direction one zlib stream seeded with the spec's dictionary).
struct SPDYFrameTests {
    @Test func dataFrameLayout() throws {
        let frame = SPDYFrame.data(streamID: 5, flags: SPDYFrame.flagFin, payload: [1, 2, 3])
        // Control bit clear, 31-bit stream ID, flags, 24-bit length.
        #expect(frame.encoded == [0, 0, 0, 5, 1, 0, 0, 3, 1, 2, 3])
        let parsed = try #require(try SPDYFrame.parse(frame.encoded[...]))
        #expect(parsed.frame == frame)
        #expect(parsed.size == 11)
    }

    @Test func controlFrameLayouts() throws {
        // PING: 0x8003 0006, flags 0, length 4, the ID.
        #expect(SPDYFrame.ping(id: 7).encoded == [0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 7])
        #expect(SPDYFrame.rstStream(streamID: 3, status: 5).encoded == [0x80, 3, 0, 3, 0, 0, 0, 8, 0, 0, 0, 3, 0, 0, 0, 5])
        #expect(SPDYFrame.goAway(lastGoodStreamID: 9, status: 0).encoded == [0x80, 3, 0, 7, 0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0, 0])
        // SYN_STREAM: stream ID, associated ID, priority in the top 3 bits, slot, the block.
        let syn = SPDYFrame.synStream(streamID: 1, associatedTo: 0, priority: 2, flags: 0, headerBlock: [0xaa])
        #expect(syn.encoded == [0x80, 3, 0, 1, 0, 0, 0, 11, 0, 0, 0, 1, 0, 0, 0, 0, 0x40, 0, 0xaa])
        for frame in [syn, SPDYFrame.synReply(streamID: 1, flags: 1, headerBlock: [1, 2]), .windowUpdate(streamID: 3, delta: 1000),
                      .settings(flags: 0, entries: [(id: 7, flags: 0, value: 65536)]), .headers(streamID: 2, flags: 0, headerBlock: [])] {
            let parsed = try #require(try SPDYFrame.parse(frame.encoded[...]))
            #expect(parsed.frame == frame)
        }
    }

    @Test func partialAndFollowingFrames() throws {
        let first = SPDYFrame.ping(id: 1).encoded, second = SPDYFrame.data(streamID: 3, flags: 0, payload: Array("hi".utf8)).encoded
        let both = first + second
        // Not a whole frame yet: nil, not an error.
        #expect(try SPDYFrame.parse(both[..<5]) == nil)
        #expect(try SPDYFrame.parse(both[..<(first.count - 1)]) == nil)
        let one = try #require(try SPDYFrame.parse(both[...]))
        #expect(one.frame == .ping(id: 1))
        let two = try #require(try SPDYFrame.parse(both[one.size...]))
        #expect(two.frame == .data(streamID: 3, flags: 0, payload: Array("hi".utf8)))
        // Another version is refused.
        #expect(throws: SPDYFrame.ParseError.unsupportedVersion(2)) { try SPDYFrame.parse([0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1][...]) }
    }

    @Test func headerBlockLayout() throws {
        let block = SPDYHeaderCodec.encodeBlock([("StreamType", ["error"]), ("multi", ["a", "b"])])
        let expected: [UInt8] = [0, 0, 0, 2, 0, 0, 0, 10] + Array("streamtype".utf8) + [0, 0, 0, 5] + Array("error".utf8)
            + [0, 0, 0, 5] + Array("multi".utf8) + [0, 0, 0, 3, UInt8(ascii: "a"), 0, UInt8(ascii: "b")]
        #expect(block == expected)
        let decoded = try SPDYHeaderCodec.decodeBlock(block)
        #expect(decoded.map(\.name) == ["streamtype", "multi"])
        #expect(decoded.map(\.values) == [["error"], ["a", "b"]])
        #expect(throws: SPDYHeaderCodec.CodecError.self) { try SPDYHeaderCodec.decodeBlock([0, 0, 0, 1, 0, 0, 0, 9, 1]) }
    }

    /// The spec's dictionary: 1423 bytes, ending in "enq=0.", starting with "options" as a block entry.
    @Test func dictionary() {
        let dictionary = SPDYHeaderCodec.dictionary
        #expect(dictionary.count == 1423)
        #expect(Array(dictionary.prefix(11)) == [0, 0, 0, 7] + Array("options".utf8))
        #expect(Array(dictionary.suffix(6)) == Array("enq=0.".utf8))
    }

    /// Blocks compressed by one codec decompress in another, in order on one stream, and the
    /// stream carries the dictionary's ID (zlib's FDICT with the dictionary's Adler-32).
    @Test func compressionRoundTrip() throws {
        let sender = SPDYHeaderCodec(), receiver = SPDYHeaderCodec()
        let blocks: [[(name: String, values: [String])]] = [
            [("streamtype", ["error"])], [("streamtype", ["stdout"])], [], [("port", ["8080"]), ("requestid", ["0"])],
        ]
        var first: [UInt8] = []
        for block in blocks {
            let compressed = sender.compress(block)
            if first.isEmpty { first = compressed }
            let back = try receiver.decompress(compressed)
            #expect(back.map(\.name) == block.map(\.name))
            #expect(back.map(\.values) == block.map(\.values))
        }
        // zlib header with FDICT (0x20), then DICTID = Adler-32 of the dictionary.
        #expect(first[1] & 0x20 != 0)
        let adler = SPDYHeaderCodec.dictionary.withUnsafeBufferPointer { adler32(1, $0.baseAddress, UInt32($0.count)) }
        #expect(Array(first[2..<6]) == [UInt8(adler >> 24 & 0xff), UInt8(adler >> 16 & 0xff), UInt8(adler >> 8 & 0xff), UInt8(adler & 0xff)])
    }

    /// A block compressed by plain zlib with the dictionary (as Go's compress/zlib does for
    /// spdystream) inflates here.
    @Test func decompressesZlibWithDictionary() throws {
        var input = SPDYHeaderCodec.encodeBlock([("streamtype", ["stdin"]), ("x-stream-protocol-version", ["v4.channel.k8s.io"])])
        var stream = z_stream()
        #expect(deflateInit_(&stream, Z_BEST_COMPRESSION, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        SPDYHeaderCodec.dictionary.withUnsafeBufferPointer { _ = deflateSetDictionary(&stream, $0.baseAddress, UInt32($0.count)) }
        var out = [UInt8](repeating: 0, count: 4096)
        let produced = input.withUnsafeMutableBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target -> Int in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = UInt32(target.count)
                _ = deflate(&stream, Z_SYNC_FLUSH)
                return target.count - Int(stream.avail_out)
            }
        }
        deflateEnd(&stream)
        let headers = try SPDYHeaderCodec().decompress(Array(out[..<produced]))
        #expect(headers.map(\.name) == ["streamtype", "x-stream-protocol-version"])
        #expect(headers.map(\.values) == [["stdin"], ["v4.channel.k8s.io"]])
    }
}
