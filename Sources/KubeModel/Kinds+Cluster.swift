import GoCompat
import Kube

/// The kinds of the machine and its storage: Event, Node, PersistentVolume,
/// PersistentVolumeClaim, StorageClass, with the columns `kubectl get` shows for them.
extension KubeKinds {
    static func string(_ value: JSONValue?) -> JSONValue { .string(value?.stringValue ?? "") }

    /// A volume's or claim's phase, as kubectl prints it: Terminating once it is being deleted (a
    /// finalizer holds it while in use).
    static func phaseOrTerminating(_ object: JSONValue) -> JSONValue {
        object[member: "metadata"]?[member: "deletionTimestamp"] != nil ? .string("Terminating") : string(object[member: "status"]?[member: "phase"])
    }

    /// RWO, ROX, RWX, RWOP as kubectl abbreviates access modes.
    static func accessModes(_ value: JSONValue?) -> JSONValue {
        let short = ["ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"]
        return .string((value?.arrayItems ?? []).compactMap(\.stringValue).map { short[$0] ?? $0 }.joined(separator: ","))
    }

    /// A node's address of one type, `<none>` without one.
    static func address(_ node: JSONValue, _ type: String) -> JSONValue {
        let found = (node[member: "status"]?[member: "addresses"]?.arrayItems ?? []).first { $0[member: "type"]?.stringValue == type }
        return .string(found?[member: "address"]?.stringValue ?? "<none>")
    }

    public static let event = KubeKind(
        group: "", version: "v1", kind: "Event", resource: "events", singular: "event", namespaced: true,
        shortNames: ["ev"], verbs: allVerbs,
        columns: [
            TableColumn("Last Seen", type: "string", description: "When the event was last seen.") { event in
                let time = event[member: "series"]?[member: "lastObservedTime"] ?? event[member: "lastTimestamp"] ?? event[member: "eventTime"]
                guard let text = time?.stringValue, let seen = Tables.parseTimestamp(text) else { return .string("<unknown>") }
                return .string(Tables.humanDuration(Int64(SystemFields.now()) - seen))
            },
            TableColumn("Type", type: "string", description: "Normal or Warning.") { string($0[member: "type"]) },
            TableColumn("Reason", type: "string", description: "Why the event happened, in a word.") { string($0[member: "reason"]) },
            TableColumn("Object", type: "string", description: "The object the event is about.") { event in
                let object = event[member: "involvedObject"]
                return .string((object?[member: "kind"]?.stringValue ?? "").lowercased() + "/" + (object?[member: "name"]?.stringValue ?? ""))
            },
            TableColumn("Subobject", type: "string", priority: 1, description: "The part of the object it is about.") {
                string($0[member: "involvedObject"]?[member: "fieldPath"])
            },
            TableColumn("Source", type: "string", priority: 1, description: "Who reported it.") { event in
                let component = event[member: "source"]?[member: "component"]?.stringValue ?? event[member: "reportingComponent"]?.stringValue ?? ""
                let host = event[member: "source"]?[member: "host"]?.stringValue ?? ""
                return .string(host.isEmpty ? component : component + ", " + host)
            },
            TableColumn("Message", type: "string", description: "What happened.") { string($0[member: "message"]) },
            TableColumn("First Seen", type: "string", priority: 1, description: "When the event was first seen.") { event in
                let time = event[member: "firstTimestamp"] ?? event[member: "eventTime"]
                guard let text = time?.stringValue, let seen = Tables.parseTimestamp(text) else { return .string("<unknown>") }
                return .string(Tables.humanDuration(Int64(SystemFields.now()) - seen))
            },
            TableColumn("Count", type: "string", priority: 1, description: "How many times it happened.") { event in
                .string(event[member: "series"]?[member: "count"]?.numberText ?? event[member: "count"]?.numberText ?? "1")
            },
            TableColumn("Name", type: "string", priority: 1, description: "The event's name.") { string($0[member: "metadata"]?[member: "name"]) },
        ],
        fields: ["involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "type", "eventTime",
                 "series", "action", "related", "reportingComponent", "reportingInstance"],
        nameColumn: false, ageColumn: false)

    public static let node = KubeKind(
        group: "", version: "v1", kind: "Node", resource: "nodes", singular: "node", namespaced: false,
        shortNames: ["no"], verbs: allVerbs,
        columns: [
            TableColumn("Status", type: "string", description: "Whether the node is ready, and schedulable.") { node in
                let ready = (node[member: "status"]?[member: "conditions"]?.arrayItems ?? []).first { $0[member: "type"]?.stringValue == "Ready" }
                var text = switch ready?[member: "status"]?.stringValue {
                case "True": "Ready"
                case "False": "NotReady"
                default: "Unknown"
                }
                if node[member: "spec"]?[member: "unschedulable"] == .bool(true) { text += ",SchedulingDisabled" }
                return .string(text)
            },
            TableColumn("Roles", type: "string", description: "The node's roles (node-role.kubernetes.io labels).") { node in
                var roles: [String] = []
                for (key, value) in node[member: "metadata"]?[member: "labels"]?.objectValue ?? [:] {
                    if key.hasPrefix("node-role.kubernetes.io/") { roles.append(String(key.dropFirst("node-role.kubernetes.io/".count))) }
                    if key == "kubernetes.io/role", let role = value.stringValue { roles.append(role) }
                }
                return .string(roles.isEmpty ? "<none>" : roles.sorted().joined(separator: ","))
            },
            TableColumn("Age", type: "string", description: "") { _ in .null },
            TableColumn("Version", type: "string", description: "The kubelet's version.") { string($0[member: "status"]?[member: "nodeInfo"]?[member: "kubeletVersion"]) },
            TableColumn("Internal-IP", type: "string", priority: 1, description: "The node's internal address.") { address($0, "InternalIP") },
            TableColumn("External-IP", type: "string", priority: 1, description: "The node's external address.") { address($0, "ExternalIP") },
            TableColumn("OS-Image", type: "string", priority: 1, description: "The node's operating system.") { string($0[member: "status"]?[member: "nodeInfo"]?[member: "osImage"]) },
            TableColumn("Kernel-Version", type: "string", priority: 1, description: "The node's kernel.") {
                string($0[member: "status"]?[member: "nodeInfo"]?[member: "kernelVersion"])
            },
            TableColumn("Container-Runtime", type: "string", priority: 1, description: "The node's container runtime.") {
                string($0[member: "status"]?[member: "nodeInfo"]?[member: "containerRuntimeVersion"])
            },
        ],
        fields: ["spec", "status"])

    public static let storageClass = KubeKind(
        group: "storage.k8s.io", version: "v1", kind: "StorageClass", resource: "storageclasses", singular: "storageclass", namespaced: false,
        shortNames: ["sc"], verbs: allVerbs,
        columns: [
            TableColumn("Provisioner", type: "string", description: "What makes the class's volumes.") { string($0[member: "provisioner"]) },
            TableColumn("ReclaimPolicy", type: "string", description: "What becomes of a volume its claim released.") { string($0[member: "reclaimPolicy"]) },
            TableColumn("VolumeBindingMode", type: "string", description: "When a claim is bound.") { string($0[member: "volumeBindingMode"]) },
            TableColumn("AllowVolumeExpansion", type: "string", description: "Whether claims may grow.") {
                .string($0[member: "allowVolumeExpansion"] == .bool(true) ? "true" : "false")
            },
        ],
        fields: ["provisioner", "parameters", "reclaimPolicy", "mountOptions", "allowVolumeExpansion", "volumeBindingMode", "allowedTopologies"],
        nameCell: { sc in
            let name = sc[member: "metadata"]?[member: "name"]?.stringValue ?? ""
            return .string(isDefaultClass(sc) ? name + " (default)" : name)
        })

    public static let defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"

    public static func isDefaultClass(_ storageClass: JSONValue) -> Bool {
        let annotations = storageClass[member: "metadata"]?[member: "annotations"]
        return annotations?[member: defaultClassAnnotation]?.stringValue == "true"
            || annotations?[member: "storageclass.beta.kubernetes.io/is-default-class"]?.stringValue == "true"
    }

    public static let persistentVolume = KubeKind(
        group: "", version: "v1", kind: "PersistentVolume", resource: "persistentvolumes", singular: "persistentvolume", namespaced: false,
        shortNames: ["pv"], verbs: allVerbs,
        columns: [
            TableColumn("Capacity", type: "string", description: "The volume's size.") { string($0[member: "spec"]?[member: "capacity"]?[member: "storage"]) },
            TableColumn("Access Modes", type: "string", description: "How the volume can be mounted.") { accessModes($0[member: "spec"]?[member: "accessModes"]) },
            TableColumn("Reclaim Policy", type: "string", description: "What becomes of the volume when its claim goes.") {
                string($0[member: "spec"]?[member: "persistentVolumeReclaimPolicy"])
            },
            TableColumn("Status", type: "string", description: "The volume's phase (Terminating while it is deleted).") { phaseOrTerminating($0) },
            TableColumn("Claim", type: "string", description: "The claim bound to the volume.") { pv in
                guard let claim = pv[member: "spec"]?[member: "claimRef"], let name = claim[member: "name"]?.stringValue else { return .string("") }
                return .string((claim[member: "namespace"]?.stringValue ?? "") + "/" + name)
            },
            TableColumn("StorageClass", type: "string", description: "The volume's class.") { string($0[member: "spec"]?[member: "storageClassName"]) },
            TableColumn("VolumeAttributesClass", type: "string", description: "The volume's attributes class.") { pv in
                .string(pv[member: "spec"]?[member: "volumeAttributesClassName"]?.stringValue ?? "<unset>")
            },
            TableColumn("Reason", type: "string", description: "Why the volume is in its phase.") { string($0[member: "status"]?[member: "reason"]) },
            TableColumn("Age", type: "string", description: "") { _ in .null },
            TableColumn("VolumeMode", type: "string", priority: 1, description: "Filesystem or Block.") { string($0[member: "spec"]?[member: "volumeMode"]) },
        ],
        fields: ["spec", "status"])

    public static let persistentVolumeClaim = KubeKind(
        group: "", version: "v1", kind: "PersistentVolumeClaim", resource: "persistentvolumeclaims", singular: "persistentvolumeclaim",
        namespaced: true, shortNames: ["pvc"], verbs: allVerbs,
        columns: [
            TableColumn("Status", type: "string", description: "The claim's phase (Terminating while it is deleted).") { phaseOrTerminating($0) },
            TableColumn("Volume", type: "string", description: "The volume bound to the claim.") { string($0[member: "spec"]?[member: "volumeName"]) },
            TableColumn("Capacity", type: "string", description: "The bound volume's size.") { string($0[member: "status"]?[member: "capacity"]?[member: "storage"]) },
            TableColumn("Access Modes", type: "string", description: "How the bound volume can be mounted.") { accessModes($0[member: "status"]?[member: "accessModes"]) },
            TableColumn("StorageClass", type: "string", description: "The claim's class.") { string($0[member: "spec"]?[member: "storageClassName"]) },
            TableColumn("VolumeAttributesClass", type: "string", description: "The claim's attributes class.") { pvc in
                .string(pvc[member: "spec"]?[member: "volumeAttributesClassName"]?.stringValue ?? "<unset>")
            },
            TableColumn("Age", type: "string", description: "") { _ in .null },
            TableColumn("VolumeMode", type: "string", priority: 1, description: "Filesystem or Block.") { string($0[member: "spec"]?[member: "volumeMode"]) },
        ],
        fields: ["spec", "status"])

    /// coordination.k8s.io Lease: the node's heartbeat object (kube-node-lease/<node>), which
    /// `kubectl describe node` reads.
    public static let lease = KubeKind(
        group: "coordination.k8s.io", version: "v1", kind: "Lease", resource: "leases", singular: "lease", namespaced: true,
        shortNames: [], verbs: allVerbs,
        columns: [TableColumn("Holder", type: "string", description: "Who holds the lease.") { string($0[member: "spec"]?[member: "holderIdentity"]) }],
        fields: ["spec"])
}
