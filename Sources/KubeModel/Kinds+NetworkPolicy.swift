import GoCompat
import Kube

/// networking.k8s.io/v1 NetworkPolicy (enforced per Pod by KubeProxy's PolicyRules) and
/// discovery.k8s.io/v1 EndpointSlice (kept by KubeControllers' EndpointSliceController), with
/// the columns `kubectl get netpol` and `kubectl get endpointslices` print.
extension KubeKinds {
    public static let networkPolicy = KubeKind(
        group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", resource: "networkpolicies", singular: "networkpolicy",
        namespaced: true, shortNames: ["netpol"], verbs: allVerbs,
        columns: [TableColumn("Pod-Selector", type: "string", description: "The pods the policy selects.") {
            .string(podSelectorText($0[member: "spec"]?[member: "podSelector"]))
        }],
        fields: ["spec"])

    public static let endpointSlice = KubeKind(
        group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", resource: "endpointslices", singular: "endpointslice",
        namespaced: true, shortNames: [], verbs: allVerbs,
        columns: [
            TableColumn("AddressType", type: "string", description: "The type of the addresses (IPv4, IPv6, FQDN).") {
                $0[member: "addressType"] ?? .string("")
            },
            TableColumn("Ports", type: "string", description: "The ports of the endpoints.") { .string(EndpointSlicePrinting.ports($0)) },
            TableColumn("Endpoints", type: "string", description: "The addresses of the endpoints.") { .string(EndpointSlicePrinting.endpoints($0)) },
        ],
        fields: ["addressType", "endpoints", "ports"])

    /// A NetworkPolicy's pod selector as the apiserver prints it: an empty one selects every Pod
    /// and reads `<none>`.
    static func podSelectorText(_ selector: JSONValue?) -> String { selectorText(selector) }
}

/// The cells of `kubectl get endpointslices` (the apiserver's printer): at most three items, then
/// `+ N more...`; `<unset>` for a slice without endpoints.
enum EndpointSlicePrinting {
    static func ports(_ slice: JSONValue) -> String {
        let items = (slice[member: "ports"]?.arrayValue ?? []).map { port in
            port[member: "port"]?.intValue.map(String.init) ?? port[member: "name"]?.stringValue ?? "*"
        }
        return limited(items)
    }

    static func endpoints(_ slice: JSONValue) -> String {
        let endpoints = slice[member: "endpoints"]?.arrayValue ?? []
        if endpoints.isEmpty { return "<unset>" }
        return limited(endpoints.flatMap { ($0[member: "addresses"]?.arrayValue ?? []).compactMap(\.stringValue) })
    }

    static func limited(_ items: [String]) -> String {
        items.count <= 3 ? items.joined(separator: ",") : items.prefix(3).joined(separator: ",") + " + \(items.count - 3) more..."
    }
}
