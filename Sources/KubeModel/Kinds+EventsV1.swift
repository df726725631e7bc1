import GoCompat
import Kube

/// events.k8s.io/v1 Event: the same objects as core v1 Events (one storage), with the members
/// renamed as the apiserver converts them (involvedObject is regarding, message is note…).
extension KubeKinds {
    public static let eventsV1 = KubeKind(
        group: "events.k8s.io", version: "v1", kind: "Event", resource: "events", singular: "event", namespaced: true,
        // No short name: "ev" would be ambiguous to kubectl ≥ 1.31, which warns of it.
        shortNames: [], verbs: allVerbs, columns: event.columns,
        fields: ["eventTime", "series", "reportingController", "reportingInstance", "action", "reason", "regarding", "related",
                 "note", "type", "deprecatedSource", "deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount"],
        nameColumn: false, ageColumn: false, storage: Resource(group: "", "events"))

    /// core v1 member ↔ events.k8s.io/v1 member.
    static let eventRenames: [(String, String)] = [
        ("involvedObject", "regarding"), ("message", "note"), ("reportingComponent", "reportingController"),
        ("source", "deprecatedSource"), ("firstTimestamp", "deprecatedFirstTimestamp"),
        ("lastTimestamp", "deprecatedLastTimestamp"), ("count", "deprecatedCount"),
    ]

    static func renaming(_ object: JSONValue, apiVersion: String, _ pairs: [(String, String)]) -> JSONValue {
        guard case .object(let members, let keys) = object else { return object }
        let map = Dictionary(uniqueKeysWithValues: pairs)
        var result: [(String, JSONValue)] = []
        for key in keys {
            guard let value = members[key] else { continue }
            if key == "apiVersion" { result.append((key, .string(apiVersion))); continue }
            result.append((map[key] ?? key, value))
        }
        return .ordered(result)
    }

    /// A stored (core v1) Event as events.k8s.io/v1 shows it.
    public static func eventsV1(fromCore object: JSONValue) -> JSONValue {
        renaming(object, apiVersion: "events.k8s.io/v1", eventRenames)
    }

    /// An events.k8s.io/v1 Event as it is stored (core v1).
    public static func core(fromEventsV1 object: JSONValue) -> JSONValue {
        renaming(object, apiVersion: "v1", eventRenames.map { ($0.1, $0.0) })
    }
}
