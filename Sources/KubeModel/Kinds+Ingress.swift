import GoCompat
import Kube

/// networking.k8s.io/v1 Ingress and IngressClass: HTTP routes by host and path to Services, and
/// the classes that say which controller serves them. Columns as kubectl 1.33 prints them.
extension KubeKinds {
    public static let ingress = KubeKind(
        group: "networking.k8s.io", version: "v1", kind: "Ingress", resource: "ingresses", singular: "ingress", namespaced: true,
        shortNames: ["ing"], verbs: allVerbs,
        columns: [
            TableColumn("Class", type: "string", description: "The name of the IngressClass the ingress uses.") { ingress in
                .string(ingress[member: "spec"]?[member: "ingressClassName"]?.stringValue ?? "<none>")
            },
            TableColumn("Hosts", type: "string", description: "The hosts the ingress routes.") { .string(IngressPrinting.hosts($0)) },
            TableColumn("Address", type: "string", description: "The addresses the ingress is reached at.") { .string(IngressPrinting.address($0)) },
            TableColumn("Ports", type: "string", description: "The ports the ingress is reached at.") { ingress in
                .string((ingress[member: "spec"]?[member: "tls"]?.arrayItems ?? []).isEmpty ? "80" : "80, 443")
            },
        ],
        fields: ["spec", "status"])

    public static let ingressClass = KubeKind(
        group: "networking.k8s.io", version: "v1", kind: "IngressClass", resource: "ingressclasses", singular: "ingressclass", namespaced: false,
        shortNames: [], verbs: allVerbs,
        columns: [
            TableColumn("Controller", type: "string", description: "The controller that implements the class.") {
                string($0[member: "spec"]?[member: "controller"])
            },
            TableColumn("Parameters", type: "string", description: "The object that holds the class's configuration.") { .string(IngressPrinting.parameters($0)) },
        ],
        fields: ["spec"])

    /// The annotation that makes an IngressClass the one for Ingresses that name none.
    public static let defaultIngressClassAnnotation = "ingressclass.kubernetes.io/is-default-class"

    public static func isDefaultIngressClass(_ ingressClass: JSONValue) -> Bool {
        ingressClass[member: "metadata"]?[member: "annotations"]?[member: defaultIngressClassAnnotation]?.stringValue == "true"
    }
}

/// The cells of `kubectl get ingress` and `kubectl get ingressclass` (the apiserver's printers).
enum IngressPrinting {
    /// The rules' hosts, `*` for none; at most four, then `+ N more...`.
    static func hosts(_ ingress: JSONValue) -> String {
        let hosts = (ingress[member: "spec"]?[member: "rules"]?.arrayItems ?? []).compactMap { rule -> String? in
            let host = rule[member: "host"]?.stringValue ?? ""
            return host.isEmpty ? nil : host
        }
        if hosts.isEmpty { return "*" }
        if hosts.count <= 4 { return hosts.joined(separator: ",") }
        return hosts.prefix(4).joined(separator: ",") + " + \(hosts.count - 4) more..."
    }

    /// status.loadBalancer.ingress's addresses, cut after 16 characters as kubectl does without -o wide.
    static func address(_ ingress: JSONValue) -> String {
        let entries = ingress[member: "status"]?[member: "loadBalancer"]?[member: "ingress"]?.arrayItems ?? []
        let text = entries.compactMap { entry -> String? in
            if let ip = entry[member: "ip"]?.stringValue, !ip.isEmpty { return ip }
            if let host = entry[member: "hostname"]?.stringValue, !host.isEmpty { return host }
            return nil
        }.joined(separator: ",")
        return text.count > 16 ? String(text.prefix(13)) + "..." : text
    }

    /// `Kind.group/name` of spec.parameters, `<none>` without.
    static func parameters(_ ingressClass: JSONValue) -> String {
        guard let parameters = ingressClass[member: "spec"]?[member: "parameters"], case .object = parameters else { return "<none>" }
        var text = parameters[member: "kind"]?.stringValue ?? ""
        if let group = parameters[member: "apiGroup"]?.stringValue { text += "." + group }
        return text + "/" + (parameters[member: "name"]?.stringValue ?? "")
    }
}
