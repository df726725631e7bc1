import Glibc
import GoCompat
import Kube

/// batch/v1 Jobs and CronJobs (the controllers in KubeControllers keep them), with the columns
/// `kubectl get jobs` and `kubectl get cronjobs` print.
extension KubeKinds {
    static func hasCondition(_ object: JSONValue, _ type: String) -> Bool {
        (object[member: "status"]?[member: "conditions"]?.arrayItems ?? []).contains {
            $0[member: "type"]?.stringValue == type && $0[member: "status"]?.stringValue == "True"
        }
    }

    /// STATUS as the printer decides it: the terminal conditions first, then deletion, suspension
    /// and the interim conditions.
    public static func jobStatusText(_ job: JSONValue) -> String {
        if hasCondition(job, "Complete") { return "Complete" }
        if hasCondition(job, "Failed") { return "Failed" }
        if job[member: "metadata"]?[member: "deletionTimestamp"] != nil { return "Terminating" }
        if hasCondition(job, "Suspended") { return "Suspended" }
        if hasCondition(job, "FailureTarget") { return "FailureTarget" }
        if hasCondition(job, "SuccessCriteriaMet") { return "SuccessCriteriaMet" }
        return "Running"
    }

    /// COMPLETIONS: `succeeded/completions`, or `n/1 of parallelism` for a work queue.
    static func jobCompletionsText(_ job: JSONValue) -> String {
        let succeeded = count(job, "status", "succeeded")
        if let completions = job[member: "spec"]?[member: "completions"]?.intValue { return "\(succeeded)/\(completions)" }
        let parallelism = count(job, "spec", "parallelism")
        return parallelism > 1 ? "\(succeeded)/1 of \(parallelism)" : "\(succeeded)/1"
    }

    /// DURATION: start to completion, or start to now while it runs; empty before it started.
    static func jobDurationText(_ job: JSONValue, now: Int64 = Int64(time(nil))) -> String {
        guard let start = job[member: "status"]?[member: "startTime"]?.stringValue.flatMap(Tables.parseTimestamp) else { return "" }
        let end = job[member: "status"]?[member: "completionTime"]?.stringValue.flatMap(Tables.parseTimestamp) ?? now
        return Tables.humanDuration(end - start)
    }

    public static let job = KubeKind(
        group: "batch", version: "v1", kind: "Job", resource: "jobs", singular: "job", namespaced: true,
        shortNames: [], verbs: allVerbs,
        columns: [
            TableColumn("Status", type: "string", description: "Status of the job.") { .string(jobStatusText($0)) },
            TableColumn("Completions", type: "string", description: "The number of pods which reached phase Succeeded.") {
                .string(jobCompletionsText($0))
            },
            TableColumn("Duration", type: "string", description: "Time required to complete the job.") { .string(jobDurationText($0)) },
            TableColumn("Age", type: "string", description: "") { _ in .null },
        ] + workloadWideColumns(),
        fields: ["spec", "status"])

    /// A CronJob's wide columns read its job template.
    static func cronJobWideColumns() -> [TableColumn] {
        workloadWideColumns().map { column in
            TableColumn(column.name, type: column.type, priority: column.priority, description: column.description) { object in
                column.cell(object[member: "spec"]?[member: "jobTemplate"] ?? .null)
            }
        }
    }

    public static let cronJob = KubeKind(
        group: "batch", version: "v1", kind: "CronJob", resource: "cronjobs", singular: "cronjob", namespaced: true,
        shortNames: ["cj"], verbs: allVerbs,
        columns: [
            TableColumn("Schedule", type: "string", description: "The schedule in Cron format.") {
                $0[member: "spec"]?[member: "schedule"] ?? .string("")
            },
            TableColumn("Timezone", type: "string", description: "The time zone name for the given schedule.") {
                noneIfEmpty($0[member: "spec"]?[member: "timeZone"])
            },
            TableColumn("Suspend", type: "boolean", description: "Whether the controller suspends subsequent executions.") {
                .bool($0[member: "spec"]?[member: "suspend"] == .bool(true))
            },
            TableColumn("Active", type: "integer", description: "A list of pointers to currently running jobs.") {
                .int(($0[member: "status"]?[member: "active"]?.arrayItems ?? []).count)
            },
            TableColumn("Last Schedule", type: "string", description: "Information when was the last time the job was successfully scheduled.") {
                guard let last = $0[member: "status"]?[member: "lastScheduleTime"]?.stringValue.flatMap(Tables.parseTimestamp) else { return .string("<none>") }
                return .string(Tables.humanDuration(Int64(time(nil)) - last))
            },
            TableColumn("Age", type: "string", description: "") { _ in .null },
        ] + cronJobWideColumns(),
        fields: ["spec", "status"])
}
