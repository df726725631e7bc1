import GoCompat
import Kube
import KubeModel
import LinuxSys

/// The default StorageClass (`local-path`) and its provisioner: a claim of that class is bound at
/// once to a new PersistentVolume, a directory under `<root>/kube/volumes/<pv-name>`; when the
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

    /// Provisions and binds a new claim whose class is ours.
    func provision(_ claim: JSONValue) {
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
                                 ManagedFields.recordUpdate(KubeKinds.persistentVolume, old: nil, new: volume, manager: "local-path-provisioner"))) != nil
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
}
