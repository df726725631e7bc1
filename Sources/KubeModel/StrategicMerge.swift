import GoCompat
import Kube

/// How a list field merges in a strategic merge patch (the `patchStrategy`/`patchMergeKey` tags
/// of the Kubernetes types): by a member that names each item, as a set of primitives, and
/// whether `$retainKeys` applies to its items.
public struct ListMerge: Sendable, Equatable {
    /// nil: a list of primitives merged as a set (finalizers).
    public let key: String?
    public let retainKeys: Bool

    init(_ key: String?, retainKeys: Bool = false) {
        self.key = key
        self.retainKeys = retainKeys
    }
}

/// The lists of each kind served that merge instead of replacing, by path (field names from the
/// object's root; list items add no component).
public enum PatchMeta {
    static let container: [String: ListMerge] = [
        "ports": ListMerge("containerPort"), "env": ListMerge("name"),
        "volumeMounts": ListMerge("mountPath"), "volumeDevices": ListMerge("devicePath"),
    ]

    static let common: [String: ListMerge] = [
        "metadata.finalizers": ListMerge(nil), "metadata.ownerReferences": ListMerge("uid"),
    ]

    static let byKind: [String: [String: ListMerge]] = {
        var pod: [String: ListMerge] = [
            "spec.volumes": ListMerge("name", retainKeys: true),
            "spec.imagePullSecrets": ListMerge("name"), "spec.hostAliases": ListMerge("ip"),
            "spec.topologySpreadConstraints": ListMerge("topologyKey"), "spec.schedulingGates": ListMerge("name"),
            "spec.resourceClaims": ListMerge("name", retainKeys: true),
            "status.conditions": ListMerge("type"), "status.podIPs": ListMerge("ip"), "status.hostIPs": ListMerge("ip"),
        ]
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            pod["spec." + list] = ListMerge("name")
            for (field, merge) in container { pod["spec.\(list).\(field)"] = merge }
        }
        // A workload's pod template merges as a Pod's spec does, under spec.template.
        var workload: [String: ListMerge] = ["status.conditions": ListMerge("type")]
        for (path, merge) in pod where path.hasPrefix("spec.") { workload["spec.template." + path] = merge }
        return [
            "Pod": pod,
            "Deployment": workload,
            "ReplicaSet": workload,
            "Job": workload,
            "StatefulSet": workload,
            "DaemonSet": workload,
            "CronJob": Dictionary(uniqueKeysWithValues: workload.map { ($0.key.hasPrefix("spec.") ? "spec.jobTemplate." + $0.key : $0.key, $0.value) }),
            "ServiceAccount": ["secrets": ListMerge("name")],
            "Service": ["spec.ports": ListMerge("port")],
            "Namespace": ["status.conditions": ListMerge("type")],
            "Node": ["status.conditions": ListMerge("type"), "status.addresses": ListMerge("type"), "spec.podCIDRs": ListMerge(nil)],
            "PersistentVolumeClaim": ["status.conditions": ListMerge("type")],
        ]
    }()

    /// How the list at `path` of a `kind` merges; nil when it is replaced whole.
    public static func list(_ kind: String, _ path: String) -> ListMerge? {
        common[path] ?? byKind[kind]?[path]
    }
}

/// A strategic merge patch (application/strategic-merge-patch+json) as the apiserver applies
/// it: maps merge, lists with a merge key merge item by item, primitive lists with the merge
/// strategy merge as sets, other lists replace; the directives `$patch` (replace, delete, merge),
/// `$retainKeys`, `$deleteFromPrimitiveList/<list>` and `$setElementOrder/<list>`.
public struct StrategicMerge {
    let kind: String

    public init(kind: String) { self.kind = kind }

    public static func apply(kind: String, _ original: JSONValue, _ patch: JSONValue) throws(KubeStatus) -> JSONValue {
        try StrategicMerge(kind: kind).mergeMap(original, patch, path: "") ?? .ordered([])
    }

    func child(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The patch merged into `original`; nil when the patch deletes the map (`$patch: delete`).
    func mergeMap(_ original: JSONValue, _ patch: JSONValue, path: String, retainKeys: Bool = false) throws(KubeStatus) -> JSONValue? {
        guard case .object(let members, let keys) = patch else { return patch }
        switch members["$patch"]?.stringValue {
        case "replace": return Patches.strippingDirectives(patch)
        case "delete": return nil
        case nil, "merge": break
        case let other?: throw .badRequest("Unknown patch type: \(other) in map: \(members)")
        }
        var result: JSONValue = if case .object = original { original } else { .ordered([]) }
        if let retained = members["$retainKeys"] {
            guard case .array(let names) = retained else { throw .badRequest("invalid retainKeys: \(retained.kind)") }
            let keep = Set(names.compactMap(\.stringValue))
            for key in result.objectKeys where !keep.contains(key) { result = result.setting(key, to: nil) }
        }
        var orders: [String: [JSONValue]] = [:]
        for key in keys {
            guard let value = members[key] else { continue }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                guard case .array(let remove) = value else { throw .badRequest("invalid \(key): \(value.kind)") }
                if case .array(let items)? = result[member: field] {
                    result = result.setting(field, to: .array(items.filter { !remove.contains($0) }))
                }
                continue
            }
            if key.hasPrefix("$setElementOrder/") {
                guard case .array(let order) = value else { throw .badRequest("invalid \(key): \(value.kind)") }
                orders[String(key.dropFirst("$setElementOrder/".count))] = order
                continue
            }
            if key.hasPrefix("$") { continue }
            let path = child(path, key)
            if case .null = value {
                result = result.setting(key, to: nil)
                continue
            }
            let current = result[member: key]
            switch value {
            case .object:
                if case .object? = current {
                    result = result.setting(key, to: try mergeMap(current!, value, path: path))
                } else {
                    result = result.setting(key, to: value[member: "$patch"]?.stringValue == "delete" ? nil : Patches.strippingDirectives(value))
                }
            case .array(let items):
                if let merge = PatchMeta.list(kind, path) {
                    let base: [JSONValue] = if case .array(let old)? = current { old } else { [] }
                    result = result.setting(key, to: .array(try mergeList(base, items, merge, path: path)))
                } else {
                    result = result.setting(key, to: Patches.strippingDirectives(value))
                }
            default:
                result = result.setting(key, to: value)
            }
        }
        for (field, order) in orders {
            guard case .array(let items)? = result[member: field] else { continue }
            result = result.setting(field, to: .array(ordered(items, by: order, key: PatchMeta.list(kind, child(path, field))?.key)))
        }
        return result
    }

    func mergeList(_ original: [JSONValue], _ patch: [JSONValue], _ merge: ListMerge, path: String) throws(KubeStatus) -> [JSONValue] {
        guard let mergeKey = merge.key else {
            // A set of primitives: the patch's values join the original's. `$patch: replace` as an
            // item makes the rest of the patch the list.
            if patch.contains(where: { $0[member: "$patch"]?.stringValue == "replace" }) {
                return patch.filter { $0[member: "$patch"] == nil }
            }
            var result = original
            for item in patch where !result.contains(item) { result.append(item) }
            return result
        }
        if patch.contains(where: { $0[member: "$patch"]?.stringValue == "replace" }) {
            return patch.filter { $0[member: "$patch"] == nil }.map(Patches.strippingDirectives)
        }
        var result = original
        for item in patch {
            guard case .object = item else { throw .badRequest("the list \(path) merges by \(mergeKey): an item is \(item.kind), not an object") }
            guard let id = item[member: mergeKey] else {
                throw .badRequest("map: \(item.compactText) does not contain declared merge key: \(mergeKey)")
            }
            let index = result.firstIndex { $0[member: mergeKey] == id }
            if item[member: "$patch"]?.stringValue == "delete" {
                result.removeAll { $0[member: mergeKey] == id }
                continue
            }
            if let index {
                if let merged = try mergeMap(result[index], item, path: path) { result[index] = merged } else { result.remove(at: index) }
            } else if let added = try mergeMap(.ordered([]), item, path: path) {
                result.append(added)
            }
        }
        return result
    }

    /// The items in `order`'s order; items it does not name keep their place after the ones
    /// before them in the list.
    func ordered(_ items: [JSONValue], by order: [JSONValue], key: String?) -> [JSONValue] {
        func id(_ item: JSONValue) -> JSONValue { key.map { item[member: $0] ?? .null } ?? item }
        let ids = order.map { entry in key.map { name in entry[member: name] ?? .null } ?? entry }
        var named = items.filter { ids.contains(id($0)) }
        named.sort { ids.firstIndex(of: id($0))! < ids.firstIndex(of: id($1))! }
        var result: [JSONValue] = []
        var next = named.makeIterator()
        for item in items {
            if ids.contains(id(item)) {
                if let placed = next.next() { result.append(placed) }
            } else {
                result.append(item)
            }
        }
        return result
    }
}

extension JSONValue {
    /// The member names of an object in order; empty for other values.
    var objectKeys: [String] {
        if case .object(_, let keys) = self { return keys }
        return []
    }

    /// The value as compact JSON text (messages).
    var compactText: String { String(decoding: serialized, as: UTF8.self) }
}
