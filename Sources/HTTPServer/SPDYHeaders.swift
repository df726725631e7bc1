import CZlib

/// SPDY/3 header blocks: name/value pairs (32-bit counts and lengths; several values of one name
/// joined by NUL), compressed with zlib seeded with the spec's dictionary. Each direction of a
/// connection is one zlib stream for its whole life, every block ending in a sync flush, so a
/// codec belongs to one connection and is used under its lock.
public final class SPDYHeaderCodec: @unchecked Sendable {
    public enum CodecError: Error, Equatable, Sendable {
        case zlib(String, Int32)
        case malformed(String)
    }

    private let deflater: UnsafeMutablePointer<z_stream>
    private let inflater: UnsafeMutablePointer<z_stream>

    public init() {
        deflater = .allocate(capacity: 1)
        deflater.initialize(to: z_stream())
        inflater = .allocate(capacity: 1)
        inflater.initialize(to: z_stream())
        _ = deflateInit_(deflater, Z_DEFAULT_COMPRESSION, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        _ = Self.dictionary.withUnsafeBufferPointer { deflateSetDictionary(deflater, $0.baseAddress, UInt32($0.count)) }
        _ = inflateInit_(inflater, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    }

    deinit {
        deflateEnd(deflater)
        inflateEnd(inflater)
        deflater.deallocate()
        inflater.deallocate()
    }

    // MARK: - Name/value blocks

    /// The uncompressed block: names lowercased (SPDY/3 requires it), in the given order.
    public static func encodeBlock(_ headers: [(name: String, values: [String])]) -> [UInt8] {
        var out = SPDYFrame.be32(UInt32(headers.count))
        for header in headers {
            let name = Array(header.name.lowercased().utf8)
            var value: [UInt8] = []
            for (index, item) in header.values.enumerated() {
                if index > 0 { value.append(0) }
                value += Array(item.utf8)
            }
            out += SPDYFrame.be32(UInt32(name.count)) + name + SPDYFrame.be32(UInt32(value.count)) + value
        }
        return out
    }

    public static func decodeBlock(_ bytes: [UInt8]) throws(CodecError) -> [(name: String, values: [String])] {
        var at = 0
        func next() throws(CodecError) -> [UInt8] {
            guard at + 4 <= bytes.count else { throw .malformed("header block ends inside a length") }
            let length = Int(SPDYFrame.be32(bytes, at))
            at += 4
            guard length <= bytes.count - at else { throw .malformed("header block ends inside a string of \(length) bytes") }
            defer { at += length }
            return Array(bytes[at..<at + length])
        }
        guard bytes.count >= 4 else { throw .malformed("header block of \(bytes.count) bytes") }
        let count = Int(SPDYFrame.be32(bytes, 0))
        at = 4
        var headers: [(name: String, values: [String])] = []
        for _ in 0..<count {
            let name = String(decoding: try next(), as: UTF8.self)
            let value = try next()
            headers.append((name, value.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }))
        }
        return headers
    }

    // MARK: - Compression

    /// A block compressed for sending (one sync flush on this connection's deflate stream).
    public func compress(_ headers: [(name: String, values: [String])]) -> [UInt8] {
        var input = Self.encodeBlock(headers)
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        input.withUnsafeMutableBufferPointer { source in
            deflater.pointee.next_in = source.baseAddress
            deflater.pointee.avail_in = UInt32(source.count)
            repeat {
                let produced = chunk.withUnsafeMutableBufferPointer { buffer -> Int in
                    deflater.pointee.next_out = buffer.baseAddress
                    deflater.pointee.avail_out = UInt32(buffer.count)
                    _ = deflate(deflater, Z_SYNC_FLUSH)
                    return buffer.count - Int(deflater.pointee.avail_out)
                }
                out += chunk[..<produced]
            } while deflater.pointee.avail_out == 0
            deflater.pointee.next_in = nil
        }
        return out
    }

    /// A received block, inflated on this connection's inflate stream (which asks for the
    /// dictionary at the first block) and decoded.
    public func decompress(_ block: [UInt8]) throws(CodecError) -> [(name: String, values: [String])] {
        var input = block
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var failure: CodecError?
        input.withUnsafeMutableBufferPointer { source in
            inflater.pointee.next_in = source.baseAddress
            inflater.pointee.avail_in = UInt32(source.count)
            while failure == nil {
                var status: Int32 = Z_OK
                let produced = chunk.withUnsafeMutableBufferPointer { buffer -> Int in
                    inflater.pointee.next_out = buffer.baseAddress
                    inflater.pointee.avail_out = UInt32(buffer.count)
                    status = inflate(inflater, Z_SYNC_FLUSH)
                    return buffer.count - Int(inflater.pointee.avail_out)
                }
                out += chunk[..<produced]
                if status == Z_NEED_DICT {
                    let set = Self.dictionary.withUnsafeBufferPointer { inflateSetDictionary(inflater, $0.baseAddress, UInt32($0.count)) }
                    if set != Z_OK { failure = .zlib("set the header dictionary", set) }
                    continue
                }
                if status == Z_BUF_ERROR || (status == Z_OK && inflater.pointee.avail_in == 0 && produced < chunk.count) { break }
                if status != Z_OK { failure = .zlib("inflate a header block", status) }
            }
            inflater.pointee.next_in = nil
        }
        if let failure { throw failure }
        return try Self.decodeBlock(out)
    }

    // MARK: - The SPDY/3 dictionary

    /// The spec's names, each with its 32-bit length as in a header block, then its run of
    /// status codes, reason phrases, dates and common values.
    static let dictionaryWords = [
        "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding", "accept-language",
        "accept-ranges", "age", "allow", "authorization", "cache-control", "connection", "content-base", "content-encoding",
        "content-language", "content-length", "content-location", "content-md5", "content-range", "content-type", "date",
        "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match", "if-range",
        "if-unmodified-since", "last-modified", "location", "max-forwards", "pragma", "proxy-authenticate",
        "proxy-authorization", "range", "referer", "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade",
        "user-agent", "vary", "via", "warning", "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1",
        "url", "public", "set-cookie", "keep-alive", "origin",
    ]
    static let dictionaryTail = "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
        + "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden"
        + "404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
        + "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
        + "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,"
        + "publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."

    public static let dictionary: [UInt8] = dictionaryWords.flatMap { SPDYFrame.be32(UInt32($0.utf8.count)) + Array($0.utf8) }
        + Array(dictionaryTail.utf8)
}
