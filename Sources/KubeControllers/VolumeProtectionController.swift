import ContainerSpec
import Kube
import KubeModel

/// The pvc-protection and pv-protection controllers' role (KubeModel's VolumeProtection): a claim
/// being deleted goes once no unfinished Pod of its namespace names it, a volume being deleted once
/// it is no longer Bound. Level-triggered: a Pod that finishes or goes, at any time and even while
/// `berth serve` was down, frees its claims at the next pass.
public final class VolumeProtectionController: Controller {
    let store: ObjectStore
    let writer: ObjectWriter

    public init(store: ObjectStore, writer: ObjectWriter) {
        self.store = store
        self.writer = writer
    }

    public var name: String { "volume-protection" }

    public func sync() throws(EngineError) {
        var inUse: [String: Set<String>] = [:]
        for stored in try store.list(KubeKinds.persistentVolumeClaim.storeResource).items {
            let claim = try stored.value()
            if VolumeProtection.lacks(claim, VolumeProtection.claimFinalizer) { try protect(stored.key, kind: "PersistentVolumeClaim") }
            guard VolumeProtection.waits(claim, on: VolumeProtection.claimFinalizer) else { continue }
            let namespace = stored.key.namespace
            if inUse[namespace] == nil {
                inUse[namespace] = VolumeProtection.claimsInUse(by: try Workloads.values(store.list(Workloads.pods, namespace: namespace)))
            }
            if inUse[namespace]?.contains(stored.key.name) == true { continue }
            do { try writer.removeFinalizer(stored.key, VolumeProtection.claimFinalizer) } catch where error.kind == .notFound {}
        }
        for stored in try store.list(KubeKinds.persistentVolume.storeResource).items {
            let volume = try stored.value()
            if VolumeProtection.lacks(volume, VolumeProtection.volumeFinalizer) { try protect(stored.key, kind: "PersistentVolume") }
            guard VolumeProtection.waits(volume, on: VolumeProtection.volumeFinalizer), VolumeProtection.isFree(volume) else { continue }
            do { try writer.removeFinalizer(stored.key, VolumeProtection.volumeFinalizer) } catch where error.kind == .notFound {}
        }
    }

    /// The finalizer put (back) on an object that is not being deleted.
    func protect(_ key: ObjectKey, kind: String) throws(EngineError) {
        do {
            try store.guaranteedUpdate(key) { value in
                Workloads.isTerminating(value) ? value : VolumeProtection.protecting(kind: kind, value)
            }
        } catch where error.kind == .notFound {}
    }
}
