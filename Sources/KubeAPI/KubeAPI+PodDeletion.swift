import ContainerSpec
import Glibc
import GoCompat
import Kube
import KubeModel

/// The apiserver's graceful deletion of Pods: a Pod bound to a node is not removed at once; it gets
/// `deletionTimestamp` (now plus the grace period) and `deletionGracePeriodSeconds`, and the kubelet
/// removes it once its containers have stopped. kubectl's delete waits for that.
extension KubeAPI {
    /// The marked Pod, or nil when it goes at once (not bound to a node, or a grace period of 0).
    func gracefulPodDeletion(_ key: ObjectKey, _ object: JSONValue, gracePeriod: Int?, dryRun: Bool, _ target: Target) throws(KubeStatus) -> JSONValue? {
        guard let node = object[member: "spec"]?[member: "nodeName"]?.stringValue, !node.isEmpty else { return nil }
        var specGrace: Int?
        if case .number(let text)? = object[member: "spec"]?[member: "terminationGracePeriodSeconds"] { specGrace = Int(text) }
        let grace = max(0, gracePeriod ?? specGrace ?? 30)
        if grace == 0 { return nil }
        let mark = { (value: JSONValue) -> JSONValue in
            // A second delete may shorten the grace period, never lengthen it.
            var current: Int?
            if case .number(let text)? = value[member: "metadata"]?[member: "deletionGracePeriodSeconds"] { current = Int(text) }
            if let current, current <= grace { return value }
            return value.settingMetadata("deletionTimestamp", to: .string(SystemFields.timestamp(time(nil) + grace)))
                .settingMetadata("deletionGracePeriodSeconds", to: .int(grace))
        }
        if dryRun { return mark(object) }
        do {
            return try store.guaranteedUpdate(key) { value in mark(value) }.value()
        } catch {
            throw status(error, target)
        }
    }
}
