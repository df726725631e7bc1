import ContainerSpec
import GoCompat
import Glibc
import Kube
import KubeModel

/// The Deployment controller's role: a ReplicaSet per pod template (named DEPLOYMENT-HASH, its
/// Pods labelled `pod-template-hash`), the current template's scaled up and the older ones down as
/// the strategy allows — RollingUpdate within maxSurge and maxUnavailable (25% each by default),
/// Recreate only once the old Pods are gone — revisions in `deployment.kubernetes.io/revision`
/// (a template that comes back, as `kubectl rollout undo` sends it, takes the next revision),
/// old ReplicaSets beyond `revisionHistoryLimit` deleted, and status and conditions as
/// `kubectl rollout status` reads them.
public struct DeploymentController: Controller {
    let store: ObjectStore
    let writer: ObjectWriter
    /// When a rollout's progress deadline ends.
    public let timer: WakeTimer? = WakeTimer()
    public var name: String { "deployment" }
    static let revisionAnnotation = "deployment.kubernetes.io/revision"
    static let hashLabel = "pod-template-hash"

    public func sync() throws(EngineError) {
        let deployments = try Workloads.values(store.list(Workloads.deployments))
        guard !deployments.isEmpty else { return }
        let sets = try Workloads.values(store.list(Workloads.replicaSets))
        for deployment in deployments where !Workloads.isTerminating(deployment) {
            guard let uid = deployment.metadataString("uid") else { continue }
            try reconcile(deployment, sets: sets.filter { Workloads.controllerUID($0) == uid })
        }
    }

    static func revision(_ set: JSONValue) -> Int {
        Int(set[member: "metadata"]?[member: "annotations"]?[member: revisionAnnotation]?.stringValue ?? "") ?? 0
    }

    static func replicas(_ set: JSONValue) -> Int { Workloads.int(set[member: "spec"]?[member: "replicas"], default: 0) }
    static func available(_ set: JSONValue) -> Int { Workloads.int(set[member: "status"]?[member: "availableReplicas"], default: 0) }

    /// The template without the hash label (what makes two ReplicaSets' templates the same), and
    /// without a null creationTimestamp (what `kubectl rollout undo` sends back from a ReplicaSet).
    static func withoutHash(_ template: JSONValue?) -> JSONValue {
        guard let template else { return .null }
        let labels = template[member: "metadata"]?[member: "labels"]?.setting(hashLabel, to: nil)
        let metadata = (template[member: "metadata"] ?? .ordered([])).setting("labels", to: labels?.objectValue?.isEmpty == false ? labels : nil)
            .setting("creationTimestamp", to: nil)
        return template.setting("metadata", to: metadata)
    }

    func reconcile(_ deployment: JSONValue, sets: [JSONValue]) throws(EngineError) {
        guard let namespace = deployment.metadataString("namespace"), let name = deployment.metadataString("name") else { return }
        let spec = deployment[member: "spec"]
        let replicas = Workloads.int(spec?[member: "replicas"], default: 1)
        let template = spec?[member: "template"] ?? .ordered([])
        let paused = spec?[member: "paused"] == .bool(true)
        var sets = sets.sorted { Self.revision($0) < Self.revision($1) }
        let maxRevision = sets.map(Self.revision).max() ?? 0
        var current = sets.first { Self.withoutHash($0[member: "spec"]?[member: "template"]) == Self.withoutHash(template) }
        var created = false
        if current == nil && !paused {
            let set = newReplicaSet(deployment, template: template, revision: maxRevision + 1)
            do { try writer.create(Workloads.replicaSets, set) } catch where error.kind == .conflict {}
            current = try? store.get(ObjectKey(Workloads.replicaSets, namespace: namespace, name: set.metadataString("name") ?? "")).value()
            if let current { sets.append(current) }
            created = true
        } else if let found = current, Self.revision(found) < maxRevision, !paused {
            // An old template again (a rollback): it becomes the newest revision.
            try setRevision(found, maxRevision + 1)
            current = try? store.get(ObjectKey(Workloads.replicaSets, namespace: namespace, name: found.metadataString("name") ?? "")).value()
        }
        let currentName = current?.metadataString("name")
        let old = sets.filter { $0.metadataString("name") != currentName }
        if let current, !paused {
            if spec?[member: "strategy"]?[member: "type"]?.stringValue == "Recreate" {
                try recreate(current: current, old: old, replicas: replicas)
            } else {
                try rollingUpdate(current: current, old: old, replicas: replicas, strategy: spec?[member: "strategy"]?[member: "rollingUpdate"])
            }
            try cleanUp(old, limit: Workloads.int(spec?[member: "revisionHistoryLimit"], default: 10))
        }
        // Status from what the ReplicaSets report (re-read: the steps above changed their specs).
        let fresh = sets.compactMap { set in
            try? store.get(ObjectKey(Workloads.replicaSets, namespace: namespace, name: set.metadataString("name") ?? "")).value()
        }
        try writeStatus(deployment, sets: fresh, current: fresh.first { $0.metadataString("name") == currentName }, replicas: replicas, created: created)
    }

    func newReplicaSet(_ deployment: JSONValue, template: JSONValue, revision: Int) -> JSONValue {
        let collisions = Workloads.int(deployment[member: "status"]?[member: "collisionCount"], default: 0)
        let hash = Workloads.hash(Workloads.canonical(Self.withoutHash(template)) + (collisions > 0 ? String(collisions) : ""))
        let name = (deployment.metadataString("name") ?? "") + "-" + hash
        let spec = deployment[member: "spec"]
        let labels = (template[member: "metadata"]?[member: "labels"] ?? .ordered([])).setting(Self.hashLabel, to: .string(hash))
        let podTemplate = template.setting("metadata", to: (template[member: "metadata"] ?? .ordered([])).setting("labels", to: labels))
        let selector = (spec?[member: "selector"] ?? .ordered([])).setting(
            "matchLabels", to: (spec?[member: "selector"]?[member: "matchLabels"] ?? .ordered([])).setting(Self.hashLabel, to: .string(hash)))
        let replicas = Workloads.int(spec?[member: "replicas"], default: 1)
        let surge = Workloads.scaled(spec?[member: "strategy"]?[member: "rollingUpdate"]?[member: "maxSurge"], total: replicas, default: "25%", roundUp: true)
        let annotations: [(String, JSONValue)] = [
            ("deployment.kubernetes.io/desired-replicas", .string(String(replicas))),
            ("deployment.kubernetes.io/max-replicas", .string(String(replicas + surge))),
            (Self.revisionAnnotation, .string(String(revision))),
        ]
        var setSpec: [(String, JSONValue)] = [("replicas", .int(0))]
        if let minReady = spec?[member: "minReadySeconds"] { setSpec.append(("minReadySeconds", minReady)) }
        setSpec += [("selector", selector), ("template", podTemplate)]
        return .ordered([
            ("kind", .string("ReplicaSet")), ("apiVersion", .string("apps/v1")),
            ("metadata", .ordered([
                ("name", .string(name)), ("namespace", .string(deployment.metadataString("namespace") ?? "")), ("labels", labels),
                ("annotations", .ordered(annotations)),
                ("ownerReferences", .array([Workloads.ownerReference(deployment, kind: "Deployment", apiVersion: "apps/v1")])),
            ])),
            ("spec", .ordered(setSpec)),
        ])
    }

    func scale(_ set: JSONValue, to replicas: Int) throws(EngineError) {
        guard Self.replicas(set) != replicas, let name = set.metadataString("name"), let namespace = set.metadataString("namespace") else { return }
        do {
            try store.guaranteedUpdate(ObjectKey(Workloads.replicaSets, namespace: namespace, name: name)) { old throws(EngineError) in
                old.setting("spec", to: (old[member: "spec"] ?? .ordered([])).setting("replicas", to: .int(replicas)))
            }
        } catch where error.kind == .notFound {}
    }

    func setRevision(_ set: JSONValue, _ revision: Int) throws(EngineError) {
        guard let name = set.metadataString("name"), let namespace = set.metadataString("namespace") else { return }
        try store.guaranteedUpdate(ObjectKey(Workloads.replicaSets, namespace: namespace, name: name)) { old throws(EngineError) in
            let annotations = (old[member: "metadata"]?[member: "annotations"] ?? .ordered([])).setting(Self.revisionAnnotation, to: .string(String(revision)))
            return old.settingMetadata("annotations", to: annotations)
        }
    }

    /// Recreate: every old Pod gone before the new ReplicaSet gets any.
    func recreate(current: JSONValue, old: [JSONValue], replicas: Int) throws(EngineError) {
        for set in old where Self.replicas(set) > 0 { try scale(set, to: 0) }
        let oldPods = old.reduce(0) { $0 + Workloads.int($1[member: "status"]?[member: "replicas"], default: 0) }
        if oldPods == 0 { try scale(current, to: replicas) }
    }

    /// RollingUpdate, as the deployment controller computes it: scale the new ReplicaSet up as far
    /// as maxSurge allows, then the old ones down as far as maxUnavailable allows (unhealthy Pods
    /// first), each pass one step.
    func rollingUpdate(current: JSONValue, old: [JSONValue], replicas: Int, strategy: JSONValue?) throws(EngineError) {
        var surge = Workloads.scaled(strategy?[member: "maxSurge"], total: replicas, default: "25%", roundUp: true)
        var unavailable = Workloads.scaled(strategy?[member: "maxUnavailable"], total: replicas, default: "25%", roundUp: false)
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        if replicas == 0 { surge = 0 }
        var currentReplicas = Self.replicas(current)
        var oldReplicas = old.map(Self.replicas)
        // Up.
        if currentReplicas > replicas {
            currentReplicas = replicas
        } else if currentReplicas < replicas {
            let total = currentReplicas + oldReplicas.reduce(0, +)
            let room = replicas + surge - total
            if room > 0 { currentReplicas += min(room, replicas - currentReplicas) }
        }
        try scale(current, to: currentReplicas)
        // Down.
        let allPods = currentReplicas + oldReplicas.reduce(0, +)
        let minAvailable = replicas - unavailable
        let newUnavailable = max(currentReplicas - Self.available(current), 0)
        var budget = allPods - minAvailable - newUnavailable
        if budget > 0 {
            // Old Pods that are not available cost nothing to remove.
            for index in old.indices where budget > 0 {
                let unhealthy = max(oldReplicas[index] - Self.available(old[index]), 0)
                let cut = min(unhealthy, budget)
                oldReplicas[index] -= cut
                budget -= cut
            }
            var availableTotal = Self.available(current) + old.indices.reduce(0) { $0 + min(Self.available(old[$1]), oldReplicas[$1]) }
            for index in old.indices where budget > 0 && availableTotal > minAvailable {
                let cut = min(oldReplicas[index], availableTotal - minAvailable, budget)
                oldReplicas[index] -= cut
                availableTotal -= cut
                budget -= cut
            }
        }
        for (index, set) in old.enumerated() { try scale(set, to: oldReplicas[index]) }
    }

    /// Old ReplicaSets scaled to nothing beyond the history limit go, oldest first.
    func cleanUp(_ old: [JSONValue], limit: Int) throws(EngineError) {
        let idle = old.filter {
            Self.replicas($0) == 0 && Workloads.int($0[member: "status"]?[member: "replicas"], default: 0) == 0 && !Workloads.isTerminating($0)
        }
        guard idle.count > limit else { return }
        for set in idle.sorted(by: { Self.revision($0) < Self.revision($1) }).prefix(idle.count - limit) {
            guard let name = set.metadataString("name"), let namespace = set.metadataString("namespace") else { continue }
            do { try writer.delete(ObjectKey(Workloads.replicaSets, namespace: namespace, name: name)) } catch where error.kind == .notFound {}
        }
    }

    func writeStatus(_ deployment: JSONValue, sets: [JSONValue], current: JSONValue?, replicas: Int, created: Bool) throws(EngineError) {
        guard let namespace = deployment.metadataString("namespace"), let name = deployment.metadataString("name") else { return }
        func sum(_ member: String, _ of: [JSONValue]) -> Int { of.reduce(0) { $0 + Workloads.int($1[member: "status"]?[member: member], default: 0) } }
        let total = sum("replicas", sets), ready = sum("readyReplicas", sets), available = sum("availableReplicas", sets)
        let updated = current.map { Workloads.int($0[member: "status"]?[member: "replicas"], default: 0) } ?? 0
        let strategy = deployment[member: "spec"]?[member: "strategy"]
        var maxUnavailable = strategy?[member: "type"]?.stringValue == "Recreate" ? 0
            : Workloads.scaled(strategy?[member: "rollingUpdate"]?[member: "maxUnavailable"], total: replicas, default: "25%", roundUp: false)
        if maxUnavailable == 0 && strategy?[member: "type"]?.stringValue != "Recreate"
            && Workloads.scaled(strategy?[member: "rollingUpdate"]?[member: "maxSurge"], total: replicas, default: "25%", roundUp: true) == 0 { maxUnavailable = 1 }
        let now = SystemFields.timestamp()
        let oldConditions = deployment[member: "status"]?[member: "conditions"]?.arrayValue ?? []
        func condition(_ type: String, _ status: Bool, _ reason: String, _ message: String) -> JSONValue {
            conditionWith(type, status ? "True" : "False", reason, message)
        }
        func conditionWith(_ type: String, _ status: String, _ reason: String, _ message: String) -> JSONValue {
            let previous = oldConditions.first { $0[member: "type"]?.stringValue == type }
            let same = previous?[member: "status"]?.stringValue == status
            let sameReason = same && previous?[member: "reason"]?.stringValue == reason
            return .ordered([
                ("type", .string(type)), ("status", .string(status)),
                ("lastUpdateTime", .string(sameReason ? previous?[member: "lastUpdateTime"]?.stringValue ?? now : now)),
                ("lastTransitionTime", .string(same ? previous?[member: "lastTransitionTime"]?.stringValue ?? now : now)),
                ("reason", .string(reason)), ("message", .string(message)),
            ])
        }
        let isAvailable = available >= replicas - maxUnavailable
        let setName = current?.metadataString("name") ?? ""
        let complete = updated == replicas && total == replicas && available >= replicas && current.map(Self.replicas) == replicas
        let progressing: JSONValue
        let pausedNow = deployment[member: "spec"]?[member: "paused"] == .bool(true)
        let previousReason = oldConditions.first { $0[member: "type"]?.stringValue == "Progressing" }?[member: "reason"]?.stringValue
        if pausedNow {
            // A paused rollout neither progresses nor times out.
            progressing = conditionWith("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
        } else if previousReason == "DeploymentPaused" {
            progressing = conditionWith("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed")
        } else if complete {
            progressing = condition("Progressing", true, "NewReplicaSetAvailable", "ReplicaSet \"\(setName)\" has successfully progressed.")
        } else if created {
            progressing = condition("Progressing", true, "NewReplicaSetCreated", "Created new replica set \"\(setName)\"")
        } else {
            // progressDeadlineSeconds: without progress (a count that moved) for that long, the
            // rollout has timed out (False, ProgressDeadlineExceeded) until it moves again.
            let previous = oldConditions.first { $0[member: "type"]?.stringValue == "Progressing" }
            let old = deployment[member: "status"]
            let counts = ["replicas": total, "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available]
            let moved = counts.contains { Workloads.int(old?[member: $0.key], default: 0) != $0.value }
            let nowSeconds = Int64(time(nil))
            let lastProgress = moved ? nowSeconds : (previous?[member: "lastUpdateTime"]?.stringValue.flatMap(Tables.parseTimestamp) ?? nowSeconds)
            let paused = deployment[member: "spec"]?[member: "paused"] == .bool(true)
            let deadline = paused ? nil : deployment[member: "spec"]?[member: "progressDeadlineSeconds"]?.intValue
            let wasExceeded = previous?[member: "reason"]?.stringValue == "ProgressDeadlineExceeded"
            if let deadline, !moved && (wasExceeded || nowSeconds - lastProgress > Int64(deadline)) {
                progressing = condition("Progressing", false, "ProgressDeadlineExceeded", "ReplicaSet \"\(setName)\" has timed out progressing.")
            } else {
                let fresh = condition("Progressing", true, "ReplicaSetUpdated", "ReplicaSet \"\(setName)\" is progressing.")
                progressing = moved ? fresh.setting("lastUpdateTime", to: .string(now)) : fresh
                if let deadline { timer?.request(lastProgress + Int64(deadline) + 1) }
            }
        }
        let availableCondition = isAvailable
            ? condition("Available", true, "MinimumReplicasAvailable", "Deployment has minimum availability.")
            : condition("Available", false, "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
        var status: [(String, JSONValue)] = []
        if let generation = deployment[member: "metadata"]?[member: "generation"] { status.append(("observedGeneration", generation)) }
        if total > 0 { status.append(("replicas", .int(total))) }
        if updated > 0 { status.append(("updatedReplicas", .int(updated))) }
        if ready > 0 { status.append(("readyReplicas", .int(ready))) }
        if available > 0 { status.append(("availableReplicas", .int(available))) }
        if replicas - available > 0 { status.append(("unavailableReplicas", .int(replicas - available))) }
        status.append(("conditions", .array([availableCondition, progressing])))
        if let collisions = deployment[member: "status"]?[member: "collisionCount"] { status.append(("collisionCount", collisions)) }
        var annotations: [String: String] = [:]
        if let current { annotations[Self.revisionAnnotation] = String(Self.revision(current)) }
        let newStatus = JSONValue.ordered(status)
        let currentAnnotation = deployment[member: "metadata"]?[member: "annotations"]?[member: Self.revisionAnnotation]?.stringValue
        // Conditions carry times: compare without them, so an unchanged state writes nothing.
        func timeless(_ value: JSONValue?) -> String {
            Workloads.canonical((value ?? .null).setting("conditions", to: .array(((value?[member: "conditions"]?.arrayValue) ?? []).map {
                $0.setting("lastUpdateTime", to: nil).setting("lastTransitionTime", to: nil)
            })))
        }
        if timeless(deployment[member: "status"]) != timeless(newStatus) || currentAnnotation != annotations[Self.revisionAnnotation] {
            try Workloads.writeStatus(store, ObjectKey(Workloads.deployments, namespace: namespace, name: name), newStatus, annotations: annotations)
        }
    }
}
