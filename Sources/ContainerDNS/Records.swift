// The names of one network's containers, and how a query is answered from them.

/// An IPv4 address, parsed strictly from dotted-quad text ("10.88.0.2": four decimal parts, no
/// leading zeros beyond "0", each at most 255).
public struct IPv4: Hashable, Sendable, CustomStringConvertible {
    public var octets: (UInt8, UInt8, UInt8, UInt8)

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) { octets = (a, b, c, d) }

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var values: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || part.first != "0", let value = UInt8(part) else { return nil }
            values.append(value)
        }
        octets = (values[0], values[1], values[2], values[3])
    }

    public var bytes: [UInt8] { [octets.0, octets.1, octets.2, octets.3] }

    /// Network byte order as an in_addr's s_addr holds it.
    public var networkOrder: UInt32 {
        UInt32(octets.0) | UInt32(octets.1) << 8 | UInt32(octets.2) << 16 | UInt32(octets.3) << 24
    }

    public init(networkOrder value: UInt32) {
        octets = (UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24))
    }

    /// The name a PTR query asks about: "d.c.b.a.in-addr.arpa".
    public var reverseName: String { "\(octets.3).\(octets.2).\(octets.1).\(octets.0).in-addr.arpa" }

    /// The address a reverse name stands for, if it is exactly one "d.c.b.a.in-addr.arpa".
    public init?(reverseName key: String) {
        let labels = key.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count == 6, labels[4] == "in-addr", labels[5] == "arpa",
              let ip = IPv4(labels[0..<4].reversed().joined(separator: ".")) else { return nil }
        self = ip
    }

    public var description: String { "\(octets.0).\(octets.1).\(octets.2).\(octets.3)" }

    public static func == (l: IPv4, r: IPv4) -> Bool { l.networkOrder == r.networkOrder }
    public func hash(into hasher: inout Hasher) { hasher.combine(networkOrder) }
}

/// One line of a records file: a container's address and the names it answers to.
public struct DNSEntry: Equatable, Sendable {
    public var ip: IPv4
    public var names: [String]

    public init(ip: IPv4, names: [String]) {
        self.ip = ip
        self.names = names
    }
}

/// An SRV record's data (RFC 2782): where a named service of a name is, and at what port.
public struct DNSService: Equatable, Sendable {
    public var priority: UInt16
    public var weight: UInt16
    public var port: UInt16
    public var target: String

    public init(priority: UInt16, weight: UInt16, port: UInt16, target: String) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
    }

    var data: [UInt8]? {
        guard let name = DNSName(target) else { return nil }
        return [UInt8(priority >> 8), UInt8(priority & 255), UInt8(weight >> 8), UInt8(weight & 255), UInt8(port >> 8), UInt8(port & 255)] + name.wire
    }
}

/// The lookup tables of one network. Several containers may share a name (a network alias):
/// the name then resolves to all their addresses, in the order the records were loaded.
public struct NetworkRecords: Sendable, Equatable {
    public private(set) var addressesByName: [String: [IPv4]] = [:]
    public private(set) var nameByAddress: [IPv4: String] = [:]
    /// Names that are aliases (CNAME) of another, and names with SRV records (cluster DNS).
    public private(set) var canonicalByName: [String: String] = [:]
    public private(set) var servicesByName: [String: [DNSService]] = [:]

    public init(_ entries: [DNSEntry] = []) {
        for entry in entries { add(entry) }
    }

    public mutating func add(_ entry: DNSEntry) {
        for name in entry.names {
            guard let key = DNSName(name)?.key, !key.isEmpty else { continue }
            if !(addressesByName[key]?.contains(entry.ip) ?? false) { addressesByName[key, default: []].append(entry.ip) }
        }
        if nameByAddress[entry.ip] == nil, let first = entry.names.first, let name = DNSName(first), !name.labels.isEmpty {
            nameByAddress[entry.ip] = name.description
        }
    }

    public mutating func addAlias(_ name: String, target: String) {
        guard let key = DNSName(name)?.key, !key.isEmpty, DNSName(target) != nil else { return }
        canonicalByName[key] = target
    }

    public mutating func addService(_ name: String, _ service: DNSService) {
        guard let key = DNSName(name)?.key, !key.isEmpty, service.data != nil else { return }
        if !(servicesByName[key]?.contains(service) ?? false) { servicesByName[key, default: []].append(service) }
    }

    public var isEmpty: Bool { addressesByName.isEmpty && canonicalByName.isEmpty && servicesByName.isEmpty }
}

/// What to do with a query: answer it from the records, or pass it to the upstream resolvers.
public enum DNSResolution: Equatable, Sendable {
    case answer(DNSMessage)
    case forward
}

public enum DNSResponder {
    public static let ttl: UInt32 = 60

    /// Decides how a network's server answers `query` (already known to be a query, not a reply).
    /// A name is matched exactly (case-insensitively), or with one of `searchDomains` stripped,
    /// so `web.corp.example` resolves as `web` when `corp.example` is searched.
    /// A name in `zone` that no record has is NXDOMAIN (the zone is this server's alone).
    public static func resolve(_ query: DNSMessage, records: NetworkRecords, searchDomains: [String] = [], zone: String? = nil) -> DNSResolution {
        guard query.flags.opcode == 0 else { return .answer(reply(to: query, rcode: DNSRcode.notImp)) }
        guard query.questions.count == 1, let question = query.questions.first else {
            return .answer(reply(to: query, rcode: DNSRcode.formErr))
        }
        guard question.qclass == DNSType.classIN || question.qclass == DNSType.any else { return .forward }
        let key = question.name.key
        if let ip = IPv4(reverseName: key), let name = records.nameByAddress[ip] {
            guard question.type == DNSType.ptr, let target = DNSName(name) else {
                return .answer(reply(to: query, rcode: DNSRcode.noError, authoritative: true))
            }
            let answer = DNSRecord(name: question.name, type: DNSType.ptr, ttl: ttl, data: target.wire)
            return .answer(reply(to: query, rcode: DNSRcode.noError, authoritative: true, answers: [answer]))
        }
        // An alias: the CNAME, and the target's addresses when they are known here (else the
        // client follows the CNAME itself), whatever type was asked for.
        if let target = records.canonicalByName[key], let name = DNSName(target) {
            var answers = [DNSRecord(name: question.name, type: DNSType.cname, ttl: ttl, data: name.wire)]
            if question.type == DNSType.a || question.type == DNSType.any {
                answers += (records.addressesByName[name.key] ?? []).map { DNSRecord(name: name, type: DNSType.a, ttl: ttl, data: $0.bytes) }
            }
            return .answer(reply(to: query, rcode: DNSRcode.noError, authoritative: true, answers: answers))
        }
        // SRV records, with the targets' addresses as additional records.
        if let services = records.servicesByName[key] {
            guard question.type == DNSType.srv || question.type == DNSType.any else {
                return .answer(reply(to: query, rcode: DNSRcode.noError, authoritative: true))
            }
            let answers = services.compactMap { service in service.data.map { DNSRecord(name: question.name, type: DNSType.srv, ttl: ttl, data: $0) } }
            var message = reply(to: query, rcode: DNSRcode.noError, authoritative: true, answers: answers)
            var extra: [DNSRecord] = []
            for service in services {
                guard let target = DNSName(service.target) else { continue }
                extra += (records.addressesByName[target.key] ?? []).map { DNSRecord(name: target, type: DNSType.a, ttl: ttl, data: $0.bytes) }
            }
            message.additionals = extra + message.additionals
            return .answer(message)
        }
        guard let addresses = lookup(key, records: records, searchDomains: searchDomains) else {
            if let zone = zone.flatMap({ DNSName($0)?.key }), key == zone || key.hasSuffix("." + zone) {
                return .answer(reply(to: query, rcode: DNSRcode.nxDomain, authoritative: true))
            }
            return .forward
        }
        // A known name: only A has data. AAAA and the rest get an empty NOERROR, so a client that
        // asks for both families does not wait on an upstream that cannot know the name.
        // Shuffled, as Docker's resolver does: clients take the first address, so a name several
        // containers answer to (compose's --scale, a shared alias) spreads its callers over all.
        let answers = question.type == DNSType.a
            ? addresses.shuffled().map { DNSRecord(name: question.name, type: DNSType.a, ttl: ttl, data: $0.bytes) } : []
        return .answer(reply(to: query, rcode: DNSRcode.noError, authoritative: true, answers: answers))
    }

    static func lookup(_ key: String, records: NetworkRecords, searchDomains: [String]) -> [IPv4]? {
        if let found = records.addressesByName[key] { return found }
        for domain in searchDomains {
            guard let suffix = DNSName(domain)?.key, !suffix.isEmpty, key.hasSuffix("." + suffix) else { continue }
            if let found = records.addressesByName[String(key.dropLast(suffix.count + 1))] { return found }
        }
        return nil
    }

    /// A response to `query`: same ID, question and RD; RA set (the server recurses by forwarding).
    /// An OPT record is added when the query had one, as RFC 6891 asks.
    public static func reply(to query: DNSMessage, rcode: UInt16, authoritative: Bool = false, answers: [DNSRecord] = []) -> DNSMessage {
        var flags = DNSFlags(raw: 0)
        flags.isResponse = true
        flags.opcode = query.flags.opcode
        flags.authoritative = authoritative
        flags.recursionDesired = query.flags.recursionDesired
        flags.recursionAvailable = true
        flags.rcode = rcode
        let questions = rcode == DNSRcode.formErr ? [] : query.questions
        let opt = query.ednsPayloadSize == nil ? [] : [DNSRecord.opt(payloadSize: DNSLimits.ednsPayload)]
        return DNSMessage(id: query.id, flags: flags, questions: questions, answers: answers, additionals: opt)
    }

    /// The most a UDP reply to `query` may hold: 512 bytes, or what its OPT advertises (capped).
    public static func maxUDPSize(for query: DNSMessage) -> Int {
        guard let size = query.ednsPayloadSize else { return 512 }
        return Int(min(max(size, 512), DNSLimits.ednsPayload))
    }
}

public enum DNSLimits {
    /// The EDNS payload size the server advertises and honours: the 2020 DNS flag day's value,
    /// which avoids IP fragmentation.
    public static let ednsPayload: UInt16 = 1232
}
