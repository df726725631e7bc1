import ContainerNetwork
import Engine

/// Docker's `GET /networks/{id}` (`network inspect`), members in Docker's order. `GET /networks`
/// lists the same objects with Containers left empty.
public struct NetworkInspect: Encodable, Sendable {
    public var name: String
    public var id: String
    public var created: String
    public var scope = "local"
    public var driver = "bridge"
    public var enableIPv4 = true
    public var enableIPv6 = false
    public var ipam: IPAM
    public var `internal`: Bool
    public var attachable = false
    public var ingress = false
    public var configFrom = ConfigReference()
    public var configOnly = false
    /// By container ID, in the engine's order.
    public var containers: OrderedMap<Endpoint>
    public var options: SortedMap<String>
    public var labels: SortedMap<String>

    public struct IPAM: Encodable, Sendable {
        public var driver = "default"
        /// Null for the predefined host and none networks, as Docker has it.
        public var options: SortedMap<String>? = SortedMap([:])
        public var config: [Config]?
        public struct Config: Encodable, Sendable {
            public var subnet: String
            public var ipRange: String?
            public var gateway: String
            enum CodingKeys: String, CodingKey { case subnet = "Subnet", ipRange = "IPRange", gateway = "Gateway" }
            public func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(subnet, forKey: .subnet)
                try c.encodeIfPresent(ipRange, forKey: .ipRange)
                try c.encode(gateway, forKey: .gateway)
            }
        }
        enum CodingKeys: String, CodingKey { case driver = "Driver", options = "Options", config = "Config" }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(driver, forKey: .driver)
            try c.encode(options, forKey: .options)
            try c.encode(config, forKey: .config)
        }
    }

    public struct ConfigReference: Encodable, Sendable {
        public var network = ""
        enum CodingKeys: String, CodingKey { case network = "Network" }
    }

    public struct Endpoint: Encodable, Sendable {
        public var name: String
        public var endpointID: String
        public var macAddress: String
        public var ipv4Address: String
        public var ipv6Address = ""
        enum CodingKeys: String, CodingKey {
            case name = "Name", endpointID = "EndpointID", macAddress = "MacAddress", ipv4Address = "IPv4Address", ipv6Address = "IPv6Address"
        }
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name", id = "Id", created = "Created", scope = "Scope", driver = "Driver", enableIPv4 = "EnableIPv4"
        case enableIPv6 = "EnableIPv6", ipam = "IPAM", `internal` = "Internal", attachable = "Attachable", ingress = "Ingress"
        case configFrom = "ConfigFrom", configOnly = "ConfigOnly", containers = "Containers", options = "Options", labels = "Labels"
    }

    public init(_ network: BridgeNetwork, members: [(container: Container, attachment: NetworkAttachment)]) {
        name = network.name
        id = network.id
        created = network.created
        ipam = IPAM(config: [IPAM.Config(subnet: network.subnet, ipRange: network.ipRange, gateway: network.gateway)])
        self.internal = network.internal
        attachable = network.attachable ?? false
        containers = OrderedMap(members.map { member in
            (member.container.id, Endpoint(
                name: member.container.name, endpointID: endpointID(member.attachment),
                macAddress: member.attachment.macAddress ?? "",
                ipv4Address: member.attachment.ipAddress.map { "\($0)/\(member.attachment.prefixLength ?? 0)" } ?? ""))
        })
        // dockerd lists the driver options given at create (Berth takes none), and its default
        // bridge's own; Compose 1.29 recreates a network whose options differ from the file's.
        options = SortedMap(network.name == Engine.defaultNetworkName ? [
            "com.docker.network.bridge.default_bridge": "true", "com.docker.network.bridge.enable_icc": "true",
            "com.docker.network.bridge.enable_ip_masquerade": "true", "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
            "com.docker.network.bridge.name": network.bridge, "com.docker.network.driver.mtu": "1500",
        ] : [:])
        labels = SortedMap(network.labels)
    }

    public init(_ network: BridgeNetwork, engine: Engine) {
        let members = (try? engine.networkMembers(network)) ?? []
        self.init(network, members: members.map { ($0.container, $0.attachment) })
    }

    /// Docker's `host` or `none` network: no addresses, no bridge of its own.
    public init(_ network: PredefinedNetwork, created: String) {
        name = network.name
        id = network.id
        self.created = created
        driver = network.driver
        ipam = IPAM(options: nil, config: nil)
        self.internal = false
        containers = OrderedMap([])
        options = SortedMap([:])
        labels = SortedMap([:])
    }
}

/// Docker's `host` and `none` networks, listed beside the bridges (they have no bridge of their
/// own, and no record: their IDs are fixed).
public struct PredefinedNetwork: Sendable {
    public var name: String
    public var driver: String
    public var id: String

    public static let all: [PredefinedNetwork] = [
        PredefinedNetwork(name: "host", driver: "host", id: "4057f1c7" + String(repeating: "0", count: 56)),
        PredefinedNetwork(name: "none", driver: "null", id: "a0e2c1d9" + String(repeating: "0", count: 56)),
    ]

    /// By name, full ID or ID prefix (as networks are looked up).
    public static func lookup(_ text: String) -> PredefinedNetwork? {
        all.first { $0.name == text || $0.id == text } ?? (text.isEmpty ? nil : all.first { $0.id.hasPrefix(text) })
    }
}

/// One line of `network ls`, with the fields the docker CLI's network context offers (all strings).
public struct NetworkRow: Encodable, Sendable {
    public var createdAt: String
    public var driver: String
    public var id: String
    public var ipv6 = "false"
    public var `internal`: String
    /// `k=v,k2=v2`, keys sorted.
    public var labels: String
    public var name: String
    public var scope = "local"

    public init(name: String, id: String, driver: String, labels: [String: String], created: String, internal: Bool) {
        createdAt = created
        self.driver = driver
        self.id = id
        self.internal = String(`internal`)
        self.labels = labels.keys.sorted().map { "\($0)=\(labels[$0] ?? "")" }.joined(separator: ",")
        self.name = name
    }

    enum CodingKeys: String, CodingKey {
        case createdAt = "CreatedAt", driver = "Driver", id = "ID", ipv6 = "IPv6", `internal` = "Internal", labels = "Labels"
        case name = "Name", scope = "Scope"
    }
}
