import GoCompat
import Kube

/// Pods, with the columns the apiserver's printer gives them (READY, STATUS as `kubectl get pods`
/// shows it, RESTARTS).
extension KubeKinds {
    public static let pod = KubeKind(
        group: "", version: "v1", kind: "Pod", resource: "pods", singular: "pod", namespaced: true,
        shortNames: ["po"], verbs: allVerbs,
        columns: [
            TableColumn("Ready", type: "string", description: "The aggregate readiness state of this pod for accepting traffic.") { pod in
                // Sidecars (restartable init containers) count as kubectl counts them.
                let sidecars = sidecarStatuses(pod)
                let statuses = statusArray(pod, "containerStatuses") + sidecars.statuses
                let total = arrayCount(pod[member: "spec"]?[member: "containers"]) + sidecars.count
                let ready = statuses.filter { $0[member: "ready"] == .bool(true) }.count
                return .string("\(ready)/\(total)")
            },
            TableColumn("Status", type: "string", description: "The aggregate status of the containers in this pod.") { .string(podStatusReason($0)) },
            TableColumn("Restarts", type: "string", description: "The number of times the containers in this pod have been restarted.") { pod in
                let count = (statusArray(pod, "containerStatuses") + sidecarStatuses(pod).statuses).reduce(0) { total, status in
                    if case .number(let text)? = status[member: "restartCount"] { return total + (Int(text) ?? 0) }
                    return total
                }
                return .string(String(count))
            },
            TableColumn("Age", type: "string", description: "") { _ in .null },
            TableColumn("IP", type: "string", priority: 1, description: "The pod's IP address.") { noneIfEmpty($0[member: "status"]?[member: "podIP"]) },
            TableColumn("Node", type: "string", priority: 1, description: "The node the pod runs on.") { noneIfEmpty($0[member: "spec"]?[member: "nodeName"]) },
            TableColumn("Nominated Node", type: "string", priority: 1, description: "The node the pod is nominated to.") {
                noneIfEmpty($0[member: "status"]?[member: "nominatedNodeName"])
            },
            TableColumn("Readiness Gates", type: "string", priority: 1, description: "The pod's readiness gates.") { pod in
                let gates = pod[member: "spec"]?[member: "readinessGates"]?.arrayItems ?? []
                return .string(gates.isEmpty ? "<none>" : "0/\(gates.count)")
            },
        ],
        fields: ["spec", "status"])

    static func statusArray(_ pod: JSONValue, _ member: String) -> [JSONValue] {
        if case .array(let items)? = pod[member: "status"]?[member: member] { return items }
        return []
    }

    /// The restartable init containers (`restartPolicy: Always`): how many, and their statuses.
    static func sidecarStatuses(_ pod: JSONValue) -> (count: Int, statuses: [JSONValue]) {
        guard case .array(let inits)? = pod[member: "spec"]?[member: "initContainers"] else { return (0, []) }
        let names = inits.filter { $0[member: "restartPolicy"]?.stringValue == "Always" }.compactMap { $0[member: "name"]?.stringValue }
        let statuses = statusArray(pod, "initContainerStatuses").filter { names.contains($0[member: "name"]?.stringValue ?? "") }
        return (names.count, statuses)
    }

    static func arrayCount(_ value: JSONValue?) -> Int {
        if case .array(let items)? = value { return items.count }
        return 0
    }

    /// The STATUS column as kubectl's printer computes it: the phase or reason, an init container's
    /// progress (`Init:0/1`, `Init:Error`), a container's waiting or terminated reason
    /// (CrashLoopBackOff, Completed, Error), `Terminating` while being deleted.
    public static func podStatusReason(_ pod: JSONValue) -> String {
        let status = pod[member: "status"]
        var reason = status?[member: "reason"]?.stringValue ?? status?[member: "phase"]?.stringValue ?? "Pending"
        if reason.isEmpty { reason = "Pending" }
        func state(_ container: JSONValue, _ name: String) -> JSONValue? { container[member: "state"]?[member: name] }
        func exitCode(_ terminated: JSONValue) -> Int {
            if case .number(let text)? = terminated[member: "exitCode"] { return Int(text) ?? 0 }
            return 0
        }
        let inits = statusArray(pod, "initContainerStatuses")
        let initTotal = arrayCount(pod[member: "spec"]?[member: "initContainers"])
        var initializing = false
        let sidecars = Set(sidecarStatuses(pod).statuses.compactMap { $0[member: "name"]?.stringValue })
        for (index, container) in inits.enumerated() {
            if sidecars.contains(container[member: "name"]?.stringValue ?? ""), container[member: "started"] == .bool(true) { continue }
            if let terminated = state(container, "terminated") {
                if exitCode(terminated) == 0 { continue }
                initializing = true
                reason = "Init:" + (terminated[member: "reason"]?.stringValue ?? "ExitCode:\(exitCode(terminated))")
            } else if let waiting = state(container, "waiting"), let why = waiting[member: "reason"]?.stringValue,
                      !why.isEmpty, why != "PodInitializing" {
                initializing = true
                reason = "Init:" + why
            } else {
                initializing = true
                reason = "Init:\(index)/\(initTotal)"
            }
            break
        }
        if !initializing {
            var hasRunning = false
            for container in statusArray(pod, "containerStatuses").reversed() {
                if let waiting = state(container, "waiting"), let why = waiting[member: "reason"]?.stringValue, !why.isEmpty {
                    reason = why
                } else if let terminated = state(container, "terminated") {
                    reason = terminated[member: "reason"]?.stringValue ?? "ExitCode:\(exitCode(terminated))"
                } else if state(container, "running") != nil && container[member: "ready"] == .bool(true) {
                    hasRunning = true
                }
            }
            if reason == "Completed" && hasRunning { reason = "Running" }
        }
        if pod[member: "metadata"]?[member: "deletionTimestamp"] != nil {
            reason = status?[member: "reason"]?.stringValue == "NodeLost" ? "Unknown" : "Terminating"
        }
        return reason
    }
}
