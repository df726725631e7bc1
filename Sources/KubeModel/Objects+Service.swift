import GoCompat
import Kube

/// A Service's defaults and validation, as the apiserver applies them before the address
/// allocation (KubeAPI) gives it a cluster IP and node ports.
extension Objects {
    static let serviceTypes = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
    static let protocols = ["SCTP", "TCP", "UDP"]

    static func serviceDefaults(_ service: JSONValue) -> JSONValue {
        var spec = service[member: "spec"] ?? .ordered([])
        let type = spec[member: "type"]?.stringValue ?? "ClusterIP"
        if spec[member: "type"] == nil { spec = spec.setting("type", to: .string("ClusterIP")) }
        if spec[member: "sessionAffinity"] == nil { spec = spec.setting("sessionAffinity", to: .string("None")) }
        if spec[member: "sessionAffinity"]?.stringValue == "ClientIP", spec[member: "sessionAffinityConfig"] == nil {
            spec = spec.setting("sessionAffinityConfig", to: .ordered([("clientIP", .ordered([("timeoutSeconds", .int(10800))]))]))
        }
        if let ports = spec[member: "ports"]?.arrayValue {
            spec = spec.setting("ports", to: .array(ports.map { port in
                var port = port
                if port[member: "protocol"] == nil { port = port.setting("protocol", to: .string("TCP")) }
                if port[member: "targetPort"] == nil, let number = port[member: "port"] { port = port.setting("targetPort", to: number) }
                return port
            }))
        }
        if type != "ExternalName", spec[member: "internalTrafficPolicy"] == nil {
            spec = spec.setting("internalTrafficPolicy", to: .string("Cluster"))
        }
        if type == "NodePort" || type == "LoadBalancer", spec[member: "externalTrafficPolicy"] == nil {
            spec = spec.setting("externalTrafficPolicy", to: .string("Cluster"))
        }
        if type == "LoadBalancer", spec[member: "allocateLoadBalancerNodePorts"] == nil {
            spec = spec.setting("allocateLoadBalancerNodePorts", to: .bool(true))
        }
        var service = service.setting("spec", to: spec)
        if service[member: "status"] == nil {
            service = service.setting("status", to: .ordered([("loadBalancer", .ordered([]))]))
        }
        return service
    }

    static func validateService(_ service: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let spec = service[member: "spec"]
        let type = spec?[member: "type"]?.stringValue ?? "ClusterIP"
        if !serviceTypes.contains(type) {
            errors.append(FieldError("spec.type", .notSupported(type), "supported values: " + serviceTypes.map { "\"\($0)\"" }.joined(separator: ", ")))
        }
        let headless = spec?[member: "clusterIP"]?.stringValue == "None"
        let ports = spec?[member: "ports"]?.arrayValue ?? []
        if type == "ExternalName" {
            if (spec?[member: "externalName"]?.stringValue ?? "").isEmpty {
                errors.append(FieldError("spec.externalName", .required, ""))
            }
        } else if ports.isEmpty && !headless {
            errors.append(FieldError("spec.ports", .required, ""))
        }
        var names: Set<String> = []
        for (index, port) in ports.enumerated() {
            let path = "spec.ports[\(index)]"
            let name = port[member: "name"]?.stringValue ?? ""
            if ports.count > 1 && name.isEmpty { errors.append(FieldError(path + ".name", .required, "")) }
            if !name.isEmpty {
                if !names.insert(name).inserted { errors.append(FieldError(path + ".name", .duplicate(name), "")) }
                errors += Names.dns1123Label(name).map { FieldError(path + ".name", .invalid(name), $0) }
            }
            let number = port[member: "port"]?.intValue ?? 0
            if !(1...65535).contains(number) {
                errors.append(FieldError(path + ".port", .invalidNumber((number)), "must be between 1 and 65535, inclusive"))
            }
            let proto = port[member: "protocol"]?.stringValue ?? "TCP"
            if !protocols.contains(proto) {
                errors.append(FieldError(path + ".protocol", .notSupported(proto), "supported values: \"SCTP\", \"TCP\", \"UDP\""))
            }
            if let target = port[member: "targetPort"]?.intValue, !(1...65535).contains(target) {
                errors.append(FieldError(path + ".targetPort", .invalidNumber((target)), "must be between 1 and 65535, inclusive"))
            }
            if let node = port[member: "nodePort"]?.intValue, node != 0, type == "ClusterIP" || type == "ExternalName" {
                errors.append(FieldError(path + ".nodePort", .forbidden, "may not be used when `type` is '\(type)'"))
            }
        }
        let affinity = spec?[member: "sessionAffinity"]?.stringValue ?? "None"
        if affinity != "None" && affinity != "ClientIP" {
            errors.append(FieldError("spec.sessionAffinity", .notSupported(affinity), "supported values: \"ClientIP\", \"None\""))
        }
        return errors
    }

    /// A cluster IP, once set, stays (the apiserver: "may not change once set"), except that a
    /// change to or from ExternalName drops it.
    static func validateServiceUpdate(old: JSONValue, new: JSONValue) -> [FieldError] {
        let oldSpec = old[member: "spec"], newSpec = new[member: "spec"]
        guard let was = oldSpec?[member: "clusterIP"]?.stringValue, !was.isEmpty,
              newSpec?[member: "type"]?.stringValue != "ExternalName",
              let now = newSpec?[member: "clusterIP"]?.stringValue, now != was else { return [] }
        return [FieldError("spec.clusterIPs[0]", .invalid(now), "may not change once set")]
    }
}
