import ContainerSpec
import GoCompat
import Glibc
import Kube
import KubeModel
import Synchronization

/// The CronJob controller's role: at each time the schedule names (in `timeZone`, UTC without
/// one) a Job from `jobTemplate`, named `<cronjob>-<scheduled minutes since the epoch>`, unless
/// suspended, too late (`startingDeadlineSeconds`) or refused by `concurrencyPolicy` (Forbid: not
/// while one runs; Replace: the running ones deleted first). Finished Jobs beyond
/// `successfulJobsHistoryLimit` / `failedJobsHistoryLimit` are deleted, oldest first; status
/// lists the active Jobs and the last schedule and success times.
public struct CronJobController: Controller {
    let store: ObjectStore
    let writer: ObjectWriter
    let clock: @Sendable () -> Int64
    public let timer: WakeTimer? = WakeTimer()
    /// The scheduled times already refused under Forbid (said once each, not at every pass).
    let refused = Refusals()
    public var name: String { "cronjob" }

    final class Refusals: Sendable {
        private let seen = Mutex<[String: Int64]>([:])
        /// Whether this is the first refusal of `time` for the CronJob `uid`.
        func first(_ uid: String, _ time: Int64) -> Bool {
            seen.withLock { seen in
                if seen[uid] == time { return false }
                seen[uid] = time
                return true
            }
        }
    }

    static let component = "cronjob-controller"
    static let scheduledAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

    public init(store: ObjectStore, writer: ObjectWriter, clock: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }) {
        self.store = store
        self.writer = writer
        self.clock = clock
    }

    public func sync() throws(EngineError) {
        let cronJobs = try Workloads.values(store.list(Workloads.cronJobs))
        guard !cronJobs.isEmpty else { return }
        let jobs = try Workloads.values(store.list(Workloads.jobs))
        let now = clock()
        for cronJob in cronJobs where !Workloads.isTerminating(cronJob) {
            guard let uid = cronJob.metadataString("uid") else { continue }
            try reconcile(cronJob, jobs: jobs.filter { Workloads.controllerUID($0) == uid }, now: now)
        }
    }

    func event(_ cronJob: JSONValue, _ reason: String, _ message: String, type: String = "Normal") {
        ControllerEvents.record(store, about: cronJob, kind: "CronJob", apiVersion: "batch/v1", component: Self.component,
                                type: type, reason: reason, message: message)
    }

    static func reference(_ job: JSONValue) -> JSONValue {
        .ordered([("kind", .string("Job")), ("namespace", .string(job.metadataString("namespace") ?? "")), ("name", .string(job.metadataString("name") ?? "")),
                  ("uid", .string(job.metadataString("uid") ?? "")), ("apiVersion", .string("batch/v1")),
                  ("resourceVersion", .string(job.metadataString("resourceVersion") ?? ""))])
    }

    /// The scheduled times in (after, now], the last of them and how many there were (capped).
    static func missed(_ schedule: CronSchedule, zone: TimeZoneRules, after: Int64, now: Int64) -> (last: Int64?, count: Int) {
        var last: Int64?
        var count = 0
        var cursor = after
        while count <= 100, let next = schedule.next(after: cursor, in: zone), next <= now {
            last = next
            count += 1
            cursor = next
        }
        return (last, count)
    }

    func reconcile(_ cronJob: JSONValue, jobs: [JSONValue], now: Int64) throws(EngineError) {
        guard let namespace = cronJob.metadataString("namespace"), let name = cronJob.metadataString("name") else { return }
        let spec = cronJob[member: "spec"]
        let previous = cronJob[member: "status"]
        let key = ObjectKey(Workloads.cronJobs, namespace: namespace, name: name)
        var lastSuccessful = JobController.timestamp(previous?[member: "lastSuccessfulTime"])
        var lastSchedule = JobController.timestamp(previous?[member: "lastScheduleTime"])
        let wasActive = Set((previous?[member: "active"]?.arrayItems ?? []).compactMap { $0[member: "uid"]?.stringValue })

        // Finished Jobs leave the active list (said once); running ones are in it.
        var running: [JSONValue] = []
        for job in jobs where !Workloads.isTerminating(job) {
            if JobController.isFinished(job) {
                guard let uid = job.metadataString("uid"), wasActive.contains(uid) else { continue }
                let condition = JobController.condition(job, "Complete") != nil ? "Complete" : "Failed"
                event(cronJob, "SawCompletedJob", "Saw completed job: \(job.metadataString("name") ?? ""), condition: \(condition)")
                if condition == "Complete", let finished = JobController.timestamp(job[member: "status"]?[member: "completionTime"]) {
                    lastSuccessful = max(lastSuccessful ?? 0, finished)
                }
            } else {
                running.append(job)
            }
        }
        try cleanUp(cronJob, jobs: jobs)

        if spec?[member: "suspend"] != .bool(true), let text = spec?[member: "schedule"]?.stringValue,
           let schedule = try? CronSchedule(text) {
            let zone = spec?[member: "timeZone"]?.stringValue.flatMap(TimeZoneRules.load) ?? .utc
            var earliest = lastSchedule ?? JobController.timestamp(cronJob[member: "metadata"]?[member: "creationTimestamp"]) ?? now
            if let deadline = spec?[member: "startingDeadlineSeconds"]?.intValue { earliest = max(earliest, now - Int64(deadline)) }
            let (due, count) = Self.missed(schedule, zone: zone, after: earliest, now: now)
            if count > 100 {
                event(cronJob, "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
                      type: "Warning")
            }
            if let due {
                let policy = spec?[member: "concurrencyPolicy"]?.stringValue ?? "Allow"
                if policy == "Forbid" && !running.isEmpty {
                    // Tried again at the next change or schedule; the time stays due until then.
                    if refused.first(cronJob.metadataString("uid") ?? "", due) { event(cronJob, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid") }
                } else {
                    if policy == "Replace" {
                        for job in running {
                            guard let jobName = job.metadataString("name") else { continue }
                            do { try writer.delete(ObjectKey(Workloads.jobs, namespace: namespace, name: jobName)) } catch where error.kind == .notFound {}
                            event(cronJob, "SuccessfulDelete", "Deleted job \(jobName)")
                        }
                        running = []
                    }
                    let job = Self.job(from: cronJob, scheduled: due, zone: zone)
                    let jobName = job.metadataString("name") ?? ""
                    do {
                        try writer.create(Workloads.jobs, job)
                        event(cronJob, "SuccessfulCreate", "Created job \(jobName)")
                    } catch where error.kind == .conflict {}
                    if let stored = try? store.get(ObjectKey(Workloads.jobs, namespace: namespace, name: jobName)).value(),
                       Workloads.controllerUID(stored) == cronJob.metadataString("uid"), !JobController.isFinished(stored),
                       !running.contains(where: { $0.metadataString("uid") == stored.metadataString("uid") }) {
                        running.append(stored)
                    }
                    lastSchedule = due
                }
            }
            if let next = schedule.next(after: now, in: zone) { timer?.request(next) }
        }

        var status: [(String, JSONValue)] = []
        let active = running.sorted { ($0.metadataString("name") ?? "") < ($1.metadataString("name") ?? "") }.map(Self.reference)
        if !active.isEmpty { status.append(("active", .array(active))) }
        if let lastSchedule { status.append(("lastScheduleTime", .string(SystemFields.timestamp(time_t(lastSchedule))))) }
        if let lastSuccessful { status.append(("lastSuccessfulTime", .string(SystemFields.timestamp(time_t(lastSuccessful))))) }
        let newStatus = JSONValue.ordered(status)
        // The references' resourceVersions move with every Job status write: compare without them.
        func stable(_ value: JSONValue?) -> String {
            Workloads.canonical((value ?? .ordered([])).setting("active", to: value?[member: "active"].map { list in
                .array((list.arrayItems ?? []).map { $0.setting("resourceVersion", to: nil) })
            }))
        }
        if stable(previous) != stable(newStatus) { try Workloads.writeStatus(store, key, newStatus) }
    }

    /// Finished Jobs beyond the history limits go, the oldest first.
    func cleanUp(_ cronJob: JSONValue, jobs: [JSONValue]) throws(EngineError) {
        let spec = cronJob[member: "spec"]
        for (condition, member, fallback) in [("Complete", "successfulJobsHistoryLimit", 3), ("Failed", "failedJobsHistoryLimit", 1)] {
            let limit = spec?[member: member]?.intValue ?? fallback
            let finished = jobs.filter { JobController.condition($0, condition) != nil && !Workloads.isTerminating($0) }
            guard finished.count > limit else { continue }
            let oldest = finished.sorted { a, b in
                let start = { (job: JSONValue) in JobController.timestamp(job[member: "status"]?[member: "startTime"]) ?? 0 }
                return start(a) != start(b) ? start(a) < start(b) : (a.metadataString("name") ?? "") < (b.metadataString("name") ?? "")
            }.prefix(finished.count - limit)
            for job in oldest {
                guard let name = job.metadataString("name"), let namespace = job.metadataString("namespace") else { continue }
                do { try writer.delete(ObjectKey(Workloads.jobs, namespace: namespace, name: name)) } catch where error.kind == .notFound { continue }
                event(cronJob, "SuccessfulDelete", "Deleted job \(name)")
            }
        }
    }

    /// The Job for the time `scheduled`: the template's, named for the minute, owned by the CronJob.
    static func job(from cronJob: JSONValue, scheduled: Int64, zone: TimeZoneRules) -> JSONValue {
        let template = cronJob[member: "spec"]?[member: "jobTemplate"]
        let name = "\(cronJob.metadataString("name") ?? "")-\(scheduled / 60)"
        var metadata: [(String, JSONValue)] = [("name", .string(name)), ("namespace", .string(cronJob.metadataString("namespace") ?? ""))]
        if let labels = template?[member: "metadata"]?[member: "labels"] { metadata.append(("labels", labels)) }
        let annotations = (template?[member: "metadata"]?[member: "annotations"] ?? .ordered([]))
            .setting(scheduledAnnotation, to: .string(Self.rfc3339(scheduled, zone: zone)))
        metadata.append(("annotations", annotations))
        metadata.append(("ownerReferences", .array([Workloads.ownerReference(cronJob, kind: "CronJob", apiVersion: "batch/v1")])))
        return .ordered([("kind", .string("Job")), ("apiVersion", .string("batch/v1")), ("metadata", .ordered(metadata)),
                         ("spec", template?[member: "spec"] ?? .ordered([]))])
    }

    /// RFC 3339 in the zone (`2025-01-02T03:04:00+01:00`, `Z` for UTC), as Go formats a time in its location.
    static func rfc3339(_ instant: Int64, zone: TimeZoneRules) -> String {
        let offset = zone.offset(at: instant)
        let local = String(SystemFields.timestamp(time_t(instant + offset)).dropLast())
        guard offset != 0 else { return local + "Z" }
        let minutes = abs(offset) / 60
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return local + (offset < 0 ? "-" : "+") + two(minutes / 60) + ":" + two(minutes % 60)
    }
}
