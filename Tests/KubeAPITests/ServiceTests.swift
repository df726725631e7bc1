import Foundation
import TestSupport
import Testing

/// Services through the real kubectl: the apiserver's allocation of cluster IPs and node ports,
/// and kube-proxy's role — traffic to a cluster IP reaches the ready endpoints, spread over them,
/// sticky with ClientIP affinity, refused without endpoints. The server runs in a network namespace
/// of its own; its "pods" are network namespaces with a veth to it and a small HTTP server each.
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct ServiceTests {
    /// A backend: a network namespace (a process that holds it) answering HTTP on 8080 with its name.
    final class Backend {
        let name: String
        let ip: String
        let holder: pid_t
        let directory: String

        /// `command` serves on 8080 in the namespace (by default Python's http.server, answering the name).
        init(server: KubeServer, index: Int, command: String = "python3 -m http.server --bind 0.0.0.0 8080") throws {
            name = "backend-\(index)"
            ip = "10.42.250.\(index * 4 + 2)"
            let hostSide = "10.42.250.\(index * 4 + 1)"
            directory = server.base + "/" + name
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(name.utf8).write(to: URL(fileURLWithPath: directory + "/index.html"))
            // The namespace's side waits for its veth, then serves.
            let script = """
                while ! ip link show eth0 >/dev/null 2>&1; do sleep 0.05; done
                ip link set lo up && ip addr add \(ip)/30 dev eth0 && ip link set eth0 up && ip route add default via \(hostSide) || exit 1
                cd \(directory) && exec \(command)
                """
            holder = try TestSupport.spawn(["/usr/bin/unshare", "--net", "--", "/bin/sh", "-c", script], stdout: directory + "/log")
            // Not before unshare has made the namespace: the peer would land in the test's own.
            var mine = stat(), theirs = stat()
            stat("/proc/self/ns/net", &mine)
            for _ in 0..<200 where stat("/proc/\(holder)/ns/net", &theirs) != 0 || theirs.st_ino == mine.st_ino { usleep(10_000) }
            try #require(theirs.st_ino != mine.st_ino, "\(name): no network namespace of its own")
            let veth = "vb\(index)\(server.port % 1000)"
            for command in [["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", String(holder)],
                            ["ip", "addr", "add", hostSide + "/30", "dev", veth], ["ip", "link", "set", veth, "up"]] {
                let result = try sh(server.inNetwork + command)
                try #require(result.status == 0, "\(command): \(result.stderr)")
            }
        }

        deinit {
            kill(holder, SIGKILL)
            var status: Int32 = 0
            waitpid(holder, &status, 0)
        }
    }

    /// A server in its own network namespace, forwarding (as a pod network sets it), with backends.
    static func setUp(backends: Int) throws -> (KubeServer, [Backend]) {
        let server = try KubeServer(ownNetwork: true)
        let forward = try sh(server.inNetwork + ["sysctl", "-w", "net.ipv4.ip_forward=1"])
        try #require(forward.status == 0, "sysctl: \(forward.stderr)")
        let made = try (0..<backends).map { try Backend(server: server, index: $0) }
        for backend in made {
            try #require(try eventually { try server.get("http://\(backend.ip):8080/") == backend.name }, "\(backend.name) does not answer")
        }
        return (server, made)
    }

    static func service(_ name: String, extra: String = "") -> String {
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: \(name)
        spec:
          ports:
          - name: http
            port: 80
            targetPort: 8080
        \(extra)
        """
    }

    static func endpoints(_ name: String, _ ips: [String]) -> String {
        let addresses = ips.isEmpty ? "" : "\n  addresses:\n" + ips.map { "  - ip: \($0)" }.joined(separator: "\n")
        return """
            apiVersion: v1
            kind: Endpoints
            metadata:
              name: \(name)
            subsets:
            - ports:
              - name: http
                port: 8080\(addresses)
            """
    }

    static func eventually(seconds: Double = 10, _ check: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try check() { return true }
            usleep(100_000)
        }
        return try check()
    }

    @Test func clusterIPSpreadsOverReadyEndpointsAndFollowsThem() throws {
        let (server, backends) = try Self.setUp(backends: 2)
        defer { server.stop() }
        try server.kubectlOK("apply", "-f", "-", stdin: Self.service("web"))
        try server.kubectlOK("apply", "-f", "-", stdin: Self.endpoints("web", backends.map(\.ip)))
        let ip = try server.kubectlOK("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")
        #expect(ip.hasPrefix("10.96."), "cluster IP \(ip) is not from 10.96.0.0/16")
        // Both backends answer through the one address.
        var seen: [String: Int] = [:]
        #expect(try Self.eventually { try server.get("http://\(ip)/") != nil }, "the cluster IP \(ip) does not answer")
        for _ in 0..<40 { if let answer = try server.get("http://\(ip)/") { seen[answer, default: 0] += 1 } }
        #expect(Set(seen.keys) == Set(backends.map(\.name)), "answers through \(ip): \(seen)")
        #expect(seen.values.reduce(0, +) == 40, "failed requests: \(seen)")

        // From a "pod" too, also when the endpoint picked is the client itself (hairpin).
        var fromPod: Set<String> = []
        for _ in 0..<30 {
            let result = try sh(["/usr/bin/nsenter", "--net=/proc/\(backends[0].holder)/ns/net", "--", "curl", "-s", "--max-time", "2", "http://\(ip)/"])
            #expect(result.status == 0, "from backend-0 through \(ip): curl \(result.status)")
            fromPod.insert(result.stdout)
        }
        #expect(fromPod == Set(backends.map(\.name)), "answers to backend-0 through \(ip): \(fromPod)")
        // A node port on the host's own address.
        try server.kubectlOK("patch", "svc", "web", "-p", #"{"spec":{"type":"NodePort"}}"#)
        let nodePort = try server.kubectlOK("get", "svc", "web", "-o", "jsonpath={.spec.ports[0].nodePort}")
        #expect(try Self.eventually { try server.get("http://10.42.250.1:\(nodePort)/") != nil }, "node port \(nodePort) does not answer")
        #expect(try server.kubectlOK("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}") == ip, "the cluster IP changed with the type")

        // An endpoint taken out leaves the rotation.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.endpoints("web", [backends[1].ip]))
        #expect(try Self.eventually { try (0..<10).allSatisfy { _ in try server.get("http://\(ip)/") == backends[1].name } },
                "backend-0 still answers after it left the Endpoints")

        // ClientIP affinity: one client stays with one backend.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.endpoints("web", backends.map(\.ip)))
        try server.kubectlOK("patch", "svc", "web", "-p", #"{"spec":{"sessionAffinity":"ClientIP"}}"#)
        #expect(try server.kubectlOK("get", "svc", "web", "-o", "jsonpath={.spec.sessionAffinityConfig.clientIP.timeoutSeconds}") == "10800")
        usleep(500_000)
        var sticky: Set<String> = []
        for _ in 0..<20 { if let answer = try server.get("http://\(ip)/") { sticky.insert(answer) } }
        #expect(sticky.count == 1, "with ClientIP affinity one client reached \(sticky)")

        // No endpoints: refused at once, not a timeout.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.endpoints("web", []))
        #expect(try Self.eventually {
            let result = try sh(server.inNetwork + ["curl", "-s", "--max-time", "3", "http://\(ip)/"])
            return result.status == 7
        }, "a Service without endpoints is not refused")

        // Deleted: its chains go, and the address no longer leads anywhere.
        try server.kubectlOK("delete", "svc", "web")
        #expect(try Self.eventually { try !sh(server.inNetwork + ["iptables-save", "-t", "nat"]).stdout.contains("BERTH-SVC-") },
                "Service chains left after the Service was deleted")
    }

    /// The cluster's DNS (berth-dns on 10.96.0.10): Services by name from the host and from a pod,
    /// a headless Service's endpoints, NXDOMAIN for other names in cluster.local.
    /// Thousands of short connections through a cluster IP to a server that closes first (which
    /// leaves a TIME_WAIT socket per connection in the endpoint): none of their SYNs is refused by
    /// the endpoint as an old duplicate (TcpExtPAWSTimewait), each of which costs the client a 1 s
    /// retransmission. Masquerading with --random-fully gave each connection a random port, and
    /// such refusals by the hundred: wrk through a cluster IP fell to a quarter of the Pod's rate.
    @Test func shortConnectionsAreNotRefusedByTheEndpointsTimeWaits() throws {
        let (server, backends) = try Self.setUp(backends: 1)
        defer { server.stop() }
        try server.kubectlOK("apply", "-f", "-", stdin: Self.service("burst"))
        try server.kubectlOK("apply", "-f", "-", stdin: Self.endpoints("burst", [backends[0].ip]))
        let ip = try server.kubectlOK("get", "svc", "burst", "-o", "jsonpath={.spec.clusterIP}")
        #expect(try Self.eventually { try server.get("http://\(ip)/") != nil }, "the cluster IP \(ip) does not answer")
        func refused() throws -> Int {
            let text = try sh(["/usr/bin/nsenter", "--net=/proc/\(backends[0].holder)/ns/net", "--", "nstat", "-asz", "TcpExtPAWSTimewait"]).stdout
            return text.split(separator: "\n").compactMap { line -> Int? in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                return fields.count >= 2 && fields[0] == "TcpExtPAWSTimewait" ? Int(fields[1]) : nil
            }.first ?? 0
        }
        let before = try refused()
        // Three rounds of new connections (ab without -k), 8 at a time, each onto the TIME_WAITs of those before.
        for _ in 0..<3 {
            let ab = try sh(server.inNetwork + ["ab", "-q", "-n", "4000", "-c", "8", "-s", "5", "http://\(ip)/"])
            #expect(ab.status == 0, "ab through \(ip): \(ab.stderr)")
            #expect(ab.stdout.contains("Failed requests:        0"), "\(ab.stdout)")
        }
        // The counter also counts a stray late segment of a connection already in TIME_WAIT (a
        // retransmitted ACK, harmless), which plain MASQUERADE sees 0–1 times here; --random-fully
        // gave 93–109 refused SYNs in these three rounds.
        let count = try refused() - before
        #expect(count <= 4, "the endpoint refused \(count) SYNs through the cluster IP as old duplicates")
    }

    @Test func clusterDNSAnswersServiceNames() throws {
        let (server, backends) = try Self.setUp(backends: 1)
        defer { server.stop() }
        let pod = backends[0]
        try server.kubectlOK("apply", "-f", "-", stdin: Self.service("web") + "\n---\n" + Self.endpoints("web", [pod.ip]))
        try server.kubectlOK("apply", "-f", "-", stdin: Self.service("db", extra: "  clusterIP: None") + """

            ---
            apiVersion: v1
            kind: Endpoints
            metadata:
              name: db
            subsets:
            - addresses:
              - ip: \(pod.ip)
                hostname: db-0
              ports:
              - name: http
                port: 8080
            """)
        let ip = try server.kubectlOK("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")
        func dig(_ name: String, from prefix: [String]? = nil) throws -> String {
            let result = try sh((prefix ?? server.inNetwork) + ["dig", "+time=2", "+tries=1", "+noall", "+answer", "+comments", "@10.96.0.10", name, "A"])
            return result.stdout
        }
        let podNetwork = ["/usr/bin/nsenter", "--net=/proc/\(pod.holder)/ns/net", "--"]
        #expect(try Self.eventually { try dig("web.default.svc.cluster.local").contains("\t" + ip) }, "no answer for the Service")
        #expect(try dig("web.default.svc.cluster.local", from: podNetwork).contains("\t" + ip), "from a pod")
        #expect(try dig("db.default.svc.cluster.local").contains("\t" + pod.ip), "headless Service")
        #expect(try dig("db-0.db.default.svc.cluster.local").contains("\t" + pod.ip), "endpoint hostname")
        #expect(try dig("nosuch.default.svc.cluster.local").contains("status: NXDOMAIN"))
        try server.kubectlOK("delete", "svc", "web")
        #expect(try Self.eventually { try dig("web.default.svc.cluster.local").contains("status: NXDOMAIN") }, "name kept after the Service went")
    }

    @Test func allocationKeepsAddressesUniqueAndStable() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        // A server without Services leaves the host's iptables and links alone.
        usleep(300_000)
        #expect(try !sh(server.inNetwork + ["iptables-save"]).stdout.contains("BERTH-"), "chains installed without a Service")
        #expect(try !sh(server.inNetwork + ["ip", "link"]).stdout.contains("berth-svc0"), "service link made without a Service")
        try server.kubectlOK("apply", "-f", "-", stdin: Self.service("one"))
        try server.kubectlOK("apply", "-f", "-", stdin: Self.service("two", extra: "  type: NodePort"))
        let one = try server.kubectlOK("get", "svc", "one", "-o", "jsonpath={.spec.clusterIP}")
        let two = try server.kubectlOK("get", "svc", "two", "-o", "jsonpath={.spec.clusterIP}")
        #expect(one != two && one.hasPrefix("10.96.") && two.hasPrefix("10.96."))
        let nodePort = Int(try server.kubectlOK("get", "svc", "two", "-o", "jsonpath={.spec.ports[0].nodePort}")) ?? 0
        #expect((30000...32767).contains(nodePort))
        // kubectl get's columns as on a cluster.
        let table = try server.kubectlOK("get", "svc", "one", "two")
        let lines = table.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(lines.first == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], "\(table)")
        #expect(lines.dropFirst().first?.prefix(5) == ["one", "ClusterIP", one, "<none>", "80/TCP"], "\(table)")
        #expect(lines.dropFirst(2).first?.prefix(5) == ["two", "NodePort", two, "<none>", "80:\(nodePort)/TCP"], "\(table)")
        // Re-apply (the manifest has no clusterIP) and replace keep the addresses.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.service("one", extra: "  selector:\n    app: one"))
        try server.kubectlOK("replace", "-f", "-", stdin: Self.service("two", extra: "  type: NodePort"))
        #expect(try server.kubectlOK("get", "svc", "one", "-o", "jsonpath={.spec.clusterIP}") == one)
        #expect(try server.kubectlOK("get", "svc", "two", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}") == "\(two) \(nodePort)")
        // Taken addresses and ports are refused as the apiserver refuses them; changing one too.
        let taken = try server.kubectl(["apply", "-f", "-"], stdin: Self.service("three", extra: "  clusterIP: \(one)"))
        #expect(taken.status != 0 && taken.stderr.contains("provided IP is already allocated"), "\(taken.stderr)")
        let port = try server.kubectl(["apply", "-f", "-"], stdin: """
            apiVersion: v1
            kind: Service
            metadata:
              name: four
            spec:
              type: NodePort
              ports:
              - port: 80
                nodePort: \(nodePort)
            """)
        #expect(port.status != 0 && port.stderr.contains("provided port is already allocated"), "\(port.stderr)")
        let moved = try server.kubectl(["patch", "svc", "one", "-p", #"{"spec":{"clusterIP":"10.96.200.200","clusterIPs":["10.96.200.200"]}}"#])
        #expect(moved.status != 0 && moved.stderr.contains("may not change once set"), "\(moved.stderr)")
        let invalid = try server.kubectl(["apply", "-f", "-"], stdin: """
            apiVersion: v1
            kind: Service
            metadata:
              name: bad
            spec:
              type: Magic
              ports:
              - port: 0
            """)
        #expect(invalid.status != 0 && invalid.stderr.contains("spec.ports[0].port") && invalid.stderr.contains("spec.type"), "\(invalid.stderr)")
        // Deleting a Service frees its address for the next that asks for it.
        try server.kubectlOK("delete", "svc", "one")
        try server.kubectlOK("apply", "-f", "-", stdin: Self.service("five", extra: "  clusterIP: \(one)"))
    }
}

extension KubeServer {
    /// GET with curl from the server's network namespace: the body, or nil when it failed.
    func get(_ url: String) throws -> String? {
        let result = try sh(inNetwork + ["curl", "-s", "--max-time", "2", url])
        return result.status == 0 ? result.stdout : nil
    }
}
