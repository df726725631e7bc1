import GoCompat
import Kube

/// A NetworkPolicy's defaults and validation, and an EndpointSlice's validation, as the
/// apiserver applies them.
extension Objects {
    static let policyTypes = ["Ingress", "Egress"]

    /// policyTypes: Ingress always, Egress too when egress rules are given; a port's protocol TCP.
    static func networkPolicyDefaults(_ policy: JSONValue) -> JSONValue {
        guard var spec = policy[member: "spec"], case .object = spec else { return policy }
        if (spec[member: "policyTypes"]?.arrayValue ?? []).isEmpty {
            var types: [JSONValue] = [.string("Ingress")]
            if !(spec[member: "egress"]?.arrayValue ?? []).isEmpty { types.append(.string("Egress")) }
            spec = spec.setting("policyTypes", to: .array(types))
        }
        for direction in ["ingress", "egress"] {
            guard let rules = spec[member: direction]?.arrayValue else { continue }
            spec = spec.setting(direction, to: .array(rules.map { rule in
                guard let ports = rule[member: "ports"]?.arrayValue else { return rule }
                return rule.setting("ports", to: .array(ports.map { port in
                    port[member: "protocol"] == nil ? port.setting("protocol", to: .string("TCP")) : port
                }))
            }))
        }
        return policy.setting("spec", to: spec)
    }

    static func validateNetworkPolicy(_ policy: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let spec = policy[member: "spec"]
        let types = spec?[member: "policyTypes"]?.arrayValue ?? []
        for (index, type) in types.enumerated() {
            let text = type.stringValue ?? ""
            if !policyTypes.contains(text) {
                errors.append(FieldError("spec.policyTypes[\(index)]", .notSupported(text), "supported values: \"Ingress\", \"Egress\""))
            }
        }
        if types.count > 2 { errors.append(FieldError("spec.policyTypes", .invalid(""), "may not specify more than two policyTypes")) }
        for (direction, peersMember) in [("ingress", "from"), ("egress", "to")] {
            for (ruleIndex, rule) in (spec?[member: direction]?.arrayValue ?? []).enumerated() {
                let path = "spec.\(direction)[\(ruleIndex)]"
                for (index, port) in (rule[member: "ports"]?.arrayValue ?? []).enumerated() {
                    errors += validatePolicyPort(port, path: "\(path).ports[\(index)]")
                }
                for (index, peer) in (rule[member: peersMember]?.arrayValue ?? []).enumerated() {
                    errors += validatePolicyPeer(peer, path: "\(path).\(peersMember)[\(index)]")
                }
            }
        }
        return errors
    }

    static func validatePolicyPort(_ port: JSONValue, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let proto = port[member: "protocol"]?.stringValue ?? "TCP"
        if !protocols.contains(proto) {
            errors.append(FieldError(path + ".protocol", .notSupported(proto), "supported values: \"SCTP\", \"TCP\", \"UDP\""))
        }
        let number = port[member: "port"]?.intValue
        if let number, !(1...65535).contains(number) {
            errors.append(FieldError(path + ".port", .invalidNumber((number)), "must be between 1 and 65535, inclusive"))
        }
        if let name = port[member: "port"]?.stringValue {
            if name.isEmpty || name.count > 15 || !name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })
                || name.hasPrefix("-") || name.hasSuffix("-") || !name.contains(where: \.isLetter) {
                errors.append(FieldError(path + ".port", .invalid(name), "must be a port name of at most 15 lower-case letters, digits and '-', with a letter"))
            }
        }
        if let end = port[member: "endPort"]?.intValue {
            if port[member: "port"] == nil {
                errors.append(FieldError(path + ".endPort", .required, "may not be specified when `port` is not specified"))
            } else if number == nil {
                errors.append(FieldError(path + ".endPort", .invalidNumber((end)), "may not be specified when `port` is non-numeric"))
            } else if let number, end < number {
                errors.append(FieldError(path + ".endPort", .invalidNumber((end)), "must be greater than or equal to `port`"))
            } else if !(1...65535).contains(end) {
                errors.append(FieldError(path + ".endPort", .invalidNumber((end)), "must be between 1 and 65535, inclusive"))
            }
        }
        return errors
    }

    static func validatePolicyPeer(_ peer: JSONValue, path: String) -> [FieldError] {
        let selectors = ["podSelector", "namespaceSelector"].filter { peer[member: $0] != nil }.count
        guard let block = peer[member: "ipBlock"] else {
            return selectors == 0 ? [FieldError(path, .required, "must specify a peer")] : []
        }
        if selectors > 0 { return [FieldError(path, .forbidden, "may not specify both ipBlock and another peer")] }
        let cidr = block[member: "cidr"]?.stringValue ?? ""
        if cidr.isEmpty { return [FieldError(path + ".ipBlock.cidr", .required, "")] }
        guard let outer = CIDR(cidr) else {
            return [FieldError(path + ".ipBlock.cidr", .invalid(cidr), "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")]
        }
        var errors: [FieldError] = []
        for (index, value) in (block[member: "except"]?.arrayValue ?? []).enumerated() {
            let text = value.stringValue ?? ""
            let field = path + ".ipBlock.except[\(index)]"
            guard let inner = CIDR(text) else {
                errors.append(FieldError(field, .invalid(text), "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
                continue
            }
            if !outer.strictlyContains(inner) { errors.append(FieldError(field, .invalid(text), "must be a strict subset of `cidr`")) }
        }
        return errors
    }

    static func validateEndpointSlice(_ slice: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let type = slice[member: "addressType"]?.stringValue ?? ""
        if type.isEmpty {
            errors.append(FieldError("addressType", .required, ""))
        } else if !["IPv4", "IPv6", "FQDN"].contains(type) {
            errors.append(FieldError("addressType", .notSupported(type), "supported values: \"FQDN\", \"IPv4\", \"IPv6\""))
        }
        for (index, endpoint) in (slice[member: "endpoints"]?.arrayValue ?? []).enumerated() {
            let addresses = endpoint[member: "addresses"]?.arrayValue ?? []
            if addresses.isEmpty { errors.append(FieldError("endpoints[\(index)].addresses", .required, "must contain at least 1 address")) }
            for (position, address) in addresses.enumerated() where type == "IPv4" {
                let text = address.stringValue ?? ""
                if CIDR(text + "/32") == nil || text.contains(":") {
                    errors.append(FieldError("endpoints[\(index)].addresses[\(position)]", .invalid(text), "must be a valid IPv4 address"))
                }
            }
        }
        for (index, port) in (slice[member: "ports"]?.arrayValue ?? []).enumerated() {
            if let number = port[member: "port"]?.intValue, !(0...65535).contains(number) {
                errors.append(FieldError("ports[\(index)].port", .invalidNumber((number)), "must be between 0 and 65535, inclusive"))
            }
            let proto = port[member: "protocol"]?.stringValue ?? "TCP"
            if !protocols.contains(proto) {
                errors.append(FieldError("ports[\(index)].protocol", .notSupported(proto), "supported values: \"SCTP\", \"TCP\", \"UDP\""))
            }
        }
        return errors
    }
}

/// An IPv4 `address/prefix` (host bits may be set, as the apiserver's parser allows), or an IPv6
/// one taken as it is written (only checked for its shape: Berth's rules are IPv4).
public struct CIDR: Sendable, Equatable {
    public let network: UInt32
    public let prefix: Int
    public let isIPv6: Bool

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]), parts[1].allSatisfy(\.isNumber) else { return nil }
        if parts[0].contains(":") {
            guard (0...128).contains(prefix), parts[0].allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            network = 0
            self.prefix = prefix
            isIPv6 = true
            return
        }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard (0...32).contains(prefix), octets.count == 4 else { return nil }
        var address: UInt32 = 0
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy(\.isNumber), let value = UInt8(octet) else { return nil }
            address = address << 8 | UInt32(value)
        }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
        network = address & mask
        self.prefix = prefix
        isIPv6 = false
    }

    /// `10.0.0.0/8`: the network, host bits cleared (what goes into a rule).
    public var text: String {
        "\(network >> 24).\(network >> 16 & 255).\(network >> 8 & 255).\(network & 255)/\(prefix)"
    }

    public func contains(_ address: UInt32) -> Bool {
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
        return address & mask == network
    }

    /// Whether `other` is inside this block and smaller (an `except` of a `cidr`).
    public func strictlyContains(_ other: CIDR) -> Bool {
        if isIPv6 || other.isIPv6 { return isIPv6 && other.isIPv6 && other.prefix > prefix }
        return other.prefix > prefix && contains(other.network)
    }
}
