import ContainerSpec
import GoCompat
import Kube
import KubeModel
import LinuxSys

/// The default StorageClass (`local-path`) and its provisioner: a claim that no volume made
/// beforehand fits (static provisioning) and whose class is that one is bound at once to a new PersistentVolume, a directory under `<root>/kube/volumes/<pv-name>`; when the
/// claim goes, a volume whose reclaim policy is Delete goes with its directory, one that Retains
/// is Released.
extension KubeAPI {
    static let localPathClass = "local-path"
    static let localPathProvisioner = "berth.io/local-path"

    func ensureDefaultStorageClass() {
        let storageClass = JSONValue.ordered([
            ("kind", .string("StorageClass")), ("apiVersion", .string("storage.k8s.io/v1")),
            ("metadata", .ordered([("name", .string(Self.localPathClass)),
                                   ("annotations", .ordered([(KubeKinds.defaultClassAnnotation, .string("true"))]))])),
            ("provisioner", .string(Self.localPathProvisioner)), ("reclaimPolicy", .string("Delete")),
            ("volumeBindingMode", .string("Immediate")),
        ])
        _ = try? store.create(KubeKinds.storageClass.storeResource, storageClass)
    }

    /// The default class's name (the DefaultStorageClass admission plugin's choice: the newest
    /// class annotated default).
    func defaultStorageClass() -> String? {
        guard let classes = try? store.list(KubeKinds.storageClass.storeResource).items else { return nil }
        let defaults = classes.compactMap { try? $0.value() }.filter(KubeKinds.isDefaultClass)
        return defaults.max { ($0.metadataString("creationTimestamp") ?? "") < ($1.metadataString("creationTimestamp") ?? "") }?.metadataString("name")
    }

    /// Provisions and binds a new claim whose class is ours, unless a volume made beforehand fits it.
    func provision(_ claim: JSONValue) {
        if bindToExistingVolume(claim) { return }
        guard let volumes = volumesDirectory, let className = claim[member: "spec"]?[member: "storageClassName"]?.stringValue,
              let stored = try? store.get(ObjectKey(KubeKinds.storageClass.storeResource, name: className)), let storageClass = try? stored.value(),
              storageClass[member: "provisioner"]?.stringValue == Self.localPathProvisioner,
              claim[member: "spec"]?[member: "volumeName"] == nil,
              let uid = claim.metadataString("uid"), let name = claim.metadataString("name"), let namespace = claim.metadataString("namespace")
        else { return }
        let volumeName = "pvc-" + uid
        let path = volumes + "/" + volumeName
        do { try FS.mkdirAll(path, mode: 0o777) } catch { return }
        let size = claim[member: "spec"]?[member: "resources"]?[member: "requests"]?[member: "storage"] ?? .string("0")
        let modes = claim[member: "spec"]?[member: "accessModes"] ?? .array([])
        let volume = JSONValue.ordered([
            ("kind", .string("PersistentVolume")), ("apiVersion", .string("v1")),
            ("metadata", .ordered([("name", .string(volumeName)),
                                   ("annotations", .ordered([("pv.kubernetes.io/provisioned-by", .string(Self.localPathProvisioner))]))])),
            ("spec", .ordered([
                ("capacity", .ordered([("storage", size)])), ("hostPath", .ordered([("path", .string(path)), ("type", .string("DirectoryOrCreate"))])),
                ("accessModes", modes),
                ("claimRef", .ordered([("kind", .string("PersistentVolumeClaim")), ("namespace", .string(namespace)), ("name", .string(name)),
                                       ("uid", .string(uid)), ("apiVersion", .string("v1"))])),
                ("persistentVolumeReclaimPolicy", storageClass[member: "reclaimPolicy"] ?? .string("Delete")),
                ("storageClassName", .string(className)), ("volumeMode", .string("Filesystem")),
            ])),
            ("status", .ordered([("phase", .string("Bound"))])),
        ])
        guard (try? store.create(KubeKinds.persistentVolume.storeResource,
                                 ManagedFields.recordUpdate(KubeKinds.persistentVolume, old: nil, new: VolumeProtection.protecting(kind: "PersistentVolume", volume),
                                                            manager: "local-path-provisioner"))) != nil
        else { return }
        let key = ObjectKey(KubeKinds.persistentVolumeClaim.storeResource, namespace: namespace, name: name)
        _ = try? store.guaranteedUpdate(key) { old in
            var annotations = old[member: "metadata"]?[member: "annotations"] ?? .ordered([])
            for (annotation, value) in [("pv.kubernetes.io/bind-completed", "yes"), ("pv.kubernetes.io/bound-by-controller", "yes"),
                                        ("volume.beta.kubernetes.io/storage-provisioner", Self.localPathProvisioner),
                                        ("volume.kubernetes.io/storage-provisioner", Self.localPathProvisioner)] {
                annotations = annotations.setting(annotation, to: .string(value))
            }
            let new = old.settingMetadata("annotations", to: annotations)
                .setting("spec", to: (old[member: "spec"] ?? .ordered([])).setting("volumeName", to: .string(volumeName)))
                .setting("status", to: .ordered([("phase", .string("Bound")), ("accessModes", modes), ("capacity", .ordered([("storage", size)]))]))
            return ManagedFields.recordUpdate(KubeKinds.persistentVolumeClaim, old: old, new: new, manager: "kube-controller-manager")
        }
    }

    /// Static provisioning, as the persistent-volume controller binds: a claim takes an Available
    /// volume it fits — the same storageClassName ("" and none alike), at least the storage it
    /// requests, every access mode it asks for, the volume its `volumeName` names if it names one,
    /// and no claimRef but one naming this claim — the smallest such. True when it was bound.
    @discardableResult
    func bindToExistingVolume(_ claim: JSONValue) -> Bool {
        let spec = claim[member: "spec"] ?? .null
        guard claim[member: "status"]?[member: "phase"]?.stringValue != "Bound", claim[member: "metadata"]?[member: "deletionTimestamp"] == nil,
              let uid = claim.metadataString("uid"), let name = claim.metadataString("name"), let namespace = claim.metadataString("namespace"),
              let volumes = try? store.list(KubeKinds.persistentVolume.storeResource).items
        else { return false }
        let wantedClass = spec[member: "storageClassName"]?.stringValue ?? ""
        let request = Quantities.value(spec[member: "resources"]?[member: "requests"]?[member: "storage"]) ?? 0
        let modes = Set((spec[member: "accessModes"]?.arrayItems ?? []).compactMap(\.stringValue))
        let named = spec[member: "volumeName"]?.stringValue
        func capacity(_ volume: JSONValue) -> Double { Quantities.value(volume[member: "spec"]?[member: "capacity"]?[member: "storage"]) ?? 0 }
        func fits(_ volume: JSONValue) -> Bool {
            let volumeSpec = volume[member: "spec"] ?? .null
            if let reference = volumeSpec[member: "claimRef"], case .object = reference {
                guard reference[member: "namespace"]?.stringValue == namespace, reference[member: "name"]?.stringValue == name,
                      (reference[member: "uid"]?.stringValue ?? uid) == uid else { return false }
            }
            return volume[member: "status"]?[member: "phase"]?.stringValue == "Available"
                && volume[member: "metadata"]?[member: "deletionTimestamp"] == nil
                && (named == nil || volume.metadataString("name") == named)
                && (volumeSpec[member: "storageClassName"]?.stringValue ?? "") == wantedClass
                && capacity(volume) >= request
                && modes.isSubset(of: (volumeSpec[member: "accessModes"]?.arrayItems ?? []).compactMap(\.stringValue))
        }
        let candidates = volumes.compactMap { stored -> (StoredObject, JSONValue)? in
            guard let volume = try? stored.value(), fits(volume) else { return nil }
            return (stored, volume)
        }.sorted { capacity($0.1) < capacity($1.1) }
        guard let (stored, _) = candidates.first else { return false }
        let claimRef = JSONValue.ordered([("kind", .string("PersistentVolumeClaim")), ("namespace", .string(namespace)), ("name", .string(name)),
                                          ("uid", .string(uid)), ("apiVersion", .string("v1"))])
        // The volume first, taken only if it is still free: two claims racing for it, one wins.
        let bound: JSONValue
        do {
            bound = try store.guaranteedUpdate(stored.key) { old throws(EngineError) in
                guard fits(old) else { throw .conflict("persistentvolume \(stored.key.name) was bound meanwhile") }
                let annotations = (old[member: "metadata"]?[member: "annotations"] ?? .ordered([])).setting("pv.kubernetes.io/bound-by-controller", to: .string("yes"))
                let new = old.settingMetadata("annotations", to: annotations)
                    .setting("spec", to: (old[member: "spec"] ?? .ordered([])).setting("claimRef", to: claimRef))
                    .setting("status", to: .ordered([("phase", .string("Bound"))]))
                return ManagedFields.recordUpdate(KubeKinds.persistentVolume, old: old, new: new, manager: "kube-controller-manager")
            }.value()
        } catch {
            return false
        }
        let key = ObjectKey(KubeKinds.persistentVolumeClaim.storeResource, namespace: namespace, name: name)
        _ = try? store.guaranteedUpdate(key) { old in
            var annotations = old[member: "metadata"]?[member: "annotations"] ?? .ordered([])
            annotations = annotations.setting("pv.kubernetes.io/bind-completed", to: .string("yes"))
            if named == nil { annotations = annotations.setting("pv.kubernetes.io/bound-by-controller", to: .string("yes")) }
            let new = old.settingMetadata("annotations", to: annotations)
                .setting("spec", to: (old[member: "spec"] ?? .ordered([])).setting("volumeName", to: .string(stored.key.name)))
                .setting("status", to: .ordered([("phase", .string("Bound")), ("accessModes", bound[member: "spec"]?[member: "accessModes"] ?? .array([])),
                                                 ("capacity", bound[member: "spec"]?[member: "capacity"] ?? .ordered([]))]))
            return ManagedFields.recordUpdate(KubeKinds.persistentVolumeClaim, old: old, new: new, manager: "kube-controller-manager")
        }
        return true
    }

    /// A new volume: the claims waiting (Pending) that it fits, oldest first, may take it.
    func bindWaitingClaims() {
        guard let claims = try? store.list(KubeKinds.persistentVolumeClaim.storeResource).items else { return }
        let waiting = claims.compactMap { try? $0.value() }.filter { $0[member: "status"]?[member: "phase"]?.stringValue == "Pending" }
            .sorted { ($0.metadataString("creationTimestamp") ?? "") < ($1.metadataString("creationTimestamp") ?? "") }
        for claim in waiting { bindToExistingVolume(claim) }
    }

    /// A claim went: its volume goes (Delete, with the directory we made) or is Released (Retain).
    func reclaim(_ claim: JSONValue) {
        guard let uid = claim.metadataString("uid"), let volumes = try? store.list(KubeKinds.persistentVolume.storeResource).items else { return }
        for stored in volumes {
            guard let volume = try? stored.value(), volume[member: "spec"]?[member: "claimRef"]?[member: "uid"]?.stringValue == uid else { continue }
            if volume[member: "spec"]?[member: "persistentVolumeReclaimPolicy"]?.stringValue == "Delete" {
                if let path = volume[member: "spec"]?[member: "hostPath"]?[member: "path"]?.stringValue, let directory = volumesDirectory,
                   path.hasPrefix(directory + "/") {
                    FS.removeAll(path)
                }
                _ = try? remove(KubeKinds.persistentVolume, stored.key, volume)
            } else {
                _ = try? store.guaranteedUpdate(stored.key) { old in old.setting("status", to: .ordered([("phase", .string("Released"))])) }
            }
        }
    }

    /// The protection controllers' check, made at once when a claim or volume is deleted: one no
    /// unfinished Pod names (a volume no claim holds) goes now, as quickly as without the finalizer.
    func releaseIfUnused(_ kind: KubeKind, _ key: ObjectKey) throws(KubeStatus) {
        guard let value = try? store.get(key).value() else { return }
        switch kind.kind {
        case "PersistentVolumeClaim":
            guard VolumeProtection.waits(value, on: VolumeProtection.claimFinalizer),
                  let pods = try? store.list(KubeKinds.pod.storeResource, namespace: key.namespace).items else { return }
            if !VolumeProtection.claimsInUse(by: pods.compactMap { try? $0.value() }).contains(key.name) {
                try removeFinalizer(VolumeProtection.claimFinalizer, kind, key)
            }
        case "PersistentVolume":
            if VolumeProtection.waits(value, on: VolumeProtection.volumeFinalizer) && VolumeProtection.isFree(value) {
                try removeFinalizer(VolumeProtection.volumeFinalizer, kind, key)
            }
        default: break
        }
    }
}
