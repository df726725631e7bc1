import Glibc
import LinuxSys

/// The iptables rules a bridge network needs on the host, installed once per network (as Docker
/// installs its per-network rules) rather than per container: masquerading of traffic leaving the
/// subnet, and forwarding to and from the bridge even where the FORWARD policy is DROP (as dockerd
/// leaves it). An internal network gets no masquerading and is cut off from other interfaces.
/// Every rule carries the comment `berth:<network id>` so removal finds exactly ours.
public enum HostFirewall {
    /// The rules, in the order they stand in their chains (Docker's model): traffic within the
    /// network; nothing into another network's bridge; the rest out (masqueraded); back in only
    /// replies and published ports (DNAT), so a container's other ports are not reachable through
    /// the host's routing.
    static func rules(_ network: BridgeNetwork) -> [(table: String, chain: String, spec: [String])] {
        let tag = ["-m", "comment", "--comment", "berth:\(network.shortID)"]
        let bridge = network.bridge
        var rules: [(table: String, chain: String, spec: [String])] = [
            // route_localnet on the bridge (HostPorts) would let a container reach the host's
            // 127.0.0.1 services with a crafted frame (CVE-2020-8558): dropped before routing.
            ("raw", "PREROUTING", ["-i", bridge, "-d", "127.0.0.0/8"] + tag + ["-j", "DROP"]),
            ("filter", "FORWARD", ["-i", bridge, "-o", bridge] + tag + ["-j", "ACCEPT"]),
        ]
        if network.internal {
            return rules + [
                ("filter", "FORWARD", ["-i", bridge, "!", "-o", bridge] + tag + ["-j", "DROP"]),
                ("filter", "FORWARD", ["-o", bridge, "!", "-i", bridge] + tag + ["-j", "DROP"]),
            ]
        }
        rules.append(("filter", "FORWARD", ["-i", bridge, "-o", "br-+"] + tag + ["-j", "DROP"]))
        if bridge != "berth0" { rules.append(("filter", "FORWARD", ["-i", bridge, "-o", "berth0"] + tag + ["-j", "DROP"])) }
        rules += [
            ("filter", "FORWARD", ["-i", bridge] + tag + ["-j", "ACCEPT"]),
            ("filter", "FORWARD", ["-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"] + tag + ["-j", "ACCEPT"]),
            ("filter", "FORWARD", ["-o", bridge, "-m", "conntrack", "--ctstate", "DNAT"] + tag + ["-j", "ACCEPT"]),
            // Anything else routed in (a neighbour to an unpublished port) is refused, whatever the policy.
            ("filter", "FORWARD", ["-o", bridge] + tag + ["-j", "DROP"]),
            ("nat", "POSTROUTING", ["-s", network.subnet, "!", "-o", bridge] + tag + ["-j", "MASQUERADE"]),
            // Published ports (HostPorts): the host's own connections, from 127.0.0.1 too, and a
            // container reaching one of the network through a host port, answered back the same way.
            ("nat", "POSTROUTING", ["-o", bridge, "-m", "addrtype", "--src-type", "LOCAL"] + tag + ["-j", "MASQUERADE"]),
            ("nat", "POSTROUTING", ["-s", network.subnet, "-o", bridge, "-m", "conntrack", "--ctstate", "DNAT"] + tag + ["-j", "MASQUERADE"]),
        ]
        return rules
    }

    /// Adds the rules that are missing (first in FORWARD, so they come before a DROP of dockerd's).
    /// `marker` is a file in /run: once the rules are in for this boot, later containers skip the checks.
    public static func ensure(_ network: BridgeNetwork, marker: String) throws(NetworkError) {
        if access(marker, F_OK) == 0 { return }
        // Inserted at the top in reverse, so they stand in the list's order above everything else.
        for rule in rules(network).reversed() {
            let check = try iptables(["-t", rule.table, "-C", rule.chain] + rule.spec)
            if check.status == 0 { continue }
            let insert = rule.table != "nat" ? ["-t", rule.table, "-I", rule.chain, "1"] : ["-t", rule.table, "-A", rule.chain]
            let added = try iptables(insert + rule.spec)
            guard added.status == 0 else {
                throw NetworkError("iptables rule for network \(network.name): \(String(decoding: added.stderr, as: UTF8.self).trimmingTrailingNewlines())")
            }
        }
        try? FS.writeFileAtomically(marker, [], mode: 0o600)
    }

    /// Removes every rule of the network (each as often as it was added).
    public static func remove(_ network: BridgeNetwork, marker: String) {
        _ = unlink(marker)
        for rule in rules(network) {
            for _ in 0..<8 {
                guard let result = try? iptables(["-t", rule.table, "-D", rule.chain] + rule.spec), result.status == 0 else { break }
            }
        }
    }

    static func iptables(_ arguments: [String]) throws(NetworkError) -> PluginProcess.Output {
        let candidates: [String] = ["/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"]
        let binary = candidates.first { access($0, X_OK) == 0 }
        guard let binary else { throw NetworkError("iptables not found (Debian: apt-get install iptables)") }
        return try PluginProcess.run([binary, "-w", "10"] + arguments, environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], input: [])
    }
}
