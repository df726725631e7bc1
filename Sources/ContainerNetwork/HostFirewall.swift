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

    /// Puts the network's rules in place (first in FORWARD, so they come before a DROP of
    /// dockerd's): in one `iptables-restore --noflush` transaction per table, the rules tagged for
    /// the network now (some, all, or twice) are deleted and the whole set inserted, so traffic of
    /// running containers never sees the table without them. `marker` is a file in /run: once the
    /// rules are in for this boot, later containers skip this.
    public static func ensure(_ network: BridgeNetwork, marker: String) throws(NetworkError) {
        if access(marker, F_OK) == 0 { return }
        // The default network is every root's: engines with other run roots (other markers)
        // may do this at the same moment, and a delete of a line the other just deleted would
        // fail the whole transaction.
        let lock = hostLock()
        defer { if lock >= 0 { FS.close(lock) } }
        var byTable: [String: [String]] = [:]
        for (table, line) in try taggedRules(network) { byTable[table, default: []].append("-D " + line) }
        // Inserted at the top in reverse, so they stand in the list's order above everything else.
        for rule in rules(network).reversed() {
            let verb = rule.table != "nat" ? "-I \(rule.chain) 1" : "-A \(rule.chain)"
            byTable[rule.table, default: []].append(verb + " " + rule.spec.joined(separator: " "))
        }
        let result = try restore(byTable)
        guard result.status == 0 else {
            throw NetworkError("iptables rules for network \(network.name): \(String(decoding: result.stderr, as: UTF8.self).trimmingTrailingNewlines())")
        }
        try? FS.writeFileAtomically(marker, [], mode: 0o600)
    }

    /// Removes every rule tagged for the network, however often it stands there: one
    /// `iptables-save`, one `iptables-restore` deleting exactly the lines it listed.
    public static func remove(_ network: BridgeNetwork, marker: String) {
        _ = unlink(marker)
        let lock = hostLock()
        defer { if lock >= 0 { FS.close(lock) } }
        guard let tagged = try? taggedRules(network), !tagged.isEmpty else { return }
        var byTable: [String: [String]] = [:]
        for (table, line) in tagged { byTable[table, default: []].append("-D " + line) }
        if let result = try? restore(byTable), result.status == 0 { return }
        // Changed meanwhile (another engine's removal): rule by rule, each as often as it stands.
        for rule in rules(network) {
            for _ in 0..<8 {
                guard let result = try? iptables(["-t", rule.table, "-D", rule.chain] + rule.spec), result.status == 0 else { break }
            }
        }
    }

    /// An exclusive lock for changes to Berth's network rules, for the whole host (-1 if none can
    /// be had: the transaction then fails cleanly, or the removal goes rule by rule).
    static func hostLock() -> Int32 {
        guard let fd = try? FS.open("/run/berth-firewall.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode: 0o600) else { return -1 }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        return fd
    }

    /// The rules tagged `berth:<network id>`, as `iptables-save` prints them (`CHAIN spec...`
    /// without the `-A`), with their tables.
    static func taggedRules(_ network: BridgeNetwork) throws(NetworkError) -> [(table: String, line: String)] {
        let saved = try tool("iptables-save", [], input: [])
        guard saved.status == 0 else {
            throw NetworkError("iptables-save: \(String(decoding: saved.stderr, as: UTF8.self).trimmingTrailingNewlines())")
        }
        // iptables-save quotes the comment (nf_tables) or not (legacy); the tag has no space, so
        // the bare form is the same rule for restore.
        let bare = "--comment berth:\(network.shortID)"
        let quoted = "--comment \"berth:\(network.shortID)\""
        var table = ""
        var found: [(table: String, line: String)] = []
        for text in String(decoding: saved.stdout, as: UTF8.self).split(separator: "\n") {
            if text.hasPrefix("*") { table = String(text.dropFirst()); continue }
            guard text.hasPrefix("-A ") else { continue }
            let line = String(text.dropFirst(3)).replacing(quoted, with: bare)
            guard line.hasSuffix(" " + bare) || line.contains(" " + bare + " ") else { continue }
            found.append((table, line))
        }
        return found
    }

    /// One `iptables-restore --noflush` of `lines` by table: each table is one transaction.
    static func restore(_ lines: [String: [String]]) throws(NetworkError) -> PluginProcess.Output {
        var input = ""
        let order = ["raw", "mangle", "filter", "nat"]
        let tables = order.filter { lines[$0] != nil } + lines.keys.filter { !order.contains($0) }.sorted()
        for table in tables where lines[table]?.isEmpty == false {
            // Defence in depth: a value with a line break or quote would add rules of its own.
            for line in lines[table]! where line.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") }) {
                throw NetworkError("refused iptables rule with a control character or quote: \(line.debugDescription)")
            }
            input += "*\(table)\n" + lines[table]!.joined(separator: "\n") + "\nCOMMIT\n"
        }
        if input.isEmpty { return PluginProcess.Output(status: 0, stdout: [], stderr: []) }
        return try tool("iptables-restore", ["--noflush", "-w", "10"], input: Array(input.utf8))
    }

    static func tool(_ name: String, _ arguments: [String], input: [UInt8]) throws(NetworkError) -> PluginProcess.Output {
        try PluginProcess.run([try binary(name)] + arguments, environment: environment, input: input)
    }

    /// Where Debian puts the iptables tools (iptables, iptables-save, iptables-restore).
    static func binary(_ name: String) throws(NetworkError) -> String {
        let candidates: [String] = ["/usr/sbin/", "/sbin/", "/usr/bin/"].map { $0 + name }
        guard let binary = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw NetworkError("\(name) not found (Debian: apt-get install iptables)")
        }
        return binary
    }

    /// The tools run some helpers (modprobe) found on the usual path.
    static let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]

    static func iptables(_ arguments: [String]) throws(NetworkError) -> PluginProcess.Output {
        try tool("iptables", ["-w", "10"] + arguments, input: [])
    }
}
