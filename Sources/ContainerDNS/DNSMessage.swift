// DNS wire format (RFC 1035), only as much as a container resolver needs: parse any message
// defensively, build responses. Every read is bounds-checked; a hostile packet yields an error.

/// Why a packet could not be parsed. The server drops such packets or answers FORMERR.
public enum DNSParseError: Error, Sendable, Equatable {
    case truncated
    case badLabel
    case badPointer
    case nameTooLong
    /// More pointer jumps than any real name needs, or the message's parsing budget spent.
    case tooComplex
}

/// Record types and classes the server looks at.
public enum DNSType {
    public static let a: UInt16 = 1
    public static let cname: UInt16 = 5
    public static let ptr: UInt16 = 12
    public static let aaaa: UInt16 = 28
    public static let srv: UInt16 = 33
    public static let opt: UInt16 = 41
    public static let any: UInt16 = 255
    public static let classIN: UInt16 = 1
}

public enum DNSRcode {
    public static let noError: UInt16 = 0
    public static let formErr: UInt16 = 1
    public static let servFail: UInt16 = 2
    public static let nxDomain: UInt16 = 3
    public static let notImp: UInt16 = 4
    public static let refused: UInt16 = 5
}

/// A domain name as its labels, kept in the case they were sent: a reply must echo the question
/// byte for byte (resolvers that randomise case, "0x20", check it).
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    public var labels: [[UInt8]]

    public init(labels: [[UInt8]]) { self.labels = labels }

    /// From dotted text; a trailing dot (the root) is ignored. Nil if a label is empty or too long.
    public init?(_ text: String) {
        var labels: [[UInt8]] = []
        var total = 1
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            if part.isEmpty { continue }
            let bytes = Array(part.utf8)
            guard bytes.count <= 63 else { return nil }
            total += bytes.count + 1
            labels.append(bytes)
        }
        guard total <= 255, !(text.contains("..")) else { return nil }
        self.labels = labels
    }

    /// Dotted, in the sender's case, without the trailing dot ("" for the root).
    public var description: String {
        labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".")
    }

    /// The form names are matched in: ASCII lowercased, dotted, no trailing dot.
    public var key: String {
        labels.map { label in
            String(decoding: label.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
        }.joined(separator: ".")
    }

    /// Uncompressed wire form.
    public var wire: [UInt8] {
        var out: [UInt8] = []
        for label in labels {
            out.append(UInt8(label.count))
            out.append(contentsOf: label)
        }
        out.append(0)
        return out
    }
}

public struct DNSQuestion: Equatable, Sendable {
    public var name: DNSName
    public var type: UInt16
    public var qclass: UInt16

    public init(name: DNSName, type: UInt16, qclass: UInt16 = DNSType.classIN) {
        self.name = name
        self.type = type
        self.qclass = qclass
    }
}

/// A resource record; `data` is the raw RDATA (a name inside it may hold compression pointers
/// into the message it came from).
public struct DNSRecord: Equatable, Sendable {
    public var name: DNSName
    public var type: UInt16
    public var rclass: UInt16
    public var ttl: UInt32
    public var data: [UInt8]

    public init(name: DNSName, type: UInt16, rclass: UInt16 = DNSType.classIN, ttl: UInt32, data: [UInt8]) {
        self.name = name
        self.type = type
        self.rclass = rclass
        self.ttl = ttl
        self.data = data
    }

    /// EDNS(0)'s OPT pseudo-record, advertising the UDP payload size this side accepts.
    public static func opt(payloadSize: UInt16) -> DNSRecord {
        DNSRecord(name: DNSName(labels: []), type: DNSType.opt, rclass: payloadSize, ttl: 0, data: [])
    }
}

/// The 16 flag bits of the header, with named accessors.
public struct DNSFlags: Equatable, Sendable {
    public var raw: UInt16
    public init(raw: UInt16) { self.raw = raw }

    private func bit(_ n: UInt16) -> Bool { raw & (1 << n) != 0 }
    private mutating func set(_ n: UInt16, _ on: Bool) { raw = on ? raw | (1 << n) : raw & ~(1 << n) }

    public var isResponse: Bool { get { bit(15) } set { set(15, newValue) } }
    public var opcode: UInt16 { get { (raw >> 11) & 0xF } set { raw = (raw & ~0x7800) | ((newValue & 0xF) << 11) } }
    public var authoritative: Bool { get { bit(10) } set { set(10, newValue) } }
    public var truncated: Bool { get { bit(9) } set { set(9, newValue) } }
    public var recursionDesired: Bool { get { bit(8) } set { set(8, newValue) } }
    public var recursionAvailable: Bool { get { bit(7) } set { set(7, newValue) } }
    public var rcode: UInt16 { get { raw & 0xF } set { raw = (raw & ~0xF) | (newValue & 0xF) } }
}

public struct DNSMessage: Equatable, Sendable {
    public var id: UInt16
    public var flags: DNSFlags
    public var questions: [DNSQuestion]
    public var answers: [DNSRecord]
    public var authorities: [DNSRecord]
    public var additionals: [DNSRecord]

    public init(id: UInt16, flags: DNSFlags, questions: [DNSQuestion] = [], answers: [DNSRecord] = [],
                authorities: [DNSRecord] = [], additionals: [DNSRecord] = []) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }

    /// A standard query with RD set, as a stub resolver sends it.
    public static func query(id: UInt16, name: DNSName, type: UInt16) -> DNSMessage {
        var flags = DNSFlags(raw: 0)
        flags.recursionDesired = true
        return DNSMessage(id: id, flags: flags, questions: [DNSQuestion(name: name, type: type)])
    }

    /// The UDP payload size the sender's OPT record advertises, if it sent one.
    public var ednsPayloadSize: UInt16? {
        additionals.first { $0.type == DNSType.opt }?.rclass
    }

    /// Parses a whole message. Counts are not trusted: each record must actually be present.
    public init(parsing bytes: [UInt8]) throws(DNSParseError) {
        var reader = DNSReader(bytes)
        id = try reader.u16()
        flags = DNSFlags(raw: try reader.u16())
        let counts = [try reader.u16(), try reader.u16(), try reader.u16(), try reader.u16()]
        questions = []
        for _ in 0..<counts[0] {
            questions.append(DNSQuestion(name: try reader.name(), type: try reader.u16(), qclass: try reader.u16()))
        }
        var sections: [[DNSRecord]] = [[], [], []]
        for section in 0..<3 {
            for _ in 0..<counts[section + 1] {
                let name = try reader.name()
                let type = try reader.u16(), rclass = try reader.u16(), ttl = try reader.u32()
                let length = Int(try reader.u16())
                sections[section].append(DNSRecord(name: name, type: type, rclass: rclass, ttl: ttl, data: try reader.bytes(length)))
            }
        }
        answers = sections[0]
        authorities = sections[1]
        additionals = sections[2]
    }

    /// Reads only the header's ID and the first question: enough to match an upstream's reply to
    /// the query it answers, without requiring the rest of a foreign message to be well-formed.
    public static func peekQuestion(_ bytes: [UInt8]) throws(DNSParseError) -> (id: UInt16, question: DNSQuestion?) {
        var reader = DNSReader(bytes)
        let id = try reader.u16()
        _ = try reader.u16()
        let qdcount = try reader.u16()
        guard qdcount > 0 else { return (id, nil) }
        reader.offset = 12
        return (id, DNSQuestion(name: try reader.name(), type: try reader.u16(), qclass: try reader.u16()))
    }

    /// The wire form. Record names equal to the first question's are compressed to a pointer to it.
    /// With `maxSize`, answers that do not fit are left out and TC is set; additional records (the
    /// OPT) are always kept, as the client needs them to read the rest.
    public func serialized(maxSize: Int = 65535) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        var flags = self.flags
        func put16(_ v: UInt16) { out.append(UInt8(v >> 8)); out.append(UInt8(v & 0xFF)) }
        put16(id)
        put16(0) // flags, patched below once TC is known
        put16(UInt16(questions.count))
        put16(0); put16(0); put16(UInt16(additionals.count)) // answer and authority counts patched below
        for question in questions {
            out.append(contentsOf: question.name.wire)
            put16(question.type)
            put16(question.qclass)
        }
        let questionKey = questions.first?.name.key
        func encode(_ record: DNSRecord) -> [UInt8] {
            var rr: [UInt8] = record.name.key == questionKey && !record.name.labels.isEmpty ? [0xC0, 12] : record.name.wire
            for v in [record.type, record.rclass, UInt16(record.ttl >> 16), UInt16(record.ttl & 0xFFFF), UInt16(record.data.count)] {
                rr.append(UInt8(v >> 8)); rr.append(UInt8(v & 0xFF))
            }
            rr.append(contentsOf: record.data)
            return rr
        }
        let tail = additionals.flatMap(encode)
        var counts: [UInt16] = [0, 0]
        outer: for (section, records) in [answers, authorities].enumerated() {
            for record in records {
                let rr = encode(record)
                if out.count + rr.count + tail.count > maxSize {
                    flags.truncated = true
                    break outer
                }
                out.append(contentsOf: rr)
                counts[section] += 1
            }
        }
        out.append(contentsOf: tail)
        out[2] = UInt8(flags.raw >> 8); out[3] = UInt8(flags.raw & 0xFF)
        out[6] = UInt8(counts[0] >> 8); out[7] = UInt8(counts[0] & 0xFF)
        out[8] = UInt8(counts[1] >> 8); out[9] = UInt8(counts[1] & 0xFF)
        return out
    }

    /// Decodes a name held in a record's RDATA (a PTR's target); its pointers refer to offsets in
    /// `message`, the whole message the record came from. Reading the data as if appended to the
    /// message keeps the usual pointer rules.
    public static func name(inRecordData data: [UInt8], of message: [UInt8]) throws(DNSParseError) -> DNSName {
        var reader = DNSReader(message + data)
        reader.offset = message.count
        return try reader.name()
    }
}

/// A cursor over a message. Names may be compressed (RFC 1035 4.1.4); each pointer must point
/// strictly before the bytes that led to it, so pointers cannot loop, and a name is capped at 255 bytes.
struct DNSReader {
    let bytes: [UInt8]
    var offset = 0
    /// Pointer jumps one name may take: a real name needs at most a few; a chain of pointers to
    /// pointers would otherwise make every name cost the whole packet (quadratic per message).
    static let maxJumps = 16
    /// Labels and jumps the whole message may cost, so a 64 KB datagram of names costs bounded work.
    static let messageBudget = 16384
    var budget = DNSReader.messageBudget

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func u8() throws(DNSParseError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(DNSParseError) -> UInt16 {
        UInt16(try u8()) << 8 | UInt16(try u8())
    }

    mutating func u32() throws(DNSParseError) -> UInt32 {
        UInt32(try u16()) << 16 | UInt32(try u16())
    }

    mutating func bytes(_ count: Int) throws(DNSParseError) -> [UInt8] {
        guard count >= 0, count <= bytes.count - offset else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func name() throws(DNSParseError) -> DNSName {
        var labels: [[UInt8]] = []
        var length = 1
        var position = offset
        var segmentStart = offset  // a pointer must land before this
        var resume: Int? = nil     // where the caller continues after the first pointer
        var jumps = 0
        while true {
            guard position < bytes.count else { throw .truncated }
            budget -= 1
            guard budget >= 0 else { throw .tooComplex }
            let byte = bytes[position]
            switch byte & 0xC0 {
            case 0x00:
                let count = Int(byte)
                if count == 0 {
                    offset = resume ?? position + 1
                    return DNSName(labels: labels)
                }
                guard position + 1 + count <= bytes.count else { throw .truncated }
                length += count + 1
                guard length <= 255 else { throw .nameTooLong }
                labels.append(Array(bytes[position + 1...position + count]))
                position += 1 + count
            case 0xC0:
                guard position + 1 < bytes.count else { throw .truncated }
                let target = Int(byte & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < segmentStart else { throw .badPointer }
                jumps += 1
                guard jumps <= Self.maxJumps else { throw .tooComplex }
                if resume == nil { resume = position + 2 }
                segmentStart = target
                position = target
            default:
                throw .badLabel // 0x40 and 0x80 label types are obsolete or unassigned
            }
        }
    }
}
