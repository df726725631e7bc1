import LinuxSys

/// An IPv4 address as a 32-bit number (host order), parsed and printed in dotted form.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt32
    public init(_ value: UInt32) { self.value = value }

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let byte = UInt32(part), byte <= 255 else { return nil }
            value = value << 8 | byte
        }
        self.value = value
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
    }

    /// `d.c.b.a.in-addr.arpa`, the name a reverse lookup asks for.
    public var reverseName: String {
        "\(value & 255).\(value >> 8 & 255).\(value >> 16 & 255).\(value >> 24).in-addr.arpa"
    }

    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
}

/// An IPv4 subnet such as `10.88.0.0/16` (always stored with its host bits cleared).
public struct IPv4Subnet: Hashable, Sendable, CustomStringConvertible {
    public var network: IPv4Address
    public var prefix: Int

    public init(network: IPv4Address, prefix: Int) {
        self.prefix = prefix
        self.network = IPv4Address(network.value & Self.mask(prefix))
    }

    /// `A.B.C.D/N`; host bits set in the address are refused, as Docker refuses them.
    public init(parsing text: String) throws(NetworkError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(parts[0]), let prefix = Int(parts[1]), (0...32).contains(prefix) else {
            throw NetworkError("invalid subnet \(text): expected an IPv4 CIDR such as 10.89.0.0/24")
        }
        guard prefix <= 30 else {
            throw NetworkError("invalid subnet \(text): a /\(prefix) leaves no address for a container beside the gateway")
        }
        guard address.value & ~Self.mask(prefix) == 0 else {
            throw NetworkError("invalid subnet \(text): it has host bits set (did you mean \(IPv4Subnet(network: address, prefix: prefix))?)")
        }
        self.init(network: address, prefix: prefix)
    }

    /// `A.B.C.D/N` with any prefix (an `--ip-range` may be a single address), host bits clear; nil otherwise.
    public static func cidr(_ text: String) -> IPv4Subnet? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(parts[0]), let prefix = Int(parts[1]), (0...32).contains(prefix),
              address.value & ~mask(prefix) == 0 else { return nil }
        return IPv4Subnet(network: address, prefix: prefix)
    }

    static func mask(_ prefix: Int) -> UInt32 { prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix) }

    public var mask: UInt32 { Self.mask(prefix) }
    public var last: IPv4Address { IPv4Address(network.value | ~mask) }
    public var description: String { "\(network)/\(prefix)" }

    public func contains(_ address: IPv4Address) -> Bool { address.value & mask == network.value }

    public func overlaps(_ other: IPv4Subnet) -> Bool {
        contains(other.network) || other.contains(network)
    }

    /// The first usable address, which Docker and Podman give the bridge as the gateway.
    public var firstHost: IPv4Address { IPv4Address(network.value + 1) }

    /// The host's IPv4 routes (from /proc/net/route), the subnets a new network must not collide with.
    public static func hostRoutes() -> [IPv4Subnet] {
        guard let text = try? FS.readText("/proc/net/route") else { return [] }
        var routes: [IPv4Subnet] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count > 7, let destination = UInt32(fields[1], radix: 16), let mask = UInt32(fields[7], radix: 16) else { continue }
            // The table is little-endian; a default route (mask 0) collides with nothing.
            let network = destination.byteSwapped, maskValue = mask.byteSwapped
            guard maskValue != 0 else { continue }
            routes.append(IPv4Subnet(network: IPv4Address(network), prefix: maskValue.nonzeroBitCount))
        }
        return routes
    }

    /// The first subnet of the pool that overlaps none of `taken` (the host's routes and the other
    /// networks): 10.87.0.0/16 for the default network, then 10.86.0.0/24, 10.86.1.0/24 … for user
    /// networks. Beside Docker's 172.17/16 pool and Podman's 10.88/16 and 10.89.x/24, so all three
    /// engines can share a machine.
    public static func choose(defaultNetwork: Bool, avoiding taken: [IPv4Subnet]) -> IPv4Subnet? {
        var candidates: [IPv4Subnet] = []
        if defaultNetwork {
            candidates.append(IPv4Subnet(network: IPv4Address(10 << 24 | 87 << 16), prefix: 16))
        }
        for third in UInt32(0)...255 {
            candidates.append(IPv4Subnet(network: IPv4Address(10 << 24 | 86 << 16 | third << 8), prefix: 24))
        }
        for second in UInt32(90)...254 {
            candidates.append(IPv4Subnet(network: IPv4Address(10 << 24 | second << 16), prefix: 24))
        }
        return candidates.first { candidate in !taken.contains { $0.overlaps(candidate) } }
    }
}
