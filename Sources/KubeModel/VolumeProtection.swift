import GoCompat
import Kube

/// Storage object in-use protection, as Kubernetes has it: every new claim and volume carries a
/// finalizer (the StorageObjectInUseProtection admission plugin's), so deleting a claim that a
/// Pod still mounts only marks it (Terminating) and its data stays until no unfinished Pod names
/// it; a volume still Bound to a claim waits the same way. The pvc- and pv-protection
/// controllers take the finalizers off when that holds.
public enum VolumeProtection {
    public static let claimFinalizer = "kubernetes.io/pvc-protection"
    public static let volumeFinalizer = "kubernetes.io/pv-protection"

    /// The object as admission stores it: with its kind's finalizer (other kinds unchanged).
    public static func protecting(kind: String, _ object: JSONValue) -> JSONValue {
        let finalizer: String
        switch kind {
        case "PersistentVolumeClaim": finalizer = claimFinalizer
        case "PersistentVolume": finalizer = volumeFinalizer
        default: return object
        }
        let present = object[member: "metadata"]?[member: "finalizers"]?.arrayItems ?? []
        if present.contains(.string(finalizer)) { return object }
        return object.settingMetadata("finalizers", to: .array(present + [.string(finalizer)]))
    }

    /// The claims named by the volumes of the Pods on a node, as the pvc-protection controller
    /// counts them: a Pod holds its claims until it is gone (a finished one too — a sidecar may still
    /// write); a Pod not yet scheduled holds none, as no kubelet starts a Pod whose claim is being
    /// deleted (else the claim and such a Pod would wait for each other forever).
    public static func claimsInUse(by pods: [JSONValue]) -> Set<String> {
        var names: Set<String> = []
        for pod in pods where !(pod[member: "spec"]?[member: "nodeName"]?.stringValue ?? "").isEmpty {
            for volume in pod[member: "spec"]?[member: "volumes"]?.arrayItems ?? [] {
                if let name = volume[member: "persistentVolumeClaim"]?[member: "claimName"]?.stringValue { names.insert(name) }
            }
        }
        return names
    }

    /// Not being deleted and without the finalizer (made before protection, or a `replace` dropped
    /// it): the controller puts it back, as Kubernetes' does.
    public static func lacks(_ object: JSONValue, _ finalizer: String) -> Bool {
        object[member: "metadata"]?[member: "deletionTimestamp"] == nil
            && !(object[member: "metadata"]?[member: "finalizers"]?.arrayItems ?? []).contains(.string(finalizer))
    }

    /// Being deleted, and held only by our finalizer `finalizer` among others.
    public static func waits(_ object: JSONValue, on finalizer: String) -> Bool {
        object[member: "metadata"]?[member: "deletionTimestamp"] != nil
            && (object[member: "metadata"]?[member: "finalizers"]?.arrayItems ?? []).contains(.string(finalizer))
    }

    /// A volume no claim holds any longer (anything but Bound: Available, Released, Failed).
    public static func isFree(_ volume: JSONValue) -> Bool {
        volume[member: "status"]?[member: "phase"]?.stringValue != "Bound"
    }
}
