import NIOHTTP1

/// One request as a handler sees it: the head, and the body as a stream it reads at its own pace.
public struct HTTPServerRequest: Sendable {
    public let method: HTTPMethod
    /// The request target as sent (path and query).
    public let uri: String
    /// The path, percent-decoded.
    public let path: String
    /// The query's parameters in order, percent-decoded (`+` is a space, as Go's url.ParseQuery).
    public let query: [(name: String, value: String)]
    public let headers: HTTPHeaders
    public let body: RequestBody

    init(head: HTTPRequestHead, body: RequestBody) {
        method = head.method
        uri = head.uri
        headers = head.headers
        self.body = body
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = Self.percentDecode(parts.first.map(String.init) ?? "/", plusIsSpace: false)
        var items: [(String, String)] = []
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&", omittingEmptySubsequences: true) {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = Self.percentDecode(String(kv[0]), plusIsSpace: true)
                let value = kv.count > 1 ? Self.percentDecode(String(kv[1]), plusIsSpace: true) : ""
                items.append((name, value))
            }
        }
        query = items
    }

    /// The last value of a query parameter (Go's `r.Form.Get` takes the first; Docker reads
    /// single-valued parameters with Get, so the first it is).
    public func parameter(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// Every value of a repeated parameter (`t=a&t=b`).
    public func parameters(_ name: String) -> [String] {
        query.filter { $0.name == name }.map(\.value)
    }

    /// A header's first value.
    public func header(_ name: String) -> String? { headers.first(name: name) }

    static func percentDecode(_ text: String, plusIsSpace: Bool) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "+") && plusIsSpace {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), bytes.count >= 2,
                      let high = hexValue(bytes[bytes.startIndex]), let low = hexValue(bytes[bytes.startIndex + 1]) {
                out.append(high << 4 | low)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// The request body, read on the handler's thread as it arrives.
public final class RequestBody: Sendable {
    let queue: ByteQueue

    init(queue: ByteQueue) { self.queue = queue }

    public enum ReadError: Error, Sendable, Equatable {
        /// More than the handler accepts.
        case tooLarge(limit: Int)
        /// The client went away before sending it all.
        case incomplete
    }

    /// The next piece of the body, nil at its end. Throws when the client disconnected midway.
    public func next() throws(ReadError) -> [UInt8]? {
        if let chunk = queue.pop() { return chunk }
        if queue.endedBy == .failed { throw .incomplete }
        return nil
    }

    /// The whole body, refused past `limit` bytes.
    public func readAll(limit: Int) throws(ReadError) -> [UInt8] {
        var all: [UInt8] = []
        while let chunk = try next() {
            if all.count + chunk.count > limit {
                drain()
                throw .tooLarge(limit: limit)
            }
            all += chunk
        }
        return all
    }

    /// Reads and drops what is left, so the connection can carry the next request.
    public func drain() {
        while (try? next()) != nil {}
    }
}
