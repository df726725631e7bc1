import Glibc
import GoCompat
import HTTPServer
import Kube
import KubeModel

/// Deletion as the apiserver and its controllers do it: graceful Pods (deletionTimestamp and
/// deletionGracePeriodSeconds; the kubelet removes them), finalizers (the object stays until
/// they are gone), ownerReferences garbage collection (Background, Foreground with the
/// foregroundDeletion finalizer, Orphan), Namespaces that empty themselves while Terminating.
extension KubeAPI {
    static let foregroundFinalizer = "foregroundDeletion"
    static let orphanFinalizer = "orphan"

    /// What became of a deletion: the object is gone (as last stored), or it stays, marked.
    enum Deletion {
        case deleted(JSONValue)
        case pending(JSONValue)

        var object: JSONValue {
            switch self {
            case .deleted(let object), .pending(let object): object
            }
        }
    }

    static func finalizers(_ object: JSONValue) -> [String] {
        (object[member: "metadata"]?[member: "finalizers"]?.arrayItems ?? []).compactMap(\.stringValue)
    }

    static func isDeleting(_ object: JSONValue) -> Bool { object[member: "metadata"]?[member: "deletionTimestamp"] != nil }

    /// Deletes one object with `options`: at once, or marked (graceful Pod, finalizers, Foreground).
    func deleteObject(_ kind: KubeKind, _ key: ObjectKey, _ options: DeleteOptions) throws(KubeStatus) -> Deletion {
        let target = Target(kind: kind, namespace: key.namespace.isEmpty ? nil : key.namespace, name: key.name)
        let current: StoredObject
        do { current = try store.get(key) } catch { throw status(error, target) }
        let object = try parse(current)
        if let uid = options.uid, uid != object.metadataString("uid") {
            throw .conflict(kind, key.name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.metadataString("uid") ?? "")")
        }
        if let version = options.resourceVersion, version != current.resourceVersion {
            throw .conflict(kind, key.name, "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(current.resourceVersion)")
        }
        // A Pod on a node gets its grace period (the kubelet stops it, then deletes it with 0);
        // one never scheduled, or finished, goes at once.
        var grace = 0
        if kind.kind == "Pod" {
            let phase = object[member: "status"]?[member: "phase"]?.stringValue ?? ""
            let scheduled = !(object[member: "spec"]?[member: "nodeName"]?.stringValue ?? "").isEmpty
            if scheduled && phase != "Succeeded" && phase != "Failed" {
                grace = options.gracePeriod
                    ?? Int(object[member: "spec"]?[member: "terminationGracePeriodSeconds"]?.numberText ?? "") ?? 30
                if grace < 0 { grace = 1 }
            }
        }
        var finalizers = Self.finalizers(object)
        switch options.propagation {
        case "Foreground" where !finalizers.contains(Self.foregroundFinalizer): finalizers.append(Self.foregroundFinalizer)
        case "Orphan" where !finalizers.contains(Self.orphanFinalizer): finalizers.append(Self.orphanFinalizer)
        default: break
        }
        if options.dryRun {
            if finalizers.isEmpty && grace == 0 { return .deleted(object) }
            return .pending(Self.marked(object, grace: grace, finalizers: finalizers))
        }
        if finalizers.isEmpty && grace == 0 {
            return .deleted(try remove(kind, key, object))
        }
        // Already being deleted: a shorter grace period may only shorten it.
        if Self.isDeleting(object) {
            let previous = Int(object[member: "metadata"]?[member: "deletionGracePeriodSeconds"]?.numberText ?? "") ?? 0
            if grace >= previous && finalizers == Self.finalizers(object) { return .pending(object) }
            if grace == 0 && finalizers.isEmpty { return .deleted(try remove(kind, key, object)) }
        }
        let stored: StoredObject
        do {
            stored = try store.guaranteedUpdate(key) { value in Self.marked(value, grace: grace, finalizers: finalizers) }
        } catch {
            throw status(error, target)
        }
        let marked = try parse(stored)
        // A claim no Pod uses (a volume no claim holds) goes now, whatever the propagation.
        if kind.kind == "PersistentVolumeClaim" || kind.kind == "PersistentVolume" { try releaseIfUnused(kind, key) }
        if finalizers.contains(Self.orphanFinalizer) || finalizers.contains(Self.foregroundFinalizer) {
            try collectGarbage(owner: marked, kind: kind)
            // The collection may have finished the object already.
            if let after = try? store.get(key), let value = try? after.value() { return .pending(value) }
            return .deleted(marked)
        }
        if kind.kind == "PersistentVolumeClaim" || kind.kind == "PersistentVolume" {
            guard let after = try? store.get(key), let value = try? after.value() else { return .deleted(marked) }
            return .pending(value)
        }
        return .pending(marked)
    }

    static func marked(_ object: JSONValue, grace: Int, finalizers: [String]) -> JSONValue {
        var object = object
        let previous = Int(object[member: "metadata"]?[member: "deletionGracePeriodSeconds"]?.numberText ?? "")
        if !isDeleting(object) || (previous ?? 0) > grace {
            object = object.settingMetadata("deletionTimestamp", to: .string(SystemFields.timestamp(time(nil) + grace)))
            object = object.settingMetadata("deletionGracePeriodSeconds", to: .int(grace))
        }
        return object.settingMetadata("finalizers", to: finalizers.isEmpty ? nil : .array(finalizers.map { .string($0) }))
    }

    /// Takes the object out of the store, then does what its going sets off: its dependents are
    /// collected, owners waiting in the foreground re-checked, a Terminating namespace finished.
    @discardableResult
    func remove(_ kind: KubeKind, _ key: ObjectKey, _ object: JSONValue) throws(KubeStatus) -> JSONValue {
        let last: StoredObject
        do { last = try store.delete(key) } catch where error.kind == .notFound { return object } catch {
            throw status(error, Target(kind: kind, namespace: key.namespace.isEmpty ? nil : key.namespace, name: key.name))
        }
        let value = (try? last.value()) ?? object
        if kind.kind == "PersistentVolumeClaim" { reclaim(value) }
        try collectGarbage(owner: value, kind: kind)
        try recheckOwners(of: value, namespace: key.namespace)
        if !key.namespace.isEmpty { try finishNamespace(key.namespace) }
        return value
    }

    /// The objects whose ownerReferences name `uid` (in `namespace`, or anywhere for a cluster-scoped owner).
    func dependents(of uid: String, namespace: String?) throws(KubeStatus) -> [(KubeKind, StoredObject, JSONValue)] {
        var found: [(KubeKind, StoredObject, JSONValue)] = []
        for kind in KubeKinds.all where !kind.isConverted {
            if namespace != nil && !kind.namespaced { continue }
            let items: [StoredObject]
            do { items = try store.list(kind.storeResource, namespace: kind.namespaced ? namespace : nil).items } catch { throw .internalError(error.message) }
            for item in items {
                let value = try parse(item)
                let references = value[member: "metadata"]?[member: "ownerReferences"]?.arrayItems ?? []
                if references.contains(where: { $0[member: "uid"]?.stringValue == uid }) { found.append((kind, item, value)) }
            }
        }
        return found
    }

    /// The garbage collector's work for an owner that is gone or going: Orphan takes the owner
    /// out of its dependents' ownerReferences; Foreground deletes them and holds the owner until
    /// they are gone; a deleted owner's dependents are deleted (Background) once no other owner
    /// of theirs remains.
    func collectGarbage(owner: JSONValue, kind: KubeKind) throws(KubeStatus) {
        guard let uid = owner.metadataString("uid") else { return }
        let namespace = kind.namespaced ? owner.metadataString("namespace") ?? "" : nil
        let finalizers = Self.finalizers(owner)
        let ownerKey = ObjectKey(kind.storeResource, namespace: namespace ?? "", name: owner.metadataString("name") ?? "")
        let gone = !Self.isDeleting(owner) || (try? store.get(ownerKey)) == nil
        if Self.isDeleting(owner) && finalizers.contains(Self.orphanFinalizer) && !gone {
            for (_, item, _) in try dependents(of: uid, namespace: namespace) {
                _ = try? store.guaranteedUpdate(item.key) { value in Self.dropping(uid, from: value) }
            }
            try removeFinalizer(Self.orphanFinalizer, kind, ownerKey)
            return
        }
        let foreground = Self.isDeleting(owner) && finalizers.contains(Self.foregroundFinalizer) && !gone
        for (dependentKind, item, value) in try dependents(of: uid, namespace: namespace) {
            let references = value[member: "metadata"]?[member: "ownerReferences"]?.arrayItems ?? []
            let others = references.filter { $0[member: "uid"]?.stringValue != uid }
            var owned = false
            for reference in others where try ownerExists(reference, namespace: namespace) { owned = true }
            if !foreground && owned {
                _ = try? store.guaranteedUpdate(item.key) { value in Self.dropping(uid, from: value) }
                continue
            }
            if Self.isDeleting(value) && !foreground { continue }
            var options = DeleteOptions()
            options.propagation = "Background"
            do { _ = try deleteObject(dependentKind, item.key, options) } catch where error.code == 404 {}
        }
        if foreground { try recheckForeground(kind, ownerKey) }
    }

    static func dropping(_ uid: String, from value: JSONValue) -> JSONValue {
        let references = (value[member: "metadata"]?[member: "ownerReferences"]?.arrayItems ?? []).filter { $0[member: "uid"]?.stringValue != uid }
        return value.settingMetadata("ownerReferences", to: references.isEmpty ? nil : .array(references))
    }

    func ownerExists(_ reference: JSONValue, namespace: String?) throws(KubeStatus) -> Bool {
        guard let name = reference[member: "name"]?.stringValue, let kindName = reference[member: "kind"]?.stringValue,
              let kind = KubeKinds.all.first(where: { $0.kind == kindName }) else { return false }
        guard let stored = try? store.get(ObjectKey(kind.storeResource, namespace: kind.namespaced ? namespace ?? "" : "", name: name)),
              let value = try? stored.value() else { return false }
        return value.metadataString("uid") == reference[member: "uid"]?.stringValue
    }

    /// An owner held by foregroundDeletion goes once it has no dependents left.
    func recheckForeground(_ kind: KubeKind, _ key: ObjectKey) throws(KubeStatus) {
        guard let stored = try? store.get(key), let owner = try? stored.value(), Self.isDeleting(owner),
              Self.finalizers(owner).contains(Self.foregroundFinalizer), let uid = owner.metadataString("uid") else { return }
        if try dependents(of: uid, namespace: kind.namespaced ? key.namespace : nil).isEmpty {
            try removeFinalizer(Self.foregroundFinalizer, kind, key)
        }
    }

    /// After a dependent went: its owners waiting in the foreground may go now.
    func recheckOwners(of object: JSONValue, namespace: String) throws(KubeStatus) {
        for reference in object[member: "metadata"]?[member: "ownerReferences"]?.arrayItems ?? [] {
            guard let name = reference[member: "name"]?.stringValue, let kindName = reference[member: "kind"]?.stringValue,
                  let kind = KubeKinds.all.first(where: { $0.kind == kindName }) else { continue }
            try recheckForeground(kind, ObjectKey(kind.storeResource, namespace: kind.namespaced ? namespace : "", name: name))
        }
    }

    /// Takes a finalizer off; the object goes when it was the last and no grace period remains.
    func removeFinalizer(_ finalizer: String, _ kind: KubeKind, _ key: ObjectKey) throws(KubeStatus) {
        guard let stored = try? store.guaranteedUpdate(key, { value in
            let left = Self.finalizers(value).filter { $0 != finalizer }
            return value.settingMetadata("finalizers", to: left.isEmpty ? nil : .array(left.map { .string($0) }))
        }) else { return }
        try finishIfDone(kind, stored)
    }

    /// An object being deleted with no finalizers left and no grace period pending is removed.
    func finishIfDone(_ kind: KubeKind, _ stored: StoredObject) throws(KubeStatus) {
        let value = try parse(stored)
        guard Self.isDeleting(value), Self.finalizers(value).isEmpty,
              (Int(value[member: "metadata"]?[member: "deletionGracePeriodSeconds"]?.numberText ?? "") ?? 0) == 0 else { return }
        try remove(kind, stored.key, value)
    }

    /// A Terminating namespace goes once nothing is left in it.
    func finishNamespace(_ name: String) throws(KubeStatus) {
        let key = ObjectKey(KubeKinds.namespace.storeResource, name: name)
        guard let stored = try? store.get(key), let value = try? stored.value(),
              value[member: "status"]?[member: "phase"]?.stringValue == "Terminating" else { return }
        for kind in KubeKinds.namespacedKinds {
            let count: Int
            do { count = try store.list(kind.storeResource, namespace: name).items.count } catch { throw .internalError(error.message) }
            if count > 0 { return }
        }
        do { _ = try store.delete(key) } catch where error.kind == .notFound {} catch { throw .internalError(error.message) }
    }
}
