import ContainerNetwork

// MARK: network

extension RunOptions.Parse {
    /// `--network host|none|bridge|default|NAME|container:NAME`.
    public static func network(_ text: String) throws(EngineError) -> NetworkMode {
        switch text {
        case "", "default": return .default
        case "host": return .host
        case "none": return .none
        default:
            if text.hasPrefix("container:") {
                let name = String(text.dropFirst("container:".count))
                guard !name.isEmpty else { throw .invalid("invalid container format container:<name|id>") }
                return .container(name)
            }
            if text.trimmingASCIISpaces().isEmpty { throw .invalid("no name set for network") }
            return .named(text)
        }
    }

    /// `--expose PORT[-PORT][/PROTO]` and every `-p`'s container port, as Docker's CLI adds them
    /// to ExposedPorts ("80/tcp"); nil when there are none.
    static func exposedPorts(publish: [String], expose: [String]) throws(EngineError) -> [String]? {
        var keys = Set<String>()
        for item in publish {
            for mapping in (try? PortMapping.parse(item)) ?? [] { keys.insert(mapping.containerKey) }
        }
        for item in expose {
            let (ports, proto) = cut(item, "/")
            let (first, last) = cut(ports, "-")
            guard let low = Int(first), (1...65535).contains(low) else {
                throw .invalid("invalid argument \"\(item)\" for \"--expose\" flag: invalid range format for --expose: \(item)")
            }
            let high = last.flatMap { Int($0) } ?? low
            guard last == nil || Int(last ?? "") != nil, high >= low, high <= 65535 else {
                throw .invalid("invalid argument \"\(item)\" for \"--expose\" flag: invalid range format for --expose: \(item)")
            }
            let name = (proto ?? "tcp").lowercased()
            guard ["tcp", "udp", "sctp"].contains(name) else {
                throw .invalid("invalid argument \"\(item)\" for \"--expose\" flag: invalid proto: \(name)")
            }
            for port in low...high { keys.insert("\(port)/\(name)") }
        }
        return keys.isEmpty ? nil : keys.sorted()
    }

    /// `-p`, `-P`, `--network-alias`, `--ip`, `--dns*`, `--add-host`, with Docker's checks against the mode.
    static func networkRequest(
        mode: NetworkMode, publish: [String], publishAll: Bool, aliases networkAlias: [String], ip: String?,
        dns: [String], dnsSearch: [String], dnsOptions dnsOption: [String], addHosts addHost: [String]
    ) throws(EngineError) -> NetworkRequest {
        var request = NetworkRequest()
        for item in publish {
            do { request.publish += try PortMapping.parse(item) } catch {
                throw .invalid("invalid argument \"\(item)\" for \"-p, --publish\" flag: \(error.message)")
            }
        }
        request.publishAll = publishAll
        for item in dns {
            guard IPv4Address(item) != nil || item.contains(":") else {
                throw .invalid("invalid argument \"\(item)\" for \"--dns\" flag: \(item) is not an ip address")
            }
            request.dns.append(item)
        }
        request.dnsSearch = dnsSearch
        request.dnsOptions = dnsOption
        for item in addHost {
            let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, IPv4Address(parts[1]) != nil || parts[1].contains(":") || parts[1] == "host-gateway" else {
                throw .invalid("invalid argument \"\(item)\" for \"--add-host\" flag: bad format for add-host: \"\(item)\"")
            }
            request.extraHosts.append(item)
        }
        let userDefined: Bool
        if case .named(let name) = mode { userDefined = name != "bridge" } else { userDefined = false }
        if !networkAlias.isEmpty && !userDefined {
            throw .invalid("network-scoped alias is supported only for containers in user defined networks", reportedByDaemon: true)
        }
        request.aliases = networkAlias
        if let ip, !ip.isEmpty {
            guard IPv4Address(ip) != nil else { throw .invalid("invalid argument \"\(ip)\" for \"--ip\" flag: invalid string being converted to IP address: \(ip)") }
            guard userDefined else { throw .invalid("user specified IP address is supported on user defined networks only", reportedByDaemon: true) }
            request.ipv4 = ip
        }
        switch mode {
        case .container:
            if !request.publish.isEmpty || publishAll {
                throw .invalid("conflicting options: port publishing and the container type network mode")
            }
            if !request.dns.isEmpty || !request.extraHosts.isEmpty {
                throw .invalid("conflicting options: dns and the network mode")
            }
        case .host, .none:
            // Docker discards published ports there (with a warning on stderr).
            request.publish = []
            request.publishAll = false
        default:
            break
        }
        return request
    }
}

extension RunOptions {
    /// `--network` (at most one), then `-p`, `-P`, `--expose`, `--network-alias`, `--ip`, `--dns*` and
    /// `--add-host`, checked against the mode as Docker's CLI does once every flag is read.
    public mutating func applyNetworkFlags(
        networks: [String], publish: [String], publishAll: Bool, expose: [String], aliases: [String], ip: String?,
        dns: [String], dnsSearch: [String], dnsOptions: [String], addHosts: [String]
    ) throws(EngineError) {
        let modes = try networks.map { v throws(EngineError) in try Parse.network(v) }
        if modes.count > 1 {
            let userDefined = modes.filter { if case .named(let n) = $0 { n != "bridge" } else { false } }
            if userDefined.count != modes.count {
                throw .invalid("conflicting options: cannot attach both user-defined and non-user-defined network-modes")
            }
            throw .invalid("connecting a container to more than one network is not supported yet")
        }
        network = modes.first ?? .default
        net = try Parse.networkRequest(
            mode: network, publish: publish, publishAll: publishAll, aliases: aliases, ip: ip, dns: dns,
            dnsSearch: dnsSearch, dnsOptions: dnsOptions, addHosts: addHosts)
        exposedPorts = try Parse.exposedPorts(publish: publish, expose: expose)
    }
}
