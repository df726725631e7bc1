import GoCompat
import Kube

/// Kinds kept in another kind's storage, converted on the way out and in: events.k8s.io/v1 Events
/// (core v1 Events) and autoscaling/v1 HorizontalPodAutoscalers (autoscaling/v2 ones).
extension KubeKinds {
    /// A stored object as `kind` shows it.
    public static func fromStorage(_ kind: KubeKind, _ object: JSONValue) -> JSONValue {
        switch (kind.group, kind.version) {
        case ("events.k8s.io", _): eventsV1(fromCore: object)
        case ("autoscaling", "v1"): hpaV1(fromV2: object)
        default: object
        }
    }

    /// An object of `kind` as it is stored.
    public static func toStorage(_ kind: KubeKind, _ object: JSONValue) -> JSONValue {
        switch (kind.group, kind.version) {
        case ("events.k8s.io", _): core(fromEventsV1: object)
        case ("autoscaling", "v1"): hpaV2(fromV1: object)
        default: object
        }
    }

    /// The versions of `group` served, the preferred (the storage version) first.
    public static func versions(of group: String) -> [String] {
        let kinds = all.filter { $0.group == group }
        var versions: [String] = []
        for kind in kinds.filter({ !$0.isConverted }) + kinds.filter(\.isConverted) where !versions.contains(kind.version) {
            versions.append(kind.version)
        }
        return versions
    }
}
