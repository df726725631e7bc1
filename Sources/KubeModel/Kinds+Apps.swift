import GoCompat
import Kube

/// apps/v1 Deployments and ReplicaSets (the controllers in KubeControllers keep them), with the
/// columns `kubectl get deploy` and `kubectl get rs` print and their status and scale subresources.
extension KubeKinds {
    static func count(_ object: JSONValue, _ path: String...) -> Int {
        var value: JSONValue? = object
        for member in path { value = value?[member: member] }
        return value?.intValue ?? 0
    }

    /// CONTAINERS, IMAGES and SELECTOR, the wide columns of the workload kinds.
    static func workloadWideColumns() -> [TableColumn] {
        [
            TableColumn("Containers", type: "string", priority: 1, description: "Names of each container in the template.") { object in
                .string((object[member: "spec"]?[member: "template"]?[member: "spec"]?[member: "containers"]?.arrayValue ?? [])
                    .compactMap { $0[member: "name"]?.stringValue }.joined(separator: ","))
            },
            TableColumn("Images", type: "string", priority: 1, description: "Images referenced by each container in the template.") { object in
                .string((object[member: "spec"]?[member: "template"]?[member: "spec"]?[member: "containers"]?.arrayValue ?? [])
                    .compactMap { $0[member: "image"]?.stringValue }.joined(separator: ","))
            },
            TableColumn("Selector", type: "string", priority: 1, description: "The label selector of the pods.") { object in
                .string(selectorText(object[member: "spec"]?[member: "selector"]))
            },
        ]
    }

    /// `app=web,tier in (a,b)`, as kubectl prints a LabelSelector.
    public static func selectorText(_ selector: JSONValue?) -> String {
        var parts = (selector?[member: "matchLabels"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.stringValue ?? "")" }
        for expression in selector?[member: "matchExpressions"]?.arrayValue ?? [] {
            let key = expression[member: "key"]?.stringValue ?? ""
            let values = (expression[member: "values"]?.arrayValue ?? []).compactMap(\.stringValue).sorted().joined(separator: ",")
            switch expression[member: "operator"]?.stringValue ?? "" {
            case "In": parts.append("\(key) in (\(values))")
            case "NotIn": parts.append("\(key) notin (\(values))")
            case "Exists": parts.append(key)
            case "DoesNotExist": parts.append("!" + key)
            default: break
            }
        }
        return parts.isEmpty ? "<none>" : parts.joined(separator: ",")
    }

    public static let deployment = KubeKind(
        group: "apps", version: "v1", kind: "Deployment", resource: "deployments", singular: "deployment", namespaced: true,
        shortNames: ["deploy"], verbs: allVerbs,
        columns: [
            TableColumn("Ready", type: "string", description: "Number of the pod with ready state.") {
                .string("\(count($0, "status", "readyReplicas"))/\(count($0, "spec", "replicas"))")
            },
            TableColumn("Up-to-date", type: "integer", description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec.") {
                .int(count($0, "status", "updatedReplicas"))
            },
            TableColumn("Available", type: "integer", description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.") {
                .int(count($0, "status", "availableReplicas"))
            },
            TableColumn("Age", type: "string", description: "") { _ in .null },
        ] + workloadWideColumns(),
        fields: ["spec", "status"])

    public static let replicaSet = KubeKind(
        group: "apps", version: "v1", kind: "ReplicaSet", resource: "replicasets", singular: "replicaset", namespaced: true,
        shortNames: ["rs"], verbs: allVerbs,
        columns: [
            TableColumn("Desired", type: "integer", description: "Number of desired pods.") { .int(count($0, "spec", "replicas")) },
            TableColumn("Current", type: "integer", description: "Number of actual replicas.") { .int(count($0, "status", "replicas")) },
            TableColumn("Ready", type: "integer", description: "Number of ready replicas.") { .int(count($0, "status", "readyReplicas")) },
            TableColumn("Age", type: "string", description: "") { _ in .null },
        ] + workloadWideColumns(),
        fields: ["spec", "status"])
}

/// apps/v1 StatefulSets and DaemonSets, with the columns `kubectl get sts` and `kubectl get ds` print.
extension KubeKinds {
    public static let statefulSet = KubeKind(
        group: "apps", version: "v1", kind: "StatefulSet", resource: "statefulsets", singular: "statefulset", namespaced: true,
        shortNames: ["sts"], verbs: allVerbs,
        columns: [
            TableColumn("Ready", type: "string", description: "Number of the pod with ready state.") {
                .string("\(count($0, "status", "readyReplicas"))/\(count($0, "spec", "replicas"))")
            },
            TableColumn("Age", type: "string", description: "") { _ in .null },
        ] + workloadWideColumns().filter { $0.name != "Selector" },
        fields: ["spec", "status"])

    /// NODE SELECTOR: `key=value,...` of the template's nodeSelector, `<none>` without one.
    static func nodeSelectorText(_ object: JSONValue) -> String {
        let pairs = (object[member: "spec"]?[member: "template"]?[member: "spec"]?[member: "nodeSelector"]?.objectValue ?? [:])
            .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.stringValue ?? "")" }
        return pairs.isEmpty ? "<none>" : pairs.joined(separator: ",")
    }

    public static let daemonSet = KubeKind(
        group: "apps", version: "v1", kind: "DaemonSet", resource: "daemonsets", singular: "daemonset", namespaced: true,
        shortNames: ["ds"], verbs: allVerbs,
        columns: [
            TableColumn("Desired", type: "integer", description: "The total number of nodes that should be running the daemon pod.") {
                .int(count($0, "status", "desiredNumberScheduled"))
            },
            TableColumn("Current", type: "integer", description: "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.") {
                .int(count($0, "status", "currentNumberScheduled"))
            },
            TableColumn("Ready", type: "integer", description: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.") {
                .int(count($0, "status", "numberReady"))
            },
            TableColumn("Up-to-date", type: "integer", description: "The total number of nodes that are running updated daemon pod") {
                .int(count($0, "status", "updatedNumberScheduled"))
            },
            TableColumn("Available", type: "integer", description: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)") {
                .int(count($0, "status", "numberAvailable"))
            },
            TableColumn("Node Selector", type: "string", description: "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node.") {
                .string(nodeSelectorText($0))
            },
            TableColumn("Age", type: "string", description: "") { _ in .null },
        ] + workloadWideColumns(),
        fields: ["spec", "status"])
}

/// apps/v1 ControllerRevisions: the pod templates a StatefulSet or DaemonSet has had, numbered
/// (what `kubectl rollout history` lists and `kubectl rollout undo` goes back to).
extension KubeKinds {
    public static let controllerRevision = KubeKind(
        group: "apps", version: "v1", kind: "ControllerRevision", resource: "controllerrevisions", singular: "controllerrevision", namespaced: true,
        shortNames: [], verbs: allVerbs,
        columns: [
            TableColumn("Controller", type: "string", description: "Controller of the object.") { object in
                let owner = (object[member: "metadata"]?[member: "ownerReferences"]?.arrayItems ?? []).first { $0[member: "controller"] == .bool(true) }
                guard let owner, let kind = owner[member: "kind"]?.stringValue, let name = owner[member: "name"]?.stringValue else { return .string("<none>") }
                let group = (owner[member: "apiVersion"]?.stringValue ?? "").split(separator: "/").dropLast().first.map { "." + $0 } ?? ""
                return .string(kind.lowercased() + group + "/" + name)
            },
            TableColumn("Revision", type: "integer", description: "Revision indicates the revision of the state represented by Data.") {
                .int(count($0, "revision"))
            },
            TableColumn("Age", type: "string", description: "") { _ in .null },
        ],
        fields: ["data", "revision"])
}
