import ContainerSpec
import GoCompat
import Glibc
import Kube
import KubeModel
import LinuxSys
import Synchronization

/// The endpoints controller's role: for each Service with a selector, an Endpoints object of the
/// same name listing the addresses of the Pods it selects (ready ones in `addresses`, the others in
/// `notReadyAddresses`) with the Service's ports resolved on each Pod (a named targetPort is looked
/// up in the Pod's container ports). A Service without a selector
/// keeps the Endpoints its user writes; a deleted Service's Endpoints go with it.
public final class EndpointsController: Controller {
    let store: ObjectStore
    let log: @Sendable (String) -> Void
    static let pods = Resource("pods")

    private struct State {
        /// Services (namespace/name) with a selector seen on the last pass.
        var selecting: Set<String>?
    }
    private let state = Mutex(State())

    public init(store: ObjectStore, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.log = log
    }

    public var name: String { "endpoints" }

    /// One pass over every Service.
    public func sync() throws(EngineError) {
        let services = try store.list(KubeKinds.service.storeResource).items.map { stored throws(EngineError) in try stored.value() }
        let pods = try store.list(Self.pods).items.map { stored throws(EngineError) in try stored.value() }
        var existing: [String: StoredObject] = [:]
        for stored in try store.list(KubeKinds.endpoints.storeResource).items {
            existing[stored.key.namespace + "/" + stored.key.name] = stored
        }
        var selecting: Set<String> = []
        var present: Set<String> = []
        for service in services {
            guard let namespace = service.metadataString("namespace"), let name = service.metadataString("name") else { continue }
            let key = namespace + "/" + name
            present.insert(key)
            guard let selector = service[member: "spec"]?[member: "selector"]?.objectValue, !selector.isEmpty,
                  service[member: "spec"]?[member: "type"]?.stringValue != "ExternalName" else { continue }
            selecting.insert(key)
            let wanted = Self.endpoints(for: service, pods: pods.filter { $0.metadataString("namespace") == namespace })
            if let stored = existing[key] {
                let current = try stored.value()
                if current[member: "subsets"] == wanted[member: "subsets"] && current[member: "metadata"]?[member: "labels"] == wanted[member: "metadata"]?[member: "labels"] {
                    continue
                }
                do {
                    try store.guaranteedUpdate(stored.key) { old throws(EngineError) in
                        var new = old.setting("subsets", to: wanted[member: "subsets"])
                        new = new.settingMetadata("labels", to: wanted[member: "metadata"]?[member: "labels"])
                        return new
                    }
                } catch where error.kind == .notFound {}
            } else {
                do { try store.create(KubeKinds.endpoints.storeResource, wanted) } catch where error.kind == .conflict {}
            }
        }
        // Endpoints of a Service that went: those this controller kept (seen on the last pass), and
        // after a start those that point at Pods (what a user writes for a Service without a
        // selector names no Pod).
        let previously = state.withLock { $0.selecting }
        for (key, stored) in existing where !present.contains(key) {
            let ours: Bool
            if let previously { ours = previously.contains(key) } else {
                let subsets = (try? stored.value())?[member: "subsets"]?.arrayValue ?? []
                ours = subsets.contains { subset in
                    ((subset[member: "addresses"]?.arrayValue ?? []) + (subset[member: "notReadyAddresses"]?.arrayValue ?? [])).contains {
                        $0[member: "targetRef"]?[member: "kind"]?.stringValue == "Pod"
                    }
                }
            }
            if ours {
                do { try store.delete(stored.key) } catch where error.kind == .notFound {}
            }
        }
        state.withLock { $0.selecting = selecting }
    }

    /// The Endpoints object for `service` over the Pods of its namespace.
    public static func endpoints(for service: JSONValue, pods: [JSONValue]) -> JSONValue {
        let namespace = service.metadataString("namespace") ?? "", name = service.metadataString("name") ?? ""
        let spec = service[member: "spec"]
        var labels = service[member: "metadata"]?[member: "labels"] ?? .ordered([])
        if spec?[member: "clusterIP"]?.stringValue == "None" { labels = labels.setting("service.kubernetes.io/headless", to: .string("")) }
        let metadata = JSONValue.ordered([("name", .string(name)), ("namespace", .string(namespace)), ("labels", labels)])
        var object: [(String, JSONValue)] = [("kind", .string("Endpoints")), ("apiVersion", .string("v1")), ("metadata", metadata)]
        let subsets = Self.subsets(service: service, pods: pods)
        if !subsets.isEmpty { object.append(("subsets", .array(subsets))) }
        return .ordered(object)
    }

    /// Addresses grouped by the ports they have (the apiserver's repacking): one subset per set.
    static func subsets(service: JSONValue, pods: [JSONValue]) -> [JSONValue] {
        guard let spec = service[member: "spec"], let selector = spec[member: "selector"]?.objectValue, !selector.isEmpty else { return [] }
        let serviceName = service.metadataString("name") ?? ""
        let publishNotReady = spec[member: "publishNotReadyAddresses"] == .bool(true)
        let servicePorts = spec[member: "ports"]?.arrayValue ?? []
        var groups: [String: (ports: [JSONValue], ready: [JSONValue], notReady: [JSONValue])] = [:]
        var order: [String] = []
        for pod in pods {
            let labels = pod[member: "metadata"]?[member: "labels"]?.objectValue ?? [:]
            guard selector.allSatisfy({ labels[$0.key] == $0.value }) else { continue }
            let status = pod[member: "status"]
            guard let ip = status?[member: "podIP"]?.stringValue, !ip.isEmpty else { continue }
            let phase = status?[member: "phase"]?.stringValue ?? ""
            if phase == "Succeeded" || phase == "Failed" { continue }
            let terminating = pod[member: "metadata"]?[member: "deletionTimestamp"] != nil
            if terminating && !publishNotReady { continue }
            let ready = publishNotReady || (status?[member: "conditions"]?.arrayValue ?? []).contains {
                $0[member: "type"]?.stringValue == "Ready" && $0[member: "status"]?.stringValue == "True"
            }
            var ports: [JSONValue] = []
            for port in servicePorts {
                guard let number = targetPort(port, pod: pod) else { continue }
                var members: [(String, JSONValue)] = []
                if let portName = port[member: "name"]?.stringValue, !portName.isEmpty { members.append(("name", .string(portName))) }
                members += [("port", .int(number)), ("protocol", port[member: "protocol"] ?? .string("TCP"))]
                ports.append(.ordered(members))
            }
            if ports.isEmpty && !servicePorts.isEmpty { continue }
            var address: [(String, JSONValue)] = [("ip", .string(ip))]
            if let hostname = pod[member: "spec"]?[member: "hostname"]?.stringValue, !hostname.isEmpty,
               pod[member: "spec"]?[member: "subdomain"]?.stringValue == serviceName {
                address.append(("hostname", .string(hostname)))
            }
            if let node = pod[member: "spec"]?[member: "nodeName"]?.stringValue, !node.isEmpty { address.append(("nodeName", .string(node))) }
            address.append(("targetRef", .ordered([
                ("kind", .string("Pod")), ("namespace", .string(pod.metadataString("namespace") ?? "")),
                ("name", .string(pod.metadataString("name") ?? "")), ("uid", .string(pod.metadataString("uid") ?? "")),
            ])))
            ports.sort { ($0[member: "name"]?.stringValue ?? "") < ($1[member: "name"]?.stringValue ?? "") }
            let key = ports.map { String(decoding: $0.serialized, as: UTF8.self) }.joined(separator: ",")
            if groups[key] == nil {
                order.append(key)
                groups[key] = (ports, [], [])
            }
            if ready { groups[key]!.ready.append(.ordered(address)) } else { groups[key]!.notReady.append(.ordered(address)) }
        }
        func byIP(_ a: JSONValue, _ b: JSONValue) -> Bool {
            let x = (a[member: "ip"]?.stringValue ?? "").split(separator: ".").compactMap { Int($0) }
            let y = (b[member: "ip"]?.stringValue ?? "").split(separator: ".").compactMap { Int($0) }
            return x.lexicographicallyPrecedes(y)
        }
        return order.map { key in
            let group = groups[key]!
            let ports = group.ports
            var subset: [(String, JSONValue)] = []
            if !group.ready.isEmpty { subset.append(("addresses", .array(group.ready.sorted(by: byIP)))) }
            if !group.notReady.isEmpty { subset.append(("notReadyAddresses", .array(group.notReady.sorted(by: byIP)))) }
            if !ports.isEmpty { subset.append(("ports", .array(ports))) }
            return .ordered(subset)
        }
    }

    /// A Service port's target on one Pod: a number as it is, a name looked up among the Pod's
    /// container ports of the same protocol (nil when the Pod has no such port).
    static func targetPort(_ port: JSONValue, pod: JSONValue) -> Int? {
        let target = port[member: "targetPort"] ?? port[member: "port"]
        if let number = target?.intValue { return number }
        guard let name = target?.stringValue else { return nil }
        if let number = Int(name) { return number }
        let proto = port[member: "protocol"]?.stringValue ?? "TCP"
        for container in pod[member: "spec"]?[member: "containers"]?.arrayValue ?? [] {
            for containerPort in container[member: "ports"]?.arrayValue ?? []
            where containerPort[member: "name"]?.stringValue == name && (containerPort[member: "protocol"]?.stringValue ?? "TCP") == proto {
                return containerPort[member: "containerPort"]?.intValue
            }
        }
        return nil
    }
}
