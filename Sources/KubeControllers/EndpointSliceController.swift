import ContainerSpec
import GoCompat
import Kube
import KubeModel

/// The EndpointSlice controller's role: for each Service with a selector, EndpointSlices
/// (discovery.k8s.io/v1, addressType IPv4) listing the Pods it selects, one slice per set of
/// resolved ports (a named targetPort may differ between Pods), each endpoint with its conditions
/// (ready, serving, terminating), targetRef and nodeName. A Service that selects nothing gets one
/// slice without endpoints. Slices carry `kubernetes.io/service-name` and
/// `endpointslice.kubernetes.io/managed-by` and are owned by their Service; those of a Service
/// gone are deleted. Slices others manage (another managed-by) are left alone.
public final class EndpointSliceController: Controller {
    let store: ObjectStore
    let log: @Sendable (String) -> Void
    public static let managedBy = "endpointslice-controller.k8s.io"
    public static let serviceNameLabel = "kubernetes.io/service-name"
    public static let managedByLabel = "endpointslice.kubernetes.io/managed-by"

    public init(store: ObjectStore, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.log = log
    }

    public var name: String { "endpointslice" }

    public func sync() throws(EngineError) {
        let resource = KubeKinds.endpointSlice.storeResource
        let services = try store.list(KubeKinds.service.storeResource).items.map { stored throws(EngineError) in try stored.value() }
        let pods = try store.list(EndpointsController.pods).items.map { stored throws(EngineError) in try stored.value() }
        // Ours, by namespace/service.
        var existing: [String: [(key: ObjectKey, value: JSONValue)]] = [:]
        for stored in try store.list(resource).items {
            let value = try stored.value()
            let labels = LabelSelector.labels(of: value)
            guard labels[Self.managedByLabel] == Self.managedBy, let service = labels[Self.serviceNameLabel] else { continue }
            existing[stored.key.namespace + "/" + service, default: []].append((stored.key, value))
        }
        var wanted: Set<String> = []
        for service in services {
            guard let namespace = service.metadataString("namespace"), let name = service.metadataString("name"),
                  let selector = service[member: "spec"]?[member: "selector"]?.objectValue, !selector.isEmpty,
                  service[member: "spec"]?[member: "type"]?.stringValue != "ExternalName" else { continue }
            let key = namespace + "/" + name
            wanted.insert(key)
            var current = existing[key] ?? []
            for slice in Self.slices(for: service, pods: pods.filter { $0.metadataString("namespace") == namespace }) {
                // The slice with the same ports is updated in place; one more is made.
                if let index = current.firstIndex(where: { $0.value[member: "ports"] == slice[member: "ports"] }) ?? (current.isEmpty ? nil : 0) {
                    let old = current.remove(at: index)
                    if Self.same(old.value, slice) { continue }
                    do {
                        try store.guaranteedUpdate(old.key) { stored throws(EngineError) in
                            stored.setting("endpoints", to: slice[member: "endpoints"]).setting("ports", to: slice[member: "ports"])
                                .settingMetadata("labels", to: slice[member: "metadata"]?[member: "labels"])
                                .settingMetadata("ownerReferences", to: slice[member: "metadata"]?[member: "ownerReferences"])
                        }
                    } catch where error.kind == .notFound {}
                } else {
                    do { try store.create(resource, slice) } catch where error.kind == .conflict {}
                }
            }
            for extra in current {
                do { try store.delete(extra.key) } catch where error.kind == .notFound {}
            }
        }
        for (key, slices) in existing where !wanted.contains(key) {
            for slice in slices {
                do { try store.delete(slice.key) } catch where error.kind == .notFound {}
            }
        }
    }

    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        a[member: "endpoints"] == b[member: "endpoints"] && a[member: "ports"] == b[member: "ports"]
            && a[member: "metadata"]?[member: "labels"] == b[member: "metadata"]?[member: "labels"]
            && a[member: "metadata"]?[member: "ownerReferences"] == b[member: "metadata"]?[member: "ownerReferences"]
    }

    /// The slices a Service should have over the Pods of its namespace (names freshly generated:
    /// an update keeps the stored one).
    public static func slices(for service: JSONValue, pods: [JSONValue]) -> [JSONValue] {
        let namespace = service.metadataString("namespace") ?? "", name = service.metadataString("name") ?? ""
        let spec = service[member: "spec"]
        guard let selector = spec?[member: "selector"]?.objectValue, !selector.isEmpty else { return [] }
        let publishNotReady = spec?[member: "publishNotReadyAddresses"] == .bool(true)
        let servicePorts = spec?[member: "ports"]?.arrayValue ?? []
        var groups: [(ports: [JSONValue], endpoints: [JSONValue])] = []
        for pod in pods {
            let labels = pod[member: "metadata"]?[member: "labels"]?.objectValue ?? [:]
            guard selector.allSatisfy({ labels[$0.key] == $0.value }) else { continue }
            let status = pod[member: "status"]
            guard let ip = status?[member: "podIP"]?.stringValue, !ip.isEmpty else { continue }
            let phase = status?[member: "phase"]?.stringValue ?? ""
            if phase == "Succeeded" || phase == "Failed" { continue }
            var ports: [JSONValue] = []
            for port in servicePorts {
                guard let number = EndpointsController.targetPort(port, pod: pod) else { continue }
                ports.append(.ordered([("name", port[member: "name"] ?? .string("")), ("protocol", port[member: "protocol"] ?? .string("TCP")),
                                       ("port", .int(number))]))
            }
            if ports.isEmpty && !servicePorts.isEmpty { continue }
            let terminating = Workloads.isTerminating(pod)
            let serving = publishNotReady || Workloads.isReady(pod)
            var endpoint: [(String, JSONValue)] = [
                ("addresses", .array([.string(ip)])),
                ("conditions", .ordered([("ready", .bool(serving && !terminating)), ("serving", .bool(serving)), ("terminating", .bool(terminating))])),
            ]
            if let hostname = pod[member: "spec"]?[member: "hostname"]?.stringValue, !hostname.isEmpty,
               pod[member: "spec"]?[member: "subdomain"]?.stringValue == name {
                endpoint.append(("hostname", .string(hostname)))
            }
            endpoint.append(("targetRef", .ordered([
                ("kind", .string("Pod")), ("namespace", .string(namespace)), ("name", .string(pod.metadataString("name") ?? "")),
                ("uid", .string(pod.metadataString("uid") ?? "")),
            ])))
            if let node = pod[member: "spec"]?[member: "nodeName"]?.stringValue, !node.isEmpty { endpoint.append(("nodeName", .string(node))) }
            if let index = groups.firstIndex(where: { $0.ports == ports }) {
                groups[index].endpoints.append(.ordered(endpoint))
            } else {
                groups.append((ports, [.ordered(endpoint)]))
            }
        }
        if groups.isEmpty { groups.append(([], [])) }
        var labels = service[member: "metadata"]?[member: "labels"] ?? .ordered([])
        if spec?[member: "clusterIP"]?.stringValue == "None" { labels = labels.setting("service.kubernetes.io/headless", to: .string("")) }
        labels = labels.setting(serviceNameLabel, to: .string(name)).setting(managedByLabel, to: .string(managedBy))
        let owner = Workloads.ownerReference(service, kind: "Service", apiVersion: "v1")
        return groups.map { group in
            let endpoints = group.endpoints.sorted { a, b in
                let x = (a[member: "addresses"]?.arrayValue?.first?.stringValue ?? "").split(separator: ".").compactMap { Int($0) }
                let y = (b[member: "addresses"]?.arrayValue?.first?.stringValue ?? "").split(separator: ".").compactMap { Int($0) }
                return x.lexicographicallyPrecedes(y)
            }
            let metadata = JSONValue.ordered([
                ("name", .string(Names.generate(name + "-"))), ("generateName", .string(name + "-")), ("namespace", .string(namespace)),
                ("labels", labels), ("ownerReferences", .array([owner])),
            ])
            return .ordered([
                ("kind", .string("EndpointSlice")), ("apiVersion", .string("discovery.k8s.io/v1")), ("metadata", metadata),
                ("addressType", .string("IPv4")), ("endpoints", .array(endpoints)), ("ports", .array(group.ports)),
            ])
        }
    }
}
