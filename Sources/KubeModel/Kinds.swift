import GoCompat
import Kube

/// A kind the API serves: its group/version/kind, its resource (the URL's plural, the store's key),
/// how discovery describes it, and its `kubectl get` columns.
public struct KubeKind: Sendable {
    public let group: String
    public let version: String
    public let kind: String
    /// The plural, lowercase: `configmaps`.
    public let resource: String
    public let singular: String
    public let namespaced: Bool
    public let shortNames: [String]
    public let verbs: [String]
    /// The columns between NAME and AGE.
    public let columns: [TableColumn]
    /// Top-level members the kind has besides apiVersion, kind and metadata (fieldValidation).
    public let fields: Set<String>
    /// The Table's NAME cell (a default StorageClass says so); nil: the name. `nameColumn` false:
    /// no NAME column (Events); a column named "Age" among `columns` places AGE, else it is last
    /// unless `ageColumn` is false.
    public var nameCell: (@Sendable (JSONValue) -> JSONValue)? = nil
    public var nameColumn = true
    public var ageColumn = true
    /// Where the objects are kept when another kind's storage holds them (events.k8s.io Events).
    public var storage: Resource? = nil

    /// The subresources after an object's name (`status`).
    public var subresources: [String] {
        if kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet" { return ["status", "scale"] }
        return ["Pod", "Job", "CronJob", "DaemonSet", "Namespace", "Node", "PersistentVolume", "PersistentVolumeClaim", "HorizontalPodAutoscaler", "Ingress"].contains(kind) ? ["status"] : []
    }
    /// The categories discovery lists (`kubectl get all` gets the kinds in "all").
    public var categories: [String] {
        ["Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "HorizontalPodAutoscaler"].contains(kind) ? ["all"] : []
    }
    /// Whether status changes only through the status subresource (and spec only through the object).
    public var hasStatus: Bool { subresources.contains("status") }

    public var storeResource: Resource { storage ?? Resource(group: group, resource) }
    /// Objects kept in another kind's shape (converted on the way in and out).
    public var isConverted: Bool { storage != nil }
    public var apiVersion: String { group.isEmpty ? version : group + "/" + version }
    public var listKind: String { kind + "List" }
    /// `configmaps`, or `deployments.apps` outside the core group (the apiserver's messages).
    public var qualifiedResource: String { group.isEmpty ? resource : resource + "." + group }
    var groupOrNil: String? { group.isEmpty ? nil : group }
}

/// One `kubectl get` column: how the Table describes it and its cell for an object.
public struct TableColumn: Sendable {
    public let name: String
    public let type: String
    public let format: String
    public let description: String
    public let cell: @Sendable (JSONValue) -> JSONValue

    /// 0: always shown; 1: with `-o wide`.
    public let priority: Int

    public init(_ name: String, type: String, format: String = "", priority: Int = 0, description: String,
                cell: @escaping @Sendable (JSONValue) -> JSONValue) {
        self.name = name
        self.priority = priority
        self.type = type
        self.format = format
        self.description = description
        self.cell = cell
    }
}

public enum KubeKinds {
    static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// How many members an object has in `member` (a ConfigMap's data and binaryData, a Secret's data).
    static func count(_ object: JSONValue, _ members: [String]) -> JSONValue {
        .int(members.reduce(0) { $0 + (object[member: $1]?.objectValue?.count ?? 0) })
    }

    static func items(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let items)? = value { return items }
        return []
    }

    static func number(_ value: JSONValue?) -> String {
        if case .number(let text)? = value { return text }
        return "0"
    }

    static func length(_ value: JSONValue?) -> JSONValue {
        if case .array(let items)? = value { return .int(items.count) }
        return .int(0)
    }

    public static let namespace = KubeKind(
        group: "", version: "v1", kind: "Namespace", resource: "namespaces", singular: "namespace", namespaced: false,
        shortNames: ["ns"], verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
        columns: [TableColumn("Status", type: "string", description: "The phase of the namespace (Active or Terminating).") {
            $0[member: "status"]?[member: "phase"] ?? .string("")
        }],
        fields: ["spec", "status"])

    public static let configMap = KubeKind(
        group: "", version: "v1", kind: "ConfigMap", resource: "configmaps", singular: "configmap", namespaced: true,
        shortNames: ["cm"], verbs: allVerbs,
        columns: [TableColumn("Data", type: "integer", description: "The number of keys in data and binaryData.") {
            count($0, ["data", "binaryData"])
        }],
        fields: ["data", "binaryData", "immutable"])

    public static let secret = KubeKind(
        group: "", version: "v1", kind: "Secret", resource: "secrets", singular: "secret", namespaced: true,
        shortNames: [], verbs: allVerbs,
        columns: [
            TableColumn("Type", type: "string", description: "The type of the secret's data.") { $0[member: "type"] ?? .string("") },
            TableColumn("Data", type: "integer", description: "The number of keys in data.") { count($0, ["data"]) },
        ],
        fields: ["data", "stringData", "type", "immutable"])

    public static let serviceAccount = KubeKind(
        group: "", version: "v1", kind: "ServiceAccount", resource: "serviceaccounts", singular: "serviceaccount", namespaced: true,
        shortNames: ["sa"], verbs: allVerbs,
        columns: [TableColumn("Secrets", type: "integer", description: "The number of secrets the service account lists.") {
            length($0[member: "secrets"])
        }],
        fields: ["secrets", "imagePullSecrets", "automountServiceAccountToken"])

    static func noneIfEmpty(_ value: JSONValue?) -> JSONValue {
        let text = value?.stringValue ?? ""
        return .string(text.isEmpty ? "<none>" : text)
    }

    /// Every kind served, in discovery's order.
    public static let all: [KubeKind] = [configMap, endpoints, event, namespace, node, persistentVolumeClaim, persistentVolume, pod, secret,
                                         serviceAccount, service, deployment, replicaSet, storageClass, eventsV1, lease,
                                         job, cronJob, statefulSet, daemonSet, controllerRevision,
                                         horizontalPodAutoscaler, horizontalPodAutoscalerV1,
                                         networkPolicy, endpointSlice,
                                         ingress, ingressClass]

    /// The kind served under `resource` in `group` (at `version`; nil: the preferred version).
    public static func kind(group: String = "", version: String? = nil, resource: String) -> KubeKind? {
        let version = version ?? versions(of: group).first
        return all.first { $0.group == group && $0.version == version && $0.resource == resource }
    }

    /// The namespaced kinds a namespace holds (what its deletion deletes).
    public static var namespacedKinds: [KubeKind] { all.filter { $0.namespaced && !$0.isConverted } }
}

extension JSONValue {
    /// The items of an array; nil for other values.
    public var arrayItems: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// A number's literal text; nil for other values.
    public var numberText: String? {
        if case .number(let text) = self { return text }
        return nil
    }
}
