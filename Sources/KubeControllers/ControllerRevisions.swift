import ContainerSpec
import GoCompat
import Kube
import KubeModel

/// The revisions of a StatefulSet's or DaemonSet's pod template, as ControllerRevisions named
/// OWNER-HASH: the data is the patch that puts the template back (`$patch: replace`), the
/// revision a number that grows with each new template (a template that comes back, as `kubectl
/// rollout undo` sends it, takes the next number). Revisions beyond revisionHistoryLimit that no
/// Pod uses are deleted, the oldest first.
enum ControllerRevisions {
    static let resource = Resource(group: "apps", "controllerrevisions")

    static func revision(_ object: JSONValue) -> Int { object[member: "revision"]?.intValue ?? 0 }

    /// Makes (or renumbers) the revision `name` for the owner's current template; trims history.
    static func record(_ store: ObjectStore, writer: ObjectWriter, owner: JSONValue, kind: String, name: String, hashLabel: String,
                       hash: String, inUse: Set<String>) throws(EngineError) {
        guard let namespace = owner.metadataString("namespace"), let uid = owner.metadataString("uid") else { return }
        let owned = try Workloads.values(store.list(resource, namespace: namespace)).filter { Workloads.controllerUID($0) == uid }
        let highest = owned.map(revision).max() ?? 0
        if let existing = owned.first(where: { $0.metadataString("name") == name }) {
            if revision(existing) < highest {
                do {
                    try store.guaranteedUpdate(ObjectKey(resource, namespace: namespace, name: name)) { old throws(EngineError) in
                        old.setting("revision", to: .int(highest + 1))
                    }
                } catch where error.kind == .notFound {}
            }
        } else {
            let template = owner[member: "spec"]?[member: "template"] ?? .ordered([])
            let labels = (template[member: "metadata"]?[member: "labels"] ?? .ordered([])).setting(hashLabel, to: .string(hash))
            let data = JSONValue.ordered([("spec", .ordered([("template", template.setting("$patch", to: .string("replace")))]))])
            let object = JSONValue.ordered([
                ("kind", .string("ControllerRevision")), ("apiVersion", .string("apps/v1")),
                ("metadata", .ordered([("name", .string(name)), ("namespace", .string(namespace)), ("labels", labels),
                                       ("ownerReferences", .array([Workloads.ownerReference(owner, kind: kind, apiVersion: "apps/v1")]))])),
                ("data", data), ("revision", .int(highest + 1)),
            ])
            do { try writer.create(resource, object) } catch where error.kind == .conflict {}
        }
        let limit = Workloads.int(owner[member: "spec"]?[member: "revisionHistoryLimit"], default: 10)
        let old = owned.filter { $0.metadataString("name") != name && !inUse.contains($0.metadataString("name") ?? "") && !Workloads.isTerminating($0) }
        guard old.count > limit else { return }
        for stale in old.sorted(by: { revision($0) < revision($1) }).prefix(old.count - limit) {
            guard let staleName = stale.metadataString("name") else { continue }
            do { try writer.delete(ObjectKey(resource, namespace: namespace, name: staleName)) } catch where error.kind == .notFound {}
        }
    }
}
