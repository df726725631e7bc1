import ContainerDNS
import Foundation
import Glibc
import LinuxSys
import Testing

/// The real berth-dns, queried with dig on 127.0.0.1. Two networks, each on its own port:
/// "front" has web (10.88.0.2) and api; "back" has db (10.89.0.2). Unknown names go to a fake
/// upstream of the test's own, which answers every A question with 192.0.2.7.
@Suite(.enabled(if: DNSEnv.ready, "needs the built berth-dns and /usr/bin/dig"))
struct ServerTests {
    struct Setup {
        let dir: String
        let front: UInt16
        let back: UInt16
        let upstream: FakeUpstream
        let resolvConf: String

        init(upstream: FakeUpstream = FakeUpstream(), resolv: String? = nil) throws {
            dir = DNSEnv.scratch("srv")
            front = DNSEnv.freePort()
            back = DNSEnv.freePort()
            self.upstream = upstream
            resolvConf = dir + ".resolv.conf"
            try (resolv ?? upstream.nameserverLine).write(toFile: resolvConf, atomically: true, encoding: .utf8)
            try DNSConfig.setListen(dir: dir, network: "front", address: "127.0.0.1", port: front)
            try DNSConfig.setListen(dir: dir, network: "back", address: "127.0.0.1", port: back)
            try DNSConfig.setRecords(dir: dir, network: "front", containerID: "c1",
                                     entries: [(ip: "10.88.0.2", names: ["web", "3f2a9c1b7d4e", "www"])])
            try DNSConfig.setRecords(dir: dir, network: "front", containerID: "c2", entries: [(ip: "10.88.0.3", names: ["api"])])
            try DNSConfig.setRecords(dir: dir, network: "back", containerID: "c3", entries: [(ip: "10.89.0.2", names: ["db"])])
        }

        func start() throws -> ServerProcess {
            let server = try ServerProcess(dir: dir, resolvConf: resolvConf, probePort: front, probeName: "web")
            _ = try ServerProcess.waitAnswer(port: back, name: "db")
            return server
        }

        func cleanup() {
            upstream.stop()
            FS.removeAll(dir)
            unlink(resolvConf)
        }
    }

    @Test func answersFromTheNetworksRecords() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }

        let a = try dig(port: setup.front, "web")
        #expect(a.status == "NOERROR" && a.answers == ["10.88.0.2"])
        #expect(a.flags.split(separator: " ").contains("aa") && a.flags.contains("ra") && a.flags.contains("rd"))
        #expect(try dig(port: setup.front, "3F2A9C1B7D4E.").answers == ["10.88.0.2"]) // short ID, any case, trailing dot
        #expect(try dig(port: setup.front, "WwW").answers == ["10.88.0.2"])
        #expect(try dig(port: setup.back, "db").answers == ["10.89.0.2"])

        let aaaa = try dig(port: setup.front, "web", "AAAA")
        #expect(aaaa.status == "NOERROR" && aaaa.answers.isEmpty)
        let mx = try dig(port: setup.front, "api", "MX")
        #expect(mx.status == "NOERROR" && mx.answers.isEmpty)

        #expect(try dig(port: setup.front, "-x", "10.88.0.3").answers == ["api."])
        #expect(setup.upstream.queries == 0)
    }

    @Test func networksAreScoped() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        // db lives on back only: asked on front's port it is not known, so it goes upstream.
        let fromFront = try dig(port: setup.front, "db")
        #expect(fromFront.answers == ["192.0.2.7"])
        #expect(try dig(port: setup.back, "web").answers == ["192.0.2.7"])
        #expect(setup.upstream.queries == 2)
        #expect(try dig(port: setup.back, "db").answers == ["10.89.0.2"])
    }

    @Test func tcpQueriesAnswerAndForward() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        #expect(try dig(port: setup.front, "web", tcp: true).answers == ["10.88.0.2"])
        #expect(try dig(port: setup.front, "elsewhere.example", tcp: true).answers == ["192.0.2.7"])
        #expect(try dig(port: setup.back, "-x", "10.89.0.2", tcp: true).answers == ["db."])
    }

    @Test func reloadPicksUpAddedAndRemovedRecords() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        #expect(try dig(port: setup.front, "cache").answers == ["192.0.2.7"])
        try DNSConfig.setRecords(dir: setup.dir, network: "front", containerID: "c4", entries: [(ip: "10.88.0.4", names: ["cache"])])
        #expect(DNSServerControl.reload(dir: setup.dir))
        #expect(try ServerProcess.waitAnswer(port: setup.front, name: "cache", seconds: 1) == [IPv4(10, 88, 0, 4)])
        try DNSConfig.removeRecords(dir: setup.dir, network: "front", containerID: "c4")
        #expect(DNSServerControl.reload(dir: setup.dir))
        usleep(300_000)
        #expect(try dig(port: setup.front, "cache").answers == ["192.0.2.7"])
    }

    @Test func changesAreNoticedWithoutASignal() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        try DNSConfig.setRecords(dir: setup.dir, network: "back", containerID: "c5", entries: [(ip: "10.89.0.5", names: ["queue"])])
        #expect(try ServerProcess.waitAnswer(port: setup.back, name: "queue", seconds: 6) == [IPv4(10, 89, 0, 5)])
        // A third network appears, listening on a port of its own.
        let third = DNSEnv.freePort()
        try DNSConfig.setRecords(dir: setup.dir, network: "third", containerID: "c6", entries: [(ip: "10.90.0.2", names: ["solo"])])
        try DNSConfig.setListen(dir: setup.dir, network: "third", address: "127.0.0.1", port: third)
        #expect(try ServerProcess.waitAnswer(port: third, name: "solo", seconds: 6) == [IPv4(10, 90, 0, 2)])
        // A network whose address changes is served on the new one only.
        let moved = DNSEnv.freePort()
        try DNSConfig.setListen(dir: setup.dir, network: "third", address: "127.0.0.1", port: moved)
        #expect(DNSServerControl.reload(dir: setup.dir))
        #expect(try ServerProcess.waitAnswer(port: moved, name: "solo", seconds: 2) == [IPv4(10, 90, 0, 2)])
        #expect(try UDPClient.ask(port: third, name: "solo", type: DNSType.a, timeoutMs: 300) == nil)
        // Removing a network closes its sockets.
        try DNSConfig.removeNetwork(dir: setup.dir, network: "third")
        #expect(DNSServerControl.reload(dir: setup.dir))
        usleep(300_000)
        #expect(try UDPClient.ask(port: moved, name: "solo", type: DNSType.a, timeoutMs: 300) == nil)
    }

    @Test func bindIsRetriedUntilTheAddressIsFree() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        // Something else holds back's UDP port, as an address not yet on the bridge would fail the bind.
        let blocker = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #expect(DNSEnv.bindLoopback(blocker, port: setup.back))
        let server = try ServerProcess(dir: setup.dir, resolvConf: setup.resolvConf, probePort: setup.front, probeName: "web")
        defer { server.stop() }
        close(blocker)
        #expect(try ServerProcess.waitAnswer(port: setup.back, name: "db", seconds: 5) == [IPv4(10, 89, 0, 2)])
    }

    @Test func forwardsToTheUpstreamAndFailsOverToTheNext() throws {
        let silent = FakeUpstream(silent: true)
        let answering = FakeUpstream(answer: IPv4(198, 51, 100, 9))
        defer { silent.stop() }
        let setup = try Setup(upstream: answering, resolv: silent.nameserverLine + answering.nameserverLine)
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        let started = Date()
        let reply = try dig(port: setup.front, "example.org", time: 8)
        let elapsed = Date().timeIntervalSince(started)
        #expect(reply.status == "NOERROR" && reply.answers == ["198.51.100.9"])
        #expect(elapsed >= 1.8 && elapsed < 4, "the second upstream is tried after 2 s, took \(elapsed)")
        #expect(silent.queries == 1 && answering.queries == 1)
    }

    @Test func servfailWhenNoUpstreamAnswers() throws {
        let silent = FakeUpstream(silent: true)
        let setup = try Setup(upstream: silent)
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        let started = Date()
        let reply = try dig(port: setup.front, "example.org", time: 9)
        let elapsed = Date().timeIntervalSince(started)
        #expect(reply.status == "SERVFAIL")
        #expect(elapsed >= 4.5 && elapsed < 8, "SERVFAIL after 5 s, took \(elapsed)")
        #expect(silent.queries >= 2) // retried once the first 2 s passed
    }

    @Test func servfailAtOnceWithoutUpstreams() throws {
        let setup = try Setup(resolv: "# no nameservers\n")
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        let started = Date()
        #expect(try dig(port: setup.front, "example.org").status == "SERVFAIL")
        #expect(Date().timeIntervalSince(started) < 1)
    }

    @Test func hostilePacketsAreSurvived() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        // Shorter than a header: dropped. A header of a query whose question is a pointer loop: FORMERR.
        #expect(try UDPClient.send(port: setup.front, [1, 2, 3], timeoutMs: 200) == nil)
        let loop: [UInt8] = [0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        let formErr = try #require(try UDPClient.send(port: setup.front, loop))
        #expect(formErr.count == 12 && formErr[0] == 0xAB && formErr[1] == 0xCD && formErr[3] & 0x0F == 1)
        // A reply is never answered (that is how two servers would loop).
        var reply = loop
        reply[2] |= 0x80
        #expect(try UDPClient.send(port: setup.front, reply, timeoutMs: 200) == nil)
        for _ in 0..<200 {
            let junk = (0..<Int.random(in: 0...300)).map { _ in UInt8.random(in: 0...255) }
            _ = try UDPClient.send(port: setup.front, junk, timeoutMs: 0)
        }
        // Garbage over TCP too: a zero length, then a huge one cut short.
        for bytes: [UInt8] in [[0, 0], [0xFF, 0xFF, 1, 2, 3]] {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = setup.front.bigEndian
            address.sin_addr.s_addr = IPv4(127, 0, 0, 1).networkOrder
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            _ = write(fd, bytes, bytes.count)
            close(fd)
        }
        #expect(try dig(port: setup.front, "web").answers == ["10.88.0.2"])
        #expect(try dig(port: setup.front, "web", tcp: true).answers == ["10.88.0.2"])
        #expect(server.waitExit(seconds: 0) == nil)
    }

    @Test func oneServerPerDirectory() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        let second = try ServerProcess(dir: setup.dir, resolvConf: setup.resolvConf)
        #expect(second.waitExit(seconds: 3) == .exited(0))
        #expect(DNSServerControl.serverPID(dir: setup.dir) == server.pid)
        #expect(try dig(port: setup.front, "web").answers == ["10.88.0.2"])
    }

    @Test func exitsOnceNoNetworksRemain() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        let server = try setup.start()
        defer { server.stop() }
        try DNSConfig.removeNetwork(dir: setup.dir, network: "front")
        try DNSConfig.removeNetwork(dir: setup.dir, network: "back")
        DNSServerControl.reload(dir: setup.dir)
        #expect(server.waitExit(seconds: 3) == nil, "waits a while before giving up")
        #expect(server.waitExit(seconds: 10) == .exited(0))
        #expect(!DNSServerControl.isRunning(dir: setup.dir))
        #expect(!FileManager.default.fileExists(atPath: setup.dir + "/" + DNSConfig.pidFile))
    }

    /// The engine's path: ensureRunning starts the daemon, a second call finds it, reload signals it.
    @Test func ensureRunningStartsOneDaemon() throws {
        let setup = try Setup()
        defer { setup.cleanup() }
        let binary = try #require(DNSEnv.binary)
        try DNSServerControl.ensureRunning(dir: setup.dir, binary: binary, arguments: ["--resolv-conf", setup.resolvConf])
        #expect(DNSServerControl.isRunning(dir: setup.dir))
        let pid = try #require(DNSServerControl.serverPID(dir: setup.dir))
        defer { kill(pid, SIGTERM) }
        try DNSServerControl.ensureRunning(dir: setup.dir, binary: binary, arguments: ["--resolv-conf", setup.resolvConf])
        #expect(DNSServerControl.serverPID(dir: setup.dir) == pid)
        #expect(try ServerProcess.waitAnswer(port: setup.front, name: "web", seconds: 2) == [IPv4(10, 88, 0, 2)])
        #expect(DNSServerControl.reload(dir: setup.dir))
        #expect(kill(pid, 0) == 0)
        try DNSConfig.removeNetwork(dir: setup.dir, network: "front")
        try DNSConfig.removeNetwork(dir: setup.dir, network: "back")
        let deadline = Date().addingTimeInterval(12)
        while DNSServerControl.isRunning(dir: setup.dir) && Date() < deadline { usleep(50_000) }
        #expect(!DNSServerControl.isRunning(dir: setup.dir))
        #expect(!DNSServerControl.reload(dir: setup.dir))
    }
}

extension ServerProcess {
    /// Asks for `name` until it has A answers or `seconds` pass; the addresses (empty if none came).
    static func waitAnswer(port: UInt16, name: String, seconds: Double = 3) throws -> [IPv4] {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if let reply = try? UDPClient.ask(port: port, name: name, type: DNSType.a, timeoutMs: 100),
               reply.flags.authoritative, !reply.answers.isEmpty {
                return reply.answers.compactMap { $0.data.count == 4 ? IPv4($0.data[0], $0.data[1], $0.data[2], $0.data[3]) : nil }
            }
            usleep(50_000)
        } while Date() < deadline
        return []
    }
}
