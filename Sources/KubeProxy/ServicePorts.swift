import GoCompat
import Kube

/// One port of one Service as the proxy programs it: where clients connect (cluster IP and port,
/// node port) and the ready endpoints behind it (from the Endpoints object of the same name,
/// matched by port name, as kube-proxy matches them).
public struct ServicePort: Sendable, Equatable {
    public struct Endpoint: Sendable, Equatable {
        public var ip: String
        public var port: Int
    }

    public var namespace: String
    public var service: String
    /// The port's name ("" for a Service's only, unnamed port).
    public var portName: String
    /// tcp, udp or sctp, as iptables spells them.
    public var proto: String
    public var clusterIP: String
    public var port: Int
    public var nodePort: Int?
    /// Addresses the port also answers on as itself: the load balancer's (status.loadBalancer.ingress,
    /// the node's own under ServiceLB) and spec.externalIPs, as kube-proxy serves them.
    public var externalIPs: [String] = []
    /// Seconds a client stays with its endpoint (sessionAffinity ClientIP); nil for none.
    public var affinitySeconds: Int?
    public var endpoints: [Endpoint]

    /// `namespace/service:port`, kube-proxy's name for it (in rule comments).
    public var label: String { "\(namespace)/\(service)" + (portName.isEmpty ? "" : ":" + portName) }

    /// The ports the proxy serves: Services with a cluster IP (not headless, not ExternalName).
    public static func from(services: [JSONValue], endpoints: [JSONValue]) -> [ServicePort] {
        var byService: [String: JSONValue] = [:]
        for object in endpoints {
            byService[(object.metadataString("namespace") ?? "") + "/" + (object.metadataString("name") ?? "")] = object
        }
        var ports: [ServicePort] = []
        for service in services {
            guard let spec = service[member: "spec"], spec[member: "type"]?.stringValue != "ExternalName",
                  let clusterIP = spec[member: "clusterIP"]?.stringValue, !clusterIP.isEmpty, clusterIP != "None" else { continue }
            let namespace = service.metadataString("namespace") ?? "", name = service.metadataString("name") ?? ""
            let affinity = spec[member: "sessionAffinity"]?.stringValue == "ClientIP"
                ? spec[member: "sessionAffinityConfig"]?[member: "clientIP"]?[member: "timeoutSeconds"]?.intValue ?? 10800 : nil
            let subsets = byService[namespace + "/" + name]?[member: "subsets"]?.arrayValue ?? []
            var external = (spec[member: "externalIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
            if spec[member: "type"]?.stringValue == "LoadBalancer" {
                external += (service[member: "status"]?[member: "loadBalancer"]?[member: "ingress"]?.arrayValue ?? []).compactMap { $0[member: "ip"]?.stringValue }
            }
            external = external.filter(IPv4Text.valid)
            for port in spec[member: "ports"]?.arrayValue ?? [] {
                guard let number = port[member: "port"]?.intValue else { continue }
                let portName = port[member: "name"]?.stringValue ?? ""
                let proto = (port[member: "protocol"]?.stringValue ?? "TCP").lowercased()
                var found: [Endpoint] = []
                for subset in subsets {
                    // The subset's port of the same name (and protocol) is the target port on its addresses.
                    guard let target = (subset[member: "ports"]?.arrayValue ?? []).first(where: {
                        ($0[member: "name"]?.stringValue ?? "") == portName && ($0[member: "protocol"]?.stringValue ?? "TCP").lowercased() == proto
                    })?[member: "port"]?.intValue else { continue }
                    for address in subset[member: "addresses"]?.arrayValue ?? [] {
                        if let ip = address[member: "ip"]?.stringValue, IPv4Text.valid(ip) { found.append(Endpoint(ip: ip, port: target)) }
                    }
                }
                let node = port[member: "nodePort"]?.intValue
                ports.append(ServicePort(namespace: namespace, service: name, portName: portName, proto: proto, clusterIP: clusterIP,
                                         port: number, nodePort: node == 0 ? nil : node, externalIPs: external, affinitySeconds: affinity,
                                         endpoints: found))
            }
        }
        return ports
    }
}

/// Dotted IPv4 text, checked before it goes into a rule.
enum IPv4Text {
    static func valid(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }
    }
}
