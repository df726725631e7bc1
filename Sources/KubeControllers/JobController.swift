import ContainerSpec
import GoCompat
import Glibc
import Kube
import KubeModel

/// The Job controller's role: Pods from the template until `completions` of them succeeded (or,
/// for a work queue without completions, one did and the rest ended), at most `parallelism` at a
/// time; `Indexed` Jobs give each Pod an index (annotation, label, JOB_COMPLETION_INDEX,
/// hostname) and complete each index once. Failed Pods (and, under OnFailure, container
/// restarts) count against `backoffLimit`, a replacement waiting 10 s doubled per failure (at most
/// 6 min); `activeDeadlineSeconds` ends the Job (DeadlineExceeded); `suspend` deletes its active
/// Pods. A finished Job gets its interim condition (SuccessCriteriaMet, FailureTarget) first and
/// its terminal one (Complete, Failed) once no Pod of it still terminates, as 1.33 does; it is
/// deleted `ttlSecondsAfterFinished` after it finished.
public struct JobController: Controller {
    let store: ObjectStore
    let writer: ObjectWriter
    let clock: @Sendable () -> Int64
    public let timer: WakeTimer? = WakeTimer()
    public var name: String { "job" }

    static let component = "job-controller"
    static let backoffBase: Int64 = 10
    static let backoffMax: Int64 = 360

    public init(store: ObjectStore, writer: ObjectWriter, clock: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }) {
        self.store = store
        self.writer = writer
        self.clock = clock
    }

    public func sync() throws(EngineError) {
        let jobs = try Workloads.values(store.list(Workloads.jobs))
        guard !jobs.isEmpty else { return }
        let pods = try Workloads.values(store.list(Workloads.pods))
        let now = clock()
        for job in jobs where !Workloads.isTerminating(job) {
            guard let uid = job.metadataString("uid") else { continue }
            try reconcile(job, pods: pods.filter { Workloads.controllerUID($0) == uid }, now: now)
        }
    }

    /// What one Job's Pods say: who runs, who finished, and how.
    struct Census {
        var active: [JSONValue] = []
        var terminating: [JSONValue] = []
        var succeeded: [JSONValue] = []
        var failed: [JSONValue] = []
        var restarts = 0

        init(_ pods: [JSONValue]) {
            for pod in pods {
                switch pod[member: "status"]?[member: "phase"]?.stringValue ?? "" {
                case "Succeeded": succeeded.append(pod)
                case "Failed": failed.append(pod)
                case _ where Workloads.isTerminating(pod): terminating.append(pod)
                default:
                    active.append(pod)
                    for list in ["initContainerStatuses", "containerStatuses"] {
                        restarts += (pod[member: "status"]?[member: list]?.arrayItems ?? []).reduce(0) { $0 + ($1[member: "restartCount"]?.intValue ?? 0) }
                    }
                }
            }
        }
    }

    static func index(of pod: JSONValue) -> Int? {
        pod[member: "metadata"]?[member: "annotations"]?[member: Objects.jobCompletionIndex]?.stringValue.flatMap { Int($0) }
    }

    static func timestamp(_ value: JSONValue?) -> Int64? { value?.stringValue.flatMap(Tables.parseTimestamp) }

    static func condition(_ job: JSONValue, _ type: String) -> JSONValue? {
        (job[member: "status"]?[member: "conditions"]?.arrayItems ?? []).first {
            $0[member: "type"]?.stringValue == type && $0[member: "status"]?.stringValue == "True"
        }
    }

    static func isFinished(_ job: JSONValue) -> Bool { condition(job, "Complete") != nil || condition(job, "Failed") != nil }

    func reconcile(_ job: JSONValue, pods: [JSONValue], now: Int64) throws(EngineError) {
        guard let namespace = job.metadataString("namespace"), let name = job.metadataString("name") else { return }
        let spec = job[member: "spec"]
        let key = ObjectKey(Workloads.jobs, namespace: namespace, name: name)
        if Self.isFinished(job) {
            // Whatever still runs of a finished Job goes; then the TTL.
            for pod in pods where Workloads.isActive(pod) { try deletePod(pod, of: job) }
            try expire(job, key: key, now: now)
            return
        }
        var census = Census(pods)
        // podFailurePolicy: Ignored failures count nowhere; a FailJob rule ends the Job.
        let judged = Self.judgeFailures(census.failed, policy: spec?[member: "podFailurePolicy"])
        census.failed = judged.counted
        let indexed = spec?[member: "completionMode"]?.stringValue == "Indexed"
        let completions = spec?[member: "completions"]?.intValue
        let perIndex = indexed ? spec?[member: "backoffLimitPerIndex"]?.intValue.map {
            PerIndex(census.failed, limit: $0, failIndex: judged.failIndex, before: job[member: "status"]?[member: "failedIndexes"]?.stringValue)
        } : nil
        let parallelism = max(spec?[member: "parallelism"]?.intValue ?? 1, 0)
        let backoffLimit = spec?[member: "backoffLimit"]?.intValue ?? 6
        let previous = job[member: "status"]
        let suspended = spec?[member: "suspend"] == .bool(true)
        var conditions = previous?[member: "conditions"]?.arrayItems ?? []

        // Counts never go down: a finished Pod deleted by hand stays counted.
        let completedIndexes = Set(census.succeeded.compactMap(Self.index).filter { $0 < (completions ?? 0) })
        let succeeded = max(indexed ? completedIndexes.count : census.succeeded.count, previous?[member: "succeeded"]?.intValue ?? 0)
        let failed = max(census.failed.count, previous?[member: "failed"]?.intValue ?? 0)
        // Under OnFailure the kubelet restarts containers in place: their restarts count against
        // the limit (any restart when it is 0), though status.failed counts only failed Pods.
        let onFailure = spec?[member: "template"]?[member: "spec"]?[member: "restartPolicy"]?.stringValue == "OnFailure"
        let restartsExceed = onFailure && (backoffLimit == 0 ? census.restarts > 0 : census.restarts >= backoffLimit)
        var startTime = Self.timestamp(previous?[member: "startTime"])
        if startTime == nil && !suspended { startTime = now }

        // Suspension: nothing runs, and the deadline's clock stops.
        if suspended != (Self.condition(job, "Suspended") != nil) {
            let (reason, message) = suspended ? ("JobSuspended", "Job suspended") : ("JobResumed", "Job resumed")
            conditions = Self.setting(conditions, type: "Suspended", status: suspended, reason: reason, message: message, now: now)
            ControllerEvents.record(store, about: job, kind: "Job", apiVersion: "batch/v1", component: Self.component,
                                    reason: suspended ? "Suspended" : "Resumed", message: message)
            if !suspended { startTime = now }
        }

        // Why the Job ends, if it does.
        var failure: (reason: String, message: String)?
        if let interim = Self.interim(conditions, "FailureTarget") {
            failure = interim
        } else if let failJob = judged.failJob {
            failure = failJob
        } else if failed > backoffLimit || restartsExceed {
            failure = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
        } else if let perIndex, let most = spec?[member: "maxFailedIndexes"]?.intValue, perIndex.failedIndexes.count > most {
            failure = ("MaxFailedIndexesExceeded", "Job has exceeded the specified maximal number of failed indexes")
        } else if let perIndex, !perIndex.failedIndexes.isEmpty, let completions,
                  completedIndexes.union(perIndex.failedIndexes).isSuperset(of: 0..<completions) {
            failure = ("FailedIndexes", "Job has failed indexes")
        } else if let deadline = spec?[member: "activeDeadlineSeconds"]?.intValue, let start = startTime, !suspended {
            if now - start >= Int64(deadline) {
                failure = ("DeadlineExceeded", "Job was active longer than specified deadline")
            } else {
                timer?.request(start + Int64(deadline))
            }
        }
        var success = Self.interim(conditions, "SuccessCriteriaMet") != nil
        var successReason = Self.interim(conditions, "SuccessCriteriaMet")
            ?? (reason: "CompletionsReached", message: "Reached expected number of succeeded pods")
        if failure == nil && !success {
            if indexed, let matched = Self.matchedSuccessRule(spec?[member: "successPolicy"], completed: completedIndexes) {
                success = true
                successReason = (reason: "SuccessPolicy", message: "Matched rules at index \(matched)")
            } else if indexed {
                success = completions.map { completedIndexes.count >= $0 } ?? false
            } else if let completions {
                success = succeeded >= completions
            } else {
                // A work queue: done once a Pod succeeded and none still runs.
                success = succeeded > 0 && census.active.isEmpty
            }
        }
        var active = census.active
        var terminatingCount = census.terminating.count
        var completionTime = Self.timestamp(previous?[member: "completionTime"])
        if let failure {
            if Self.interim(conditions, "FailureTarget") == nil {
                conditions = Self.setting(conditions, type: "FailureTarget", status: true, reason: failure.reason, message: failure.message, now: now)
            }
            for pod in active { try deletePod(pod, of: job) }
            terminatingCount += active.count
            active = []
            if terminatingCount == 0 {
                conditions = Self.setting(conditions, type: "Failed", status: true, reason: failure.reason, message: failure.message, now: now)
                ControllerEvents.record(store, about: job, kind: "Job", apiVersion: "batch/v1", component: Self.component, type: "Warning",
                                        reason: failure.reason, message: failure.message)
            }
        } else if success {
            if Self.interim(conditions, "SuccessCriteriaMet") == nil {
                conditions = Self.setting(conditions, type: "SuccessCriteriaMet", status: true, reason: successReason.reason,
                                          message: successReason.message, now: now)
            }
            for pod in active { try deletePod(pod, of: job) }
            terminatingCount += active.count
            active = []
            if terminatingCount == 0 {
                conditions = Self.setting(conditions, type: "Complete", status: true, reason: successReason.reason,
                                          message: successReason.message, now: now)
                completionTime = now
                ControllerEvents.record(store, about: job, kind: "Job", apiVersion: "batch/v1", component: Self.component,
                                        reason: "Completed", message: "Job completed")
            }
        } else if suspended {
            for pod in active { try deletePod(pod, of: job) }
            terminatingCount += active.count
            active = []
        } else {
            active += try createPods(job, census: census, active: active, indexed: indexed, completions: completions,
                                     completedIndexes: completedIndexes, succeeded: succeeded, parallelism: parallelism, failed: failed,
                                     perIndex: perIndex, now: now)
        }

        var status: [(String, JSONValue)] = []
        if !conditions.isEmpty { status.append(("conditions", .array(conditions))) }
        if let startTime { status.append(("startTime", .string(SystemFields.timestamp(time_t(startTime))))) }
        if let completionTime { status.append(("completionTime", .string(SystemFields.timestamp(time_t(completionTime))))) }
        if !active.isEmpty { status.append(("active", .int(active.count))) }
        if succeeded > 0 { status.append(("succeeded", .int(succeeded))) }
        if failed > 0 { status.append(("failed", .int(failed))) }
        if indexed, !completedIndexes.isEmpty { status.append(("completedIndexes", .string(Self.intervals(completedIndexes.sorted())))) }
        if let perIndex { status.append(("failedIndexes", .string(Self.intervals(perIndex.failedIndexes.sorted())))) }
        status.append(("terminating", .int(terminatingCount)))
        status.append(("uncountedTerminatedPods", .ordered([])))
        status.append(("ready", .int(active.filter(Workloads.isReady).count)))
        let newStatus = JSONValue.ordered(status)
        if Workloads.canonical(previous ?? .null) != Workloads.canonical(newStatus) { try Workloads.writeStatus(store, key, newStatus) }
    }

    /// A condition already set, as (reason, message).
    static func interim(_ conditions: [JSONValue], _ type: String) -> (reason: String, message: String)? {
        guard let found = conditions.first(where: { $0[member: "type"]?.stringValue == type && $0[member: "status"]?.stringValue == "True" }) else {
            return nil
        }
        return (found[member: "reason"]?.stringValue ?? "", found[member: "message"]?.stringValue ?? "")
    }

    /// The conditions with `type` set (its transition time kept when its status did not change).
    static func setting(_ conditions: [JSONValue], type: String, status: Bool, reason: String, message: String, now: Int64) -> [JSONValue] {
        let text = status ? "True" : "False"
        let stamp = JSONValue.string(SystemFields.timestamp(time_t(now)))
        let previous = conditions.first { $0[member: "type"]?.stringValue == type }
        let transition = previous?[member: "status"]?.stringValue == text ? previous?[member: "lastTransitionTime"] ?? stamp : stamp
        let condition = JSONValue.ordered([("type", .string(type)), ("status", .string(text)), ("lastProbeTime", stamp),
                                           ("lastTransitionTime", transition), ("reason", .string(reason)), ("message", .string(message))])
        if previous != nil { return conditions.map { $0[member: "type"]?.stringValue == type ? condition : $0 } }
        return conditions + [condition]
    }

    /// `1,3-5,7`: completed indexes as the status lists them.
    static func intervals(_ sorted: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end - index >= 2 ? "\(sorted[index])-\(sorted[end])" : (index...end).map { String(sorted[$0]) }.joined(separator: ","))
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// New Pods up to parallelism (and the completions still missing), after the backoff.
    func createPods(_ job: JSONValue, census: Census, active: [JSONValue], indexed: Bool, completions: Int?, completedIndexes: Set<Int>,
                    succeeded: Int, parallelism: Int, failed: Int, perIndex: PerIndex? = nil, now: Int64) throws(EngineError) -> [JSONValue] {
        var wanted: Int
        if let completions {
            wanted = min(parallelism, completions - succeeded - (perIndex?.failedIndexes.count ?? 0))
        } else {
            wanted = succeeded > 0 ? 0 : parallelism
        }
        wanted -= active.count
        guard wanted > 0 else { return [] }
        if failed > 0 && perIndex == nil {
            // The replacement waits: 10 s, doubled for each failure, at most 6 minutes, after the
            // last failure (with backoffLimitPerIndex, the failures of its own index).
            let delay = min(Self.backoffBase << Int64(min(failed - 1, 10)), Self.backoffMax)
            let lastFailure = census.failed.compactMap(Self.finishedAt).max() ?? census.active.compactMap(Self.lastRestart).max()
            if let lastFailure, now < lastFailure + delay {
                timer?.request(lastFailure + delay)
                return []
            }
        }
        var indexes: [Int?] = []
        if indexed, let completions {
            let busy = Set(active.compactMap(Self.index))
            indexes = (0..<completions).filter { index in
                guard !completedIndexes.contains(index) && !busy.contains(index) else { return false }
                guard let perIndex else { return true }
                if perIndex.failedIndexes.contains(index) { return false }
                let failures = perIndex.failures[index] ?? 0
                guard failures > 0, let last = perIndex.lastFailure[index] else { return true }
                let due = last + min(Self.backoffBase << Int64(min(failures - 1, 10)), Self.backoffMax)
                if now < due { timer?.request(due) }
                return now >= due
            }.prefix(wanted).map { $0 }
        } else {
            indexes = Array(repeating: nil, count: wanted)
        }
        var created: [JSONValue] = []
        for index in indexes {
            var pod = Self.pod(from: job, index: index)
            if let perIndex, let index {
                // As the Job controller marks a retry: how often this index failed before.
                let annotations = (pod[member: "metadata"]?[member: "annotations"] ?? .ordered([]))
                    .setting("batch.kubernetes.io/job-index-failure-count", to: .string(String(perIndex.failures[index] ?? 0)))
                pod = pod.settingMetadata("annotations", to: annotations)
            }
            try writer.create(Workloads.pods, pod)
            created.append(pod)
            ControllerEvents.record(store, about: job, kind: "Job", apiVersion: "batch/v1", component: Self.component,
                                    reason: "SuccessfulCreate", message: "Created pod: \(pod.metadataString("name") ?? "")")
        }
        return created
    }

    /// When a finished Pod's last container ended.
    static func finishedAt(_ pod: JSONValue) -> Int64? {
        (pod[member: "status"]?[member: "containerStatuses"]?.arrayItems ?? []).compactMap {
            timestamp($0[member: "state"]?[member: "terminated"]?[member: "finishedAt"])
        }.max()
    }

    /// When a running Pod's container last ended before its restart (OnFailure).
    static func lastRestart(_ pod: JSONValue) -> Int64? {
        (pod[member: "status"]?[member: "containerStatuses"]?.arrayItems ?? []).compactMap {
            timestamp($0[member: "lastState"]?[member: "terminated"]?[member: "finishedAt"])
        }.max()
    }

    /// A Pod of the Job: the template's, owned by the Job; an Indexed Job's carries its index.
    static func pod(from job: JSONValue, index: Int?) -> JSONValue {
        let name = job.metadataString("name") ?? ""
        let template = job[member: "spec"]?[member: "template"]
        let prefix = index.map { "\(name)-\($0)-" } ?? name + "-"
        var labels = template?[member: "metadata"]?[member: "labels"] ?? .ordered([])
        var annotations = template?[member: "metadata"]?[member: "annotations"] ?? .ordered([])
        var spec = template?[member: "spec"] ?? .ordered([])
        if let index {
            labels = labels.setting(Objects.jobCompletionIndex, to: .string(String(index)))
            annotations = annotations.setting(Objects.jobCompletionIndex, to: .string(String(index)))
            let variable = JSONValue.ordered([("name", .string("JOB_COMPLETION_INDEX")), ("valueFrom", .ordered([("fieldRef", .ordered([
                ("apiVersion", .string("v1")), ("fieldPath", .string("metadata.annotations['\(Objects.jobCompletionIndex)']")),
            ]))]))])
            for list in ["initContainers", "containers"] {
                guard let containers = spec[member: list]?.arrayItems else { continue }
                spec = spec.setting(list, to: .array(containers.map { container in
                    let env = container[member: "env"]?.arrayItems ?? []
                    if env.contains(where: { $0[member: "name"]?.stringValue == "JOB_COMPLETION_INDEX" }) { return container }
                    return container.setting("env", to: .array(env + [variable]))
                }))
            }
            if spec[member: "hostname"] == nil { spec = spec.setting("hostname", to: .string("\(name)-\(index)")) }
        }
        var metadata: [(String, JSONValue)] = [
            ("name", .string(Names.generate(prefix))), ("generateName", .string(prefix)), ("namespace", .string(job.metadataString("namespace") ?? "")),
        ]
        if labels.objectValue?.isEmpty == false { metadata.append(("labels", labels)) }
        if annotations.objectValue?.isEmpty == false { metadata.append(("annotations", annotations)) }
        metadata.append(("ownerReferences", .array([Workloads.ownerReference(job, kind: "Job", apiVersion: "batch/v1")])))
        return .ordered([("kind", .string("Pod")), ("apiVersion", .string("v1")), ("metadata", .ordered(metadata)), ("spec", spec)])
    }

    func deletePod(_ pod: JSONValue, of job: JSONValue) throws(EngineError) {
        guard let name = pod.metadataString("name"), let namespace = pod.metadataString("namespace") else { return }
        do {
            try writer.delete(ObjectKey(Workloads.pods, namespace: namespace, name: name))
            ControllerEvents.record(store, about: job, kind: "Job", apiVersion: "batch/v1", component: Self.component,
                                    reason: "SuccessfulDelete", message: "Deleted pod: \(name)")
        } catch where error.kind == .notFound {}
    }

    /// ttlSecondsAfterFinished: the Job (and so its Pods) deleted that long after it finished.
    func expire(_ job: JSONValue, key: ObjectKey, now: Int64) throws(EngineError) {
        guard let ttl = job[member: "spec"]?[member: "ttlSecondsAfterFinished"]?.intValue else { return }
        let finished = Self.timestamp(job[member: "status"]?[member: "completionTime"])
            ?? Self.timestamp((Self.condition(job, "Complete") ?? Self.condition(job, "Failed"))?[member: "lastTransitionTime"]) ?? now
        guard now >= finished + Int64(ttl) else {
            timer?.request(finished + Int64(ttl))
            return
        }
        do { try writer.delete(key) } catch where error.kind == .notFound {}
    }
}
