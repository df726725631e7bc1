import ContainerSpec
import Engine
import GoCompat
import Kube
import KubeModel
import LinuxSys

/// persistentVolumeClaim volumes: a Pod naming a claim waits, unscheduled, until the claim exists
/// and is bound (kube-scheduler's VolumeBinding filter), then mounts the bound volume's directory.
extension Kubelet {
    /// Why the scheduler would not place the pod now (kube-scheduler's words), or nil.
    func claimProblem(_ pod: JSONValue) -> String? {
        let namespace = pod.metadataString("namespace") ?? "default"
        for volume in (pod[member: "spec"]?[member: "volumes"] ?? .null).podArray {
            guard let claimName = volume[member: "persistentVolumeClaim"]?.podString("claimName") else { continue }
            let key = ObjectKey(KubeKinds.persistentVolumeClaim.storeResource, namespace: namespace, name: claimName)
            guard let claim = try? store.get(key).value() else { return "persistentvolumeclaim \"\(claimName)\" not found" }
            if claim.podString("metadata", "deletionTimestamp") != nil { return "persistentvolumeclaim \"\(claimName)\" is being deleted" }
            if claim.podString("status", "phase") != "Bound" || claim.podString("spec", "volumeName") == nil {
                return "pod has unbound immediate PersistentVolumeClaims"
            }
        }
        return nil
    }

    /// The scheduler's verdict on a pod it cannot place: PodScheduled False (Unschedulable) and a
    /// FailedScheduling Event, written when the reason changes (the pod is tried again each pass).
    func markUnschedulable(_ key: ObjectKey, _ pod: JSONValue, uid: String, problem: String) throws(EngineError) {
        let message = "0/1 nodes are available: \(problem). preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        let conditions = (pod[member: "status"]?[member: "conditions"] ?? .null).podArray
        if conditions.contains(where: { $0.podString("type") == "PodScheduled" && $0.podString("message") == message }) { return }
        try store.guaranteedUpdate(key, keepingGeneration: true) { value throws(EngineError) in
            guard value.metadataString("uid") == uid else { throw .conflict("schedule \(key): the pod was replaced") }
            let condition = JSONValue.ordered([
                ("type", .string("PodScheduled")), ("status", .string("False")), ("lastProbeTime", .null),
                ("lastTransitionTime", .string(SystemFields.timestamp())), ("reason", .string("Unschedulable")), ("message", .string(message)),
            ])
            let status = (value[member: "status"] ?? .object([:], keys: []))
                .setting("phase", to: .string("Pending"))
                .setting("conditions", to: .array([condition]))
            return value.setting("status", to: status)
        }
        recordEvent(key, pod, container: nil, type: "Warning", reason: "FailedScheduling", message: message, component: "default-scheduler")
    }

    /// The host directory of the volume a claim is bound to.
    func claimPath(_ namespace: String, _ claimName: String, volume: String) throws(EngineError) -> String {
        let claimKey = ObjectKey(KubeKinds.persistentVolumeClaim.storeResource, namespace: namespace, name: claimName)
        let claim: JSONValue
        do { claim = try store.get(claimKey).value() } catch where error.kind == .notFound {
            throw .notFound("persistentvolumeclaim \"\(claimName)\" not found")
        }
        guard let volumeName = claim.podString("spec", "volumeName") else {
            throw .unavailable("volume \(volume): persistentvolumeclaim \"\(claimName)\" is not bound")
        }
        let persistentVolume: JSONValue
        do { persistentVolume = try store.get(ObjectKey(KubeKinds.persistentVolume.storeResource, name: volumeName)).value() } catch where error.kind == .notFound {
            throw .notFound("volume \(volume): persistentvolume \"\(volumeName)\" of claim \"\(claimName)\" not found")
        }
        let spec = persistentVolume[member: "spec"] ?? .null
        guard let path = spec[member: "hostPath"]?.podString("path") ?? spec[member: "local"]?.podString("path") else {
            throw .invalid("volume \(volume): persistentvolume \"\(volumeName)\" is neither hostPath nor local, which this node cannot mount")
        }
        if !FS.exists(path) && spec[member: "hostPath"]?.podString("type") == "DirectoryOrCreate" {
            do { try FS.mkdirAll(path, mode: 0o777) } catch { throw .system("make the directory of persistentvolume \(volumeName)", error) }
        }
        guard FS.exists(path) else { throw .notFound("volume \(volume): the path \(path) of persistentvolume \"\(volumeName)\" does not exist") }
        return path
    }
}
