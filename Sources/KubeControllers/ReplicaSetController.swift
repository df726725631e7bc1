import ContainerSpec
import GoCompat
import Glibc
import Kube
import KubeModel

/// The ReplicaSet controller's role: as many active Pods as `spec.replicas`, made from the
/// template and owned by the ReplicaSet (orphans its selector matches are adopted); extras are
/// deleted, the least useful first (not yet running, then not ready, then the newest); status
/// counts replicas, ready and available ones.
public struct ReplicaSetController: Controller {
    let store: ObjectStore
    let writer: ObjectWriter
    public var name: String { "replicaset" }

    public func sync() throws(EngineError) {
        let now = Int64(time(nil))
        let sets = try Workloads.values(store.list(Workloads.replicaSets))
        guard !sets.isEmpty else { return }
        let pods = try Workloads.values(store.list(Workloads.pods))
        for set in sets where !Workloads.isTerminating(set) {
            try reconcile(set, pods: pods.filter { $0.metadataString("namespace") == set.metadataString("namespace") }, now: now)
        }
    }

    func reconcile(_ set: JSONValue, pods: [JSONValue], now: Int64) throws(EngineError) {
        guard let namespace = set.metadataString("namespace"), let name = set.metadataString("name"), let uid = set.metadataString("uid") else { return }
        let spec = set[member: "spec"]
        let selector = LabelSelector(object: spec?[member: "selector"])
        guard !selector.isEmpty else { return }
        var owned = pods.filter { Workloads.controllerUID($0) == uid }
        // Adoption: a Pod the selector matches that no controller owns becomes this one's.
        for pod in pods where Workloads.controllerUID(pod) == nil && Workloads.isActive(pod) && selector.matches(LabelSelector.labels(of: pod)) {
            guard let podName = pod.metadataString("name") else { continue }
            let reference = Workloads.ownerReference(set, kind: "ReplicaSet", apiVersion: "apps/v1")
            do {
                let adopted = try store.guaranteedUpdate(ObjectKey(Workloads.pods, namespace: namespace, name: podName)) { old throws(EngineError) in
                    guard Workloads.controllerUID(old) == nil else { return old }
                    let references = (old[member: "metadata"]?[member: "ownerReferences"]?.arrayValue ?? []) + [reference]
                    return old.settingMetadata("ownerReferences", to: .array(references))
                }
                owned.append(try adopted.value())
            } catch where error.kind == .notFound {}
        }
        let active = owned.filter(Workloads.isActive)
        let wanted = Workloads.int(spec?[member: "replicas"], default: 1)
        if active.count < wanted {
            for _ in 0..<(wanted - active.count) { try writer.create(Workloads.pods, Self.pod(from: set)) }
        } else if active.count > wanted {
            for pod in Self.deletionOrder(active).prefix(active.count - wanted) {
                guard let podName = pod.metadataString("name") else { continue }
                do { try writer.delete(ObjectKey(Workloads.pods, namespace: namespace, name: podName)) } catch where error.kind == .notFound {}
            }
        }
        let minReady = Workloads.int(spec?[member: "minReadySeconds"], default: 0)
        let templateLabels = LabelSelector.labels(of: spec?[member: "template"] ?? .null)
        var status: [(String, JSONValue)] = [
            ("replicas", .int(active.count)),
            ("fullyLabeledReplicas", .int(active.filter { pod in templateLabels.allSatisfy { LabelSelector.labels(of: pod)[$0.key] == $0.value } }.count)),
        ]
        let ready = active.filter(Workloads.isReady).count
        let available = active.filter { Workloads.isAvailable($0, minReadySeconds: minReady, now: now) }.count
        if ready > 0 { status.append(("readyReplicas", .int(ready))) }
        if available > 0 { status.append(("availableReplicas", .int(available))) }
        if let generation = set[member: "metadata"]?[member: "generation"] { status.append(("observedGeneration", generation)) }
        let newStatus = JSONValue.ordered(status)
        if set[member: "status"] != newStatus {
            try Workloads.writeStatus(store, ObjectKey(Workloads.replicaSets, namespace: namespace, name: name), newStatus)
        }
    }

    /// A new Pod from the ReplicaSet's template, named after it, owned by it.
    static func pod(from set: JSONValue) -> JSONValue {
        let name = set.metadataString("name") ?? ""
        let template = set[member: "spec"]?[member: "template"]
        var metadata: [(String, JSONValue)] = [
            ("name", .string(Names.generate(name + "-"))), ("generateName", .string(name + "-")),
            ("namespace", .string(set.metadataString("namespace") ?? "")),
        ]
        if let labels = template?[member: "metadata"]?[member: "labels"] { metadata.append(("labels", labels)) }
        if let annotations = template?[member: "metadata"]?[member: "annotations"] { metadata.append(("annotations", annotations)) }
        metadata.append(("ownerReferences", .array([Workloads.ownerReference(set, kind: "ReplicaSet", apiVersion: "apps/v1")])))
        return .ordered([("kind", .string("Pod")), ("apiVersion", .string("v1")), ("metadata", .ordered(metadata)),
                         ("spec", template?[member: "spec"] ?? .ordered([]))])
    }

    /// Pods to delete first: unscheduled, then pending, then not ready, then the newest.
    static func deletionOrder(_ pods: [JSONValue]) -> [JSONValue] {
        func rank(_ pod: JSONValue) -> Int {
            if (pod[member: "spec"]?[member: "nodeName"]?.stringValue ?? "").isEmpty { return 0 }
            if pod[member: "status"]?[member: "phase"]?.stringValue != "Running" { return 1 }
            return Workloads.isReady(pod) ? 3 : 2
        }
        return pods.sorted { a, b in
            if rank(a) != rank(b) { return rank(a) < rank(b) }
            return (a.metadataString("creationTimestamp") ?? "") > (b.metadataString("creationTimestamp") ?? "")
        }
    }
}
