import ContainerSpec
import Engine
import GoCompat

/// `POST /networks/create`: Docker's network.CreateRequest.
public struct NetworkCreateRequest: Decodable, Sendable, GoNamed {
    public var name: String?
    /// Deprecated since API 1.44 (names are always unique); accepted and ignored.
    public var checkDuplicate: Bool?
    public var driver: String?
    public var scope: String?
    public var enableIPv4: Bool?
    public var enableIPv6: Bool?
    public var ipam: IPAM?
    public var `internal`: Bool?
    /// A swarm notion; a local bridge takes any container anyway.
    public var attachable: Bool?
    public var ingress: Bool?
    public var configOnly: Bool?
    public var configFrom: ConfigReference?
    public var options: [String: String]?
    public var labels: [String: String]?
    public static var goName: String { "network.CreateRequest" }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name = "Name", checkDuplicate = "CheckDuplicate", driver = "Driver", scope = "Scope", enableIPv4 = "EnableIPv4"
        case enableIPv6 = "EnableIPv6", ipam = "IPAM", `internal` = "Internal", attachable = "Attachable", ingress = "Ingress"
        case configOnly = "ConfigOnly", configFrom = "ConfigFrom", options = "Options", labels = "Labels"
    }

    public struct IPAM: Decodable, Sendable, GoNamed {
        public var driver: String?
        public var options: [String: String]?
        public var config: [IPAMConfig]?
        public static var goName: String { "network.IPAM" }
        enum CodingKeys: String, CodingKey, CaseIterable { case driver = "Driver", options = "Options", config = "Config" }
    }

    public struct IPAMConfig: Decodable, Sendable, GoNamed {
        public var subnet: String?
        public var ipRange: String?
        public var gateway: String?
        public var auxiliaryAddresses: [String: String]?
        public static var goName: String { "network.IPAMConfig" }
        enum CodingKeys: String, CodingKey, CaseIterable {
            case subnet = "Subnet", ipRange = "IPRange", gateway = "Gateway", auxiliaryAddresses = "AuxiliaryAddresses"
        }
    }

    public struct ConfigReference: Decodable, Sendable, GoNamed {
        public var network: String?
        public static var goName: String { "network.ConfigReference" }
        enum CodingKeys: String, CodingKey, CaseIterable { case network = "Network" }
    }

    public init(body: [UInt8]) throws(EngineError) {
        self = try RequestBody.decode(Self.self, from: body, .optional)
    }

    /// The network as `berth network create` asks for it; what a bridge of Berth's cannot be is refused.
    public func createOptions() throws(EngineError) -> Engine.NetworkCreateOptions {
        var options = Engine.NetworkCreateOptions(name: name ?? "")
        options.driver = driver.nonEmpty ?? "bridge"
        options.internal = `internal` ?? false
        options.attachable = attachable ?? false
        options.labels = labels ?? [:]
        let configs = ipam?.config ?? []
        if configs.count > 1 { throw .invalid("only one IPv4 subnet is supported for now") }
        if let config = configs.first {
            if config.gateway.nonEmpty != nil || config.ipRange.nonEmpty != nil, config.subnet.nonEmpty == nil {
                throw .invalid("every ip-range or gateway must have a corresponding subnet")
            }
            if let subnet = config.subnet.nonEmpty, subnet.contains(":") { throw .unsupported("IPAM.Config.Subnet", subnet) }
            if let key = config.auxiliaryAddresses?.keys.sorted().first { throw .unsupported("IPAM.Config.AuxiliaryAddresses", key) }
            options.subnet = config.subnet.nonEmpty
            options.gateway = config.gateway.nonEmpty
            options.ipRange = config.ipRange.nonEmpty
        }
        if let value = ipam?.driver.nonEmpty, value != "default" { throw .unsupported("IPAM.Driver", value) }
        if let key = ipam?.options?.keys.sorted().first { throw .unsupported("IPAM.Options", key) }
        if enableIPv6 == true { throw .unsupported("EnableIPv6", "true") }
        if enableIPv4 == false { throw .unsupported("EnableIPv4", "false") }
        if ingress == true { throw .unsupported("Ingress", "true") }
        if configOnly == true { throw .unsupported("ConfigOnly", "true") }
        if let from = configFrom?.network.nonEmpty { throw .unsupported("ConfigFrom", from) }
        if let value = scope.nonEmpty, value != "local" { throw .unsupported("Scope", value) }
        if let key = self.options?.keys.sorted().first { throw .unsupported("Options", key) }
        return options
    }
}

/// `POST /networks/{id}/connect`: Docker's network.ConnectOptions.
public struct NetworkConnectRequest: Decodable, Sendable, GoNamed {
    public var container: String?
    public var endpointConfig: ContainerCreateRequest.EndpointSettings?
    public static var goName: String { "network.ConnectOptions" }

    enum CodingKeys: String, CodingKey, CaseIterable { case container = "Container", endpointConfig = "EndpointConfig" }

    public init(body: [UInt8]) throws(EngineError) {
        self = try RequestBody.decode(Self.self, from: body, .optional)
    }

    /// What `Engine.connect(_:to:aliases:ipv4:)` takes, checked as `network connect --alias --ip` is.
    public func attachment(network: String) throws(EngineError) -> ContainerCreate.NetworkAttachment {
        try ContainerCreateRequest.attachment(network, endpointConfig ?? ContainerCreateRequest.EndpointSettings())
    }
}

/// `POST /networks/{id}/disconnect`: Docker's network.DisconnectOptions.
public struct NetworkDisconnectRequest: Decodable, Sendable, GoNamed {
    public var container: String?
    public var force: Bool?
    public static var goName: String { "network.DisconnectOptions" }

    enum CodingKeys: String, CodingKey, CaseIterable { case container = "Container", force = "Force" }

    public init(body: [UInt8]) throws(EngineError) {
        self = try RequestBody.decode(Self.self, from: body, .optional)
    }
}
