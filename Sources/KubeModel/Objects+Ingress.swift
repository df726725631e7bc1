import GoCompat
import Kube

/// An Ingress's and an IngressClass's defaults and validation, as the apiserver's
/// networking validation has them (field paths and messages).
extension Objects {
    static let ingressPathTypes = ["Exact", "ImplementationSpecific", "Prefix"]

    static func ingressDefaults(_ ingress: JSONValue) -> JSONValue {
        if ingress[member: "status"] == nil {
            return ingress.setting("status", to: .ordered([("loadBalancer", .ordered([]))]))
        }
        return ingress
    }

    static func validateIngress(_ ingress: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let spec = ingress[member: "spec"]
        let rules = spec?[member: "rules"]?.arrayItems ?? []
        let defaultBackend = spec?[member: "defaultBackend"]
        if rules.isEmpty && (defaultBackend == nil || defaultBackend == .null) {
            errors.append(FieldError("spec", .invalid("[]"), "either `defaultBackend` or `rules` must be specified"))
        }
        if let defaultBackend, defaultBackend != .null { errors += validateIngressBackend(defaultBackend, "spec.defaultBackend") }
        if let className = spec?[member: "ingressClassName"]?.stringValue {
            errors += Names.dns1123Subdomain(className).map { FieldError("spec.ingressClassName", .invalid(className), $0) }
        }
        for (index, rule) in rules.enumerated() {
            let path = "spec.rules[\(index)]"
            if let host = rule[member: "host"]?.stringValue, !host.isEmpty {
                errors += validateIngressHost(host, path + ".host")
            }
            guard let http = rule[member: "http"], http != .null else { continue }
            let paths = http[member: "paths"]?.arrayItems ?? []
            if paths.isEmpty { errors.append(FieldError(path + ".http.paths", .required, "")) }
            for (number, entry) in paths.enumerated() {
                errors += validateIngressPath(entry, path + ".http.paths[\(number)]")
            }
        }
        for (index, tls) in (spec?[member: "tls"]?.arrayItems ?? []).enumerated() {
            for (number, host) in (tls[member: "hosts"]?.arrayItems ?? []).enumerated() {
                let text = host.stringValue ?? ""
                errors += validateIngressHost(text, "spec.tls[\(index)].hosts[\(number)]", allowIP: true)
            }
        }
        return errors
    }

    /// A rule's host: a DNS name, or `*.` and one; never an IP address (rules only).
    static func validateIngressHost(_ host: String, _ field: String, allowIP: Bool = false) -> [FieldError] {
        var errors: [FieldError] = []
        if !allowIP && isIPAddress(host) {
            errors.append(FieldError(field, .invalid(host), "must be a DNS name, not an IP address"))
        }
        if host.contains("*") {
            let rest = host.hasPrefix("*.") ? String(host.dropFirst(2)) : ""
            if rest.isEmpty || rest.contains("*") || !Names.dns1123Subdomain(rest).isEmpty {
                errors.append(FieldError(field, .invalid(host), "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
                    + "which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character "
                    + "(e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"))
            }
            return errors
        }
        return errors + Names.dns1123Subdomain(host).map { FieldError(field, .invalid(host), $0) }
    }

    static func isIPAddress(_ text: String) -> Bool {
        if text.contains(":") { return text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in UInt8(part) != nil }
    }

    static func validateIngressPath(_ entry: JSONValue, _ field: String) -> [FieldError] {
        var errors: [FieldError] = []
        let path = entry[member: "path"]?.stringValue ?? ""
        if let pathType = entry[member: "pathType"]?.stringValue {
            switch pathType {
            case "Exact", "Prefix":
                if !path.hasPrefix("/") { errors.append(FieldError(field + ".path", .invalid(path), "must be an absolute path")) }
                for sequence in ["//", "/./", "/../", "%2f", "%2F"] where path.contains(sequence) {
                    errors.append(FieldError(field + ".path", .invalid(path), "must not contain '\(sequence)'"))
                }
                for suffix in ["/..", "/."] where path.hasSuffix(suffix) {
                    errors.append(FieldError(field + ".path", .invalid(path), "cannot end with '\(suffix)'"))
                }
            case "ImplementationSpecific":
                if !path.isEmpty && !path.hasPrefix("/") { errors.append(FieldError(field + ".path", .invalid(path), "must be an absolute path")) }
            default:
                errors.append(FieldError(field + ".pathType", .notSupported(pathType),
                                         "supported values: " + ingressPathTypes.map { "\"\($0)\"" }.joined(separator: ", ")))
            }
        } else {
            errors.append(FieldError(field + ".pathType", .required, "pathType must be specified"))
        }
        return errors + validateIngressBackend(entry[member: "backend"] ?? .ordered([]), field + ".backend")
    }

    /// A backend is a Service (name and one of port name or number) or a resource, not both.
    static func validateIngressBackend(_ backend: JSONValue, _ field: String) -> [FieldError] {
        let service = backend[member: "service"].flatMap { $0 == .null ? nil : $0 }
        let resource = backend[member: "resource"].flatMap { $0 == .null ? nil : $0 }
        switch (service, resource) {
        case (.some, .some):
            return [FieldError(field, .invalid(""), "cannot set both resource and service backends")]
        case (nil, .some(let resource)):
            var errors: [FieldError] = []
            if (resource[member: "kind"]?.stringValue ?? "").isEmpty { errors.append(FieldError(field + ".resource.kind", .required, "")) }
            if (resource[member: "name"]?.stringValue ?? "").isEmpty { errors.append(FieldError(field + ".resource.name", .required, "")) }
            return errors
        case (.some(let service), nil):
            var errors: [FieldError] = []
            let name = service[member: "name"]?.stringValue ?? ""
            if name.isEmpty {
                errors.append(FieldError(field + ".service.name", .required, ""))
            } else {
                errors += Names.dns1123Label(name).map { FieldError(field + ".service.name", .invalid(name), $0) }
            }
            let portName = service[member: "port"]?[member: "name"]?.stringValue ?? ""
            let portNumber = service[member: "port"]?[member: "number"]?.intValue ?? 0
            if !portName.isEmpty && portNumber != 0 {
                errors.append(FieldError(field, .invalid(""), "cannot set both port name & port number"))
            } else if !portName.isEmpty {
                errors += Names.dns1123Label(portName).map { FieldError(field + ".service.port.name", .invalid(portName), $0) }
            } else if portNumber != 0 {
                if !(1...65535).contains(portNumber) {
                    errors.append(FieldError(field + ".service.port.number", .invalidNumber((portNumber)), "must be between 1 and 65535, inclusive"))
                }
            } else {
                errors.append(FieldError(field, .required, "port name or number is required"))
            }
            return errors
        case (nil, nil):
            return [FieldError(field, .invalid(""), "resource or service backend is required")]
        }
    }

    static func validateIngressClass(_ ingressClass: JSONValue) -> [FieldError] {
        let controller = ingressClass[member: "spec"]?[member: "controller"]?.stringValue ?? ""
        if controller.isEmpty { return [FieldError("spec.controller", .required, "")] }
        var errors: [FieldError] = []
        if controller.utf8.count > 250 { errors.append(FieldError("spec.controller", .tooLong, "must have at most 250 bytes")) }
        // A domain-prefixed path: `example.com/name`.
        if let slash = controller.firstIndex(of: "/") {
            let domain = String(controller[..<slash])
            errors += Names.dns1123Subdomain(domain).map { FieldError("spec.controller", .invalid(controller), $0) }
            if controller[controller.index(after: slash)...].isEmpty {
                errors.append(FieldError("spec.controller", .invalid(controller), "must be a valid path"))
            }
        } else {
            errors.append(FieldError("spec.controller", .invalid(controller), "must be a domain-prefixed path (such as \"acme.io/foo\")"))
        }
        return errors
    }

    static func validateIngressClassUpdate(old: JSONValue, new: JSONValue) -> [FieldError] {
        let was = old[member: "spec"]?[member: "controller"], now = new[member: "spec"]?[member: "controller"]
        guard was != now else { return [] }
        return [FieldError("spec.controller", .invalid(now?.stringValue ?? ""), "field is immutable")]
    }
}
