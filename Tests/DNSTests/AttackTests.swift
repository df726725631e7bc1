import ContainerDNS
import Foundation
import Glibc
import LinuxSys
import Testing

/// Issue 15 item 10: the attacks on berth-dns, performed against the real server on 127.0.0.1.
@Suite(.enabled(if: DNSEnv.ready, "needs the built berth-dns and /usr/bin/dig"))
struct AttackTests {
    typealias Setup = ServerTests.Setup

    /// 10a: a client of an --internal network asks for a name it does not have; exfiltration
    /// would show up as a query at the upstream. Docker refuses such queries.
    @Test func internalNetworkNeverAsksUpstream() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        try DNSConfig.setInternal(dir: setup.dir, network: "front", true)
        let server = try setup.start()
        defer { server.stop() }
        let leak = try dig(port: setup.front, "secret-data.exfil.test")
        #expect(leak.status == "REFUSED" && leak.answers.isEmpty)
        #expect(try dig(port: setup.front, "secret-data.exfil.test", tcp: true).status == "REFUSED")
        #expect(try dig(port: setup.front, "web").answers == ["10.88.0.2"]) // its own names still answer
        usleep(200_000)
        #expect(setup.upstream.queries == 0, "the upstream was asked: \(setup.upstream.log.withLock { $0.map(\.name) })")
        // An ordinary network still forwards.
        #expect(try dig(port: setup.back, "elsewhere.test").answers == ["192.0.2.7"])
    }

    /// 10b: every forwarded query leaves from its own port under its own ID.
    @Test func forwardedQueriesUseFreshPortsAndIDs() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        for index in 0..<6 { #expect(try dig(port: setup.front, "host\(index).example").answers == ["192.0.2.7"]) }
        let seen = setup.upstream.log.withLock { $0 }
        #expect(seen.count == 6)
        #expect(Set(seen.map(\.port)).count == seen.count, "source ports reused: \(seen.map(\.port))")
        #expect(Set(seen.map(\.id)).count == seen.count, "IDs reused: \(seen.map(\.id))")
    }

    /// 10b: forged replies that know the ID and question, sent from another port and from the
    /// other configured upstream (not the one asked), are ignored; the real answer comes through.
    @Test func forgedUpstreamRepliesAreIgnored() throws {
        let asked = FakeUpstream(answer: IPv4(192, 0, 2, 7), delayMs: 400)
        let other = FakeUpstream(silent: true)
        defer { other.stop() }
        let setup = try Setup(upstream: asked, resolv: asked.nameserverLine + other.nameserverLine)
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        let name = try #require(DNSName("victim.example"))
        let spoofer = Thread {
            // Waits for the query to reach the upstream, then races it with forgeries.
            var query: (port: UInt16, id: UInt16, name: String)?
            for _ in 0..<200 where query == nil {
                query = asked.log.withLock { $0.first { $0.name == "victim.example" } }
                usleep(2_000)
            }
            guard let query else { return }
            var forged = DNSResponder.reply(to: DNSMessage.query(id: query.id, name: name, type: DNSType.a), rcode: DNSRcode.noError)
            forged.answers = [DNSRecord(name: name, type: DNSType.a, ttl: 3600, data: [6, 6, 6, 6])]
            let bytes = forged.serialized()
            var wrongID = bytes
            wrongID[1] ^= 0x5A
            for packet in [bytes, wrongID] {
                other.send(packet, toPort: query.port)          // the other configured server
                sendFrom(port: 0, to: query.port, packet)       // another port of the same address
            }
        }
        spoofer.start()
        let reply = try dig(port: setup.front, "victim.example", time: 4)
        #expect(reply.answers == ["192.0.2.7"], "got \(reply.answers)")
    }

    /// 10c: chains of compression pointers, the worst packet for a naive reader, must not stall
    /// the only thread: a normal lookup right after 50 of them still answers at once.
    @Test func pointerChainFloodDoesNotDelayLookups() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        let baseline = try timedLookup(port: setup.front)
        let packet = Self.pointerChainPacket()
        for _ in 0..<50 { _ = try UDPClient.send(port: setup.front, packet, timeoutMs: 0) }
        let started = Date()
        let answer = try UDPClient.ask(port: setup.front, name: "web", type: DNSType.a, timeoutMs: 5000)
        let elapsed = Date().timeIntervalSince(started) * 1000
        #expect(answer?.answers.count == 1)
        #expect(elapsed < 50, "a lookup after the flood took \(elapsed) ms (baseline \(baseline) ms)")
        print("pointerChainFlood: normal lookup \(baseline) ms, after 50 chain packets \(elapsed) ms")
    }

    /// 10d: a local unprivileged user can neither read the records nor take the lock; a lock file
    /// such a user made before the server started does not keep it from starting.
    @Test func localUsersCannotReadRecordsOrHoldTheLock() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        // The directory as a careless admin left it: anyone may create files in it.
        chmod(setup.dir, 0o777)
        let planted = try asNobody(["/bin/sh", "-c", "umask 0; touch \(setup.dir)/\(DNSConfig.lockFile) && exec flock -n \(setup.dir)/\(DNSConfig.lockFile) sleep 30"], wait: false)
        defer { kill(planted, SIGKILL); var s: Int32 = 0; waitpid(planted, &s, 0) }
        usleep(300_000)
        let server = try setup.start()
        defer { server.stop() }
        #expect(try dig(port: setup.front, "web").answers == ["10.88.0.2"])
        #expect(DNSServerControl.serverPID(dir: setup.dir) == server.pid)
        let records = setup.dir + "/front/c1"
        #expect(try asNobodyStatus(["/bin/cat", records]) != 0, "nobody read \(records)")
        #expect(try asNobodyStatus(["/usr/bin/flock", "-n", setup.dir + "/" + DNSConfig.lockFile, "true"]) != 0)
        #expect(try asNobodyStatus(["/bin/ls", setup.dir]) != 0)
        var st = stat()
        #expect(lstat(records, &st) == 0 && st.st_mode & 0o077 == 0)
    }

    /// 10e: malformed packets get FORMERR or nothing, and the server keeps answering.
    @Test(arguments: MalformedPacket.all)
    func malformedPacketsAreSurvived(_ packet: MalformedPacket) throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        if let reply = try UDPClient.send(port: setup.front, packet.bytes, timeoutMs: 300) {
            #expect(reply.count >= 12 && reply[3] & 0x0F == UInt8(DNSRcode.formErr) || reply[3] & 0x0F == UInt8(DNSRcode.notImp),
                    "\(packet.name): \(reply.prefix(16))")
        }
        #expect(try dig(port: setup.front, "web").answers == ["10.88.0.2"], "\(packet.name)")
        #expect(server.waitExit(seconds: 0) == nil)
    }

    // MARK: - Helpers

    func timedLookup(port: UInt16) throws -> Double {
        let started = Date()
        _ = try UDPClient.ask(port: port, name: "web", type: DNSType.a)
        return Date().timeIntervalSince(started) * 1000
    }

    /// A query of ~10900 questions, each a pointer to the previous one's: following every chain
    /// costs a naive reader quadratic time.
    static func pointerChainPacket() -> [UInt8] {
        var bytes: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
        bytes += [1, 0x61, 0, 0, 1, 0, 1]
        var previous = 12
        var count = 1
        while bytes.count + 6 <= 65000 {
            let here = bytes.count
            bytes += [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF), 0, 1, 0, 1]
            previous = here
            count += 1
        }
        bytes[4] = UInt8(count >> 8)
        bytes[5] = UInt8(count & 0xFF)
        return bytes
    }

    func sendFrom(port fromPort: UInt16, to port: UInt16, _ bytes: [UInt8]) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        _ = DNSEnv.bindLoopback(fd, port: fromPort)
        DNSEnv.sendLoopback(fd, bytes, toPort: port)
    }

    func asNobody(_ command: [String], wait: Bool) throws -> pid_t {
        try ProcessSys.spawn(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + command, newSession: true)
    }

    func asNobodyStatus(_ command: [String]) throws -> Int32 {
        try DNSEnv.run(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + command).status
    }
}

/// One hostile packet for the parameterised test.
struct MalformedPacket: Sendable, CustomStringConvertible {
    var name: String
    var bytes: [UInt8]
    var description: String { name }

    static func header(qd: UInt16 = 1, an: UInt16 = 0, flags: UInt16 = 0x0100) -> [UInt8] {
        [0xBE, 0xEF, UInt8(flags >> 8), UInt8(flags & 0xFF), UInt8(qd >> 8), UInt8(qd & 0xFF), UInt8(an >> 8), UInt8(an & 0xFF), 0, 0, 0, 0]
    }

    static let all: [MalformedPacket] = [
        MalformedPacket(name: "empty", bytes: []),
        MalformedPacket(name: "half a header", bytes: [0xBE, 0xEF, 1, 0, 0]),
        MalformedPacket(name: "header only, qdcount 1", bytes: header()),
        MalformedPacket(name: "qdcount 65535, one question", bytes: header(qd: 0xFFFF) + [1, 0x61, 0, 0, 1, 0, 1]),
        MalformedPacket(name: "ancount 65535 in a query", bytes: header(an: 0xFFFF) + [1, 0x61, 0, 0, 1, 0, 1]),
        MalformedPacket(name: "label of 64", bytes: header() + [64] + [UInt8](repeating: 0x61, count: 64) + [0, 0, 1, 0, 1]),
        MalformedPacket(name: "label 0x40 type", bytes: header() + [0x41, 0x61, 0, 0, 1, 0, 1]),
        MalformedPacket(name: "label 0x80 type", bytes: header() + [0x81, 0x61, 0, 0, 1, 0, 1]),
        MalformedPacket(name: "name of 300 bytes", bytes: header() + Array(repeating: [63] + [UInt8](repeating: 0x62, count: 63), count: 5).flatMap { $0 } + [0, 0, 1, 0, 1]),
        MalformedPacket(name: "label past the end", bytes: header() + [40, 0x61, 0x62]),
        MalformedPacket(name: "pointer to itself", bytes: header() + [0xC0, 12, 0, 1, 0, 1]),
        MalformedPacket(name: "pointer forwards", bytes: header() + [0xC0, 20, 0, 1, 0, 1, 0, 0, 1, 0x61, 0]),
        MalformedPacket(name: "pointer past the end", bytes: header() + [0xC3, 0xFF, 0, 1, 0, 1]),
        MalformedPacket(name: "pointer cut short", bytes: header() + [0xC0]),
        MalformedPacket(name: "question without type", bytes: header() + [1, 0x61, 0]),
        MalformedPacket(name: "two questions", bytes: header(qd: 2) + [1, 0x61, 0, 0, 1, 0, 1, 1, 0x62, 0, 0, 1, 0, 1]),
        MalformedPacket(name: "opcode 5 (update)", bytes: header(flags: 0x2800) + [1, 0x61, 0, 0, 1, 0, 1]),
        MalformedPacket(name: "pointer chain", bytes: AttackTests.pointerChainPacket()),
    ]
}

/// Integrity: a container connected to a second network resolves that network's names through
/// the server its resolv.conf names (its first network's), and only its own networks' names.
@Suite(.enabled(if: DNSEnv.ready, "needs the built berth-dns and /usr/bin/dig"))
struct ConnectedNetworkTests {
    @Test func aClientResolvesEveryNetworkItsContainerIsOn() throws {
        let setup = try ServerTests.Setup()
        defer { setup.cleanup() }
        // The client (127.0.0.1 here) is container cX, on front; db lives on back only.
        try DNSConfig.setRecords(dir: setup.dir, network: "front", containerID: "cX", entries: [(ip: "127.0.0.1", names: ["client"])])
        let server = try setup.start()
        defer { server.stop() }
        #expect(try dig(port: setup.front, "db").answers == ["192.0.2.7"]) // not on back: not its name
        // `network connect back cX`.
        try DNSConfig.setRecords(dir: setup.dir, network: "back", containerID: "cX", entries: [(ip: "10.89.0.9", names: ["client"])])
        #expect(DNSServerControl.reload(dir: setup.dir))
        usleep(300_000)
        #expect(try dig(port: setup.front, "db").answers == ["10.89.0.2"])
        #expect(try dig(port: setup.front, "db", tcp: true).answers == ["10.89.0.2"])
        #expect(try dig(port: setup.front, "web").answers == ["10.88.0.2"])
        // Disconnected again: back's names are gone for it.
        try DNSConfig.removeRecords(dir: setup.dir, network: "back", containerID: "cX")
        #expect(DNSServerControl.reload(dir: setup.dir))
        usleep(300_000)
        #expect(try dig(port: setup.front, "db").answers == ["192.0.2.7"])
    }
}
