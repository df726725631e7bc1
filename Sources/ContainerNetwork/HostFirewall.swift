import Glibc
import LinuxSys

/// The iptables rules a bridge network needs on the host, installed once per network (as Docker
/// installs its per-network rules) rather than per container: masquerading of traffic leaving the
/// subnet, and forwarding to and from the bridge even where the FORWARD policy is DROP (as dockerd
/// leaves it). An internal network gets no masquerading and is cut off from other interfaces.
/// Every rule carries the comment `berth:<network id>` so removal finds exactly ours.
public enum HostFirewall {
    static func rules(_ network: BridgeNetwork) -> [(table: String, chain: String, spec: [String])] {
        let tag = ["-m", "comment", "--comment", "berth:\(network.shortID)"]
        let bridge = network.bridge
        if network.internal {
            return [
                ("filter", "FORWARD", ["-i", bridge, "-o", bridge] + tag + ["-j", "ACCEPT"]),
                ("filter", "FORWARD", ["-i", bridge, "!", "-o", bridge] + tag + ["-j", "DROP"]),
                ("filter", "FORWARD", ["-o", bridge, "!", "-i", bridge] + tag + ["-j", "DROP"]),
            ]
        }
        return [
            ("nat", "POSTROUTING", ["-s", network.subnet, "!", "-o", bridge] + tag + ["-j", "MASQUERADE"]),
            ("filter", "FORWARD", ["-i", bridge] + tag + ["-j", "ACCEPT"]),
            ("filter", "FORWARD", ["-o", bridge] + tag + ["-j", "ACCEPT"]),
        ]
    }

    /// Adds the rules that are missing (first in FORWARD, so they come before a DROP of dockerd's).
    /// `marker` is a file in /run: once the rules are in for this boot, later containers skip the checks.
    public static func ensure(_ network: BridgeNetwork, marker: String) throws(NetworkError) {
        if access(marker, F_OK) == 0 { return }
        for rule in rules(network) {
            let check = try iptables(["-t", rule.table, "-C", rule.chain] + rule.spec)
            if check.status == 0 { continue }
            let insert = rule.table == "filter" ? ["-t", rule.table, "-I", rule.chain, "1"] : ["-t", rule.table, "-A", rule.chain]
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
        return try PluginProcess.run([binary, "-w"] + arguments, environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], input: [])
    }
}
