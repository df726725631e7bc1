import ContainerSpec
import GoCompat
import Glibc
import Kube
import KubeModel

/// The StatefulSet controller's role: Pods with stable names NAME-0…NAME-(n-1), each with the
/// hostname of its name and the subdomain `serviceName` (so the cluster DNS answers
/// NAME-i.SERVICE), and a claim per volumeClaimTemplate named TEMPLATE-NAME-i, made once and kept
/// when Pods or the set go (the Retain policy; Delete makes the set own them). OrderedReady
/// starts NAME-i only once every lower ordinal runs and is ready, and removes the highest first,
/// one at a time; Parallel does all at once. RollingUpdate replaces Pods whose
/// controller-revision-hash is not the template's, from the highest ordinal down to `partition`,
/// one at a time and each once the rest are ready; OnDelete waits for the user to delete them.
public struct StatefulSetController: Controller {
    let store: ObjectStore
    let writer: ObjectWriter
    public var name: String { "statefulset" }

    static let revisionLabel = "controller-revision-hash"
    static let podNameLabel = "statefulset.kubernetes.io/pod-name"
    static let podIndexLabel = "apps.kubernetes.io/pod-index"
    static let claims = Resource("persistentvolumeclaims")

    public init(store: ObjectStore, writer: ObjectWriter) {
        self.store = store
        self.writer = writer
    }

    public func sync() throws(EngineError) {
        let sets = try Workloads.values(store.list(Workloads.statefulSets))
        guard !sets.isEmpty else { return }
        let pods = try Workloads.values(store.list(Workloads.pods))
        let claims = try Workloads.values(store.list(Self.claims))
        for set in sets where !Workloads.isTerminating(set) {
            guard let uid = set.metadataString("uid"), let namespace = set.metadataString("namespace") else { continue }
            try reconcile(set, pods: pods.filter { Workloads.controllerUID($0) == uid },
                          claims: Set(claims.filter { $0.metadataString("namespace") == namespace }.compactMap { $0.metadataString("name") }))
        }
    }

    /// The revision name of the set's current template: NAME-HASH.
    static func revision(_ set: JSONValue) -> String {
        (set.metadataString("name") ?? "") + "-" + Workloads.hash(Workloads.canonical(set[member: "spec"]?[member: "template"] ?? .null))
    }

    static func ordinal(_ pod: JSONValue, of setName: String) -> Int? {
        guard let name = pod.metadataString("name"), name.hasPrefix(setName + "-") else { return nil }
        return Int(name.dropFirst(setName.count + 1))
    }

    static func isRunningAndReady(_ pod: JSONValue) -> Bool {
        pod[member: "status"]?[member: "phase"]?.stringValue == "Running" && Workloads.isReady(pod) && !Workloads.isTerminating(pod)
    }

    func reconcile(_ set: JSONValue, pods: [JSONValue], claims: Set<String>) throws(EngineError) {
        guard let name = set.metadataString("name") else { return }
        let spec = set[member: "spec"]
        let replicas = Workloads.int(spec?[member: "replicas"], default: 1)
        let ordered = spec?[member: "podManagementPolicy"]?.stringValue != "Parallel"
        let updateRevision = Self.revision(set)
        // ordinals.start: the first ordinal (0 unless given).
        let start = max(Workloads.int(spec?[member: "ordinals"]?[member: "start"], default: 0), 0)
        let wanted = start..<(start + max(replicas, 0))
        var byOrdinal: [Int: JSONValue] = [:]
        for pod in pods { if let ordinal = Self.ordinal(pod, of: name) { byOrdinal[ordinal] = pod } }

        // A Pod that ended (Failed or Succeeded) is deleted and made again under the same name.
        for (_, pod) in byOrdinal where !Workloads.isTerminating(pod) {
            let phase = pod[member: "status"]?[member: "phase"]?.stringValue
            if phase == "Failed" || phase == "Succeeded" { try deletePod(pod, set: set) }
        }

        var blocked = false
        // Up: the missing ordinals, in order.
        for ordinal in wanted {
            if let pod = byOrdinal[ordinal] {
                if ordered && !Self.isRunningAndReady(pod) { blocked = true; break }
                continue
            }
            try createClaims(set, ordinal: ordinal, existing: claims)
            let pod = Self.pod(from: set, ordinal: ordinal, revision: updateRevision)
            do {
                try writer.create(Workloads.pods, pod)
                event(set, "SuccessfulCreate", "create Pod \(name)-\(ordinal) in StatefulSet \(name) successful")
            } catch where error.kind == .conflict {}
            if ordered { blocked = true; break }
        }
        // Down: the ordinals beyond the wanted ones, the highest first.
        let extra = byOrdinal.keys.filter { !wanted.contains($0) }.sorted(by: >)
        if !extra.isEmpty && !blocked {
            let terminating = byOrdinal.values.contains(where: Workloads.isTerminating)
            for ordinal in extra {
                guard let pod = byOrdinal[ordinal], !Workloads.isTerminating(pod) else { continue }
                if ordered && terminating { break }
                try deletePod(pod, set: set)
                if ordered { blocked = true; break }
            }
        }
        // Rolling update: the highest outdated ordinal at or above the partition, once all are ready.
        let strategy = spec?[member: "updateStrategy"]
        if !blocked && strategy?[member: "type"]?.stringValue != "OnDelete" {
            let partition = Workloads.int(strategy?[member: "rollingUpdate"]?[member: "partition"], default: 0)
            let allReady = wanted.allSatisfy { byOrdinal[$0].map(Self.isRunningAndReady) ?? false }
            if allReady {
                for ordinal in wanted.reversed() where ordinal - start >= partition {
                    guard let pod = byOrdinal[ordinal], Self.revisionOf(pod) != updateRevision else { continue }
                    if !Workloads.isTerminating(pod) { try deletePod(pod, set: set) }
                    break
                }
            }
        }
        try deleteScaledClaims(set, wanted: wanted, pods: byOrdinal, claims: claims)
        try writeStatus(set, pods: Array(byOrdinal.values), replicas: replicas, updateRevision: updateRevision)
        try ControllerRevisions.record(store, writer: writer, owner: set, kind: "StatefulSet", name: updateRevision, hashLabel: Self.revisionLabel,
                                       hash: updateRevision, inUse: Set(byOrdinal.values.compactMap(Self.revisionOf)))
    }

    /// persistentVolumeClaimRetentionPolicy.whenScaled Delete: the claims of an ordinal scaled
    /// away go once its Pod is gone (Retain, the default, keeps them for a scale up).
    func deleteScaledClaims(_ set: JSONValue, wanted: Range<Int>, pods: [Int: JSONValue], claims: Set<String>) throws(EngineError) {
        guard set[member: "spec"]?[member: "persistentVolumeClaimRetentionPolicy"]?[member: "whenScaled"]?.stringValue == "Delete",
              let setName = set.metadataString("name"), let namespace = set.metadataString("namespace") else { return }
        for template in set[member: "spec"]?[member: "volumeClaimTemplates"]?.arrayItems ?? [] {
            guard let templateName = template.metadataString("name") else { continue }
            let prefix = "\(templateName)-\(setName)-"
            for claim in claims where claim.hasPrefix(prefix) {
                guard let ordinal = Int(claim.dropFirst(prefix.count)), !wanted.contains(ordinal), pods[ordinal] == nil else { continue }
                do {
                    try writer.delete(ObjectKey(Self.claims, namespace: namespace, name: claim))
                    event(set, "SuccessfulDelete", "delete Claim \(claim) in StatefulSet \(setName) success")
                } catch where error.kind == .notFound {}
            }
        }
    }

    static func revisionOf(_ pod: JSONValue) -> String? { pod[member: "metadata"]?[member: "labels"]?[member: revisionLabel]?.stringValue }

    func event(_ set: JSONValue, _ reason: String, _ message: String) {
        ControllerEvents.record(store, about: set, kind: "StatefulSet", apiVersion: "apps/v1", component: "statefulset-controller",
                                reason: reason, message: message)
    }

    func deletePod(_ pod: JSONValue, set: JSONValue) throws(EngineError) {
        guard let name = pod.metadataString("name"), let namespace = pod.metadataString("namespace") else { return }
        do {
            try writer.delete(ObjectKey(Workloads.pods, namespace: namespace, name: name))
            event(set, "SuccessfulDelete", "delete Pod \(name) in StatefulSet \(set.metadataString("name") ?? "") successful")
        } catch where error.kind == .notFound {}
    }

    /// The claims of one ordinal that do not exist yet: made once, never changed or replaced.
    func createClaims(_ set: JSONValue, ordinal: Int, existing: Set<String>) throws(EngineError) {
        let setName = set.metadataString("name") ?? ""
        for template in set[member: "spec"]?[member: "volumeClaimTemplates"]?.arrayItems ?? [] {
            guard let templateName = template.metadataString("name") else { continue }
            let claimName = "\(templateName)-\(setName)-\(ordinal)"
            guard !existing.contains(claimName) else { continue }
            // Labels: the template's and the set's selector's, so the claims can be found by it.
            var labels = template[member: "metadata"]?[member: "labels"] ?? .ordered([])
            for (key, value) in (set[member: "spec"]?[member: "selector"]?[member: "matchLabels"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                labels = labels.setting(key, to: value)
            }
            var metadata: [(String, JSONValue)] = [("name", .string(claimName)), ("namespace", .string(set.metadataString("namespace") ?? ""))]
            if labels.objectValue?.isEmpty == false { metadata.append(("labels", labels)) }
            if let annotations = template[member: "metadata"]?[member: "annotations"] { metadata.append(("annotations", annotations)) }
            if set[member: "spec"]?[member: "persistentVolumeClaimRetentionPolicy"]?[member: "whenDeleted"]?.stringValue == "Delete" {
                metadata.append(("ownerReferences", .array([Workloads.ownerReference(set, kind: "StatefulSet", apiVersion: "apps/v1")])))
            }
            let claim = JSONValue.ordered([("kind", .string("PersistentVolumeClaim")), ("apiVersion", .string("v1")),
                                           ("metadata", .ordered(metadata)), ("spec", template[member: "spec"] ?? .ordered([]))])
            do {
                try writer.create(Self.claims, claim)
                event(set, "SuccessfulCreate", "create Claim \(claimName) Pod \(setName)-\(ordinal) in StatefulSet \(setName) success")
            } catch where error.kind == .conflict {}
        }
    }

    /// Pod NAME-i from the template: its hostname and subdomain, its claims in place of the
    /// templates' volumes, its revision, name and index labels.
    static func pod(from set: JSONValue, ordinal: Int, revision: String) -> JSONValue {
        let setName = set.metadataString("name") ?? ""
        let podName = "\(setName)-\(ordinal)"
        let template = set[member: "spec"]?[member: "template"]
        var labels = (template?[member: "metadata"]?[member: "labels"] ?? .ordered([]))
            .setting(revisionLabel, to: .string(revision)).setting(podNameLabel, to: .string(podName))
            .setting(podIndexLabel, to: .string(String(ordinal)))
        if case .object = labels {} else { labels = .ordered([]) }
        var spec = template?[member: "spec"] ?? .ordered([])
        spec = spec.setting("hostname", to: .string(podName))
        if let service = set[member: "spec"]?[member: "serviceName"]?.stringValue, !service.isEmpty {
            spec = spec.setting("subdomain", to: .string(service))
        }
        let claimTemplates = (set[member: "spec"]?[member: "volumeClaimTemplates"]?.arrayItems ?? []).compactMap { $0.metadataString("name") }
        if !claimTemplates.isEmpty {
            var volumes = (spec[member: "volumes"]?.arrayItems ?? []).filter { volume in
                !claimTemplates.contains(volume[member: "name"]?.stringValue ?? "")
            }
            for template in claimTemplates {
                volumes.append(.ordered([("name", .string(template)), ("persistentVolumeClaim", .ordered([
                    ("claimName", .string("\(template)-\(setName)-\(ordinal)")),
                ]))]))
            }
            spec = spec.setting("volumes", to: .array(volumes))
        }
        var metadata: [(String, JSONValue)] = [("name", .string(podName)), ("namespace", .string(set.metadataString("namespace") ?? "")),
                                              ("labels", labels)]
        if let annotations = template?[member: "metadata"]?[member: "annotations"] { metadata.append(("annotations", annotations)) }
        metadata.append(("ownerReferences", .array([Workloads.ownerReference(set, kind: "StatefulSet", apiVersion: "apps/v1")])))
        return .ordered([("kind", .string("Pod")), ("apiVersion", .string("v1")), ("metadata", .ordered(metadata)), ("spec", spec)])
    }

    func writeStatus(_ set: JSONValue, pods: [JSONValue], replicas: Int, updateRevision: String) throws(EngineError) {
        guard let namespace = set.metadataString("namespace"), let name = set.metadataString("name") else { return }
        let live = pods.filter { !Workloads.isTerminating($0) }
        let ready = live.filter(Self.isRunningAndReady)
        let updated = live.filter { Self.revisionOf($0) == updateRevision }
        let previous = set[member: "status"]
        // The current revision is the update one once every Pod has it; until then the old one.
        var currentRevision = previous?[member: "currentRevision"]?.stringValue ?? updateRevision
        if updated.count == replicas && live.count == replicas { currentRevision = updateRevision }
        let current = live.filter { Self.revisionOf($0) == currentRevision }
        let minReady = Workloads.int(set[member: "spec"]?[member: "minReadySeconds"], default: 0)
        let available = ready.filter { Workloads.isAvailable($0, minReadySeconds: minReady, now: Int64(time(nil))) }
        var status: [(String, JSONValue)] = []
        if let generation = set[member: "metadata"]?[member: "generation"] { status.append(("observedGeneration", generation)) }
        status.append(("replicas", .int(live.count)))
        if !ready.isEmpty { status.append(("readyReplicas", .int(ready.count))) }
        if !current.isEmpty { status.append(("currentReplicas", .int(current.count))) }
        if !updated.isEmpty { status.append(("updatedReplicas", .int(updated.count))) }
        status += [("currentRevision", .string(currentRevision)), ("updateRevision", .string(updateRevision)), ("collisionCount", .int(0)),
                   ("availableReplicas", .int(available.count))]
        let newStatus = JSONValue.ordered(status)
        if Workloads.canonical(previous ?? .null) != Workloads.canonical(newStatus) {
            try Workloads.writeStatus(store, ObjectKey(Workloads.statefulSets, namespace: namespace, name: name), newStatus)
        }
    }
}
