import GoCompat
import Kube

/// A Job's `podFailurePolicy`: each failed Pod is held against the rules in order and the first
/// that matches decides — FailJob ends the Job at once (reason PodFailurePolicy), Ignore keeps the
/// failure out of `status.failed` and the backoff (a replacement starts at once), Count is the
/// default handling. A rule matches on the exit codes of the Pod's terminated containers (those
/// that exited 0 never match; `containerName` narrows it to one) or on its conditions.
extension JobController {
    enum FailureAction: String { case failJob = "FailJob", ignore = "Ignore", count = "Count", failIndex = "FailIndex" }

    /// The first rule that matches the failed Pod: its action and the message Kubernetes gives it.
    static func matchingRule(_ rules: [JSONValue], pod: JSONValue) -> (action: FailureAction, message: String)? {
        let namespace = pod.metadataString("namespace") ?? "", name = pod.metadataString("name") ?? ""
        for (index, rule) in rules.enumerated() {
            // An action this version does not know is skipped, as the API says clients must.
            guard let action = rule[member: "action"]?.stringValue.flatMap(FailureAction.init(rawValue:)) else { continue }
            if let requirement = rule[member: "onExitCodes"], let (container, code) = exitCodeMatching(requirement, pod: pod) {
                return (action, "Container \(container) for pod \(namespace)/\(name) failed with exit code \(code) matching \(action.rawValue) rule at index \(index)")
            }
            for pattern in rule[member: "onPodConditions"]?.arrayItems ?? [] {
                let type = pattern[member: "type"]?.stringValue ?? "", status = pattern[member: "status"]?.stringValue ?? "True"
                let conditions = pod[member: "status"]?[member: "conditions"]?.arrayItems ?? []
                if conditions.contains(where: { $0[member: "type"]?.stringValue == type && $0[member: "status"]?.stringValue == status }) {
                    return (action, "Pod \(namespace)/\(name) has condition \(type) matching \(action.rawValue) rule at index \(index)")
                }
            }
        }
        return nil
    }

    /// The first terminated container (app containers, then init containers) whose non-zero exit
    /// code the requirement (`In`/`NotIn` its values) holds for.
    static func exitCodeMatching(_ requirement: JSONValue, pod: JSONValue) -> (String, Int)? {
        let values = Set((requirement[member: "values"]?.arrayItems ?? []).compactMap(\.intValue))
        let wanted = requirement[member: "containerName"]?.stringValue
        let operation = requirement[member: "operator"]?.stringValue
        for list in ["containerStatuses", "initContainerStatuses"] {
            for status in pod[member: "status"]?[member: list]?.arrayItems ?? [] {
                guard let name = status[member: "name"]?.stringValue, wanted == nil || wanted == name,
                      let code = status[member: "state"]?[member: "terminated"]?[member: "exitCode"]?.intValue, code != 0 else { continue }
                switch operation {
                case "In" where values.contains(code): return (name, code)
                case "NotIn" where !values.contains(code): return (name, code)
                default: continue
                }
            }
        }
        return nil
    }

    /// The failed Pods that count (all but those an Ignore rule matched, oldest first), and the
    /// FailJob verdict of the first Pod a FailJob rule matched.
    static func judgeFailures(_ failed: [JSONValue], policy: JSONValue?)
        -> (counted: [JSONValue], failJob: (reason: String, message: String)?, failIndex: Set<Int>) {
        guard let rules = policy?[member: "rules"]?.arrayItems else { return (failed, nil, []) }
        var counted: [JSONValue] = []
        var failJob: (reason: String, message: String)?
        var failIndex: Set<Int> = []
        for pod in failed.sorted(by: { (finishedAt($0) ?? 0) < (finishedAt($1) ?? 0) }) {
            let verdict = matchingRule(rules, pod: pod)
            if verdict?.action == .ignore { continue }
            counted.append(pod)
            if verdict?.action == .failJob, failJob == nil, let message = verdict?.message { failJob = ("PodFailurePolicy", message) }
            if verdict?.action == .failIndex, let index = index(of: pod) { failIndex.insert(index) }
        }
        return (counted, failJob, failIndex)
    }
}
