import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// One container's endpoint on one network, as recorded beside the container (persistently, so
/// that after a crash or a reboot a later command can still run the CNI DEL that releases it).
/// Written before the ADD (so a kill -9 during the ADD leaves something to delete) and again
/// with the result.
public struct NetworkAttachment: Codable, Sendable, Equatable {
    public var network: BridgeNetwork
    public var containerID: String
    public var netns: String
    public var ifname: String
    /// Names other containers on the network resolve to this one (`--network-alias`).
    public var aliases: [String]
    public var ports: [PortMapping]
    public var requestedIP: String?
    /// The configuration each plugin of the chain got, in ADD order (DEL runs them in reverse).
    public var pluginConfigs: [String]
    public var pluginTypes: [String]
    /// The chain's final result (raw CNI JSON), once the ADD completed.
    public var result: String?
    public var ipAddress: String?
    public var prefixLength: Int?
    public var gateway: String?
    public var macAddress: String?
    /// Whether the network's DNS server answers for it (else the container gets the host's resolvers).
    public var dnsServer: Bool?
    /// The published ports' DNAT rules (`HostPorts`), recorded before they are added.
    public var hostPortRules: [String]?
}

/// Sets up and tears down a container's networking with CNI plugins: a network namespace of its
/// own with `lo` up, and one veth per network on that network's bridge (bridge plugin
/// with host-local IPAM; published ports are Berth's own DNAT rules, `HostPorts`).
public enum NetworkSandbox {
    /// Creates the namespace, with its loopback interface up (an existing one is kept as it is).
    public static func create(netns: String) throws(NetworkError) {
        if !NetworkNamespace.exists(at: netns) {
            try NetworkNamespace.create(at: netns)
        }
    }

    /// Attaches the namespace to a network: interface `ifname`, an address from the network's range
    /// (or `requestedIP`), the interface's MAC address `mac` (else the kernel's), and `ports`
    /// published on the host. `hostPortsMarker`: see `HostPorts.add`.
    public static func attach(_ network: BridgeNetwork, containerID: String, netns: String, ifname: String,
                              aliases: [String], ports: [PortMapping], requestedIP: String?, mac: String? = nil,
                              recordDirectory: String, hostPortsMarker: String) throws(NetworkError) -> NetworkAttachment {
        let configs = [network.bridgeConfig(requestedIP: requestedIP, mac: mac)]
        let types = ["bridge"]
        var attachment = NetworkAttachment(network: network, containerID: containerID, netns: netns, ifname: ifname,
                                           aliases: aliases, ports: ports, requestedIP: requestedIP,
                                           pluginConfigs: configs, pluginTypes: types)
        let lock = try lockRecords(recordDirectory)
        defer { FS.close(lock) }
        try save(attachment, in: recordDirectory)
        var previous: [UInt8]?
        do {
            for (type, config) in zip(types, configs) {
                previous = try CNI.invoke(type, .add, containerID: containerID, netns: netns, ifname: ifname,
                                          config: withPreviousResult(config, previous))
            }
        } catch {
            // Undo what the chain did; the record goes with it.
            runDelete(attachment)
            _ = unlink(recordPath(recordDirectory, network))
            throw error
        }
        if let previous {
            let result = try CNIResult.decode(previous)
            attachment.result = String(decoding: previous, as: UTF8.self)
            if let ip = result.firstIPv4 {
                attachment.ipAddress = ip.address.description
                attachment.prefixLength = ip.prefix
                attachment.gateway = ip.gateway?.description
            }
            attachment.macAddress = result.containerInterface(ifname)?.mac
        }
        if !ports.isEmpty {
            guard let ip = attachment.ipAddress else {
                runDelete(attachment)
                _ = unlink(recordPath(recordDirectory, network))
                throw NetworkError("publish ports of \(containerID.prefix(12)): the bridge plugin gave no IPv4 address")
            }
            attachment.hostPortRules = HostPorts.rules(ports, containerIP: ip, containerID: containerID)
        }
        try save(attachment, in: recordDirectory)
        do {
            try HostPorts.add(attachment.hostPortRules ?? [], bridge: network.bridge, marker: hostPortsMarker)
        } catch {
            runDelete(attachment)
            _ = unlink(recordPath(recordDirectory, network))
            throw error
        }
        return attachment
    }

    /// Saves what the engine learnt after the ADD (whether DNS answers for it).
    public static func update(_ attachment: NetworkAttachment, recordDirectory: String) throws(NetworkError) {
        let lock = try lockRecords(recordDirectory)
        defer { FS.close(lock) }
        try save(attachment, in: recordDirectory)
    }

    /// Runs the DEL of one attachment and forgets it.
    public static func detach(_ attachment: NetworkAttachment, recordDirectory: String) {
        guard let lock = try? lockRecords(recordDirectory) else { return }
        defer { FS.close(lock) }
        runDelete(attachment)
        _ = unlink(recordPath(recordDirectory, attachment.network))
    }

    /// Every attachment of the container, then its namespace: what stop, rm and a crashed
    /// container's cleanup run. Safe to run twice, or after a reboot (DEL releases the leases).
    public static func tearDown(recordDirectory: String, netns: String, each: (NetworkAttachment) -> Void = { _ in }) {
        beginTearDown(recordDirectory: recordDirectory, netns: netns, each: each).finish()
    }

    /// A teardown whose plugins are still running: the caller does its own cleanup meanwhile
    /// (the supervisor unmounts the rootfs) and then calls `finish()`.
    public struct TearDown {
        var lock: Int32?
        var recordDirectory: String
        var running: [(attachment: NetworkAttachment, release: CNI.Pending?)]
        var portRemovals: [HostPorts.Removal]

        public func finish() {
            for removal in portRemovals { removal.finish() }
            for (attachment, release) in running {
                _ = try? release?.finish()
                _ = unlink(recordPath(recordDirectory, attachment.network))
            }
            if let lock { FS.close(lock) }
        }
    }

    public static func beginTearDown(recordDirectory: String, netns: String, each: (NetworkAttachment) -> Void = { _ in }) -> TearDown {
        let lock = FS.exists(recordDirectory) ? try? lockRecords(recordDirectory) : nil
        let all = Array(attachments(in: recordDirectory).reversed())
        // Names first: a kill -9 after a record is gone must not leave a name pointing at an
        // address the next container may get.
        for attachment in all { each(attachment) }
        // The namespace next: with nothing left in it the kernel destroys it and its veths in
        // the background. Deleting each veth in the foreground first would cost a quarter of a
        // container's start-to-removal time.
        NetworkNamespace.remove(at: netns)
        var running: [(attachment: NetworkAttachment, release: CNI.Pending?)] = []
        var portRemovals: [HostPorts.Removal] = []
        for attachment in all {
            portRemovals.append(HostPorts.startRemoval(attachment.hostPortRules ?? []))
            if attachment.pluginTypes == ["bridge"], !NetworkNamespace.exists(at: attachment.netns) {
                // With the namespace gone the bridge plugin's DEL does nothing but its IPAM DEL
                // (CNI's DEL tolerates a missing namespace), so host-local is called directly:
                // one plugin process instead of two, and all networks' at once.
                if let release = try? CNI.start("host-local", .del, containerID: attachment.containerID, netns: attachment.netns,
                                                ifname: attachment.ifname, config: Array(attachment.pluginConfigs[0].utf8)) {
                    running.append((attachment, release))
                    continue
                }
                runPluginDeletes(attachment)
                running.append((attachment, nil))
            } else {
                runPluginDeletes(attachment)
                running.append((attachment, nil))
            }
        }
        return TearDown(lock: lock, recordDirectory: recordDirectory, running: running, portRemovals: portRemovals)
    }

    public static func attachments(in recordDirectory: String) -> [NetworkAttachment] {
        guard let names = try? FS.list(path: recordDirectory) else { return [] }
        let records = names.filter { $0.hasSuffix(".json") }.compactMap { name -> NetworkAttachment? in
            guard let bytes = try? FS.readFile(recordDirectory + "/" + name) else { return nil }
            return try? JSONTreeDecoder.decode(NetworkAttachment.self, from: bytes)
        }
        // In interface order: eth0 first.
        return records.sorted { $0.ifname.count != $1.ifname.count ? $0.ifname.count < $1.ifname.count : $0.ifname < $1.ifname }
    }

    static func runDelete(_ attachment: NetworkAttachment) {
        HostPorts.remove(attachment.hostPortRules ?? [])
        runPluginDeletes(attachment)
    }

    static func runPluginDeletes(_ attachment: NetworkAttachment) {
        let result = attachment.result.map { Array($0.utf8) }
        for (type, config) in zip(attachment.pluginTypes, attachment.pluginConfigs).reversed() {
            // A DEL that fails (the namespace is already gone, say) must not stop the others.
            _ = try? CNI.invoke(type, .del, containerID: attachment.containerID, netns: attachment.netns,
                                ifname: attachment.ifname, config: withPreviousResult(config, result))
        }
    }

    static func recordPath(_ directory: String, _ network: BridgeNetwork) -> String {
        directory + "/" + network.id + ".json"
    }

    static func save(_ attachment: NetworkAttachment, in directory: String) throws(NetworkError) {
        do {
            try FS.writeFileAtomically(recordPath(directory, attachment.network), try JSONTreeEncoder.encode(attachment), mode: 0o600)
        } catch {
            throw NetworkError("record the attachment of \(attachment.containerID.prefix(12)) to \(attachment.network.name)", error)
        }
    }

    /// Serialises changes to one container's attachments (the supervisor's cleanup and an `rm -f`
    /// may run at once).
    static func lockRecords(_ directory: String) throws(NetworkError) -> Int32 {
        do {
            try FS.mkdirAll(directory, mode: 0o700)
            let fd = try FS.open(directory + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o600)
            // Bounded: the holder runs plugins that are themselves killed after two minutes.
            let deadline = MonotonicClock.seconds() + 150
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                guard errno == EWOULDBLOCK || errno == EINTR, MonotonicClock.seconds() < deadline else {
                    let error = SysError("flock", directory + "/.lock")
                    FS.close(fd)
                    throw error
                }
                usleep(5_000)
            }
            return fd
        } catch {
            throw NetworkError("lock \(directory)", error)
        }
    }

    /// Whether a host process already listens on the port (the bind a docker-proxy would make).
    public static func portIsFree(_ port: Int, proto: String, hostIP: String) -> Bool {
        let type = proto == "udp" ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        let fd = socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return true }
        defer { FS.close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = (IPv4Address(hostIP)?.value ?? 0).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return bound == 0 || errno != EADDRINUSE
    }

    /// A host port nobody uses now, for `-p 80` and `-P` (the kernel's choice from its ephemeral range).
    public static func freePort(proto: String) -> Int? {
        let type = proto == "udp" ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        let fd = socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { FS.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
