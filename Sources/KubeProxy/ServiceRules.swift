/// The iptables rules for Services, as kube-proxy's iptables mode writes them, in chains of
/// Berth's own: the nat table sends a cluster IP (or a node port) to a per-service chain that picks
/// an endpoint at random (the statistic match; the `recent` match for ClientIP affinity) and
/// DNATs to it; service traffic is masqueraded, and a port without endpoints is refused (filter).
/// The whole set is one `iptables-restore --noflush` per table: chains declared are flushed and
/// refilled, chains of Services gone are deleted.
public enum ServiceRules {
    public static let servicesChain = "BERTH-SERVICES"
    static let nodePortsChain = "BERTH-NODEPORTS"
    static let postroutingChain = "BERTH-POSTROUTING"
    static let markChain = "BERTH-MARK-MASQ"
    static let forwardChain = "BERTH-FORWARD"
    /// The packet mark that asks for masquerading (kube-proxy's bit).
    static let masqueradeMark = "0x4000"
    static let jumpComment = "berth-kubernetes-services"

    /// `BERTH-SVC-…` / `BERTH-SEP-…`: a stable hash of what the chain is for, under iptables' 28 characters.
    static func chain(_ prefix: String, _ identity: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in identity.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16, uppercase: true)
        return prefix + String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func serviceChain(_ port: ServicePort) -> String { chain("BERTH-SVC-", "\(port.label)/\(port.proto)") }
    static func endpointChain(_ port: ServicePort, _ endpoint: ServicePort.Endpoint) -> String {
        chain("BERTH-SEP-", "\(port.label)/\(port.proto)/\(endpoint.ip):\(endpoint.port)")
    }

    /// The restore lines by table. `saved` is `iptables-save` of each table now (to find the jumps
    /// already in place and the chains of Services that are gone).
    public static func lines(_ ports: [ServicePort], saved: [String: String]) -> [String: [String]] {
        ["nat": natLines(ports, saved: saved["nat"] ?? ""), "filter": filterLines(ports, saved: saved["filter"] ?? "")]
    }

    static func natLines(_ ports: [ServicePort], saved: String) -> [String] {
        var chains = [servicesChain, nodePortsChain, postroutingChain, markChain]
        var rules: [String] = [
            "-A \(markChain) -j MARK --or-mark \(masqueradeMark)",
            "-A \(postroutingChain) -m mark ! --mark \(masqueradeMark)/\(masqueradeMark) -j RETURN",
            "-A \(postroutingChain) -j MARK --xor-mark \(masqueradeMark)",
            // Not --random-fully: with a random source port per connection, the new SYNs that land on an
            // endpoint's TIME_WAIT sockets (a server that closes first leaves thousands) are refused
            // (TcpExtPAWSTimewait) and retried after 1 s. Measured with wrk through DNAT + MASQUERADE to
            // busybox httpd: 4064, 2063, 994 requests/s in three 5 s rounds with it, 4-5 k without.
            "-A \(postroutingChain) -j MASQUERADE",
        ]
        for port in ports where !port.endpoints.isEmpty {
            let svc = serviceChain(port)
            chains.append(svc)
            let p = "-p \(port.proto) -m \(port.proto)"
            rules.append("-A \(servicesChain) -d \(port.clusterIP)/32 \(p) --dport \(port.port) -m comment --comment \(port.label) -j \(svc)")
            if let node = port.nodePort {
                rules.append("-A \(nodePortsChain) \(p) --dport \(node) -m comment --comment \(port.label) -j \(svc)")
            }
            for address in port.externalIPs {
                rules.append("-A \(servicesChain) -d \(address)/32 \(p) --dport \(port.port) -m comment --comment \(port.label)-external -j \(svc)")
            }
            // Every connection through a Service is masqueraded: the reply of an endpoint on the
            // same bridge as its client then comes back through the host, which undoes the DNAT.
            rules.append("-A \(svc) -j \(markChain)")
            if let seconds = port.affinitySeconds {
                for endpoint in port.endpoints {
                    let sep = endpointChain(port, endpoint)
                    rules.append("-A \(svc) -m recent --name \(sep) --mask 255.255.255.255 --rsource --rcheck --seconds \(seconds) --reap -j \(sep)")
                }
            }
            let count = port.endpoints.count
            for (index, endpoint) in port.endpoints.enumerated() {
                let sep = endpointChain(port, endpoint)
                chains.append(sep)
                if index < count - 1 {
                    rules.append("-A \(svc) -m statistic --mode random --probability \(probability(1, count - index)) -j \(sep)")
                } else {
                    rules.append("-A \(svc) -j \(sep)")
                }
                let affinity = port.affinitySeconds == nil ? "" : " -m recent --set --name \(sep) --mask 255.255.255.255 --rsource"
                rules.append("-A \(sep) \(p)\(affinity) -j DNAT --to-destination \(endpoint.ip):\(endpoint.port)")
            }
        }
        // Node ports: traffic to any of the host's own addresses.
        rules.append("-A \(servicesChain) -m addrtype --dst-type LOCAL -j \(nodePortsChain)")
        var jumps: [String] = []
        for (hook, target) in [("PREROUTING", servicesChain), ("OUTPUT", servicesChain), ("POSTROUTING", postroutingChain)]
        where !hasJump(saved, from: hook, to: target) {
            jumps.append("-I \(hook) 1 -m comment --comment \(jumpComment) -j \(target)")
        }
        return declarations(chains, saved: saved) + jumps + rules + deletions(chains, saved: saved)
    }

    static func filterLines(_ ports: [ServicePort], saved: String) -> [String] {
        let chains = [servicesChain, forwardChain]
        var rules: [String] = [
            // What the nat table marked for a Service is let through a DROP policy (dockerd's).
            "-A \(forwardChain) -m mark --mark \(masqueradeMark)/\(masqueradeMark) -j ACCEPT",
            "-A \(forwardChain) -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        ]
        for port in ports where port.endpoints.isEmpty {
            for address in [port.clusterIP] + port.externalIPs {
                rules.append("-A \(servicesChain) -d \(address)/32 -p \(port.proto) -m \(port.proto) --dport \(port.port) "
                             + "-m comment --comment \(port.label)-has-no-endpoints -j REJECT --reject-with icmp-port-unreachable")
            }
        }
        var jumps: [String] = []
        for (hook, target) in [("OUTPUT", servicesChain), ("FORWARD", servicesChain), ("FORWARD", forwardChain)]
        where !hasJump(saved, from: hook, to: target) {
            let state = target == servicesChain ? "-m conntrack --ctstate NEW " : ""
            jumps.append("-I \(hook) 1 \(state)-m comment --comment \(jumpComment) -j \(target)")
        }
        return declarations(chains, saved: saved) + jumps + rules
    }

    /// `1/n` as kube-proxy prints it (ten digits).
    static func probability(_ numerator: Int, _ denominator: Int) -> String {
        let value = Double(numerator) / Double(denominator)
        let scaled = Int((value * 1e10).rounded())
        let whole = scaled / 10_000_000_000, fraction = String(scaled % 10_000_000_000)
        return "\(whole)." + String(repeating: "0", count: 10 - fraction.count) + fraction
    }

    static func hasJump(_ saved: String, from hook: String, to target: String) -> Bool {
        saved.split(separator: "\n").contains { $0.hasPrefix("-A \(hook) ") && $0.hasSuffix("-j \(target)") }
    }

    /// Berth's chains that `iptables-save` lists.
    static func savedChains(_ saved: String) -> [String] {
        saved.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(":BERTH-SVC-") || line.hasPrefix(":BERTH-SEP-") else { return nil }
            return line.dropFirst().split(separator: " ").first.map(String.init)
        }
    }

    /// Every chain to fill, and every Service chain now in the table: declared, so flushed.
    static func declarations(_ chains: [String], saved: String) -> [String] {
        let stale = savedChains(saved).filter { !chains.contains($0) }
        return (chains + stale).map { ":\($0) - [0:0]" }
    }

    static func deletions(_ chains: [String], saved: String) -> [String] {
        savedChains(saved).filter { !chains.contains($0) }.map { "-X \($0)" }
    }
}
