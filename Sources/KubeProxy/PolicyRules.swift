/// The iptables rules for NetworkPolicies, in the filter table and chains of Berth's own. New
/// connections forwarded by the host (Pods on the pod bridge reach each other through FORWARD
/// once br_netfilter hands bridged frames to iptables) go to `BERTH-NETPOL`, which sends a packet
/// from an egress-isolated Pod to that Pod's `BERTH-NPE-…` chain and one to an ingress-isolated
/// Pod to its `BERTH-NPI-…` chain. Such a chain marks what one of the Pod's policies allows and
/// drops the rest: a connection must pass its source's egress and its destination's ingress.
/// Nothing here accepts: what passes goes on to the rules that were there (Berth's networks',
/// Docker's), and replies of allowed connections never enter (only conntrack's NEW state does).
/// Traffic from and to the host itself (the node) is not forwarded and so not filtered, as
/// Kubernetes leaves the node's own traffic to a Pod allowed (the kubelet's probes).
public enum PolicyRules {
    public static let chain = "BERTH-NETPOL"
    static let jumpComment = "berth-network-policies"
    /// The packet mark bit that says "allowed by a policy" inside a Pod's chain (cleared on the way out).
    static let allowMark = "0x10000"
    /// The jump from FORWARD, first in the chain, so no ACCEPT of another's comes before it.
    static let jump = "-m conntrack --ctstate NEW -m comment --comment \(jumpComment) -j \(chain)"

    static func podChainName(_ prefix: String, _ target: PolicyTarget) -> String {
        ServiceRules.chain(prefix, "\(target.label)/\(target.ip)")
    }

    /// The filter table's restore lines. `saved` is `iptables-save -t filter` now: the jump and the
    /// chains a previous pass left are replaced (or, without targets, removed).
    public static func lines(_ targets: [PolicyTarget], saved: String) -> [String] {
        let savedLines = saved.split(separator: "\n").map(String.init)
        let old = savedLines.compactMap { line -> String? in
            guard line.hasPrefix(":BERTH-NP") || line.hasPrefix(":" + chain + " ") else { return nil }
            return line.dropFirst().split(separator: " ").first.map(String.init)
        }
        // The jump, wherever it stands now, goes (and comes back first in FORWARD).
        let oldJumps = savedLines.filter { $0.hasPrefix("-A FORWARD ") && $0.hasSuffix("-j " + chain) }.map { "-D" + $0.dropFirst(2) }
        if targets.isEmpty {
            // Flushed (declared), then deleted: nothing of the policies stays.
            return oldJumps + old.map { ":\($0) - [0:0]" } + old.map { "-X \($0)" }
        }
        var chains = [chain]
        var rules: [String] = []
        var dispatch: [String] = []
        for target in targets {
            for (egress, allows) in [(true, target.egress), (false, target.ingress)] {
                guard let allows else { continue }
                let podChain = podChainName(egress ? "BERTH-NPE-" : "BERTH-NPI-", target)
                chains.append(podChain)
                let direction = egress ? "egress" : "ingress"
                let own = egress ? "-s" : "-d"
                dispatch.append("-A \(chain) \(own) \(target.ip)/32 -m comment --comment \(target.label)-\(direction) -j \(podChain)")
                rules.append("-A \(podChain) -j MARK --set-xmark 0x0/\(allowMark)")
                for (index, allow) in allows.enumerated() {
                    // The peer is the other end: the source of what comes in, the destination of what goes out.
                    let side = egress ? "-d" : "-s"
                    var match = ""
                    var action = "MARK --set-xmark \(allowMark)/\(allowMark)"
                    switch allow.peer {
                    case nil: break
                    case .address(let ip): match = "\(side) \(ip)/32 "
                    case .block(let cidr, let except):
                        match = "\(side) \(cidr) "
                        if !except.isEmpty {
                            // The excepted networks return before the mark.
                            let blockChain = ServiceRules.chain("BERTH-NPB-", "\(podChain)/\(index)")
                            chains.append(blockChain)
                            rules += except.map { "-A \(blockChain) \(side) \($0) -j RETURN" }
                            rules.append("-A \(blockChain) -j MARK --set-xmark \(allowMark)/\(allowMark)")
                            action = blockChain
                        }
                    }
                    let each: [PolicyTarget.Port?] = allow.ports.map { $0.map { Optional($0) } } ?? [nil]
                    for port in each {
                        rules.append("-A \(podChain) \(match)\(portMatch(port))-j \(action)")
                    }
                }
                rules.append("-A \(podChain) -m mark ! --mark \(allowMark)/\(allowMark) -m comment --comment \(target.label)-\(direction)-denied -j DROP")
                rules.append("-A \(podChain) -j MARK --set-xmark 0x0/\(allowMark)")
            }
        }
        let stale = old.filter { !chains.contains($0) }
        return (chains + stale).map { ":\($0) - [0:0]" } + oldJumps + ["-I FORWARD 1 " + jump] + dispatch + rules + stale.map { "-X \($0)" }
    }

    static func portMatch(_ port: PolicyTarget.Port?) -> String {
        guard let port else { return "" }
        guard let number = port.port else { return "-p \(port.proto) " }
        let range = port.endPort.map { $0 > number ? "\(number):\($0)" : "\(number)" } ?? "\(number)"
        return "-p \(port.proto) -m \(port.proto) --dport \(range) "
    }

    /// Whether the jump is FORWARD's first rule (another's insert at the top moved it down).
    public static func jumpIsFirst(_ saved: String) -> Bool {
        guard let first = saved.split(separator: "\n").first(where: { $0.hasPrefix("-A FORWARD ") }) else { return false }
        return first.hasSuffix("-j " + chain)
    }
}
