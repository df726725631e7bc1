import Foundation
import TestSupport
import Testing

/// Attacks on the host firewall and published ports, performed as an attacker would: a crafted
/// frame from inside a container, a LAN neighbour (a network namespace the test makes, on a /30
/// of 10.254.0.0/16) routing through the host, and rule injection through `-p`.
@Suite(.enabled(if: EngineEnv.ready && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")
                && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")), .serialized)
struct FirewallAttackTests {
    func shell(_ script: String) throws -> Output { try sh(["/bin/sh", "-c", script]) }

    func pid(_ berth: BerthEngine, _ id: String) throws -> String {
        try berth.inspect(id, "{{.State.Pid}}").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// CVE-2020-8558: with route_localnet on the bridge (a published port), a container sends a UDP
    /// datagram to 127.0.0.1 in a frame addressed to the gateway's MAC. The host's listener on
    /// 127.0.0.1 must not receive it.
    @Test func containerCannotReachHostLoopback() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let port = NetworkTests.freePort()
        let id = try berth.call("run", "-d", "-p", "\(NetworkTests.freePort()):80", "busybox:test", "sleep", "60")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let gateway = try berth.inspect(id, "{{.NetworkSettings.Gateway}}").trimmingCharacters(in: .whitespacesAndNewlines)
        let address = try berth.inspect(id, "{{.NetworkSettings.IPAddress}}").trimmingCharacters(in: .whitespacesAndNewlines)
        let bridge = try shell("ip -4 -o addr | awk '$4 ~ \"^\(gateway)/\" {print $2}'").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let mac = try String(contentsOfFile: "/sys/class/net/\(bridge)/address", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try String(contentsOfFile: "/proc/sys/net/ipv4/conf/\(bridge)/route_localnet", encoding: .utf8).hasPrefix("1"))
        let received = berth.base + "/received"
        let listener = """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", \(port))); s.settimeout(4)
        try: data = s.recv(100); open("\(received)", "wb").write(data)
        except socket.timeout: pass
        """
        let frame = """
        import socket, struct
        def csum(b):
            s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); return ~(s + (s >> 16)) & 0xffff
        payload = b"attack"
        udp = struct.pack("!HHHH", 40000, \(port), 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, socket.inet_aton("\(address)"), socket.inet_aton("127.0.0.1"))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("eth0", 0))
        mine = open("/sys/class/net/eth0/address").read().strip()
        s.send(bytes.fromhex("\(mac)".replace(":", "")) + bytes.fromhex(mine.replace(":", "")) + b"\\x08\\x00" + ip + udp)
        """
        let listening = Process()
        listening.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        listening.arguments = ["-c", listener]
        try listening.run()
        usleep(500_000)
        let target = try pid(berth, id)
        let sent = try sh(["/usr/bin/nsenter", "-n", "-t", target, "/usr/bin/python3", "-c", frame])
        #expect(sent.status == 0, "\(sent.stderr)")
        listening.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: received), "the host's 127.0.0.1 listener received the container's datagram")
    }

    /// A LAN neighbour routes the container subnet and 127.0.0.1 through the host: it reaches a port
    /// published on 0.0.0.0, but neither a port published only on 127.0.0.1 nor an unpublished one.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
    func lanNeighbourReachesOnlyPublishedPorts() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        // A /30 of 10.254.0.0/16 that no route of the host touches.
        guard let third = (1...250).first(where: { n in
            (try? shell("ip -4 route show to match 10.254.\(n).1 | grep -v '^default'").stdout.isEmpty) ?? false
        }) else { Issue.record("no free 10.254.x.0/30"); return }
        let (hostSide, neighbourSide) = ("10.254.\(third).1", "10.254.\(third).2")
        let ns = "berthlan\(getpid() % 10000)", veth = "vethlan\(getpid() % 10000)"  // veth*: HostState (EngineTests) counts it as a test's
        let forwardWas = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        defer {
            _ = try? shell("ip netns del \(ns); ip link del \(veth) 2>/dev/null; echo \(forwardWas) > /proc/sys/net/ipv4/ip_forward")
        }
        let web = "mkdir -p /www && echo hello > /www/index.html && httpd -p 80 -h /www && httpd -f -p 81 -h /www"
        let (published, local) = (NetworkTests.freePort(), NetworkTests.freePort())
        let id = try berth.call("run", "-d", "-p", "\(published):80", "-p", "127.0.0.1:\(local):81", "busybox:test", "sh", "-c", web)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let address = try berth.inspect(id, "{{.NetworkSettings.IPAddress}}").trimmingCharacters(in: .whitespacesAndNewlines)
        let made = try shell("""
            set -e
            ip netns add \(ns)
            ip link add \(veth) type veth peer name eth0 netns \(ns)
            ip addr add \(hostSide)/30 dev \(veth); ip link set \(veth) up
            ip netns exec \(ns) sh -c 'ip link set lo up; ip addr add \(neighbourSide)/30 dev eth0; ip link set eth0 up
              ip route add \(address)/32 via \(hostSide)
              sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.eth0.route_localnet=1
              ip route del local 127.0.0.1 dev lo table local; ip route del local 127.0.0.0/8 dev lo table local
              ip route add 127.0.0.1/32 via \(hostSide) src \(neighbourSide)'
            echo 1 > /proc/sys/net/ipv4/ip_forward
            """)
        try #require(made.status == 0, "\(made.stderr)")
        func fetch(_ url: String) throws -> String {
            try sh(["/usr/bin/ip", "netns", "exec", ns, "/usr/bin/curl", "-s", "-m", "3", url]).stdout
        }
        #expect(try fetch("http://\(hostSide):\(published)/") == "hello\n", "the port published on 0.0.0.0 must stay reachable")
        #expect(try fetch("http://127.0.0.1:\(local)/") == "", "a port published on 127.0.0.1 answered a neighbour")
        #expect(try fetch("http://\(address):81/") == "", "an unpublished container port answered a neighbour")
        #expect(try sh(["/usr/bin/curl", "-s", "-m", "3", "http://127.0.0.1:\(local)/"]).stdout == "hello\n", "the host's own 127.0.0.1 port")
        #expect(try sh(["/usr/bin/curl", "-s", "-m", "3", "http://\(address):81/"]).stdout == "hello\n", "the host reaches container IPs")
    }

    /// A newline in the bracketed host address once added a filter INPUT ACCEPT rule through
    /// iptables-restore's input.
    @Test func portSpecCannotInjectRules() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let spec = "[::1 -j ACCEPT\n-A INPUT -s 192.0.2.99 -j ACCEPT\n]:\(NetworkTests.freePort()):80"
        let run = try berth.callAnyway(["run", "-d", "-p", spec, "busybox:test", "sleep", "30"])
        #expect(run.status == 125)
        #expect(run.stderr.contains("invalid IP address"))
        #expect(try !shell("iptables-save").stdout.contains("192.0.2.99"))
    }
}
