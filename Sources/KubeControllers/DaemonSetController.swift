import ContainerSpec
import GoCompat
import Glibc
import Kube
import KubeModel

/// The DaemonSet controller's role: one Pod on each Node whose labels the template's nodeSelector
/// and required node affinity accept (here: this machine's Node, or none), pinned to it by a
/// node-name affinity as the controller does; RollingUpdate replaces outdated Pods at most
/// `maxUnavailable` unavailable at a time — or, with `maxSurge`, starts the new Pod beside the old
/// one on at most that many nodes at once and deletes the old one when the new one is available;
/// OnDelete waits for the user to delete them.
public struct DaemonSetController: Controller {
    let store: ObjectStore
    let writer: ObjectWriter
    public var name: String { "daemonset" }

    static let revisionLabel = "controller-revision-hash"
    static let generationLabel = "pod-template-generation"

    public init(store: ObjectStore, writer: ObjectWriter) {
        self.store = store
        self.writer = writer
    }

    public func sync() throws(EngineError) {
        let sets = try Workloads.values(store.list(Workloads.daemonSets))
        guard !sets.isEmpty else { return }
        let pods = try Workloads.values(store.list(Workloads.pods))
        let nodes = try Workloads.values(store.list(Workloads.nodes))
        for set in sets where !Workloads.isTerminating(set) {
            guard let uid = set.metadataString("uid") else { continue }
            try reconcile(set, pods: pods.filter { Workloads.controllerUID($0) == uid }, nodes: nodes)
        }
    }

    /// Whether the template's nodeSelector and required node affinity accept the node, and its
    /// tolerations every NoSchedule and NoExecute taint of it.
    static func accepts(_ template: JSONValue?, node: JSONValue) -> Bool {
        let tolerations = withDefaultTolerations(template?[member: "spec"] ?? .null)
        for taint in node[member: "spec"]?[member: "taints"]?.arrayItems ?? [] {
            let effect = taint[member: "effect"]?.stringValue ?? ""
            guard effect == "NoSchedule" || effect == "NoExecute" else { continue }
            if !tolerations.contains(where: { tolerates($0, taint) }) { return false }
        }
        let labels = (node[member: "metadata"]?[member: "labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        for (key, value) in template?[member: "spec"]?[member: "nodeSelector"]?.objectValue ?? [:] where labels[key] != value.stringValue {
            return false
        }
        let required = template?[member: "spec"]?[member: "affinity"]?[member: "nodeAffinity"]?[member: "requiredDuringSchedulingIgnoredDuringExecution"]
        guard let terms = required?[member: "nodeSelectorTerms"]?.arrayItems else { return true }
        // Terms are ORed; within a term every requirement must hold.
        return terms.contains { term in
            let expressions = term[member: "matchExpressions"]?.arrayItems ?? []
            let fields = term[member: "matchFields"]?.arrayItems ?? []
            if expressions.isEmpty && fields.isEmpty { return false }
            return expressions.allSatisfy { requirement($0, labels) }
                && fields.allSatisfy { requirement($0, ["metadata.name": node.metadataString("name") ?? ""]) }
        }
    }

    /// The pod spec's tolerations and those every daemon Pod gets: it stays on a node that is
    /// unready, unreachable, under pressure or cordoned (and, on the host's network, without a
    /// pod network).
    static func withDefaultTolerations(_ spec: JSONValue) -> [JSONValue] {
        var tolerations = spec[member: "tolerations"]?.arrayItems ?? []
        var defaults = [("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
                        ("node.kubernetes.io/disk-pressure", "NoSchedule"), ("node.kubernetes.io/memory-pressure", "NoSchedule"),
                        ("node.kubernetes.io/pid-pressure", "NoSchedule"), ("node.kubernetes.io/unschedulable", "NoSchedule")]
        if spec[member: "hostNetwork"] == .bool(true) { defaults.append(("node.kubernetes.io/network-unavailable", "NoSchedule")) }
        for (key, effect) in defaults where !tolerations.contains(where: { $0[member: "key"]?.stringValue == key && $0[member: "effect"]?.stringValue == effect }) {
            tolerations.append(.ordered([("key", .string(key)), ("operator", .string("Exists")), ("effect", .string(effect))]))
        }
        return tolerations
    }

    /// A toleration matches a taint: same effect (or any), and the key with Exists (or any key),
    /// or the key and value with Equal.
    static func tolerates(_ toleration: JSONValue, _ taint: JSONValue) -> Bool {
        let effect = toleration[member: "effect"]?.stringValue ?? ""
        guard effect.isEmpty || effect == taint[member: "effect"]?.stringValue else { return false }
        let key = toleration[member: "key"]?.stringValue ?? ""
        if toleration[member: "operator"]?.stringValue == "Exists" { return key.isEmpty || key == taint[member: "key"]?.stringValue }
        return key == taint[member: "key"]?.stringValue && (toleration[member: "value"]?.stringValue ?? "") == (taint[member: "value"]?.stringValue ?? "")
    }

    static func requirement(_ expression: JSONValue, _ labels: [String: String]) -> Bool {
        let key = expression[member: "key"]?.stringValue ?? ""
        let values = (expression[member: "values"]?.arrayItems ?? []).compactMap(\.stringValue)
        let value = labels[key]
        switch expression[member: "operator"]?.stringValue ?? "" {
        case "In": return value.map(values.contains) ?? false
        case "NotIn": return value.map { !values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt": return value.flatMap { Int($0) }.flatMap { number in values.first.flatMap { Int($0) }.map { number > $0 } } ?? false
        case "Lt": return value.flatMap { Int($0) }.flatMap { number in values.first.flatMap { Int($0) }.map { number < $0 } } ?? false
        default: return false
        }
    }

    static func revision(_ set: JSONValue) -> String {
        Workloads.hash(Workloads.canonical(set[member: "spec"]?[member: "template"] ?? .null))
    }

    static func nodeOf(_ pod: JSONValue) -> String? {
        if let name = pod[member: "spec"]?[member: "nodeName"]?.stringValue, !name.isEmpty { return name }
        let terms = pod[member: "spec"]?[member: "affinity"]?[member: "nodeAffinity"]?[member: "requiredDuringSchedulingIgnoredDuringExecution"]?[member: "nodeSelectorTerms"]?.arrayItems
        return terms?.first?[member: "matchFields"]?.arrayItems?.first?[member: "values"]?.arrayItems?.first?.stringValue
    }

    func reconcile(_ set: JSONValue, pods: [JSONValue], nodes: [JSONValue]) throws(EngineError) {
        guard let namespace = set.metadataString("namespace"), let name = set.metadataString("name") else { return }
        let spec = set[member: "spec"]
        let template = spec?[member: "template"]
        let hash = Self.revision(set)
        let minReady = Workloads.int(spec?[member: "minReadySeconds"], default: 0)
        let now = Int64(time(nil))
        let wanted = nodes.filter { Self.accepts(template, node: $0) }.compactMap { $0.metadataString("name") }
        let strategy = spec?[member: "updateStrategy"]
        let rolling = strategy?[member: "type"]?.stringValue != "OnDelete"
        let maxSurge = rolling ? Workloads.scaled(strategy?[member: "rollingUpdate"]?[member: "maxSurge"], total: wanted.count, default: "0", roundUp: true) : 0
        var live: [String: [JSONValue]] = [:]
        // A node whose old Pod still stops gets the new one after (maxSurge 0).
        let stopping = Set(pods.filter(Workloads.isTerminating).compactMap(Self.nodeOf))
        for pod in pods where !Workloads.isTerminating(pod) {
            let phase = pod[member: "status"]?[member: "phase"]?.stringValue
            // A daemon Pod that failed is replaced.
            if phase == "Failed" || phase == "Succeeded" { try deletePod(pod, set: set); continue }
            live[Self.nodeOf(pod) ?? "", default: []].append(pod)
        }
        for (node, podsThere) in live {
            if !wanted.contains(node) {
                for pod in podsThere { try deletePod(pod, set: set) }
            } else if podsThere.count > 1 {
                // One per node: the oldest stays — while surging, the oldest of each revision.
                let sorted = podsThere.sorted { ($0.metadataString("creationTimestamp") ?? "") < ($1.metadataString("creationTimestamp") ?? "") }
                var kept: [Bool: JSONValue] = [:]
                for pod in sorted {
                    let slot = maxSurge > 0 && Self.revisionOf(pod) == hash
                    if kept[slot] == nil { kept[slot] = pod } else { try deletePod(pod, set: set) }
                }
                live[node] = sorted.filter { kept.values.contains($0) }
            }
        }
        for node in wanted where live[node] == nil && !stopping.contains(node) {
            let pod = Self.pod(from: set, node: node, hash: hash)
            try writer.create(Workloads.pods, pod)
            event(set, "SuccessfulCreate", "Created pod: \(pod.metadataString("name") ?? "")")
        }
        if rolling && maxSurge > 0 {
            try surge(set, wanted: wanted, live: &live, hash: hash, maxSurge: maxSurge, minReady: minReady, now: now)
        } else if rolling {
            // Rolling update: outdated Pods go while the unavailable ones stay within maxUnavailable.
            let maxUnavailable = max(Workloads.scaled(strategy?[member: "rollingUpdate"]?[member: "maxUnavailable"], total: wanted.count, default: "1", roundUp: true), 1)
            var unavailable = wanted.filter { node in
                !(live[node]?.contains { Workloads.isAvailable($0, minReadySeconds: minReady, now: now) } ?? false)
            }.count
            for node in wanted {
                guard let pod = live[node]?.first, Self.revisionOf(pod) != hash else { continue }
                let isAvailable = Workloads.isAvailable(pod, minReadySeconds: minReady, now: now)
                if isAvailable && unavailable >= maxUnavailable { break }
                try deletePod(pod, set: set)
                if isAvailable { unavailable += 1 }
            }
        }
        let all = live.values.flatMap { $0 }.filter { wanted.contains(Self.nodeOf($0) ?? "") }
        let scheduledNodes = Set(all.compactMap(Self.nodeOf))
        let readyNodes = Set(all.filter(Workloads.isReady).compactMap(Self.nodeOf))
        let availableNodes = Set(all.filter { Workloads.isAvailable($0, minReadySeconds: minReady, now: now) }.compactMap(Self.nodeOf))
        let updatedNodes = Set(all.filter { Self.revisionOf($0) == hash }.compactMap(Self.nodeOf))
        var status: [(String, JSONValue)] = [
            ("currentNumberScheduled", .int(scheduledNodes.count)),
            ("numberMisscheduled", .int(live.keys.filter { !wanted.contains($0) }.count)),
            ("desiredNumberScheduled", .int(wanted.count)),
            ("numberReady", .int(readyNodes.count)),
        ]
        if let generation = set[member: "metadata"]?[member: "generation"] { status.append(("observedGeneration", generation)) }
        if !updatedNodes.isEmpty { status.append(("updatedNumberScheduled", .int(updatedNodes.count))) }
        if !availableNodes.isEmpty { status.append(("numberAvailable", .int(availableNodes.count))) }
        if wanted.count - availableNodes.count > 0 { status.append(("numberUnavailable", .int(wanted.count - availableNodes.count))) }
        let newStatus = JSONValue.ordered(status)
        if Workloads.canonical(set[member: "status"] ?? .null) != Workloads.canonical(newStatus) {
            try Workloads.writeStatus(store, ObjectKey(Workloads.daemonSets, namespace: namespace, name: name), newStatus)
        }
        try ControllerRevisions.record(store, writer: writer, owner: set, kind: "DaemonSet", name: "\(name)-\(hash)", hashLabel: Self.revisionLabel, hash: hash,
                                       inUse: Set(pods.compactMap(Self.revisionOf).map { "\(name)-\($0)" }))
    }

    static func revisionOf(_ pod: JSONValue) -> String? { pod[member: "metadata"]?[member: "labels"]?[member: revisionLabel]?.stringValue }

    /// A surging update: on a node whose only Pod is outdated and available, the new Pod starts
    /// beside it (on at most `maxSurge` nodes at a time); an outdated Pod goes once the new one on its
    /// node is available, or at once when it is not available itself (nothing to keep serving).
    func surge(_ set: JSONValue, wanted: [String], live: inout [String: [JSONValue]], hash: String, maxSurge: Int, minReady: Int, now: Int64) throws(EngineError) {
        var surging = wanted.filter { node in
            let pods = live[node] ?? []
            return pods.contains { Self.revisionOf($0) == hash } && pods.contains { Self.revisionOf($0) != hash }
        }.count
        for node in wanted {
            let pods = live[node] ?? []
            let old = pods.filter { Self.revisionOf($0) != hash }, new = pods.filter { Self.revisionOf($0) == hash }
            guard !old.isEmpty else { continue }
            let oldServes = old.contains { Workloads.isAvailable($0, minReadySeconds: minReady, now: now) }
            if let fresh = new.first {
                guard !oldServes || Workloads.isAvailable(fresh, minReadySeconds: minReady, now: now) else { continue }
                for pod in old { try deletePod(pod, set: set) }
                live[node] = new
                surging -= 1
            } else if !oldServes {
                for pod in old { try deletePod(pod, set: set) }
                live[node] = nil
            } else if surging < maxSurge {
                let pod = Self.pod(from: set, node: node, hash: hash)
                try writer.create(Workloads.pods, pod)
                event(set, "SuccessfulCreate", "Created pod: \(pod.metadataString("name") ?? "")")
                live[node] = old + [pod]
                surging += 1
            }
        }
    }

    func event(_ set: JSONValue, _ reason: String, _ message: String) {
        ControllerEvents.record(store, about: set, kind: "DaemonSet", apiVersion: "apps/v1", component: "daemonset-controller",
                                reason: reason, message: message)
    }

    func deletePod(_ pod: JSONValue, set: JSONValue) throws(EngineError) {
        guard let name = pod.metadataString("name"), let namespace = pod.metadataString("namespace") else { return }
        do {
            try writer.delete(ObjectKey(Workloads.pods, namespace: namespace, name: name))
            event(set, "SuccessfulDelete", "Deleted pod: \(name)")
        } catch where error.kind == .notFound {}
    }

    /// The daemon Pod for `node`: the template's, its required node affinity replaced by the node's
    /// name (as the controller pins its Pods), owned by the set.
    static func pod(from set: JSONValue, node: String, hash: String) -> JSONValue {
        let name = set.metadataString("name") ?? ""
        let template = set[member: "spec"]?[member: "template"]
        let generation = set[member: "metadata"]?[member: "generation"]?.numberText ?? "1"
        let labels = (template?[member: "metadata"]?[member: "labels"] ?? .ordered([]))
            .setting(revisionLabel, to: .string(hash)).setting(generationLabel, to: .string(generation))
        var spec = template?[member: "spec"] ?? .ordered([])
        let pin = JSONValue.ordered([("nodeSelectorTerms", .array([.ordered([("matchFields", .array([.ordered([
            ("key", .string("metadata.name")), ("operator", .string("In")), ("values", .array([.string(node)])),
        ])]))])]))])
        let affinity = spec[member: "affinity"] ?? .ordered([])
        let nodeAffinity = (affinity[member: "nodeAffinity"] ?? .ordered([])).setting("requiredDuringSchedulingIgnoredDuringExecution", to: pin)
        spec = spec.setting("affinity", to: affinity.setting("nodeAffinity", to: nodeAffinity))
        spec = spec.setting("tolerations", to: .array(withDefaultTolerations(spec)))
        var metadata: [(String, JSONValue)] = [
            ("name", .string(Names.generate(name + "-"))), ("generateName", .string(name + "-")),
            ("namespace", .string(set.metadataString("namespace") ?? "")), ("labels", labels),
        ]
        if let annotations = template?[member: "metadata"]?[member: "annotations"] { metadata.append(("annotations", annotations)) }
        metadata.append(("ownerReferences", .array([Workloads.ownerReference(set, kind: "DaemonSet", apiVersion: "apps/v1")])))
        return .ordered([("kind", .string("Pod")), ("apiVersion", .string("v1")), ("metadata", .ordered(metadata)), ("spec", spec)])
    }
}
