import GoCompat
import Kube
import KubeModel

/// An Indexed Job's `successPolicy`: the Job succeeds (reason SuccessPolicy) as soon as one rule
/// holds — the indexes it names (`succeededIndexes`, as "0,2-4") have all succeeded, or
/// `succeededCount` of them (of all indexes when it names none); the Pods still running are then stopped.
extension JobController {
    /// The index of the first rule the succeeded indexes meet, or nil.
    static func matchedSuccessRule(_ policy: JSONValue?, completed: Set<Int>) -> Int? {
        for (index, rule) in (policy?[member: "rules"]?.arrayItems ?? []).enumerated() {
            let named = rule[member: "succeededIndexes"]?.stringValue.map(indexes)
            let count = rule[member: "succeededCount"]?.intValue
            let done = named.map { completed.intersection($0).count } ?? completed.count
            if let count, done >= count { return index }
            if count == nil, let named, !named.isEmpty, named.isSubset(of: completed) { return index }
        }
        return nil
    }

    /// "1,3-5" → {1, 3, 4, 5} (KubeModel's `Objects.indexIntervals`); nothing for what the API
    /// would refuse, and no interval of a million indexes or more.
    static func indexes(_ text: String) -> Set<Int> {
        Set((Objects.indexIntervals(text) ?? []).filter { $0.count < 1_000_000 }.joined())
    }
}
