import Glibc

/// The attach protocol between a supervisor and its clients, over a unix stream socket: frames in
/// Docker's multiplexed-stream form — one byte naming the stream, three zero bytes, a big-endian
/// 32-bit length, then the payload — so the same bytes can later go out of the Docker API unchanged.
public enum AttachStream: UInt8, Sendable {
    /// Client → supervisor: bytes for the container's stdin.
    case stdin = 0
    /// Supervisor → client: the container's output (a terminal's output is all `stdout`).
    case stdout = 1
    case stderr = 2
    /// Supervisor → client: the container ended; payload is its exit status as 4 bytes big-endian.
    case exit = 3
    /// Client → supervisor: the client's terminal size, rows and columns as 2 × 2 bytes big-endian.
    case resize = 4
    /// Client → supervisor: no more stdin from this client (its EOF).
    case closeStdin = 5
}

public enum AttachFrame {
    public static let headerSize = 8

    public static func header(_ stream: AttachStream, length: Int) -> [UInt8] {
        let n = UInt32(truncatingIfNeeded: length)
        return [stream.rawValue, 0, 0, 0, UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)]
    }

    public static func encode(_ stream: AttachStream, _ payload: UnsafeRawBufferPointer) -> [UInt8] {
        header(stream, length: payload.count) + Array(payload)
    }

    public static func encode(_ stream: AttachStream, _ payload: [UInt8]) -> [UInt8] {
        header(stream, length: payload.count) + payload
    }

    /// A terminal size for a `.resize` frame: rows and columns, 2 bytes each, big-endian.
    public static func sizePayload(rows: Int, columns: Int) -> [UInt8] {
        let rows = UInt16(clamping: rows), columns = UInt16(clamping: columns)
        return [UInt8(rows >> 8), UInt8(rows & 0xff), UInt8(columns >> 8), UInt8(columns & 0xff)]
    }

    public static func exitPayload(_ status: Int32) -> [UInt8] {
        let n = UInt32(bitPattern: status)
        return [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)]
    }

    public static func decodeInt32(_ bytes: ArraySlice<UInt8>) -> Int32 {
        guard bytes.count >= 4 else { return 0 }
        let b = Array(bytes.prefix(4))
        return Int32(bitPattern: UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3]))
    }
}

/// Collects bytes from a stream socket and hands out whole frames.
public struct AttachFrameReader: Sendable {
    private var buffer: [UInt8] = []
    public init() {}

    public mutating func append(_ bytes: UnsafeRawBufferPointer) { buffer.append(contentsOf: bytes) }
    public mutating func append(_ bytes: [UInt8]) { buffer.append(contentsOf: bytes) }

    /// The next whole frame, or nil until more bytes arrive. An unknown stream byte ends the
    /// conversation (the caller drops the client): `.failure`.
    public mutating func next() -> Result<(AttachStream, [UInt8]), AttachProtocolError>? {
        guard buffer.count >= AttachFrame.headerSize else { return nil }
        guard let stream = AttachStream(rawValue: buffer[0]) else {
            return .failure(AttachProtocolError(message: "attach: unknown stream \(buffer[0])"))
        }
        let length = Int(AttachFrame.decodeInt32(buffer[4..<8]))
        guard length >= 0, length <= 16 << 20 else {
            return .failure(AttachProtocolError(message: "attach: frame of \(length) bytes"))
        }
        guard buffer.count >= AttachFrame.headerSize + length else { return nil }
        let payload = Array(buffer[AttachFrame.headerSize..<(AttachFrame.headerSize + length)])
        buffer.removeFirst(AttachFrame.headerSize + length)
        return .success((stream, payload))
    }
}

public struct AttachProtocolError: Error, Sendable {
    public let message: String
}
