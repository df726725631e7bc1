import ContainerSpec
import Engine
import GoCompat
import Kube
import KubeModel

/// The pod's status as the kubelet writes it: phase, conditions, container statuses, addresses,
/// start time and QoS class. Written only when it differs from the stored one.
extension Kubelet {
    func writeStatus(_ key: ObjectKey, _ pod: JSONValue, uid: String, pass: PodPass) throws(EngineError) {
        let spec = pod[member: "spec"] ?? .null
        let old = pod[member: "status"] ?? .null
        let policy = spec.podString("restartPolicy") ?? "Always"
        let inits = (spec[member: "initContainers"] ?? .null).podArray
        let mains = (spec[member: "containers"] ?? .null).podArray
        let initStatuses = inits.map { containerStatus($0, pass: pass, isInit: $0.podString("restartPolicy") != "Always") }
        let statuses = mains.map { containerStatus($0, pass: pass, isInit: false) }

        // Phase: Failed/Succeeded once nothing will run again, Running while any container runs
        // (or is restarting), Pending before.
        let latest = mains.compactMap { $0.podString("name").flatMap { pass.attempts($0).first } }
        let allExited = pass.initialized && latest.count == mains.count && latest.allSatisfy(\.hasExited)
        let allSucceeded = latest.allSatisfy { $0.state.state.exitCode == 0 }
        var phase = "Pending"
        if pass.initFailed {
            phase = "Failed"
        } else if allExited && (policy == "Never" || (policy == "OnFailure" && allSucceeded)) {
            phase = allSucceeded ? "Succeeded" : "Failed"
        } else if pass.initialized && latest.contains(where: { $0.isRunning || $0.hasExited }) {
            phase = "Running"
        }
        let sidecars = zip(inits, initStatuses).filter { $0.0.podString("restartPolicy") == "Always" }.map(\.1)
        let ready = phase == "Running" && (statuses + sidecars).allSatisfy { $0[member: "ready"]?.podBool == true }
        let oldConditions = (old[member: "conditions"] ?? .null).podArray
        func condition(_ type: String, _ value: Bool, reason: String? = nil) -> JSONValue {
            let status = value ? "True" : "False"
            let previous = oldConditions.first { $0.podString("type") == type }
            let since = previous?.podString("status") == status ? previous?[member: "lastTransitionTime"] ?? .string(SystemFields.timestamp())
                : .string(SystemFields.timestamp())
            var members: [(String, JSONValue)] = [("type", .string(type)), ("status", .string(status)), ("lastProbeTime", .null),
                                                  ("lastTransitionTime", since)]
            if !value, let reason { members.append(("reason", .string(reason))) }
            return .ordered(members)
        }
        let notReady = (statuses + sidecars).filter { $0[member: "ready"]?.podBool != true }.compactMap { $0.podString("name") }
        let notReadyReason = phase == "Succeeded" || phase == "Failed" ? "PodCompleted" : "ContainersNotReady"
        let conditions: [JSONValue] = [
            condition("PodReadyToStartContainers", pass.podIP != nil),
            condition("Initialized", pass.initialized || phase == "Succeeded", reason: phase == "Succeeded" ? "PodCompleted" : "ContainersNotInitialized"),
            condition("Ready", ready, reason: notReady.isEmpty ? nil : notReadyReason),
            condition("ContainersReady", ready, reason: notReady.isEmpty ? nil : notReadyReason),
            condition("PodScheduled", true),
        ]
        var members: [(String, JSONValue)] = [("phase", .string(phase)), ("conditions", .array(conditions)),
                                              ("hostIP", .string(Self.hostIP)), ("hostIPs", .array([.ordered([("ip", .string(Self.hostIP))])]))]
        if let podIP = pass.podIP {
            members += [("podIP", .string(podIP)), ("podIPs", .array([.ordered([("ip", .string(podIP))])]))]
        }
        members.append(("startTime", old[member: "startTime"] ?? .string(SystemFields.timestamp())))
        if !initStatuses.isEmpty { members.append(("initContainerStatuses", .array(initStatuses))) }
        members.append(("containerStatuses", .array(statuses)))
        members.append(("qosClass", .string(Self.qosClass(spec))))
        let status = JSONValue.ordered(members)
        // Compared with the stored one, not a cache: a client's update may have replaced it.
        if old.serialized == status.serialized { return }
        try store.guaranteedUpdate(key) { value throws(EngineError) in
            guard value.metadataString("uid") == uid else { throw .conflict("write the status of \(key): the pod was replaced") }
            return value.setting("status", to: status)
        }
    }

    /// One container's status: its state now, the one before it, restarts, readiness.
    func containerStatus(_ container: JSONValue, pass: PodPass, isInit: Bool) -> JSONValue {
        let name = container.podString("name") ?? ""
        let image = container.podString("image") ?? ""
        let attempts = pass.attempts(name)
        let latest = attempts.first
        var state: JSONValue
        var lastState: JSONValue = .object([:], keys: [])
        if let waiting = pass.waiting[name] {
            var members: [(String, JSONValue)] = [("reason", .string(waiting.reason))]
            if let message = waiting.message { members.append(("message", .string(message))) }
            state = .ordered([("waiting", .ordered(members))])
            if let latest, latest.hasExited { lastState = Self.terminated(latest) }
        } else if let latest {
            if latest.isRunning {
                state = .ordered([("running", .ordered([("startedAt", Self.kubeTime(latest.state.state.startedAt))]))])
            } else if latest.hasExited {
                state = Self.terminated(latest)
            } else {
                state = .ordered([("waiting", .ordered([("reason", .string("ContainerCreating"))]))])
            }
            if attempts.count > 1, attempts[1].hasExited { lastState = Self.terminated(attempts[1]) }
        } else {
            let reason = isInit || pass.initialized ? "ContainerCreating" : "PodInitializing"
            state = .ordered([("waiting", .ordered([("reason", .string(reason))]))])
        }
        let running = latest?.isRunning == true && pass.waiting[name] == nil
        let probed = pass.probed[name] ?? (true, true)
        let ready = isInit ? (latest?.hasExited == true && latest?.state.state.exitCode == 0) : running && probed.started && probed.ready
        var members: [(String, JSONValue)] = [("name", .string(name)), ("state", state), ("lastState", lastState),
                                              ("ready", .bool(ready)), ("restartCount", .int(latest?.name.restartCount ?? 0)),
                                              ("image", .string(image)), ("imageID", .string(latest.map { Self.imageID($0.container) } ?? ""))]
        if let latest { members.append(("containerID", .string("berth://" + latest.container.id))) }
        members.append(("started", .bool(running && probed.started)))
        return .ordered(members)
    }

    static func imageID(_ container: Container) -> String {
        container.imageID.hasPrefix("sha256:") ? container.imageID : "sha256:" + container.imageID
    }

    static func terminated(_ container: PodContainer) -> JSONValue {
        let run = container.state.state
        let reason = run.oomKilled ? "OOMKilled" : run.exitCode == 0 ? "Completed" : "Error"
        return .ordered([("terminated", .ordered([
            ("exitCode", .int(Int(run.exitCode))), ("reason", .string(reason)),
            ("startedAt", kubeTime(run.startedAt)), ("finishedAt", kubeTime(run.finishedAt)),
            ("containerID", .string("berth://" + container.container.id)),
        ]))])
    }

    /// Guaranteed when every container's CPU and memory limits equal their requests, BestEffort when
    /// none has any, Burstable otherwise.
    static func qosClass(_ spec: JSONValue) -> String {
        let containers = (spec[member: "initContainers"] ?? .null).podArray + (spec[member: "containers"] ?? .null).podArray
        var any = false
        var guaranteed = true
        for container in containers {
            let resources = container[member: "resources"] ?? .null
            let limits = resources[member: "limits"] ?? .null
            let requests = resources[member: "requests"] ?? .null
            if !limits.podMembers.isEmpty || !requests.podMembers.isEmpty { any = true }
            for resource in ["cpu", "memory"] {
                guard let limit = limits[member: resource].flatMap(quantityText).flatMap(quantity) else { guaranteed = false; continue }
                if let request = requests[member: resource].flatMap(quantityText).flatMap(quantity), request != limit { guaranteed = false }
            }
        }
        return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable"
    }
}
