import ContainerDNS
import Foundation
import LinuxSys
import Testing

@Suite struct MessageTests {
    let web = DNSName("Web")!

    @Test func queryRoundTrip() throws {
        var query = DNSMessage.query(id: 0xBEEF, name: DNSName("db.example.")!, type: DNSType.aaaa)
        query.additionals = [DNSRecord.opt(payloadSize: 4096)]
        let bytes = query.serialized()
        #expect(Array(bytes[0..<2]) == [0xBE, 0xEF])
        let parsed = try DNSMessage(parsing: bytes)
        #expect(parsed == query)
        #expect(parsed.flags.recursionDesired && !parsed.flags.isResponse)
        #expect(parsed.questions.first?.name.description == "db.example")
        #expect(parsed.ednsPayloadSize == 4096)
    }

    @Test func responseRoundTripCompressesAnswerNames() throws {
        let query = DNSMessage.query(id: 7, name: web, type: DNSType.a)
        var reply = DNSResponder.reply(to: query, rcode: DNSRcode.noError, authoritative: true)
        reply.answers = [DNSRecord(name: web, type: DNSType.a, ttl: 60, data: [10, 88, 0, 2]),
                         DNSRecord(name: web, type: DNSType.a, ttl: 60, data: [10, 88, 0, 3])]
        let bytes = reply.serialized()
        // Header 12, question 5+4, two answers of pointer 2 + 10 fixed + 4 data.
        #expect(bytes.count == 12 + 9 + 2 * 16)
        #expect(Array(bytes[21..<23]) == [0xC0, 12])
        let parsed = try DNSMessage(parsing: bytes)
        #expect(parsed == reply)
        #expect(parsed.flags.isResponse && parsed.flags.authoritative && parsed.flags.recursionAvailable)
        #expect(parsed.flags.recursionDesired && parsed.flags.rcode == DNSRcode.noError)
    }

    @Test func ptrTargetsDecodeThroughPointers() throws {
        // Question "2.0.88.10.in-addr.arpa", answer PTR "web.in-addr.arpa" written as "web" + pointer.
        let question = DNSName("2.0.88.10.in-addr.arpa")!
        var bytes = DNSMessage.query(id: 1, name: question, type: DNSType.ptr).serialized()
        bytes[7] = 1 // one answer
        let arpaOffset = 12 + 2 + 2 + 3 + 3 // after "2", "0", "88", "10" labels
        let data: [UInt8] = [3, 119, 101, 98, 0xC0, UInt8(arpaOffset)]
        bytes += [0xC0, 12, 0, 12, 0, 1, 0, 0, 0, 60, 0, UInt8(data.count)] + data
        let parsed = try DNSMessage(parsing: bytes)
        let answer = try #require(parsed.answers.first)
        #expect(try DNSMessage.name(inRecordData: answer.data, of: bytes).description == "web.in-addr.arpa")
    }

    @Test func namesMatchCaseInsensitivelyAndIgnoreTheTrailingDot() {
        #expect(DNSName("WeB.Example.")?.key == "web.example")
        #expect(DNSName("web.example")?.key == "web.example")
        #expect(DNSName("a..b") == nil)
        #expect(DNSName(String(repeating: "a", count: 64)) == nil)
        #expect(DNSName(Array(repeating: "abcdefg", count: 40).joined(separator: ".")) == nil)
    }

    // MARK: - Hostile packets

    func header(qd: UInt16 = 1, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0) -> [UInt8] {
        [0x12, 0x34, 0x01, 0x00] + [qd, an, ns, ar].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    @Test func everyTruncationFailsCleanly() throws {
        var query = DNSMessage.query(id: 9, name: DNSName("some.name.example")!, type: DNSType.a)
        query.additionals = [DNSRecord.opt(payloadSize: 1232)]
        let bytes = query.serialized()
        for length in 0..<bytes.count {
            #expect(throws: DNSParseError.self) { try DNSMessage(parsing: Array(bytes[0..<length])) }
        }
    }

    @Test func pointerLoopsAreRejected() {
        // A pointer to itself, one pointing forward, and two pointing at each other.
        let selfLoop = header() + [0xC0, 12, 0, 1, 0, 1]
        let forward = header() + [0xC0, 14, 1, 97, 0, 0, 1, 0, 1]
        let mutual = header() + [1, 97, 0xC0, 16, 0xC0, 12, 0, 1, 0, 1]
        // A label that runs back into the pointer that led to it.
        let reentry = header() + [1, 97, 0xC0, 12, 0, 1, 0, 1]
        for packet in [selfLoop, forward, mutual, reentry] {
            #expect(throws: DNSParseError.self) { try DNSMessage(parsing: packet) }
        }
        #expect(throws: DNSParseError.badPointer) { try DNSMessage(parsing: selfLoop) }
    }

    @Test func hugeCountsAndOversizedNamesAreRejected() {
        #expect(throws: DNSParseError.truncated) { try DNSMessage(parsing: header(qd: 65535, an: 65535, ns: 65535, ar: 65535)) }
        // 130 one-byte labels: 261 bytes, over the 255 a name may have.
        let long = header() + Array(repeating: [1, 97], count: 130).flatMap { $0 } + [0, 0, 1, 0, 1]
        #expect(throws: DNSParseError.nameTooLong) { try DNSMessage(parsing: long) }
        // Extended (0x40) label types are not accepted.
        #expect(throws: DNSParseError.badLabel) { try DNSMessage(parsing: header() + [0x41, 0, 0, 1, 0, 1]) }
        // RDATA longer than what is left.
        let rr = header(qd: 0, an: 1) + [0, 0, 1, 0, 1, 0, 0, 0, 60, 0xFF, 0xFF, 1, 2, 3]
        #expect(throws: DNSParseError.truncated) { try DNSMessage(parsing: rr) }
    }

    @Test func randomAndMutatedPacketsNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let valid = DNSMessage.query(id: 3, name: DNSName("web.example")!, type: DNSType.a).serialized()
        for round in 0..<20_000 {
            var packet: [UInt8]
            if round % 2 == 0 {
                packet = (0..<Int.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                packet = valid
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    packet[Int.random(in: 0..<packet.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            if let message = try? DNSMessage(parsing: packet) {
                // Whatever parses must also be answerable without trapping.
                _ = DNSResponder.resolve(message, records: NetworkRecords([DNSEntry(ip: IPv4(10, 0, 0, 1), names: ["web"])]))
                _ = message.serialized(maxSize: 512)
            }
            _ = try? DNSMessage.peekQuestion(packet)
        }
    }
}

@Suite struct ResponderTests {
    let records = NetworkRecords([
        DNSEntry(ip: IPv4(10, 88, 0, 2), names: ["web", "3f2a9c1b7d4e", "frontend"]),
        DNSEntry(ip: IPv4(10, 88, 0, 3), names: ["api", "frontend"]),
    ])

    func answer(_ name: String, _ type: UInt16, search: [String] = []) -> DNSMessage? {
        var query = DNSMessage.query(id: 42, name: DNSName(name)!, type: type)
        query.additionals = [DNSRecord.opt(payloadSize: 4096)]
        guard case .answer(let reply) = DNSResponder.resolve(query, records: records, searchDomains: search) else { return nil }
        return reply
    }

    /// A name two containers answer to comes back in varying order, so callers that take the
    /// first address reach both (Docker's round robin; compose's `--scale`).
    @Test func severalAddressesAreShuffled() throws {
        var firsts = Set<[UInt8]>()
        for _ in 0..<64 {
            let reply = try #require(answer("frontend", DNSType.a))
            if let first = reply.answers.first { firsts.insert(first.data) }
        }
        #expect(firsts == [[10, 88, 0, 2], [10, 88, 0, 3]])
    }

    @Test func aAnswersAreAuthoritativeWithEveryAddress() throws {
        let reply = try #require(answer("FrontEnd.", DNSType.a))
        #expect(reply.id == 42 && reply.flags.authoritative && reply.flags.recursionAvailable && reply.flags.recursionDesired)
        #expect(Set(reply.answers.map(\.data)) == [[10, 88, 0, 2], [10, 88, 0, 3]])
        #expect(reply.answers.count == 2)
        #expect(reply.answers.allSatisfy { $0.ttl == 60 && $0.name.description == "FrontEnd" })
        #expect(reply.questions.first?.name.description == "FrontEnd") // echoed in the asker's case
        #expect(reply.ednsPayloadSize == DNSLimits.ednsPayload)
    }

    @Test func knownNamesGetEmptyNoErrorForOtherTypes() throws {
        for type in [DNSType.aaaa, UInt16(16), DNSType.any] {
            let reply = try #require(answer("web", type))
            #expect(reply.flags.rcode == DNSRcode.noError && reply.answers.isEmpty && reply.flags.authoritative)
        }
    }

    @Test func reverseLookupGivesTheFirstName() throws {
        let reply = try #require(answer("2.0.88.10.in-addr.arpa", DNSType.ptr))
        let data = try #require(reply.answers.first?.data)
        #expect(try DNSMessage.name(inRecordData: data, of: reply.serialized()).description == "web")
        #expect(answer("9.0.88.10.in-addr.arpa", DNSType.ptr) == nil) // unknown address: forwarded
    }

    @Test func unknownNamesAreForwardedAndSearchDomainsStripped() throws {
        #expect(answer("nope", DNSType.a) == nil)
        #expect(answer("web.corp.example", DNSType.a) == nil)
        let stripped = try #require(answer("web.Corp.Example", DNSType.a, search: ["corp.example"]))
        #expect(stripped.answers.map(\.data) == [[10, 88, 0, 2]])
    }

    /// A zone of the server's own (the cluster's): a name in it that no record has is NXDOMAIN
    /// here and then; a name outside it still goes upstream.
    @Test func unknownNamesInTheZoneAreNXDomain() throws {
        func resolve(_ name: String) -> DNSResolution {
            DNSResponder.resolve(DNSMessage.query(id: 7, name: DNSName(name)!, type: DNSType.a), records: records, zone: "cluster.local")
        }
        guard case .answer(let missing) = resolve("nosuch.default.svc.Cluster.Local") else { Issue.record("forwarded"); return }
        #expect(missing.flags.rcode == DNSRcode.nxDomain && missing.flags.authoritative && missing.answers.isEmpty)
        #expect(resolve("example.org") == .forward)
        #expect(resolve("notcluster.local") == .forward)
        guard case .answer(let known) = resolve("web") else { Issue.record("forwarded"); return }
        #expect(known.answers.map(\.data) == [[10, 88, 0, 2]])
    }

    @Test func clientsFilesMayNameSeveralRanges() {
        let ranges = DNSConfig.parseClientRanges("10.42.0.0/16 10.96.0.0/16\n")
        #expect(ranges.map(\.network) == [0x0A2A_0000, 0x0A60_0000] && ranges.map(\.mask) == [0xFFFF_0000, 0xFFFF_0000])
        #expect(DNSConfig.parseClients("10.42.0.0/16 10.96.0.0/16")?.network == 0x0A2A_0000) // the first, as before
    }

    @Test func oddQueriesGetErrorsNotAnswers() throws {
        var query = DNSMessage.query(id: 1, name: DNSName("web")!, type: DNSType.a)
        query.flags.opcode = 2 // STATUS
        guard case .answer(let notImp) = DNSResponder.resolve(query, records: records) else { Issue.record("forwarded"); return }
        #expect(notImp.flags.rcode == DNSRcode.notImp)
        query.flags.opcode = 0
        query.questions.append(query.questions[0])
        guard case .answer(let formErr) = DNSResponder.resolve(query, records: records) else { Issue.record("forwarded"); return }
        #expect(formErr.flags.rcode == DNSRcode.formErr && formErr.questions.isEmpty)
    }

    @Test func tooManyAddressesForUDPSetTruncation() throws {
        let many = NetworkRecords((1...100).map { DNSEntry(ip: IPv4(10, 0, 0, UInt8($0)), names: ["crowd"]) })
        let query = DNSMessage.query(id: 5, name: DNSName("crowd")!, type: DNSType.a)
        guard case .answer(let reply) = DNSResponder.resolve(query, records: many) else { Issue.record("forwarded"); return }
        let udp = reply.serialized(maxSize: DNSResponder.maxUDPSize(for: query))
        #expect(udp.count <= 512)
        let parsed = try DNSMessage(parsing: udp)
        #expect(parsed.flags.truncated && parsed.answers.count < 100 && !parsed.answers.isEmpty)
        let tcp = try DNSMessage(parsing: reply.serialized())
        #expect(!tcp.flags.truncated && tcp.answers.count == 100)
    }
}

@Suite struct ConfigTests {
    @Test func recordsRoundTripThroughTheDirectory() throws {
        let dir = DNSEnv.scratch("config")
        defer { FS.removeAll(dir) }
        try DNSConfig.setListen(dir: dir, network: "front", address: "10.88.0.1")
        try DNSConfig.setRecords(dir: dir, network: "front", containerID: "c1", entries: [(ip: "10.88.0.2", names: ["web", "Alias"])])
        try DNSConfig.setRecords(dir: dir, network: "front", containerID: "c2", entries: [(ip: "10.88.0.3", names: ["alias"])])
        try DNSConfig.setListen(dir: dir, network: "back", address: "127.0.0.1", port: 5300)
        let networks = DNSConfig.load(dir: dir)
        #expect(networks.map(\.name) == ["back", "front"])
        #expect(networks[0].listen.map { "\($0.address) \($0.port)" } == "127.0.0.1 5300")
        #expect(networks[1].listen.map { "\($0.address) \($0.port)" } == "10.88.0.1 53")
        #expect(networks[1].records.addressesByName["alias"] == [IPv4(10, 88, 0, 2), IPv4(10, 88, 0, 3)])
        #expect(networks[1].records.nameByAddress[IPv4(10, 88, 0, 2)] == "web")
        try DNSConfig.removeRecords(dir: dir, network: "front", containerID: "c1")
        try DNSConfig.removeRecords(dir: dir, network: "front", containerID: "c1") // gone already: fine
        #expect(DNSConfig.load(dir: dir)[1].records.addressesByName["web"] == nil)
        try DNSConfig.removeNetwork(dir: dir, network: "front")
        #expect(DNSConfig.networkNames(dir: dir) == ["back"])
    }

    @Test func badInputIsRefusedByTheWriterAndSkippedByTheReader() throws {
        let dir = DNSEnv.scratch("bad")
        defer { FS.removeAll(dir) }
        #expect(throws: SysError.self) { try DNSConfig.setListen(dir: dir, network: "../x", address: "10.0.0.1") }
        #expect(throws: SysError.self) { try DNSConfig.setListen(dir: dir, network: "n", address: "10.0.0.256") }
        #expect(throws: SysError.self) { try DNSConfig.setRecords(dir: dir, network: "n", containerID: "listen", entries: []) }
        #expect(throws: SysError.self) { try DNSConfig.setRecords(dir: dir, network: "n", containerID: "a/b", entries: []) }
        #expect(throws: SysError.self) {
            try DNSConfig.setRecords(dir: dir, network: "n", containerID: "c", entries: [(ip: "10.0.0.1", names: ["a b"])])
        }
        let parsed = DNSConfig.parseRecords("# comment\n\n10.0.0.1 web\nnot-an-ip web\n10.0.0.2\n010.0.0.3 x\n10.0.0.4 ok a..b\n")
        #expect(parsed == [DNSEntry(ip: IPv4(10, 0, 0, 1), names: ["web"]), DNSEntry(ip: IPv4(10, 0, 0, 4), names: ["ok"])])
        #expect(DNSConfig.parseListen("10.0.0.1 0") == nil)
        #expect(DNSConfig.parseListen("10.0.0.1 70000") == nil)
        #expect(DNSConfig.parseListen("10.0.0.1 53 x") == nil)
    }

    @Test func resolvConfNameserversAndSearch() {
        let conf = ResolvConf(parsing: """
            # generated
            nameserver 127.0.0.53
            nameserver ::1
            nameserver 127.0.0.1#5353
            options edns0
            search corp.example lab.example
            """)
        #expect(conf.nameservers == [SocketAddress(IPv4(127, 0, 0, 53), 53), SocketAddress(IPv4(127, 0, 0, 1), 5353)])
        #expect(conf.search == ["corp.example", "lab.example"])
    }

    @Test func ipv4ParsingIsStrict() {
        #expect(IPv4("10.88.0.1")?.description == "10.88.0.1")
        for bad in ["", "1.2.3", "1.2.3.4.5", "1.2.3.256", "01.2.3.4", "1.2.3.-4", "a.b.c.d", "1..3.4", " 1.2.3.4"] {
            #expect(IPv4(bad) == nil, "\(bad)")
        }
        #expect(IPv4(reverseName: "4.3.2.1.in-addr.arpa") == IPv4(1, 2, 3, 4))
        #expect(IPv4(reverseName: "3.2.1.in-addr.arpa") == nil)
    }
}
