import Foundation
import TestSupport
import Testing

/// A build's RUN steps get a network namespace of their own on the default bridge (issue 15, item 7):
/// a Dockerfile cannot reach the host's loopback services or its abstract unix sockets unless the
/// user gives the build the host's network on the command line.
@Suite(.enabled(if: EngineEnv.ready && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
                "needs root, the built berth, umoci and python3"))
struct BuildNetworkTests {
    /// A host service on 127.0.0.1 that sends a token to whoever connects, and an abstract unix
    /// socket named after the token (visible in /proc/net/unix of the host's network namespace only).
    final class HostLoopbackService {
        let token = "berth-loopback-\(UInt64.random(in: 0...UInt64.max))"
        let process = Process()
        let port: Int

        init() throws {
            let script = """
                import socket, sys
                token = sys.argv[1]
                tcp = socket.socket()
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind(("127.0.0.1", 0)); tcp.listen(16)
                unix = socket.socket(socket.AF_UNIX); unix.bind("\\0" + token); unix.listen(1)
                print(tcp.getsockname()[1], flush=True)
                while True:
                    conn, _ = tcp.accept(); conn.sendall(token.encode() + b"\\n"); conn.close()
                """
            let out = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", script, token]
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line = Data()
            while !line.contains(0x0A) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line += chunk
            }
            port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            try #require(port > 0, "the loopback service did not start")
        }

        /// SIGKILL: the service inherits the test runner's blocked signals, SIGTERM among them.
        func stop() { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    func context(_ berth: BerthEngine, _ dockerfile: String) throws -> String {
        let dir = berth.base + "/ctx-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try dockerfile.write(toFile: dir + "/Dockerfile", atomically: true, encoding: .utf8)
        return dir
    }

    /// The attack: a RUN step reads the token from the host's 127.0.0.1 service and looks for the
    /// host's abstract socket. `--network host` is the control that shows the attack works.
    @Test func runStepsCannotReachTheHostsLoopbackUnlessTheUserAsks() throws {
        let berth = try BerthEngine()
        let service = try HostLoopbackService()
        defer { service.stop(); berth.remove() }
        let dir = try context(berth, """
            FROM busybox:test
            RUN nc -w 2 127.0.0.1 \(service.port) > /tcp 2>&1; grep -c '@\(service.token)' /proc/net/unix > /unix; ls /sys/class/net > /interfaces; cat /etc/resolv.conf > /resolv; true
            """)
        try berth.call("build", "-q", "-t", "net:default", dir)
        #expect(try !berth.call("run", "--rm", "net:default", "cat", "/tcp").contains(service.token),
                "a RUN step read the host's 127.0.0.1 service")
        #expect(try berth.call("run", "--rm", "net:default", "cat", "/unix") == "0\n", "a RUN step saw the host's abstract socket")
        #expect(try berth.call("run", "--rm", "net:default", "cat", "/interfaces") == "eth0\nlo\n")
        // Loopback resolvers of the host are unreachable from the step's namespace, so they are not named.
        let resolv = try berth.call("run", "--rm", "net:default", "cat", "/resolv")
        #expect(!resolv.contains("nameserver 127."), "\(resolv)")

        // The control: with the host's network, granted on the command line, the same step reaches both.
        try berth.call("build", "-q", "--no-cache", "--network", "host", "-t", "net:host", dir)
        #expect(try berth.call("run", "--rm", "net:host", "cat", "/tcp").contains(service.token))
        #expect(try berth.call("run", "--rm", "net:host", "cat", "/unix") == "1\n")

        // Nothing of the steps' networks is left: no namespace, no records.
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: berth.root + "/build-networks")) ?? []
        #expect(leftovers.filter { !$0.hasPrefix(".") }.isEmpty, "\(leftovers)")
        let namespaces = (try? FileManager.default.contentsOfDirectory(atPath: berth.runRoot + "/netns")) ?? []
        #expect(namespaces.filter { $0.hasPrefix("build-") }.isEmpty, "\(namespaces)")
    }

    /// `RUN --network=host` in a Dockerfile is an entitlement the user grants (BuildKit's
    /// network.host), not something a Dockerfile can take.
    @Test func runNetworkHostNeedsTheUsersPermission() throws {
        let berth = try BerthEngine()
        let service = try HostLoopbackService()
        defer { service.stop(); berth.remove() }
        let dir = try context(berth, """
            FROM busybox:test
            RUN --network=host nc -w 2 127.0.0.1 \(service.port) > /tcp 2>&1; true
            """)
        let refused = try berth.callAnyway(["build", "-t", "net:refused", dir])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("network.host is not allowed"), "\(refused.stderr)")
        #expect(try berth.callAnyway(["image", "inspect", "net:refused"]).status != 0)
        try berth.call("build", "-q", "--allow", "network.host", "-t", "net:allowed", dir)
        #expect(try berth.call("run", "--rm", "net:allowed", "cat", "/tcp").contains(service.token))
        let bad = try berth.callAnyway(["build", "--network", "nosuch", dir])
        #expect(bad.status != 0 && bad.stderr.contains("--network"), "\(bad.stderr)")
    }

    /// kill -9 of `berth build` while a RUN step runs leaves its namespace and address lease; the
    /// next build tears them down.
    @Test func aKilledBuildsStepNetworkIsCleanedUpByTheNext() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let slow = try context(berth, "FROM busybox:test\nRUN sleep 8\n")
        let build = Process()
        build.executableURL = URL(fileURLWithPath: berth.binary)
        build.arguments = ["--root", berth.root, "--runroot", berth.runRoot, "build", "-t", "net:slow", slow]
        build.standardOutput = FileHandle.nullDevice
        build.standardError = FileHandle.nullDevice
        try build.run()
        let records = berth.root + "/build-networks"
        var seen: [String] = []
        for _ in 0..<100 {
            seen = ((try? FileManager.default.contentsOfDirectory(atPath: records)) ?? []).filter { !$0.hasPrefix(".") }
            if !seen.isEmpty, FileManager.default.fileExists(atPath: records + "/" + seen[0] + "/resolv.conf") { break }
            usleep(100_000)
        }
        kill(build.processIdentifier, SIGKILL)
        build.waitUntilExit()
        try #require(seen.count == 1, "the step's network was never set up")
        #expect(FileManager.default.fileExists(atPath: berth.runRoot + "/netns/build-" + seen[0]))

        let next = try context(berth, "FROM busybox:test\nRUN true\n")
        try berth.call("build", "-q", "-t", "net:next", next)
        #expect(!FileManager.default.fileExists(atPath: records + "/" + seen[0]), "the killed build's records are still there")
        #expect(!FileManager.default.fileExists(atPath: berth.runRoot + "/netns/build-" + seen[0]))
    }
}
