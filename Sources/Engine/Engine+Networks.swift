import ContainerRuntime
import ContainerSpec
import Glibc
import LinuxSys
import ContainerNetwork
import OCI
import Supervisor

/// Networks: the default bridge (made on first use), user-defined bridges, and each container's
/// attachments to them through CNI plugins.
///
///     <root>/networks/ipam/<name>/            host-local's leases of a user network
///     /var/lib/cni/berth/bridge/              the default network's leases (shared by every root,
///                                             as the bridge berth0 is)
///     <root>/containers/<id>/networks/        the container's attachments (CNI configs + results)
///     <runroot>/netns/<id>                    the container's network namespace (bind mount)
///     /run/berth-dns/<network id>/            what the DNS server answers (see ContainerDNS; one
///                                             server for the host, as one bridge per network)
extension Engine {
    public static let defaultNetworkName = "bridge"
    /// The names Docker reserves: `network create` refuses them and `rm` cannot remove them.
    static let predefinedNetworks = ["bridge", "host", "none"]

    func netnsPath(_ id: String) -> String { runRoot + "/netns/" + id }
    func networkRecordDirectory(_ id: String) -> String { containerDirectory(id) + "/networks" }
    func firewallMarker(_ network: BridgeNetwork) -> String { runRoot + "/networks/" + network.id + ".rules" }
    var dnsDirectory: String { DNSRecords.directory }

    /// The default network, the same on every root (one bridge, `berth0`, as Docker has `docker0`):
    /// 10.87.0.0/16 unless the host already routes it, then the first free subnet of the pool.
    public func defaultNetwork() throws(EngineError) -> BridgeNetwork {
        if let existing = try networkRecords.lookup(Self.defaultNetworkName) { return existing }
        var subnet = IPv4Subnet(network: IPv4Address(10 << 24 | 87 << 16), prefix: 16)
        let routes = IPv4Subnet.hostRoutes()
        if routes.contains(where: { $0.overlaps(subnet) }) && !Self.bridgeExists("berth0") {
            guard let free = IPv4Subnet.choose(defaultNetwork: true, avoiding: routes + ((try? networkRecords.all()) ?? []).compactMap { try? IPv4Subnet(parsing: $0.subnet) }) else {
                throw .system("no free subnet for the default network")
            }
            subnet = free
        }
        let network = BridgeNetwork(id: "b3e7f10a" + String(repeating: "0", count: 56), name: Self.defaultNetworkName, bridge: "berth0",
                                    subnet: subnet.description, gateway: subnet.firstHost.description, internal: false,
                                    labels: [:], created: Clock.rfc3339Nano(), ipamDirectory: "/var/lib/cni/berth")
        return try networkRecords.insert(network, ifMissing: true)
    }

    /// Asked of this network namespace (an ioctl on a socket made here), not of /sys/class/net,
    /// which shows the namespace /sys was mounted in: an engine in a namespace of its own
    /// (`unshare --net`, bench/api) would never see its bridges and leave them behind on rm.
    static func bridgeExists(_ name: String) -> Bool { if_nametoindex(name) != 0 }

    // MARK: - network create / ls / inspect / rm / prune

    public struct NetworkCreateOptions: Sendable {
        public var name: String
        public var driver = "bridge"
        public var subnet: String?
        public var gateway: String?
        public var `internal` = false
        /// `--ip-range`: where in the subnet containers' addresses come from.
        public var ipRange: String?
        public var attachable = false
        public var labels: [String: String] = [:]
        public init(name: String) { self.name = name }
    }

    public func createNetwork(_ options: NetworkCreateOptions) throws(EngineError) -> BridgeNetwork {
        guard options.driver == "bridge" else {
            throw .notFound("plugin \"\(options.driver)\" not found")
        }
        guard RunOptions.validName(options.name, minimumLength: 1) else {
            throw .invalid("invalid network name \"\(options.name)\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        }
        if Self.predefinedNetworks.contains(options.name) {
            throw .forbidden("operation is not permitted on predefined \(options.name) network ")
        }
        let others = try networkRecords.all()
        if others.contains(where: { $0.name == options.name }) {
            throw .conflict("network with name \(options.name) already exists")
        }
        let taken = others.compactMap { try? IPv4Subnet(parsing: $0.subnet) }
        let subnet: IPv4Subnet
        if let given = options.subnet {
            do { subnet = try IPv4Subnet(parsing: given) } catch { throw .invalid("\(error.message)") }
            if let clash = others.first(where: { (try? IPv4Subnet(parsing: $0.subnet))?.overlaps(subnet) == true }) {
                throw .conflict("Pool overlaps with other one on this address space (network \(clash.name) has \(clash.subnet))")
            }
        } else {
            guard let free = IPv4Subnet.choose(defaultNetwork: false, avoiding: IPv4Subnet.hostRoutes() + taken) else {
                throw .system("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")
            }
            subnet = free
        }
        var gateway = subnet.firstHost
        if let given = options.gateway {
            guard let address = IPv4Address(given), subnet.contains(address), address != subnet.network, address != subnet.last else {
                throw .invalid("invalid gateway \(given): it must be an address of subnet \(subnet)")
            }
            gateway = address
        }
        if let given = options.ipRange {
            // Docker's words: a range needs its subnet, and must lie inside it.
            guard options.subnet != nil else { throw .invalid("every ip-range or gateway must have a corresponding subnet") }
            guard let range = IPv4Subnet.cidr(given) else { throw .invalid("invalid ip-range \(given): expected an IPv4 CIDR such as 10.89.1.0/24") }
            guard subnet.contains(range.network), subnet.contains(range.last), range.prefix >= subnet.prefix else {
                throw .invalid("invalid pool request: Invalid Address Range: \(given) is not within \(subnet)")
            }
        }
        let id = Self.newID()
        var network = BridgeNetwork(id: id, name: options.name, bridge: "br-" + String(id.prefix(12)), subnet: subnet.description,
                                    gateway: gateway.description, internal: options.internal, labels: options.labels,
                                    created: Clock.rfc3339Nano(), ipamDirectory: root + "/networks/ipam")
        network.ipRange = options.ipRange
        network.attachable = options.attachable ? true : nil
        let inserted = try networkRecords.insert(network)
        recordNetworkEvent(inserted, "create")
        return inserted
    }

    /// Every network, the default one included (made here if it does not exist yet).
    public func networks() throws(EngineError) -> [BridgeNetwork] {
        _ = try defaultNetwork()
        return try networkRecords.all()
    }

    public func network(_ text: String) throws(EngineError) -> BridgeNetwork {
        if text == Self.defaultNetworkName { return try defaultNetwork() }
        guard let network = try networkRecords.lookup(text) else {
            throw .notFound("network \(text) not found")
        }
        return network
    }

    /// The containers on a network now, with their addresses (`network inspect`'s Containers).
    public func networkMembers(_ network: BridgeNetwork) throws(EngineError) -> [(container: Container, attachment: NetworkAttachment)] {
        var members: [(Container, NetworkAttachment)] = []
        for id in try networkRecords.containerIDs(networkID: network.id) {
            guard let container = (try? containers.lookup(id, name: id))?.first else { continue }
            if let attachment = NetworkSandbox.attachments(in: networkRecordDirectory(id)).first(where: { $0.network.id == network.id }) {
                members.append((container, attachment))
            }
        }
        // The default network's containers are recorded in each root; only this root's are ours.
        return members
    }

    public func removeNetwork(_ network: BridgeNetwork) throws(EngineError) {
        if Self.predefinedNetworks.contains(network.name) {
            throw .forbidden("\(network.name) is a pre-defined network and cannot be removed")
        }
        // Refused while in use; then the host's state goes first and the record last, so a kill -9
        // in between leaves a record a later `network rm` finishes.
        if try !networkRecords.containerIDs(networkID: network.id).isEmpty {
            throw .forbidden("error while removing network: network \(network.name) id \(network.id) has active endpoints")
        }
        HostFirewall.remove(network, marker: firewallMarker(network))
        if Self.bridgeExists(network.bridge) {
            let candidates: [String] = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
            guard let ip = candidates.first(where: { access($0, X_OK) == 0 }) else {
                throw .system("remove bridge \(network.bridge): ip not found (Debian: apt-get install iproute2)")
            }
            let status = (try? PluginProcessRunner.run([ip, "link", "delete", network.bridge, "type", "bridge"])) ?? -1
            if status != 0 && Self.bridgeExists(network.bridge) {
                throw .system("remove bridge \(network.bridge) of network \(network.name): ip exited with \(status)")
            }
        }
        FS.removeAll(network.ipamDirectory + "/" + network.name)
        DNSControl.removeNetwork(dnsDirectory, network)
        try networkRecords.remove(network)
        recordNetworkEvent(network, "destroy")
    }

    /// `network prune`: every user network no container is connected to.
    public func pruneNetworks() throws(EngineError) -> [String] {
        var removed: [String] = []
        for network in try networkRecords.all() where !Self.predefinedNetworks.contains(network.name) {
            guard try networkRecords.containerIDs(networkID: network.id).isEmpty else { continue }
            if (try? removeNetwork(network)) != nil { removed.append(network.name) }
        }
        return removed
    }

    // MARK: - Endpoints of a container

    /// What `create` records: the container's first network (nothing for host, none, container:).
    func recordPrimaryEndpoint(_ container: Container) throws(EngineError) {
        let network: BridgeNetwork
        switch container.options.network {
        case .default: network = try defaultNetwork()
        case .named(let name): network = try self.network(name)
        default: return
        }
        _ = try networkRecords.connect(NetworkEndpoint(containerID: container.id, networkID: network.id, aliases: container.options.net.aliases,
                                                       ipv4: container.options.net.ipv4, position: 0),
                                       networkName: network.name, containerName: container.name)
    }

    /// `network connect`: recorded, and attached now if the container runs.
    public func connect(_ container: Container, to network: BridgeNetwork, aliases: [String], ipv4: String?) throws(EngineError) {
        switch container.options.network {
        case .host, .none, .container:
            throw .conflict("container cannot be disconnected from host network or connected to host network")
        default: break
        }
        let endpoint = try networkRecords.connect(NetworkEndpoint(containerID: container.id, networkID: network.id, aliases: aliases, ipv4: ipv4, position: 0),
                                                  networkName: network.name, containerName: container.name)
        let current = status(container)
        guard current.isRunning, NetworkNamespace.exists(at: netnsPath(container.id)) else { return }
        do {
            _ = try attach(container, network, endpoint: endpoint, ports: [], ifname: "eth\(endpoint.position)")
            // The running container sees its new address in /etc/hosts (rewritten in place: it is bind-mounted).
            try? rewriteHosts(container, attachments: NetworkSandbox.attachments(in: networkRecordDirectory(container.id)))
        } catch {
            _ = try? networkRecords.disconnect(containerID: container.id, networkID: network.id)
            throw error
        }
    }

    public func disconnect(_ container: Container, from network: BridgeNetwork, force: Bool) throws(EngineError) {
        guard try networkRecords.disconnect(containerID: container.id, networkID: network.id) || force else {
            throw .conflict("container \(container.id) is not connected to network \(network.name)")
        }
        let directory = networkRecordDirectory(container.id)
        if let attachment = NetworkSandbox.attachments(in: directory).first(where: { $0.network.id == network.id }) {
            DNSControl.withdraw(dnsDirectory, attachment)
            NetworkSandbox.detach(attachment, recordDirectory: directory)
            recordNetworkEvent(network, "disconnect", container: container.id)
        }
    }

    // MARK: - Start and end of a container's networking

    /// Makes the container's namespace and attaches it to each of its networks, in order; returns
    /// the attachments, or nil when the container has no namespace of its own (host, container:).
    /// `none` gets one too, with no network: its `lo` up and IPv6 off, as dockerd 20.10 leaves it
    /// (a namespace the runtime made would have `lo` down and `::1`).
    func setUpNetworking(_ container: Container) throws(EngineError) -> [NetworkAttachment]? {
        switch container.options.network {
        case .default, .named, .none: break
        case .host, .container: return nil
        }
        let endpoints = try networkRecords.endpoints(containerID: container.id)
        let netns = netnsPath(container.id)
        // Leftovers of a run that ended without its cleanup (a kill -9 of everything).
        tearDownNetworking(container.id)
        do {
            try FS.mkdirAll(runRoot + "/netns", mode: 0o755)
            try FS.mkdirAll(runRoot + "/networks", mode: 0o700)
        } catch {
            throw .system("create network directories", error)
        }
        do { try NetworkSandbox.create(netns: netns) } catch {
            throw .system("network namespace of \(container.name): \(error.message)")
        }
        var attachments: [NetworkAttachment] = []
        // Two containers starting at once must not both take the same host port.
        var portsLock: Int32 = -1
        if !container.options.net.publish.isEmpty || container.options.net.publishAll {
            portsLock = (try? FS.open(runRoot + "/networks/ports.lock", O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o600)) ?? -1
            if portsLock >= 0 { while flock(portsLock, LOCK_EX) != 0 && errno == EINTR {} }
        }
        defer { if portsLock >= 0 { FS.close(portsLock) } }
        do throws(EngineError) {
            let ports = try publishedPorts(container)
            let networks = try networkRecords.all()
            for (index, endpoint) in endpoints.enumerated() {
                guard let network = networks.first(where: { $0.id == endpoint.networkID }) else {
                    throw EngineError.notFound("network \(endpoint.networkID) not found")
                }
                attachments.append(try attach(container, network, endpoint: endpoint, ports: index == 0 ? ports : [], ifname: "eth\(index)",
                                              mac: index == 0 ? container.options.macAddress : nil))
            }
        } catch {
            tearDownNetworking(container.id)
            throw error
        }
        return attachments
    }

    func attach(_ container: Container, _ network: BridgeNetwork, endpoint: NetworkEndpoint, ports: [PortMapping], ifname: String,
                mac: String? = nil) throws(EngineError) -> NetworkAttachment {
        do {
            try HostFirewall.ensure(network, marker: firewallMarker(network))
            let attachment = try NetworkSandbox.attach(network, containerID: container.id, netns: netnsPath(container.id), ifname: ifname,
                                                       aliases: endpoint.aliases, ports: ports, requestedIP: endpoint.ipv4, mac: mac,
                                                       recordDirectory: networkRecordDirectory(container.id),
                                                       hostPortsMarker: runRoot + "/networks/hostports.rules")
            var published = attachment
            published.dnsServer = DNSControl.publish(dnsDirectory, attachment, container: container)
            try NetworkSandbox.update(published, recordDirectory: networkRecordDirectory(container.id))
            recordNetworkEvent(network, "connect", container: container.id)
            return published
        } catch {
            throw .system("failed to attach \(container.name) to network \(network.name): \(error.message)")
        }
    }

    /// `-p` with free host ports filled in, and with `-P` every EXPOSEd port not already published.
    func publishedPorts(_ container: Container) throws(EngineError) -> [PortMapping] {
        var ports = container.options.net.publish
        if container.options.net.publishAll {
            for key in (container.config.exposedPorts ?? [:]).keys.sorted() {
                let parts = key.split(separator: "/")
                guard let port = parts.first.flatMap({ Int($0) }) else { continue }
                let proto = parts.count > 1 ? String(parts[1]) : "tcp"
                if !ports.contains(where: { $0.containerPort == port && $0.proto == proto }) {
                    ports.append(PortMapping(hostPort: 0, containerPort: port, proto: proto))
                }
            }
        }
        if ports.isEmpty { return [] }
        // What other containers publish (DNAT holds no socket, so the kernel cannot tell us).
        var taken = Set<String>()
        if let ids = try? FS.list(path: root + "/containers") {
            for id in ids where id != container.id {
                for attachment in NetworkSandbox.attachments(in: networkRecordDirectory(id)) {
                    for port in attachment.ports { taken.insert("\(port.proto)/\(port.hostPort)") }
                }
            }
        }
        for index in ports.indices {
            let port = ports[index]
            if port.hostPort != 0 {
                let shown = "\(port.hostIP.isEmpty ? "0.0.0.0" : port.hostIP):\(port.hostPort)"
                if taken.contains("\(port.proto)/\(port.hostPort)") || !NetworkSandbox.portIsFree(port.hostPort, proto: port.proto, hostIP: port.hostIP) {
                    throw .conflict("driver failed programming external connectivity on endpoint \(container.name): Bind for \(shown) failed: port is already allocated")
                }
            } else if let range = port.hostPortRange {
                guard let free = range.first(where: { !taken.contains("\(port.proto)/\($0)") && NetworkSandbox.portIsFree($0, proto: port.proto, hostIP: port.hostIP) }) else {
                    throw .conflict("driver failed programming external connectivity on endpoint \(container.name): no free host port in \(range.lowerBound)-\(range.upperBound) for \(port.containerKey)")
                }
                ports[index].hostPort = free
            } else {
                var free: Int?
                for _ in 0..<16 {
                    if let candidate = NetworkSandbox.freePort(proto: port.proto), !taken.contains("\(port.proto)/\(candidate)") { free = candidate; break }
                }
                guard let free else { throw .system("no free host port for \(port.containerKey)") }
                ports[index].hostPort = free
            }
            taken.insert("\(port.proto)/\(ports[index].hostPort)")
        }
        return ports
    }

    /// Detaches from every network and removes the namespace; safe to repeat, and what cleans up
    /// after a crash (the records stay beside the container until their DEL has run).
    func tearDownNetworking(_ id: String) {
        let dns = dnsDirectory
        NetworkSandbox.tearDown(recordDirectory: networkRecordDirectory(id), netns: netnsPath(id)) { attachment in
            DNSControl.withdraw(dns, attachment)
        }
    }

    /// What the supervisor runs when the container has ended for good.
    func networkTeardown(_ id: String) -> SupervisorConfig.NetworkTeardown? {
        SupervisorConfig.NetworkTeardown(recordDirectory: networkRecordDirectory(id), netns: netnsPath(id), dnsDirectory: dnsDirectory)
    }

    /// The attachments of a running container (inspect, port).
    public func attachments(_ container: Container) -> [NetworkAttachment] {
        NetworkSandbox.attachments(in: networkRecordDirectory(container.id))
    }

    public func networkEndpoints(_ container: Container) -> [(network: BridgeNetwork, endpoint: NetworkEndpoint)] {
        let all = (try? networkRecords.all()) ?? []
        return ((try? networkRecords.endpoints(containerID: container.id)) ?? []).compactMap { endpoint in
            all.first { $0.id == endpoint.networkID }.map { ($0, endpoint) }
        }
    }
}

/// Runs a helper program (ip) and waits.
enum PluginProcessRunner {
    static func run(_ argv: [String]) throws -> Int32 {
        let pid = try ProcessSys.spawn(argv, newSession: false)
        return try ProcessSys.wait(pid).shellStatus
    }
}
