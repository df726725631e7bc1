import ContainerNetwork
import Glibc
import LinuxSys

/// br_netfilter: frames a bridge forwards between its own ports (one Pod to another on the pod
/// bridge) reach iptables only while `bridge-nf-call-iptables` is 1 in the network namespace.
/// The NetworkPolicy rules turn it on; nothing turns it off, as dockerd and kube-proxy leave it
/// on too (Berth's bridge networks accept their in-bridge traffic first in FORWARD, so they
/// behave the same either way).
enum BridgeNetfilter {
    static let sysctl = "/proc/sys/net/bridge/bridge-nf-call-iptables"

    /// Makes sure bridged IPv4 traffic passes iptables: loads the module when the kernel has it
    /// as one, and sets the switch. Returns whether it had to change anything.
    @discardableResult
    static func enable() throws(NetworkError) -> Bool {
        var changed = false
        if access(sysctl, F_OK) != 0 {
            loadModule()
            guard access(sysctl, F_OK) == 0 else {
                throw NetworkError("NetworkPolicy needs br_netfilter, which this kernel does not have (\(sysctl) is missing after modprobe br_netfilter)")
            }
            changed = true
        }
        if ((try? FS.readText(sysctl)) ?? "").hasPrefix("1") { return changed }
        do { try FS.writeFile(sysctl, "1\n") } catch { throw NetworkError("set \(sysctl) to 1: \(error)") }
        return true
    }

    /// `modprobe br_netfilter`, waited for (its failure shows as the sysctl still missing).
    static func loadModule() {
        let candidates: [String] = ["/usr/sbin/modprobe", "/sbin/modprobe", "/usr/bin/modprobe", "/bin/modprobe"]
        guard let modprobe = candidates.first(where: { access($0, X_OK) == 0 }) else { return }
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(modprobe), strdup("br_netfilter"), nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, modprobe, nil, nil, argv, environ) == 0 else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
