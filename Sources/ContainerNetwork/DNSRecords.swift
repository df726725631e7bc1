import ContainerDNS
import Glibc
import LinuxSys

/// What the networks' DNS server (`berth-dns`, see ContainerDNS) answers: one directory per
/// network, keyed by the network's ID (the default network has the same ID under every root, as
/// it is the same bridge), holding the address the server listens on (the bridge's gateway) and
/// one record file per attached container. One server per host serves every network.
public enum DNSRecords {
    /// `BERTH_DNS_DIR`, else /run/berth-dns: shared by every engine root on the host. An engine in
    /// a network namespace of its own (a benchmark's, a test's) has a server of its own,
    /// /run/berth-dns.netns-INODE: a server answers only on the bridges of the namespace it runs
    /// in, so the host's cannot serve that namespace's networks, nor theirs the host's.
    /// Read once: a process's namespace does not change (a thread that enters another one for a
    /// moment, as NetworkNamespace.create does, is not /proc/self).
    public static let directory: String = {
        if let value = getenv("BERTH_DNS_DIR").map({ String(cString: $0) }), !value.isEmpty { return value }
        // The host's namespace is init's; where init's cannot be read (some sandboxes), that of the
        // kernel's threads (kthreadd, pid 2), which always run in it.
        var mine = stat(), host = stat()
        guard stat("/proc/self/ns/net", &mine) == 0,
              stat("/proc/1/ns/net", &host) == 0 || stat("/proc/2/ns/net", &host) == 0,
              mine.st_ino != host.st_ino else {
            return "/run/berth-dns"
        }
        return "/run/berth-dns.netns-\(mine.st_ino)"
    }()

    /// The names a container answers to on a network: its name, its short ID, its aliases.
    public static func names(containerName: String, containerID: String, aliases: [String]) -> [String] {
        var names = [containerName, String(containerID.prefix(12))]
        for alias in aliases where !names.contains(alias) { names.append(alias) }
        return names
    }

    /// Records the container's address and names, and makes sure a server answers on the network.
    /// Returns whether one does (without `berth-dns` the container gets the host's resolvers).
    @discardableResult
    public static func publish(_ directory: String, _ attachment: NetworkAttachment, names: [String], server: String?) -> Bool {
        guard let ip = attachment.ipAddress, let server else { return false }
        do {
            // Before the listen file: an internal network is never served as an ordinary one.
            try DNSConfig.setInternal(dir: directory, network: attachment.network.id, attachment.network.internal)
            try DNSConfig.setListen(dir: directory, network: attachment.network.id, address: attachment.network.gateway)
            try DNSConfig.setClients(dir: directory, network: attachment.network.id, subnet: attachment.network.subnet)
            try DNSConfig.setRecords(dir: directory, network: attachment.network.id, containerID: attachment.containerID,
                                     entries: [(ip: ip, names: names)])
            // `BERTH_DNS_RESOLV_CONF`: the upstream resolvers the server forwards to (default /etc/resolv.conf).
            let upstream = getenv("BERTH_DNS_RESOLV_CONF").map { String(cString: $0) }
            try DNSServerControl.ensureRunning(dir: directory, binary: server,
                                               arguments: upstream.map { ["--resolv-conf", $0] } ?? [])
        } catch {
            return false
        }
        DNSServerControl.reload(dir: directory)
        return true
    }

    public static func withdraw(_ directory: String, _ attachment: NetworkAttachment) {
        try? DNSConfig.removeRecords(dir: directory, network: attachment.network.id, containerID: attachment.containerID)
        DNSServerControl.reload(dir: directory)
    }

    public static func removeNetwork(_ directory: String, id: String) {
        try? DNSConfig.removeNetwork(dir: directory, network: id)
        DNSServerControl.reload(dir: directory)
    }
}
