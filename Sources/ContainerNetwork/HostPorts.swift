import Glibc
import LinuxSys

/// Published ports (`-p`) as DNAT rules, written by Berth itself in one `iptables-restore` per
/// container start and one per removal. The CNI portmap plugin does the same job with a chain per
/// container and some twenty iptables commands (60 ms to add, 120 ms to remove here), which was
/// most of a published container's start-to-removal time.
///
/// The layout, all in the nat table:
/// - `BERTH-HOSTPORTS`, reached from PREROUTING (traffic from outside) and OUTPUT (the host's own,
///   127.0.0.1 included) for packets addressed to one of the host's addresses;
/// - in it, one DNAT rule per published port, tagged `berth:<container short id>`;
/// - per network (`HostFirewall`): masquerading of what the host sends into the bridge after DNAT
///   (so replies to 127.0.0.1 come back through the host) and of hairpin traffic, a container
///   reaching itself or a neighbour through a published port.
public enum HostPorts {
    static let chain = "BERTH-HOSTPORTS"

    /// The rules of one container's published ports, as `iptables-restore` lines without the `-A`
    /// or `-D` in front. Recorded in the attachment before they are added, so the removal deletes
    /// exactly these even after a crash.
    public static func rules(_ ports: [PortMapping], containerIP: String, containerID: String) -> [String] {
        ports.map { port in
            var rule = chain
            if !port.hostIP.isEmpty { rule += " -d \(port.hostIP)/32" }
            rule += " -p \(port.proto) -m \(port.proto) --dport \(port.hostPort)"
            rule += " -m comment --comment berth:\(containerID.prefix(12))"
            rule += " -j DNAT --to-destination \(containerIP):\(port.containerPort)"
            return rule
        }
    }

    /// Adds the rules, all or none. `marker` (in /run) says the chain and its jumps are in place
    /// this boot; if they have gone since (someone flushed the nat table) the chain is made again.
    public static func add(_ rules: [String], bridge: String, marker: String) throws(NetworkError) {
        guard !rules.isEmpty else { return }
        // Packets from 127.0.0.1 may leave through the bridge only with route_localnet on it.
        _ = try? FS.writeFile("/proc/sys/net/ipv4/conf/\(bridge)/route_localnet", "1")
        try ensureChain(marker: marker)
        var result = try restore(rules.map { "-A " + $0 })
        if result.status != 0 {
            _ = unlink(marker)
            try ensureChain(marker: marker)
            result = try restore(rules.map { "-A " + $0 })
        }
        guard result.status == 0 else {
            throw NetworkError("publish ports (iptables-restore): \(String(decoding: result.stderr, as: UTF8.self).trimmingTrailingNewlines())")
        }
    }

    /// Deletes the rules. One transaction when all are there; else (a flushed table, a rule
    /// deleted by hand, a crash before they were added) one by one, skipping those that are gone.
    public static func remove(_ rules: [String]) {
        guard !rules.isEmpty else { return }
        if let result = try? restore(rules.map { "-D " + $0 }), result.status == 0 { return }
        for rule in rules {
            _ = try? restore(["-D " + rule])
        }
    }

    /// `remove` in two halves, so the removal runs while the caller does other work (the
    /// supervisor's teardown releases addresses meanwhile).
    public struct Removal {
        var rules: [String]
        var process: PluginProcess.Running?

        public func finish() {
            guard !rules.isEmpty else { return }
            if let process, process.wait().status == 0 { return }
            for rule in rules { _ = try? restore(["-D " + rule]) }
        }
    }

    public static func startRemoval(_ rules: [String]) -> Removal {
        guard !rules.isEmpty else { return Removal(rules: [], process: nil) }
        return Removal(rules: rules, process: try? startRestore(rules.map { "-D " + $0 }))
    }

    /// The chain and the jumps to it, once per boot (serialised: two first containers at once
    /// must not both insert the jumps).
    static func ensureChain(marker: String) throws(NetworkError) {
        if access(marker, F_OK) == 0 { return }
        let lock: Int32
        do { lock = try FS.open(marker + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o600) } catch {
            throw NetworkError("lock \(marker).lock", error)
        }
        defer { FS.close(lock) }
        while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        if access(marker, F_OK) == 0 { return }
        if try HostFirewall.iptables(["-t", "nat", "-S", chain]).status != 0 {
            let made = try HostFirewall.iptables(["-t", "nat", "-N", chain])
            guard made.status == 0 else {
                throw NetworkError("create iptables chain \(chain): \(String(decoding: made.stderr, as: UTF8.self).trimmingTrailingNewlines())")
            }
        }
        // route_localnet lets 127.0.0.0/8 in from outside lo (CVE-2020-8558); only the host's own
        // connections to a port published on 127.0.0.1 may be DNAT'd, so the rest is dropped
        // before NAT sees it (a LAN neighbour routing 127.0.0.1 via this host, a container).
        let loopback = ["-d", "127.0.0.0/8", "!", "-i", "lo", "-m", "comment", "--comment", "berth:loopback", "-j", "DROP"]
        if try HostFirewall.iptables(["-t", "raw", "-C", "PREROUTING"] + loopback).status != 0 {
            let added = try HostFirewall.iptables(["-t", "raw", "-I", "PREROUTING", "1"] + loopback)
            guard added.status == 0 else {
                throw NetworkError("raw PREROUTING drop of 127.0.0.0/8: \(String(decoding: added.stderr, as: UTF8.self).trimmingTrailingNewlines())")
            }
        }
        for hook in ["PREROUTING", "OUTPUT"] {
            let jump = ["-m", "addrtype", "--dst-type", "LOCAL", "-j", chain]
            if try HostFirewall.iptables(["-t", "nat", "-C", hook] + jump).status == 0 { continue }
            let added = try HostFirewall.iptables(["-t", "nat", "-I", hook, "1"] + jump)
            guard added.status == 0 else {
                throw NetworkError("jump from nat \(hook) to \(chain): \(String(decoding: added.stderr, as: UTF8.self).trimmingTrailingNewlines())")
            }
        }
        try? FS.writeFileAtomically(marker, [], mode: 0o600)
    }

    static func restore(_ lines: [String]) throws(NetworkError) -> PluginProcess.Output {
        try startRestore(lines).wait()
    }

    static func startRestore(_ lines: [String]) throws(NetworkError) -> PluginProcess.Running {
        let binary = try HostFirewall.binary("iptables-restore")
        // Defence in depth: a value with a line break or quote would add rules of its own.
        for line in lines where line.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") }) {
            throw NetworkError("publish ports: refused iptables rule with a control character or quote: \(line.debugDescription)")
        }
        let input = "*nat\n" + lines.joined(separator: "\n") + "\nCOMMIT\n"
        return try PluginProcess.start([binary, "--noflush", "-w", "10"], environment: HostFirewall.environment,
                                       input: Array(input.utf8))
    }
}
