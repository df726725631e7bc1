import ContainerNetwork
import ContainerSpec
import Glibc
import LinuxSys

/// The network of one build RUN step: a namespace of its own on the default bridge, as Docker's
/// builders give every RUN ("default" network mode). On the host's network a step could reach
/// the host's loopback services (a registry on 127.0.0.1:5000, a database) and its abstract
/// unix sockets; here it reaches what a container on the default bridge reaches.
public struct BuildNetwork: Sendable {
    /// The namespace the step's container joins.
    public let netns: String
    /// /etc/hosts and /etc/resolv.conf for the step, written beside its records.
    public let etcFiles: [String: String]
    let id: String
    let directory: String
    /// Held while the step runs: a directory whose lock is free belongs to a build that was killed.
    let lock: Int32
}

extension Engine {
    var buildNetworksDirectory: String { root + "/build-networks" }

    /// Attaches a fresh namespace to the default network for the build step `id` (the hostname the
    /// step sees goes into its hosts file). Leftovers of killed builds are torn down first.
    public func createBuildNetwork(id: String, hostname: String) throws(EngineError) -> BuildNetwork {
        let directory = buildNetworksDirectory + "/" + id
        let netns = netnsPath("build-" + id)
        let records = directory + "/networks"
        // Creation and the sweep take this lock, so a sweep never sees a directory whose owner
        // has not locked it yet.
        let global = try lockBuildNetworks()
        defer { FS.close(global) }
        sweepBuildNetworks()
        let lock: Int32
        do {
            try FS.mkdirAll(records, mode: 0o700)
            try FS.mkdirAll(runRoot + "/netns", mode: 0o755)
            lock = try FS.open(directory + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o600)
        } catch {
            throw .system("create the build step's network directory", error)
        }
        while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        do throws(EngineError) {
            let network = try defaultNetwork()
            do { try NetworkSandbox.create(netns: netns) } catch {
                throw .system("network namespace of the build step: \(error.message)")
            }
            var attachment: NetworkAttachment
            do {
                try HostFirewall.ensure(network, marker: firewallMarker(network))
                attachment = try NetworkSandbox.attach(network, containerID: id, netns: netns, ifname: "eth0", aliases: [], ports: [],
                                                       requestedIP: nil, recordDirectory: records,
                                                       hostPortsMarker: runRoot + "/networks/hostports.rules")
                // No names: the record only lets the network's DNS server answer (and forward for) the step.
                attachment.dnsServer = DNSRecords.publish(dnsDirectory, attachment, names: [], server: Executables.sibling("berth-dns"))
                try NetworkSandbox.update(attachment, recordDirectory: records)
            } catch {
                throw .system("attach the build step to network \(network.name): \(error.message)")
            }
            var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            if let ip = attachment.ipAddress { hosts += "\(ip)\t\(hostname)\n" }
            let resolv = Self.resolvConf(hostNetwork: false, dnsServer: attachment.dnsServer == true ? attachment.gateway : nil)
            do {
                try FS.writeFileAtomically(directory + "/hosts", Array(hosts.utf8), mode: 0o644)
                try FS.writeFileAtomically(directory + "/resolv.conf", Array(resolv.utf8), mode: 0o644)
            } catch {
                throw .system("write the build step's /etc files", error)
            }
            return BuildNetwork(netns: netns, etcFiles: ["/etc/hosts": directory + "/hosts", "/etc/resolv.conf": directory + "/resolv.conf"],
                                id: id, directory: directory, lock: lock)
        } catch {
            tearDownBuildNetwork(id: id)
            FS.close(lock)
            throw error
        }
    }

    /// Detaches the step's namespace, releases its address and forgets it.
    public func releaseBuildNetwork(_ network: BuildNetwork) {
        tearDownBuildNetwork(id: network.id)
        FS.close(network.lock)
    }

    /// The step's name records, addresses, namespace and directory; safe on a half-made one.
    func tearDownBuildNetwork(id: String) {
        let dns = dnsDirectory
        let directory = buildNetworksDirectory + "/" + id
        NetworkSandbox.tearDown(recordDirectory: directory + "/networks", netns: netnsPath("build-" + id)) { attachment in
            DNSControl.withdraw(dns, attachment)
        }
        FS.removeAll(directory)
    }

    /// Tears down what killed builds left: every directory whose lock nobody holds.
    func sweepBuildNetworks() {
        guard let ids = try? FS.list(path: buildNetworksDirectory) else { return }
        for id in ids where !id.hasPrefix(".") {
            let directory = buildNetworksDirectory + "/" + id
            guard let lock = try? FS.open(directory + "/lock", O_RDWR | O_CLOEXEC | O_NOFOLLOW) else {
                FS.removeAll(directory)
                continue
            }
            defer { FS.close(lock) }
            guard flock(lock, LOCK_EX | LOCK_NB) == 0 else { continue }
            tearDownBuildNetwork(id: id)
        }
    }

    func lockBuildNetworks() throws(EngineError) -> Int32 {
        do {
            try FS.mkdirAll(buildNetworksDirectory, mode: 0o700)
            let fd = try FS.open(buildNetworksDirectory + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode: 0o600)
            while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
            return fd
        } catch {
            throw .system("lock the build networks", error)
        }
    }
}
