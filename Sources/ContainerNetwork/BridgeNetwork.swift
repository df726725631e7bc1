import OCI

/// A bridge network: one Linux bridge on the host, a subnet whose first address is the bridge's
/// (the containers' gateway and their DNS server), and host-local IPAM handing out the rest.
/// This is what `network create` records and what every container attachment copies, so a
/// container can be detached even after a crash (the CNI DEL gets the configuration the ADD got).
public struct BridgeNetwork: Codable, Sendable, Equatable {
    /// 64 hex digits, as Docker's network IDs.
    public var id: String
    public var name: String
    /// The bridge device (at most 15 characters).
    public var bridge: String
    public var subnet: String
    public var gateway: String
    /// `--internal`: no route out, no masquerading, no forwarding to other interfaces.
    public var `internal`: Bool
    public var labels: [String: String]
    /// RFC 3339 with nanoseconds.
    public var created: String
    /// Where host-local keeps its leases (one file per address in use).
    public var ipamDirectory: String
    /// `--ip-range`: the part of the subnet containers' addresses come from (nil: all of it).
    public var ipRange: String?
    /// `--attachable`, kept for inspect (every bridge network takes any container).
    public var attachable: Bool?

    public init(id: String, name: String, bridge: String, subnet: String, gateway: String, internal: Bool,
                labels: [String: String], created: String, ipamDirectory: String) {
        self.id = id
        self.name = name
        self.bridge = bridge
        self.subnet = subnet
        self.gateway = gateway
        self.internal = `internal`
        self.labels = labels
        self.created = created
        self.ipamDirectory = ipamDirectory
    }

    public var shortID: String { String(id.prefix(12)) }

    // MARK: - Plugin configurations (CNI network configuration, one object per plugin)

    /// The bridge plugin with host-local IPAM. Masquerading and forwarding are the network's own
    /// iptables rules (`HostFirewall`), installed once rather than per container.
    /// `requestedIP` and `mac` go in its `args` (CNI's per-attachment arguments the bridge plugin reads).
    func bridgeConfig(requestedIP: String?, mac: String? = nil) -> String {
        var range = "{\"subnet\":\(jsonQuoted(subnet)),\"gateway\":\(jsonQuoted(gateway))"
        if let bounds = rangeBounds { range += ",\"rangeStart\":\(jsonQuoted(bounds.start.description)),\"rangeEnd\":\(jsonQuoted(bounds.end.description))" }
        var ipam = "{\"type\":\"host-local\",\"ranges\":[[" + range + "}]]"
        if !`internal` { ipam += ",\"routes\":[{\"dst\":\"0.0.0.0/0\"}]" }
        ipam += ",\"dataDir\":\(jsonQuoted(ipamDirectory))}"
        var config = "{\"cniVersion\":\"\(CNI.version)\",\"name\":\(jsonQuoted(name)),\"type\":\"bridge\",\"bridge\":\(jsonQuoted(bridge))"
        config += ",\"isGateway\":true,\"ipMasq\":false,\"hairpinMode\":true"
        var args: [String] = []
        if let requestedIP { args.append("\"ips\":[\(jsonQuoted(requestedIP))]") }
        if let mac { args.append("\"mac\":\(jsonQuoted(mac))") }
        if !args.isEmpty { config += ",\"args\":{\"cni\":{" + args.joined(separator: ",") + "}}" }
        return config + ",\"ipam\":\(ipam)}"
    }

    /// The first and last address host-local may give out with `ipRange`: the range less the
    /// subnet's own network and broadcast addresses.
    var rangeBounds: (start: IPv4Address, end: IPv4Address)? {
        guard let ipRange, let range = IPv4Subnet.cidr(ipRange),
              let whole = try? IPv4Subnet(parsing: subnet) else { return nil }
        let start = max(range.network, whole.firstHost)
        let end = min(range.last, IPv4Address(whole.last.value - 1))
        return start <= end ? (start, end) : nil
    }
}

/// Splices `prevResult` into a plugin's configuration, as a chain passes each result to the next.
func withPreviousResult(_ config: String, _ result: [UInt8]?) -> [UInt8] {
    guard let result, !result.isEmpty, config.hasSuffix("}") else { return Array(config.utf8) }
    return Array(config.dropLast().utf8) + Array(",\"prevResult\":".utf8) + result + [UInt8(ascii: "}")]
}
