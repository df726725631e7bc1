import GoCompat
import Kube

/// Services and their Endpoints: the stable address kube-proxy's role load-balances, and the
/// addresses behind it. `kubectl get svc` and `kubectl get ep` columns as the apiserver prints them.
extension KubeKinds {
    public static let service = KubeKind(
        group: "", version: "v1", kind: "Service", resource: "services", singular: "service", namespaced: true,
        shortNames: ["svc"], verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        columns: [
            TableColumn("Type", type: "string", description: "The type of the service (ClusterIP, NodePort, LoadBalancer, ExternalName).") {
                $0[member: "spec"]?[member: "type"] ?? .string("")
            },
            TableColumn("Cluster-IP", type: "string", description: "The IP address the service is reached at inside the cluster.") {
                .string(ServicePrinting.clusterIP($0))
            },
            TableColumn("External-IP", type: "string", description: "The addresses the service is reached at from outside the cluster.") {
                .string(ServicePrinting.externalIP($0))
            },
            TableColumn("Port(s)", type: "string", description: "The ports the service exposes.") {
                .string(ServicePrinting.ports($0))
            },
        ],
        fields: ["spec", "status"])

    public static let endpoints = KubeKind(
        group: "", version: "v1", kind: "Endpoints", resource: "endpoints", singular: "endpoints", namespaced: true,
        shortNames: ["ep"], verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        columns: [TableColumn("Endpoints", type: "string", description: "The addresses and ports behind the service.") {
            .string(ServicePrinting.endpoints($0))
        }],
        fields: ["subsets"])
}

/// The cells `kubectl get` shows for Services and Endpoints (the apiserver's printers).
enum ServicePrinting {
    static func clusterIP(_ service: JSONValue) -> String {
        let spec = service[member: "spec"]
        if spec?[member: "type"]?.stringValue == "ExternalName" { return "<none>" }
        let ip = spec?[member: "clusterIP"]?.stringValue ?? ""
        return ip.isEmpty ? "<none>" : ip
    }

    static func externalIP(_ service: JSONValue) -> String {
        let spec = service[member: "spec"]
        let external = (spec?[member: "externalIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
        switch spec?[member: "type"]?.stringValue ?? "" {
        case "ExternalName":
            return spec?[member: "externalName"]?.stringValue ?? "<none>"
        case "LoadBalancer":
            let ingress = (service[member: "status"]?[member: "loadBalancer"]?[member: "ingress"]?.arrayValue ?? []).compactMap {
                $0[member: "ip"]?.stringValue ?? $0[member: "hostname"]?.stringValue
            }
            let all = ingress + external
            return all.isEmpty ? "<pending>" : all.joined(separator: ",")
        default:
            return external.isEmpty ? "<none>" : external.joined(separator: ",")
        }
    }

    /// `80/TCP`, `80:30080/TCP` with a node port, comma-joined; `<none>` without ports.
    static func ports(_ service: JSONValue) -> String {
        let ports = service[member: "spec"]?[member: "ports"]?.arrayValue ?? []
        if ports.isEmpty { return "<none>" }
        return ports.map { port in
            let number = port[member: "port"]?.intValue.map(String.init) ?? "?"
            let proto = port[member: "protocol"]?.stringValue ?? "TCP"
            if let node = port[member: "nodePort"]?.intValue, node != 0 { return "\(number):\(node)/\(proto)" }
            return "\(number)/\(proto)"
        }.joined(separator: ",")
    }

    /// `10.42.0.5:8080,10.42.0.6:8080 + 3 more...`, ready addresses only; `<none>` when empty.
    static func endpoints(_ object: JSONValue) -> String {
        var all: [String] = []
        for subset in object[member: "subsets"]?.arrayValue ?? [] {
            let addresses = (subset[member: "addresses"]?.arrayValue ?? []).compactMap { $0[member: "ip"]?.stringValue }
            let ports = (subset[member: "ports"]?.arrayValue ?? []).compactMap { $0[member: "port"]?.intValue }
            for address in addresses {
                if ports.isEmpty { all.append(address) } else { all += ports.map { "\(address):\($0)" } }
            }
        }
        if all.isEmpty { return "<none>" }
        if all.count <= 3 { return all.joined(separator: ",") }
        return all.prefix(3).joined(separator: ",") + " + \(all.count - 3) more..."
    }
}
