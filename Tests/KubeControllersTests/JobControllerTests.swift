import ContainerSpec
import Foundation
import GoCompat
import Kube
@testable import KubeControllers
import KubeModel
import Synchronization
import Testing

/// Jobs over a real store, one controller pass at a time, with a clock the test moves. The
/// kubelet's part is played by `finish` (a Pod's phase and its container's end time), so
/// backoff, deadlines and TTLs can be checked to the second.
struct JobControllerTests {
    final class Clock: Sendable {
        let now = Mutex<Int64>(1_800_000_000)
        var value: Int64 { now.withLock { $0 } }
        func advance(_ seconds: Int64) { now.withLock { $0 += seconds } }
    }

    final class Cluster {
        let root = NSTemporaryDirectory() + "berth-job-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let store: ObjectStore
        let clock = Clock()
        let jobs: JobController

        init() throws {
            store = try ObjectStore.open(root: root)
            let clock = self.clock
            jobs = JobController(store: store, writer: .direct(store), clock: { clock.value })
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        func pods() throws -> [JSONValue] { try store.list(Workloads.pods).items.map { try $0.value() } }
        func job(_ name: String = "work") throws -> JSONValue {
            try store.get(ObjectKey(Workloads.jobs, namespace: "default", name: name)).value()
        }
        func status(_ member: String) throws -> JSONValue? { try job()[member: "status"]?[member: member] }
        func conditions() throws -> [String] {
            try (job()[member: "status"]?[member: "conditions"]?.arrayItems ?? []).filter { $0[member: "status"]?.stringValue == "True" }
                .map { "\($0[member: "type"]?.stringValue ?? "")/\($0[member: "reason"]?.stringValue ?? "")" }
        }
        func running() throws -> [JSONValue] {
            try pods().filter { ($0[member: "status"]?[member: "phase"]?.stringValue ?? "Pending") == "Pending" }
        }

        func create(_ spec: String, name: String = "work") throws {
            let object = try JSONParser.parse(Array(#"{"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"\#(name)","namespace":"default"},"spec":\#(spec)}"#.utf8))
            try store.create(Workloads.jobs, object)
        }

        /// The Pod ends with `phase`, its container finished now (with `exitCode`, else 0 or 1 as the phase says).
        func finish(_ pod: JSONValue, _ phase: String, exitCode: Int? = nil, condition: String? = nil) throws {
            let stamp = SystemFields.timestamp(time_t(clock.value))
            let conditions = condition.map { #","conditions":[{"type":"\#($0)","status":"True"}]"# } ?? ""
            let status = try JSONParser.parse(Array(#"""
                {"phase":"\#(phase)","containerStatuses":[{"name":"c","restartCount":0,"state":{"terminated":{"exitCode":\#(exitCode ?? (phase == "Succeeded" ? 0 : 1)),"finishedAt":"\#(stamp)"}}}]\#(conditions)}
                """#.utf8))
            try store.guaranteedUpdate(ObjectKey(Workloads.pods, namespace: "default", name: pod.metadataString("name")!)) { old throws(EngineError) in
                old.setting("status", to: status)
            }
        }

        func events() throws -> [String] {
            try store.list(Resource("events")).items.map { try $0.value() }.map { $0[member: "reason"]?.stringValue ?? "" }
        }
    }

    static let template = #"{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}"#

    @Test func completionsRunAtMostParallelismAtATimeAndComplete() throws {
        let cluster = try Cluster()
        try cluster.create(#"{"completions":3,"parallelism":2,"backoffLimit":6,"template":\#(Self.template)}"#)
        try cluster.jobs.sync()
        #expect(try cluster.running().count == 2)
        #expect(try cluster.status("active") == .int(2))
        #expect(try cluster.status("startTime")?.stringValue == SystemFields.timestamp(time_t(cluster.clock.value)))
        let first = try cluster.running()
        #expect(first.allSatisfy { $0[member: "metadata"]?[member: "ownerReferences"]?.arrayItems?.first?[member: "kind"] == .string("Job") })
        #expect(first.allSatisfy { $0.metadataString("name")?.hasPrefix("work-") == true })

        try cluster.finish(first[0], "Succeeded")
        try cluster.jobs.sync()
        // One left to do: the running one and one new, never a third.
        #expect(try cluster.running().count == 2)
        #expect(try cluster.status("succeeded") == .int(1))
        try cluster.jobs.sync()
        #expect(try cluster.running().count == 2, "a pass without a change made another Pod")

        cluster.clock.advance(7)
        for pod in try cluster.running() { try cluster.finish(pod, "Succeeded") }
        try cluster.jobs.sync()
        #expect(try cluster.status("succeeded") == .int(3))
        #expect(try cluster.status("active") == nil)
        #expect(try cluster.conditions() == ["SuccessCriteriaMet/CompletionsReached", "Complete/CompletionsReached"])
        #expect(try cluster.status("completionTime")?.stringValue == SystemFields.timestamp(time_t(cluster.clock.value)))
        #expect(KubeKinds.jobStatusText(try cluster.job()) == "Complete")
        #expect(try cluster.events().filter { $0 == "SuccessfulCreate" }.count == 3)
        #expect(try cluster.events().contains("Completed"))
        // Finished: nothing more is made.
        try cluster.jobs.sync()
        #expect(try cluster.pods().count == 3)
    }

    @Test func failuresWaitTheBackoffAndEndTheJobPastTheLimit() throws {
        let cluster = try Cluster()
        try cluster.create(#"{"completions":1,"parallelism":1,"backoffLimit":2,"template":\#(Self.template)}"#)
        try cluster.jobs.sync()
        try cluster.finish(try #require(cluster.running().first), "Failed")
        let failedAt = cluster.clock.value
        try cluster.jobs.sync()
        // 10 s after the first failure, not before.
        #expect(try cluster.running().isEmpty)
        #expect(try cluster.status("failed") == .int(1))
        #expect(cluster.jobs.timer?.take() == failedAt + 10)
        cluster.clock.advance(9)
        try cluster.jobs.sync()
        #expect(try cluster.running().isEmpty)
        cluster.clock.advance(1)
        try cluster.jobs.sync()
        #expect(try cluster.running().count == 1)

        // The second failure waits 20 s.
        try cluster.finish(try #require(cluster.running().first), "Failed")
        try cluster.jobs.sync()
        cluster.clock.advance(19)
        try cluster.jobs.sync()
        #expect(try cluster.running().isEmpty)
        cluster.clock.advance(1)
        try cluster.jobs.sync()
        #expect(try cluster.running().count == 1)

        // The third is past backoffLimit 2.
        try cluster.finish(try #require(cluster.running().first), "Failed")
        try cluster.jobs.sync()
        #expect(try cluster.status("failed") == .int(3))
        #expect(try cluster.conditions() == ["FailureTarget/BackoffLimitExceeded", "Failed/BackoffLimitExceeded"])
        #expect(KubeKinds.jobStatusText(try cluster.job()) == "Failed")
        #expect(try cluster.events().contains("BackoffLimitExceeded"))
        cluster.clock.advance(600)
        try cluster.jobs.sync()
        #expect(try cluster.pods().count == 3, "a failed Job made another Pod")
    }

    /// podFailurePolicy: the first matching rule decides. Ignore (an exit code, or a condition)
    /// leaves status.failed and the backoff alone and replaces the Pod at once; an unmatched failure
    /// counts and waits; FailJob ends the Job at once, inside its backoffLimit, with Kubernetes' message.
    @Test func podFailurePolicyRulesDecideHowAFailureCounts() throws {
        let cluster = try Cluster()
        let policy = #"{"rules":[{"action":"FailJob","onExitCodes":{"containerName":"c","operator":"In","values":[42]}},"#
            + #"{"action":"Ignore","onExitCodes":{"operator":"In","values":[137,143]}},{"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget"}]},"#
            + #"{"action":"Unknown","onExitCodes":{"operator":"NotIn","values":[1]}}]}"#
        try cluster.create(#"{"completions":2,"parallelism":2,"backoffLimit":6,"podFailurePolicy":\#(policy),"template":\#(Self.template)}"#)
        try cluster.jobs.sync()
        #expect(try cluster.running().count == 2)

        try cluster.finish(try #require(cluster.running().first), "Failed", exitCode: 137)
        try cluster.jobs.sync()
        #expect(try cluster.status("failed") == nil)
        #expect(try cluster.running().count == 2, "an ignored failure waited a backoff")
        try cluster.finish(try #require(cluster.running().first), "Failed", exitCode: 1, condition: "DisruptionTarget")
        try cluster.jobs.sync()
        #expect(try cluster.status("failed") == nil)
        #expect(try cluster.running().count == 2)

        // No rule matches exit 2 (the rule of an unknown action is skipped): counted, and the backoff.
        try cluster.finish(try #require(cluster.running().first), "Failed", exitCode: 2)
        try cluster.jobs.sync()
        #expect(try cluster.status("failed") == .int(1))
        #expect(try cluster.running().count == 1)
        #expect(try cluster.conditions().isEmpty)

        let last = try #require(cluster.running().first)
        try cluster.finish(last, "Failed", exitCode: 42)
        try cluster.jobs.sync()
        #expect(try cluster.status("failed") == .int(2))
        #expect(try cluster.conditions() == ["FailureTarget/PodFailurePolicy", "Failed/PodFailurePolicy"])
        let message = try (cluster.job()[member: "status"]?[member: "conditions"]?.arrayItems ?? []).last?[member: "message"]?.stringValue
        #expect(message == "Container c for pod default/\(last.metadataString("name") ?? "") failed with exit code 42 matching FailJob rule at index 0")
        cluster.clock.advance(600)
        try cluster.jobs.sync()
        #expect(try cluster.pods().count == 4, "a failed Job made another Pod")
    }

    /// successPolicy: an Indexed Job succeeds once a rule holds (here: index 0 and one more), its
    /// other Pods stopped, with reason SuccessPolicy; the rule's indexes parse as the API writes them.
    @Test func aSuccessPolicyEndsAnIndexedJobEarly() throws {
        #expect(JobController.indexes("0,2-4,7") == [0, 2, 3, 4, 7])
        let cluster = try Cluster()
        try cluster.create(#"{"completions":5,"parallelism":5,"completionMode":"Indexed","successPolicy":{"rules":[{"succeededIndexes":"0-2","succeededCount":2}]},"template":\#(Self.template)}"#)
        try cluster.jobs.sync()
        #expect(try cluster.running().count == 5)
        func pod(_ index: Int) throws -> JSONValue { try #require(cluster.running().first { JobController.index(of: $0) == index }) }
        try cluster.finish(try pod(4), "Succeeded")
        try cluster.finish(try pod(0), "Succeeded")
        try cluster.jobs.sync()
        #expect(try cluster.conditions().isEmpty, "index 4 is not one the rule names")
        try cluster.finish(try pod(2), "Succeeded")
        try cluster.jobs.sync()
        // The Pods still running are stopped first; Complete follows once none is left (as 1.33 does).
        #expect(try cluster.conditions() == ["SuccessCriteriaMet/SuccessPolicy"])
        try cluster.jobs.sync()
        #expect(try cluster.conditions() == ["SuccessCriteriaMet/SuccessPolicy", "Complete/SuccessPolicy"])
        let message = try (cluster.job()[member: "status"]?[member: "conditions"]?.arrayItems ?? []).last?[member: "message"]?.stringValue
        #expect(message == "Matched rules at index 0")
        #expect(try cluster.running().isEmpty, "the Pods of indexes 1 and 3 still run")
        #expect(try cluster.status("completedIndexes") == .string("0,2,4"))
    }

    /// backoffLimitPerIndex: each index retries on its own budget and backoff (the retry says how
    /// often its index failed); an index past it, or failed by a FailIndex rule, is given up while the
    /// others go on; the Job fails (FailedIndexes) once every index succeeded or was given up, or at
    /// once past maxFailedIndexes.
    @Test func eachIndexHasItsOwnBackoffLimit() throws {
        let cluster = try Cluster()
        let policy = #"{"rules":[{"action":"FailIndex","onExitCodes":{"operator":"In","values":[42]}}]}"#
        try cluster.create(#"{"completions":4,"parallelism":4,"completionMode":"Indexed","backoffLimitPerIndex":1,"podFailurePolicy":\#(policy),"template":\#(Self.template)}"#)
        try cluster.jobs.sync()
        func pod(_ index: Int) throws -> JSONValue { try #require(cluster.running().first { JobController.index(of: $0) == index }) }
        try cluster.finish(try pod(1), "Failed")
        try cluster.jobs.sync()
        #expect(try cluster.status("failedIndexes") == .string(""))
        #expect(try cluster.running().count == 3, "index 1 came back before its backoff")
        cluster.clock.advance(10)
        try cluster.jobs.sync()
        let retry = try pod(1)
        #expect(retry[member: "metadata"]?[member: "annotations"]?[member: "batch.kubernetes.io/job-index-failure-count"] == .string("1"))
        // Index 1's second failure is past its limit of 1; index 3 is failed by the FailIndex rule at once.
        try cluster.finish(retry, "Failed")
        try cluster.finish(try pod(3), "Failed", exitCode: 42)
        try cluster.jobs.sync()
        #expect(try cluster.status("failedIndexes") == .string("1,3"))
        cluster.clock.advance(600)
        try cluster.jobs.sync()
        #expect(try cluster.running().compactMap { JobController.index(of: $0) }.sorted() == [0, 2], "a given-up index came back")
        #expect(try cluster.conditions().isEmpty, "the Job ended while indexes 0 and 2 still ran")
        for index in [0, 2] { try cluster.finish(try pod(index), "Succeeded") }
        try cluster.jobs.sync()
        #expect(try cluster.conditions() == ["FailureTarget/FailedIndexes", "Failed/FailedIndexes"])
        #expect(try cluster.status("completedIndexes") == .string("0,2"))

        // maxFailedIndexes 0: the first index given up fails the Job, the others stopped.
        try cluster.create(#"{"completions":2,"parallelism":2,"completionMode":"Indexed","backoffLimitPerIndex":0,"maxFailedIndexes":0,"template":\#(Self.template)}"#, name: "strict")
        try cluster.jobs.sync()
        let strict = try #require(cluster.running().first { $0.metadataString("name")?.hasPrefix("strict-0-") == true })
        try cluster.finish(strict, "Failed")
        try cluster.jobs.sync()
        try cluster.jobs.sync()
        let conditions = try (cluster.job("strict")[member: "status"]?[member: "conditions"]?.arrayItems ?? []).compactMap { $0[member: "reason"]?.stringValue }
        #expect(conditions == ["MaxFailedIndexesExceeded", "MaxFailedIndexesExceeded"])
    }

    @Test func theActiveDeadlineEndsARunningJob() throws {
        let cluster = try Cluster()
        try cluster.create(#"{"activeDeadlineSeconds":30,"template":\#(Self.template)}"#)
        try cluster.jobs.sync()
        #expect(try cluster.running().count == 1)
        #expect(cluster.jobs.timer?.take() == cluster.clock.value + 30)
        cluster.clock.advance(29)
        try cluster.jobs.sync()
        #expect(try cluster.conditions().isEmpty)
        cluster.clock.advance(1)
        try cluster.jobs.sync()
        // The Pod is deleted: FailureTarget now, Failed once no Pod of it is left.
        #expect(try cluster.pods().isEmpty)
        #expect(try cluster.conditions() == ["FailureTarget/DeadlineExceeded"])
        #expect(KubeKinds.jobStatusText(try cluster.job()) == "FailureTarget")
        try cluster.jobs.sync()
        #expect(try cluster.conditions() == ["FailureTarget/DeadlineExceeded", "Failed/DeadlineExceeded"])
        #expect(try cluster.events().contains("DeadlineExceeded"))
    }

    @Test func indexedJobsGiveEachPodItsIndexAndCompleteEachOnce() throws {
        let cluster = try Cluster()
        try cluster.create(#"{"completions":3,"parallelism":3,"completionMode":"Indexed","template":\#(Self.template)}"#)
        try cluster.jobs.sync()
        let pods = try cluster.running()
        let byIndex = Dictionary(uniqueKeysWithValues: pods.map { (JobController.index(of: $0) ?? -1, $0) })
        #expect(byIndex.keys.sorted() == [0, 1, 2])
        for (index, pod) in byIndex {
            #expect(pod.metadataString("name")?.hasPrefix("work-\(index)-") == true)
            #expect(pod[member: "metadata"]?[member: "labels"]?[member: Objects.jobCompletionIndex] == .string(String(index)))
            #expect(pod[member: "spec"]?[member: "hostname"] == .string("work-\(index)"))
            let env = pod[member: "spec"]?[member: "containers"]?.arrayItems?.first?[member: "env"]?.arrayItems ?? []
            #expect(env.first?[member: "valueFrom"]?[member: "fieldRef"]?[member: "fieldPath"]
                == .string("metadata.annotations['batch.kubernetes.io/job-completion-index']"))
        }
        try cluster.finish(byIndex[1]!, "Succeeded")
        try cluster.finish(byIndex[2]!, "Failed")
        cluster.clock.advance(10)
        try cluster.jobs.sync()
        #expect(try cluster.status("completedIndexes") == .string("1"))
        // Index 2 failed: its replacement has index 2 again.
        let replacement = try cluster.running().filter { JobController.index(of: $0) == 2 }
        #expect(replacement.count == 1)
        for pod in try cluster.running() { try cluster.finish(pod, "Succeeded") }
        try cluster.jobs.sync()
        #expect(try cluster.status("completedIndexes") == .string("0-2"))
        #expect(try cluster.status("succeeded") == .int(3))
        #expect(try cluster.conditions().last == "Complete/CompletionsReached")
        #expect(JobController.intervals([0, 1, 2, 4, 6, 7]) == "0-2,4,6,7")
    }

    @Test func aFinishedJobGoesAfterItsTTL() throws {
        let cluster = try Cluster()
        try cluster.create(#"{"ttlSecondsAfterFinished":5,"template":\#(Self.template)}"#)
        try cluster.jobs.sync()
        try cluster.finish(try #require(cluster.running().first), "Succeeded")
        try cluster.jobs.sync()
        let finished = cluster.clock.value
        #expect(try cluster.conditions().last == "Complete/CompletionsReached")
        try cluster.jobs.sync()
        #expect(cluster.jobs.timer?.take() == finished + 5)
        cluster.clock.advance(4)
        try cluster.jobs.sync()
        #expect((try? cluster.job()) != nil)
        cluster.clock.advance(1)
        try cluster.jobs.sync()
        #expect((try? cluster.job()) == nil, "the Job outlived its TTL")
    }

    @Test func aSuspendedJobRunsNothingUntilResumed() throws {
        let cluster = try Cluster()
        try cluster.create(#"{"suspend":true,"template":\#(Self.template)}"#)
        try cluster.jobs.sync()
        #expect(try cluster.pods().isEmpty)
        #expect(try cluster.conditions() == ["Suspended/JobSuspended"])
        #expect(KubeKinds.jobStatusText(try cluster.job()) == "Suspended")
        try cluster.store.guaranteedUpdate(ObjectKey(Workloads.jobs, namespace: "default", name: "work")) { old throws(EngineError) in
            old.setting("spec", to: (old[member: "spec"] ?? .ordered([])).setting("suspend", to: .bool(false)))
        }
        try cluster.jobs.sync()
        #expect(try cluster.running().count == 1)
        #expect(try cluster.conditions().isEmpty)
    }
}

extension JobControllerTests {
    /// Under OnFailure a Pod's container restarts count against backoffLimit (reached, not
    /// passed, fails the Job), while status.failed counts failed Pods only.
    @Test func restartsUnderOnFailureCountAgainstTheLimit() throws {
        let cluster = try Cluster()
        try cluster.create(#"{"backoffLimit":3,"template":{"spec":{"restartPolicy":"OnFailure","containers":[{"name":"c","image":"busybox"}]}}}"#)
        try cluster.jobs.sync()
        let pod = try #require(cluster.running().first)
        func restarted(_ count: Int) throws {
            let status = try JSONParser.parse(Array(#"{"phase":"Running","containerStatuses":[{"name":"c","restartCount":\#(count)}]}"#.utf8))
            try cluster.store.guaranteedUpdate(ObjectKey(Workloads.pods, namespace: "default", name: pod.metadataString("name")!)) { old throws(EngineError) in
                old.setting("status", to: status)
            }
            try cluster.jobs.sync()
        }
        try restarted(2)
        #expect(try cluster.conditions().isEmpty)
        try restarted(3)
        #expect(try cluster.conditions().first == "FailureTarget/BackoffLimitExceeded")
        #expect(try cluster.status("failed") == nil)
    }
}
