/// SPDY/3.1 frames (draft-mbelshe-httpbis-spdy-00 with 3.1's flow control), as Kubernetes'
/// streams (exec, attach, port-forward before WebSockets) carry them. Control frames: a set high
/// bit, version 3, a type, flags and a 24-bit length; data frames: a stream ID, flags, length.
/// Header blocks stay compressed here: `SPDYHeaderCodec` owns the connection's zlib streams.
public enum SPDYFrame: Equatable, Sendable {
    case data(streamID: UInt32, flags: UInt8, payload: [UInt8])
    case synStream(streamID: UInt32, associatedTo: UInt32, priority: UInt8, flags: UInt8, headerBlock: [UInt8])
    case synReply(streamID: UInt32, flags: UInt8, headerBlock: [UInt8])
    case rstStream(streamID: UInt32, status: UInt32)
    case settings(flags: UInt8, entries: [(id: UInt32, flags: UInt8, value: UInt32)])
    case ping(id: UInt32)
    case goAway(lastGoodStreamID: UInt32, status: UInt32)
    case headers(streamID: UInt32, flags: UInt8, headerBlock: [UInt8])
    case windowUpdate(streamID: UInt32, delta: UInt32)
    /// A control frame of a type this side does not know (the spec says to ignore it).
    case unknownControl(type: UInt16, flags: UInt8, payload: [UInt8])

    public static let version: UInt16 = 3
    public static let flagFin: UInt8 = 0x01
    public static let flagUnidirectional: UInt8 = 0x02

    enum ControlType: UInt16 {
        case synStream = 1, synReply = 2, rstStream = 3, settings = 4, ping = 6, goAway = 7, headers = 8, windowUpdate = 9
    }

    /// RST_STREAM status codes used here.
    public static let protocolError: UInt32 = 1
    public static let cancel: UInt32 = 5

    public enum ParseError: Error, Equatable, Sendable {
        case unsupportedVersion(UInt16)
        case malformed(String)
    }

    public static func == (a: SPDYFrame, b: SPDYFrame) -> Bool { a.encoded == b.encoded }

    /// The frame on the wire.
    public var encoded: [UInt8] {
        switch self {
        case .data(let id, let flags, let payload):
            return Self.be32(id & 0x7fff_ffff) + [flags] + Self.be24(payload.count) + payload
        case .synStream(let id, let associated, let priority, let flags, let block):
            return Self.control(.synStream, flags, Self.be32(id & 0x7fff_ffff) + Self.be32(associated & 0x7fff_ffff) + [priority << 5, 0] + block)
        case .synReply(let id, let flags, let block):
            return Self.control(.synReply, flags, Self.be32(id & 0x7fff_ffff) + block)
        case .rstStream(let id, let status):
            return Self.control(.rstStream, 0, Self.be32(id & 0x7fff_ffff) + Self.be32(status))
        case .settings(let flags, let entries):
            var body = Self.be32(UInt32(entries.count))
            for entry in entries { body += [entry.flags] + Self.be24(Int(entry.id)) + Self.be32(entry.value) }
            return Self.control(.settings, flags, body)
        case .ping(let id):
            return Self.control(.ping, 0, Self.be32(id))
        case .goAway(let last, let status):
            return Self.control(.goAway, 0, Self.be32(last & 0x7fff_ffff) + Self.be32(status))
        case .headers(let id, let flags, let block):
            return Self.control(.headers, flags, Self.be32(id & 0x7fff_ffff) + block)
        case .windowUpdate(let id, let delta):
            return Self.control(.windowUpdate, 0, Self.be32(id & 0x7fff_ffff) + Self.be32(delta & 0x7fff_ffff))
        case .unknownControl(let type, let flags, let payload):
            return [0x80 | UInt8(Self.version >> 8), UInt8(Self.version & 0xff), UInt8(type >> 8), UInt8(type & 0xff), flags] + Self.be24(payload.count) + payload
        }
    }

    /// The first whole frame in `buffer` and its size on the wire; nil when more bytes are needed.
    public static func parse(_ buffer: ArraySlice<UInt8>) throws(ParseError) -> (frame: SPDYFrame, size: Int)? {
        guard buffer.count >= 8 else { return nil }
        let bytes = Array(buffer.prefix(8))
        let length = Int(bytes[5]) << 16 | Int(bytes[6]) << 8 | Int(bytes[7])
        guard buffer.count >= 8 + length else { return nil }
        let start = buffer.startIndex + 8
        let payload = Array(buffer[start..<start + length])
        let flags = bytes[4]
        if bytes[0] & 0x80 == 0 {
            return (.data(streamID: be32(bytes, 0) & 0x7fff_ffff, flags: flags, payload: payload), 8 + length)
        }
        let version = UInt16(bytes[0] & 0x7f) << 8 | UInt16(bytes[1])
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let typeValue = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        guard let type = ControlType(rawValue: typeValue) else {
            return (.unknownControl(type: typeValue, flags: flags, payload: payload), 8 + length)
        }
        func need(_ count: Int) throws(ParseError) {
            guard payload.count >= count else { throw .malformed("\(type) frame of \(payload.count) bytes") }
        }
        let frame: SPDYFrame
        switch type {
        case .synStream:
            try need(10)
            frame = .synStream(streamID: be32(payload, 0) & 0x7fff_ffff, associatedTo: be32(payload, 4) & 0x7fff_ffff,
                               priority: payload[8] >> 5, flags: flags, headerBlock: Array(payload[10...]))
        case .synReply:
            try need(4)
            frame = .synReply(streamID: be32(payload, 0) & 0x7fff_ffff, flags: flags, headerBlock: Array(payload[4...]))
        case .rstStream:
            try need(8)
            frame = .rstStream(streamID: be32(payload, 0) & 0x7fff_ffff, status: be32(payload, 4))
        case .settings:
            try need(4)
            let count = Int(be32(payload, 0))
            try need(4 + count * 8)
            var entries: [(id: UInt32, flags: UInt8, value: UInt32)] = []
            for index in 0..<count {
                let at = 4 + index * 8
                entries.append((id: be32(payload, at) & 0x00ff_ffff, flags: payload[at], value: be32(payload, at + 4)))
            }
            frame = .settings(flags: flags, entries: entries)
        case .ping:
            try need(4)
            frame = .ping(id: be32(payload, 0))
        case .goAway:
            try need(4)
            frame = .goAway(lastGoodStreamID: be32(payload, 0) & 0x7fff_ffff, status: payload.count >= 8 ? be32(payload, 4) : 0)
        case .headers:
            try need(4)
            frame = .headers(streamID: be32(payload, 0) & 0x7fff_ffff, flags: flags, headerBlock: Array(payload[4...]))
        case .windowUpdate:
            try need(8)
            frame = .windowUpdate(streamID: be32(payload, 0) & 0x7fff_ffff, delta: be32(payload, 4) & 0x7fff_ffff)
        }
        return (frame, 8 + length)
    }

    static func control(_ type: ControlType, _ flags: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0x80 | UInt8(version >> 8), UInt8(version & 0xff), UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xff), flags] + be24(payload.count) + payload
    }

    static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    static func be24(_ value: Int) -> [UInt8] {
        [UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    static func be32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}
