import Glibc

/// One published port: `-p [hostIP:][hostPort:]containerPort[/proto]`, ranges expanded.
public struct PortMapping: Codable, Sendable, Equatable, Hashable {
    /// Empty: every host address (Docker's 0.0.0.0).
    public var hostIP: String
    /// 0 until a free port is picked for `-p 80` or `-P`.
    public var hostPort: Int
    public var containerPort: Int
    /// `tcp`, `udp` or `sctp`.
    public var proto: String
    /// `-p 8000-8010:80`: the host port is the first free one of this range, chosen at start.
    public var hostPortRange: ClosedRange<Int>?

    public init(hostIP: String = "", hostPort: Int, containerPort: Int, proto: String = "tcp") {
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }

    /// Docker's key for the container side: `80/tcp`.
    public var containerKey: String { "\(containerPort)/\(proto)" }

    /// Parses one `-p` value as Docker's nat.ParsePortSpec does (IPv4 or bracketed IPv6 host addresses).
    public static func parse(_ spec: String) throws(NetworkError) -> [PortMapping] {
        var rest = Substring(spec)
        var proto = "tcp"
        if let slash = rest.lastIndex(of: "/") {
            proto = String(rest[rest.index(after: slash)...]).lowercased()
            rest = rest[..<slash]
            guard ["tcp", "udp", "sctp"].contains(proto) else { throw NetworkError("invalid proto: \(proto)") }
        }
        var hostIP = "", hostPart = "", containerPart = ""
        var fields: [Substring]
        if rest.hasPrefix("[") {
            // [v6]:host:container
            guard let close = rest.firstIndex(of: "]") else { throw NetworkError("invalid IP address: \(rest)") }
            hostIP = String(rest[rest.index(after: rest.startIndex)..<close])
            // The address reaches iptables-restore's input: only a real IPv6 address may pass.
            guard isIPv6(hostIP) else { throw NetworkError("invalid IP address: \(hostIP.debugDescription)") }
            let after = rest[rest.index(after: close)...]
            fields = after.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0].isEmpty else { throw NetworkError("invalid port format: \(spec)") }
            hostPart = String(fields[1]); containerPart = String(fields[2])
        } else {
            fields = rest.split(separator: ":", omittingEmptySubsequences: false)
            switch fields.count {
            case 1: containerPart = String(fields[0])
            case 2: hostPart = String(fields[0]); containerPart = String(fields[1])
            case 3: hostIP = String(fields[0]); hostPart = String(fields[1]); containerPart = String(fields[2])
            default: throw NetworkError("invalid port format: \(spec)")
            }
            if !hostIP.isEmpty, IPv4Address(hostIP) == nil { throw NetworkError("invalid IP address: \(hostIP)") }
        }
        if hostIP == "0.0.0.0" { hostIP = "" }
        guard !containerPart.isEmpty else { throw NetworkError("no port specified: \(spec)<empty>") }
        let containerRange = try range(containerPart, what: "containerPort")
        let hostRange = hostPart.isEmpty ? nil : try range(hostPart, what: "hostPort")
        // Docker's rules: ranges of equal length map port to port; one container port with a host
        // range takes a free port of that range at start; anything else is refused.
        if let hostRange, containerRange.count > 1, hostRange.count != containerRange.count {
            throw NetworkError("invalid ranges specified for container and host Ports: \(containerPart) and \(hostPart)")
        }
        return containerRange.enumerated().map { index, port in
            var mapping = PortMapping(hostIP: hostIP, hostPort: 0, containerPort: port, proto: proto)
            if let hostRange {
                if containerRange.count == 1 && hostRange.count > 1 {
                    mapping.hostPortRange = hostRange
                } else {
                    mapping.hostPort = hostRange.lowerBound + index
                }
            }
            return mapping
        }
    }

    static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return !text.isEmpty && text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) && inet_pton(AF_INET6, text, &address) == 1
    }

    static func range(_ text: String, what: String) throws(NetworkError) -> ClosedRange<Int> {
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count <= 2, let low = Int(bounds[0]), let high = Int(bounds.count == 2 ? bounds[1] : bounds[0]),
              (1...65535).contains(low), (1...65535).contains(high) else {
            throw NetworkError("invalid \(what): \(text)")
        }
        guard low <= high else { throw NetworkError("invalid range specified for \(what): \(text)") }
        return low...high
    }
}
