import Foundation
import TestSupport
import Testing

/// Jobs and CronJobs driven by the real kubectl and run by the real kubelet and controllers in a
/// server of its own network namespace: Indexed completions, `kubectl wait`, the backoff and the
/// deadline, the TTL, a CronJob's Job at the next minute and `kubectl create job --from`, and
/// nothing left after `kubectl delete -f`.
@Suite(.serialized, .enabled(if: KubeEnv.ready && BusyboxImage.failure == nil))
struct JobTests {
    static func job(_ name: String, spec: String, command: String, restartPolicy: String = "Never") -> String {
        """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: \(name)}
        spec:
        \(spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
          template:
            spec:
              restartPolicy: \(restartPolicy)
              terminationGracePeriodSeconds: 1
              containers:
              - name: work
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, \(GoQuote.quote(command))]
        """
    }

    static func gone(_ server: KubeServer, _ kinds: String = "jobs,pods") -> Bool {
        PodTests.eventually(60) {
            ((try? server.kubectlOK("get", kinds, "--no-headers")) ?? "x").isEmpty && ((try? PodTests.podContainers(server)) ?? ["x"]).isEmpty
        }
    }

    @Test func anIndexedJobCompletesEachIndexOnce() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try PodTests.loadBusybox(server)
        let manifest = Self.job("work", spec: "completions: 3\nparallelism: 2\ncompletionMode: Indexed",
                                command: "echo index=$JOB_COMPLETION_INDEX host=$(hostname)")
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        try server.kubectlOK("wait", "--for=condition=complete", "job/work", "--timeout=120s")

        let header = try server.kubectlOK("get", "jobs").split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.split(separator: " ").filter { !$0.isEmpty } == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], "\(header)")
        let row = try server.kubectlOK("get", "job", "work", "--no-headers").split(separator: " ").filter { !$0.isEmpty }
        #expect(row.prefix(3) == ["work", "Complete", "3/3"], "\(row)")
        #expect(try server.kubectlOK("get", "job", "work", "--no-headers", version: "1.27").contains("Complete"))

        // The generated selector names the Job's own uid; the Pods carry it and their index.
        let uid = try server.kubectlOK("get", "job", "work", "-o", "jsonpath={.metadata.uid}")
        #expect(try server.kubectlOK("get", "job", "work", "-o", "jsonpath={.spec.selector.matchLabels.batch\\.kubernetes\\.io/controller-uid}") == uid)
        let status = try server.kubectlOK("get", "job", "work", "-o", "jsonpath={.status.succeeded} {.status.completedIndexes} {.status.conditions[*].type}")
        #expect(status == "3 0-2 SuccessCriteriaMet Complete", "\(status)")
        let pods = try server.kubectlOK("get", "pods", "-l", "batch.kubernetes.io/job-name=work", "-o", "name").split(separator: "\n").map(String.init)
        #expect(pods.count == 3)
        var lines: [String] = []
        for pod in pods { lines.append(try server.kubectlOK("logs", pod).trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(lines.sorted() == ["index=0 host=work-0", "index=1 host=work-1", "index=2 host=work-2"], "\(lines)")

        // `kubectl get all` includes Jobs.
        #expect(try server.kubectlOK("get", "all", "-o", "name").contains("job.batch/work"))
        let described = try server.kubectlOK("describe", "job", "work")
        #expect(described.contains("SuccessfulCreate") && described.contains("Completed"), "\(described)")

        try server.kubectlOK("delete", "-f", "-", stdin: manifest)
        #expect(Self.gone(server), "left after delete -f: \((try? server.kubectlOK("get", "jobs,pods", "--no-headers")) ?? "")")
    }

    @Test func failuresBackOffThenFailTheJobAndDeadlinesEndIt() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try PodTests.loadBusybox(server)
        let failing = Self.job("fails", spec: "backoffLimit: 1", command: "exit 3")
        try server.kubectlOK("apply", "-f", "-", stdin: failing)
        try server.kubectlOK("wait", "--for=condition=failed", "job/fails", "--timeout=120s")
        let reason = try server.kubectlOK("get", "job", "fails", "-o", "jsonpath={.status.failed} {.status.conditions[?(@.type==\"Failed\")].reason}")
        #expect(reason == "2 BackoffLimitExceeded", "\(reason)")
        // The second Pod came at least 10 s after the first one ended.
        let times = try server.kubectlOK("get", "pods", "-l", "job-name=fails", "--sort-by=.metadata.creationTimestamp", "-o",
                                         "jsonpath={range .items[*]}{.metadata.creationTimestamp} {.status.containerStatuses[0].state.terminated.finishedAt}{\"\\n\"}{end}")
        let rows = times.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        try #require(rows.count == 2, "\(times)")
        let firstEnd = try #require(Self.seconds(rows[0][1])), secondStart = try #require(Self.seconds(rows[1][0]))
        #expect(secondStart - firstEnd >= 10, "the replacement came \(secondStart - firstEnd) s after the failure")
        #expect(try server.kubectlOK("get", "job", "fails", "--no-headers").contains("Failed"))

        let slow = Self.job("slow", spec: "activeDeadlineSeconds: 3", command: "sleep 300")
        let started = Date()
        try server.kubectlOK("apply", "-f", "-", stdin: slow)
        try server.kubectlOK("wait", "--for=condition=failed", "job/slow", "--timeout=60s")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(try server.kubectlOK("get", "job", "slow", "-o", "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}") == "DeadlineExceeded")
        #expect(PodTests.eventually(30) { ((try? server.kubectlOK("get", "pods", "-l", "job-name=slow", "--no-headers")) ?? "x").isEmpty },
                "the deadline left the Pod running")

        try server.kubectlOK("delete", "-f", "-", stdin: failing + "\n---\n" + slow)
        #expect(Self.gone(server))
    }

    /// podFailurePolicy with real exit codes: a FailJob rule ends the Job at the first matching
    /// failure (reason PodFailurePolicy, Kubernetes' message), far inside its backoffLimit; an Ignore
    /// rule's failures count nowhere and wait no backoff (three Pods within seconds, status.failed
    /// unset); a policy under OnFailure, or `In` with 0, is refused as the API refuses it.
    @Test func podFailurePolicyActsOnExitCodes() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try PodTests.loadBusybox(server)
        let policy = """
            backoffLimit: 6
            podFailurePolicy:
              rules:
              - {action: FailJob, onExitCodes: {containerName: work, operator: In, values: [42]}}
              - {action: Ignore, onExitCodes: {operator: In, values: [3]}}
            """
        try server.kubectlOK("apply", "-f", "-", stdin: Self.job("bug", spec: policy, command: "exit 42"))
        try server.kubectlOK("wait", "--for=condition=failed", "job/bug", "--timeout=60s")
        let failed = try server.kubectlOK("get", "job", "bug", "-o", "jsonpath={.status.failed}|{.status.conditions[?(@.type==\"Failed\")].reason}|{.status.conditions[?(@.type==\"Failed\")].message}")
        let pod = try server.kubectlOK("get", "pods", "-l", "job-name=bug", "-o", "jsonpath={.items[*].metadata.name}")
        #expect(failed == "1|PodFailurePolicy|Container work for pod default/\(pod) failed with exit code 42 matching FailJob rule at index 0", "\(failed)")

        let started = Date()
        try server.kubectlOK("apply", "-f", "-", stdin: Self.job("flaky", spec: policy, command: "exit 3"))
        #expect(PodTests.eventually(25) {
            JobTests.quiet(server, "get", "pods", "-l", "job-name=flaky", "--field-selector=status.phase=Failed", "-o", "name").split(separator: "\n").count >= 3
        }, "ignored failures waited a backoff")
        // With the backoff (10 s, then 20 s) the third Pod could not have come before 30 s.
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(try server.kubectlOK("get", "job", "flaky", "-o", "jsonpath={.status.failed}|{.status.conditions[*].type}") == "|")
        try server.kubectlOK("delete", "job", "bug", "flaky")

        let onFailure = Self.job("bad", spec: policy, command: "true", restartPolicy: "OnFailure")
        let refused = try server.kubectl(["apply", "-f", "-"], stdin: onFailure)
        #expect(refused.status != 0 && refused.stderr.contains(
            #"spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified"#), "\(refused.stderr)")
        let zero = Self.job("bad", spec: "podFailurePolicy: {rules: [{action: Count, onExitCodes: {operator: In, values: [0]}}]}", command: "true")
        let refusedZero = try server.kubectl(["apply", "-f", "-"], stdin: zero)
        #expect(refusedZero.status != 0 && refusedZero.stderr.contains("spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator"),
                "\(refusedZero.stderr)")
        #expect(try server.kubectl(["get", "job", "bad"]).status != 0, "a refused Job was stored")
        #expect(Self.gone(server))
    }

    /// successPolicy: an Indexed Job whose rule asks only for index 0 completes when it succeeds,
    /// its other Pods (sleeping) stopped, with reason SuccessPolicy; on a NonIndexed Job it is refused.
    /// backoffLimitPerIndex: a failed index is given up on its own, and the Job fails with FailedIndexes.
    @Test func successPolicyAndPerIndexBackoffEndIndexedJobs() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try PodTests.loadBusybox(server)
        let spec = """
            completions: 3
            parallelism: 3
            completionMode: Indexed
            successPolicy: {rules: [{succeededIndexes: "0"}]}
            """
        try server.kubectlOK("apply", "-f", "-", stdin: Self.job("leader", spec: spec, command: #"[ "$JOB_COMPLETION_INDEX" = 0 ] || exec sleep 300"#))
        try server.kubectlOK("wait", "--for=condition=complete", "job/leader", "--timeout=60s")
        #expect(try server.kubectlOK("get", "job", "leader", "-o", "jsonpath={.status.conditions[?(@.type==\"Complete\")].reason} {.status.completedIndexes}")
                == "SuccessPolicy 0")
        #expect(PodTests.eventually(30) {
            JobTests.quiet(server, "get", "pods", "-l", "job-name=leader", "--field-selector=status.phase=Running", "-o", "name").isEmpty
        }, "the other indexes still run")
        let plain = try server.kubectl(["apply", "-f", "-"], stdin: Self.job("plain", spec: "successPolicy: {rules: [{succeededCount: 1}]}", command: "true"))
        #expect(plain.status != 0 && plain.stderr.contains("spec.successPolicy: Invalid value: \"\": requires indexed completion mode"), "\(plain.stderr)")
        try server.kubectlOK("delete", "job", "leader")

        // backoffLimitPerIndex 0: index 1 fails and is given up, index 0 succeeds; the Job fails with FailedIndexes.
        let perIndex = """
            completions: 2
            parallelism: 2
            completionMode: Indexed
            backoffLimitPerIndex: 0
            """
        try server.kubectlOK("apply", "-f", "-", stdin: Self.job("split", spec: perIndex, command: #"[ "$JOB_COMPLETION_INDEX" = 0 ]"#))
        try server.kubectlOK("wait", "--for=condition=failed", "job/split", "--timeout=60s")
        #expect(try server.kubectlOK("get", "job", "split", "-o", "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason} {.status.completedIndexes} {.status.failedIndexes}")
                == "FailedIndexes 0 1")
        #expect(try server.kubectlOK("get", "pods", "-l", "job-name=split", "--no-headers").split(separator: "\n").count == 2, "a given-up index was retried")
        try server.kubectlOK("delete", "job", "split")
        #expect(Self.gone(server))
    }

    @Test func aFinishedJobGoesAfterItsTTLAndBadJobsAreRefused() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try PodTests.loadBusybox(server)
        try server.kubectlOK("apply", "-f", "-", stdin: Self.job("brief", spec: "ttlSecondsAfterFinished: 2", command: "true"))
        try server.kubectlOK("wait", "--for=condition=complete", "job/brief", "--timeout=60s")
        #expect(Self.gone(server), "the Job outlived its TTL: \((try? server.kubectlOK("get", "jobs,pods", "--no-headers")) ?? "")")

        // restartPolicy Always (a Pod's default) is not a Job's: 422, nothing stored.
        let always = Self.job("bad", spec: "completions: 1", command: "true", restartPolicy: "Always")
        let refused = try server.kubectl(["apply", "-f", "-"], stdin: always)
        #expect(refused.status != 0 && refused.stderr.contains(#"spec.template.spec.restartPolicy: Unsupported value: "Always""#), "\(refused.stderr)")
        let negative = try server.kubectl(["apply", "-f", "-"], stdin: Self.job("bad", spec: "completions: -1", command: "true"))
        #expect(negative.status != 0 && negative.stderr.contains("spec.completions"), "\(negative.stderr)")
        #expect(try server.kubectl(["get", "job", "bad"]).status != 0, "a refused Job was stored")
        // A CronJob's timeZone names a zone of the tz database, never a file elsewhere; a bad schedule says why.
        let escaping = """
            apiVersion: batch/v1
            kind: CronJob
            metadata: {name: sneaky}
            spec:
              schedule: "61 * * * *"
              timeZone: ../../../../etc/passwd
              jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox:test}]}}}}
            """
        let zone = try server.kubectl(["apply", "-f", "-"], stdin: escaping)
        #expect(zone.status != 0 && zone.stderr.contains(#"spec.timeZone: Invalid value: "../../../../etc/passwd""#)
            && zone.stderr.contains("end of range (61) above maximum (59)"), "\(zone.stderr)")
        #expect(try server.kubectl(["get", "cronjob", "sneaky"]).status != 0)
        // The template of an existing Job does not change.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.job("fixed", spec: "suspend: true", command: "true"))
        let changed = try server.kubectl(["apply", "-f", "-"], stdin: Self.job("fixed", spec: "suspend: true", command: "false"))
        #expect(changed.status != 0 && changed.stderr.contains("field is immutable"), "\(changed.stderr)")
        #expect(try server.kubectlOK("get", "job", "fixed", "--no-headers").contains("Suspended"))
    }

    @Test func aCronJobRunsAtTheNextMinuteAndOnDemand() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try PodTests.loadBusybox(server)
        let manifest = """
            apiVersion: batch/v1
            kind: CronJob
            metadata: {name: tick}
            spec:
              schedule: "* * * * *"
              jobTemplate:
                spec:
                  template:
                    spec:
                      restartPolicy: OnFailure
                      terminationGracePeriodSeconds: 1
                      containers:
                      - {name: tick, image: busybox:test, imagePullPolicy: IfNotPresent, command: [echo, tick]}
            """
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        let header = try server.kubectlOK("get", "cronjobs").split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.split(separator: " ").filter { !$0.isEmpty } == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"], "\(header)")

        let described = try server.kubectlOK("describe", "cronjob", "tick")
        #expect(described.contains("Schedule:") && described.contains("* * * * *"), "\(described)")
        // Jobs and CronJobs from kubectl's own generators (protobuf bodies).
        try server.kubectlOK("create", "job", "direct", "--image=busybox:test", "--", "echo", "direct")
        try server.kubectlOK("wait", "--for=condition=complete", "job/direct", "--timeout=60s")
        #expect(try server.kubectlOK("logs", "job/direct").trimmingCharacters(in: .whitespacesAndNewlines) == "direct")
        try server.kubectlOK("delete", "job", "direct")
        try server.kubectlOK("create", "cronjob", "made", "--image=busybox:test", "--schedule=*/5 * * * *", "--", "true")
        #expect(try server.kubectlOK("get", "cronjob", "made", "-o", "jsonpath={.spec.schedule} {.spec.jobTemplate.spec.template.spec.containers[0].command}")
            == "*/5 * * * * [\"true\"]")
        try server.kubectlOK("delete", "cronjob", "made")

        // Made on demand from the template, owned by the CronJob.
        try server.kubectlOK("create", "job", "now", "--from=cronjob/tick")
        try server.kubectlOK("wait", "--for=condition=complete", "job/now", "--timeout=60s")
        #expect(try server.kubectlOK("get", "job", "now", "-o", "jsonpath={.metadata.ownerReferences[0].kind}") == "CronJob")

        // The scheduled one within the next minute (and a few seconds).
        var scheduled = ""
        #expect(PodTests.eventually(75) {
            scheduled = ((try? server.kubectlOK("get", "jobs", "-o", "name")) ?? "").split(separator: "\n").map(String.init).first { $0 != "job.batch/now" } ?? ""
            return !scheduled.isEmpty
        }, "no Job by the next minute")
        try server.kubectlOK("wait", "--for=condition=complete", scheduled, "--timeout=60s")
        let minutes = try #require(Int64(scheduled.split(separator: "-").last ?? ""))
        let annotation = try server.kubectlOK("get", scheduled, "-o", "jsonpath={.metadata.annotations.batch\\.kubernetes\\.io/cronjob-scheduled-timestamp}")
        #expect(Self.seconds(annotation) == minutes * 60, "\(annotation) is not minute \(minutes)")
        #expect(PodTests.eventually(20) {
            Self.quiet(server, "get", "cronjob", "tick", "-o", "jsonpath={.status.lastScheduleTime}") == annotation
        })
        let logs = try server.kubectlOK("logs", scheduled)
        #expect(logs.trimmingCharacters(in: .whitespacesAndNewlines) == "tick")
        #expect(try server.kubectlOK("get", "cronjob", "tick", "--no-headers", version: "1.27").contains("* * * * *"))

        try server.kubectlOK("delete", "-f", "-", stdin: manifest)
        #expect(Self.gone(server, "cronjobs,jobs,pods"), "left after delete -f: \((try? server.kubectlOK("get", "cronjobs,jobs,pods", "--no-headers")) ?? "")")
    }

    /// kill -9 of `berth serve` in the middle of a Job: once it is back, the Job controller goes on
    /// from what the store says (the Pods that succeeded count, no index is run twice).
    @Test func aJobGoesOnAfterTheServerIsKilled() throws {
        let server = try KubeServer()
        defer { PodTests.cleanUp(server); server.stop() }
        try PodTests.loadBusybox(server)
        let manifest = Self.job("steps", spec: "completions: 3\nparallelism: 1\ncompletionMode: Indexed", command: "sleep 1")
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        #expect(PodTests.eventually(60) { (Int(Self.quiet(server, "get", "job", "steps", "-o", "jsonpath={.status.succeeded}")) ?? 0) >= 1 })
        kill(server.pid, SIGKILL)
        server.terminate()
        try server.start()
        try server.kubectlOK("wait", "--for=condition=complete", "job/steps", "--timeout=120s")
        let indexes = try server.kubectlOK("get", "pods", "-l", "job-name=steps", "-o",
                                           "jsonpath={.items[*].metadata.annotations.batch\\.kubernetes\\.io/job-completion-index}")
        #expect(indexes.split(separator: " ").sorted() == ["0", "1", "2"], "\(indexes)")
        #expect(try server.kubectlOK("get", "job", "steps", "-o", "jsonpath={.status.succeeded}") == "3")
        try server.kubectlOK("delete", "-f", "-", stdin: manifest)
        #expect(Self.gone(server))
    }

    /// kubectl's output, "" when it fails (for polling: a failure there is no test failure).
    static func quiet(_ server: KubeServer, _ arguments: String...) -> String {
        guard let result = try? server.kubectl(arguments), result.status == 0 else { return "" }
        return result.stdout
    }

    /// RFC 3339 in UTC as Unix seconds.
    static func seconds(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }
}

/// A YAML double-quoted string.
enum GoQuote {
    static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
