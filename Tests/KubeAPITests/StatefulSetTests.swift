import Foundation
import TestSupport
import Testing

/// StatefulSets and DaemonSets driven by the real kubectl and run by the real kubelet and
/// controllers in a server of its own network namespace: ordered start, stable names and DNS
/// through a headless Service, claims made once and kept (what a Pod wrote in its claim is there
/// again after the Pod is deleted and made again), scale down from the highest ordinal, `rollout
/// status`; a DaemonSet's one Pod on this node, its rolling update and its node selector; nothing
/// but the retained claims left after `kubectl delete -f`.
@Suite(.serialized, .enabled(if: KubeEnv.ready && BusyboxImage.failure == nil))
struct StatefulSetTests {
    static let manifest = """
        apiVersion: v1
        kind: Service
        metadata: {name: db}
        spec:
          clusterIP: None
          selector: {app: db}
          ports: [{name: tcp, port: 80}]
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          serviceName: db
          replicas: 3
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: db
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sleep, "3600"]
                readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
        """

    /// Two Pods, each with a claim of its own mounted at /data.
    static let claims = """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: store}
        spec:
          serviceName: store
          replicas: 2
          podManagementPolicy: Parallel
          selector: {matchLabels: {app: store}}
          template:
            metadata: {labels: {app: store}}
            spec:
              terminationGracePeriodSeconds: 0
              containers:
              - {name: s, image: busybox:test, imagePullPolicy: IfNotPresent, command: [sleep, "3600"], volumeMounts: [{name: data, mountPath: /data}]}
          volumeClaimTemplates:
          - metadata: {name: data}
            spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Mi}}}
        """

    static func seconds(_ text: String) -> Int64? { JobTests.seconds(text) }

    @Test func aStatefulSetStartsInOrderWithStableNamesAndScalesDownFromTheTop() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try PodTests.loadBusybox(server)
        try server.kubectlOK("apply", "-f", "-", stdin: Self.manifest)
        try server.kubectlOK("rollout", "status", "statefulset/db", "--timeout=120s")
        let header = try server.kubectlOK("get", "statefulsets").split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.split(separator: " ").filter { !$0.isEmpty } == ["NAME", "READY", "AGE"], "\(header)")
        #expect(try server.kubectlOK("get", "sts", "db", "--no-headers").split(separator: " ").prefix(2) == ["db", "3/3"])
        #expect(try server.kubectlOK("get", "sts", "db", "--no-headers", version: "1.27").contains("3/3"))

        // db-1 was made only once db-0 was ready, db-2 once db-1 was.
        for (earlier, later) in [("db-0", "db-1"), ("db-1", "db-2")] {
            let readyAt = try server.kubectlOK("get", "pod", earlier, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].lastTransitionTime}")
            let createdAt = try server.kubectlOK("get", "pod", later, "-o", "jsonpath={.metadata.creationTimestamp}")
            #expect((Self.seconds(createdAt) ?? 0) >= (Self.seconds(readyAt) ?? .max), "\(later) made at \(createdAt), \(earlier) ready at \(readyAt)")
        }
        // Its hostname, and its name in the cluster DNS through the headless Service.
        #expect(try server.kubectlOK("exec", "db-1", "--", "hostname").trimmingCharacters(in: .whitespacesAndNewlines) == "db-1")
        let ip = try server.kubectlOK("get", "pod", "db-2", "-o", "jsonpath={.status.podIP}")
        try #require(!ip.isEmpty)
        #expect(PodTests.eventually(20) {
            JobTests.quiet(server, "exec", "db-0", "--", "nslookup", "db-2.db.default.svc.cluster.local").contains(ip)
        }, "db-2.db does not resolve to \(ip)")

        let described = try server.kubectlOK("describe", "statefulset", "db")
        #expect(described.contains("3 Running") && described.contains("SuccessfulCreate"), "\(described)")

        // rollout restart: every Pod replaced, the highest first, under the same names.
        let before = try server.kubectlOK("get", "pods", "-l", "app=db", "-o", "jsonpath={.items[*].metadata.uid}")
        try server.kubectlOK("rollout", "restart", "statefulset/db")
        try server.kubectlOK("rollout", "status", "statefulset/db", "--timeout=120s")
        let after = try server.kubectlOK("get", "pods", "-l", "app=db", "-o", "jsonpath={.items[*].metadata.uid}")
        #expect(Set(before.split(separator: " ")).isDisjoint(with: after.split(separator: " ")), "\(before) / \(after)")
        // Two revisions; undo goes back to the first template (it becomes revision 3).
        let history = try server.kubectlOK("rollout", "history", "statefulset/db")
        #expect(history.split(separator: "\n").filter { $0.first == "1" || $0.first == "2" }.count == 2, "\(history)")
        try server.kubectlOK("rollout", "undo", "statefulset/db")
        try server.kubectlOK("rollout", "status", "statefulset/db", "--timeout=120s")
        #expect(try server.kubectlOK("get", "sts", "db", "-o", "jsonpath={.spec.template.metadata.annotations}").isEmpty)
        #expect(try server.kubectlOK("get", "controllerrevisions", "--no-headers").split(separator: "\n").count == 2)

        // A deleted Pod comes back under its name.
        let uid = try server.kubectlOK("get", "pod", "db-1", "-o", "jsonpath={.metadata.uid}")
        try server.kubectlOK("delete", "pod", "db-1", "--wait=false")
        #expect(PodTests.eventually(60) {
            let now = JobTests.quiet(server, "get", "pod", "db-1", "-o", "jsonpath={.metadata.uid} {.status.phase}")
            return !now.isEmpty && !now.hasPrefix(uid) && now.hasSuffix("Running")
        }, "db-1 did not come back")

        // Down to one: db-2 first, then db-1.
        try server.kubectlOK("rollout", "status", "statefulset/db", "--timeout=60s")
        try server.kubectlOK("scale", "statefulset/db", "--replicas=1")
        #expect(PodTests.eventually(60) {
            ((try? server.kubectlOK("get", "pods", "-l", "app=db", "-o", "name")) ?? "") == "pod/db-0\n"
        }, "not scaled down to db-0")
        let deletions = try server.kubectlOK("get", "events", "--field-selector", "reason=SuccessfulDelete,involvedObject.name=db",
                                             "--sort-by=.metadata.creationTimestamp", "-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}")
        let order = deletions.split(separator: "\n").compactMap { line in ["db-2", "db-1"].first { line.contains("Pod \($0) ") } }
        #expect(order.suffix(2) == ["db-2", "db-1"], "\(deletions)")

        try server.kubectlOK("delete", "-f", "-", stdin: Self.manifest)
        #expect(PodTests.eventually(60) {
            ((try? server.kubectlOK("get", "sts,pods", "--no-headers")) ?? "x").isEmpty && ((try? PodTests.podContainers(server)) ?? ["x"]).isEmpty
        }, "left after delete -f: \((try? server.kubectlOK("get", "sts,pods", "--no-headers")) ?? "")")
    }

    @Test func volumeClaimTemplatesMakeClaimsOnceAndKeepThem() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try PodTests.loadBusybox(server)
        try server.kubectlOK("apply", "-f", "-", stdin: Self.claims)
        #expect(PodTests.eventually(30) {
            ((try? server.kubectlOK("get", "pvc", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.phase} {end}")) ?? "")
                == "data-store-0=Bound data-store-1=Bound "
        }, "\((try? server.kubectlOK("get", "pvc")) ?? "")")
        #expect(PodTests.eventually(30) {
            JobTests.quiet(server, "get", "pod", "store-1", "-o", "jsonpath={.spec.volumes[?(@.name==\"data\")].persistentVolumeClaim.claimName}")
                == "data-store-1"
        })
        let uids = try server.kubectlOK("get", "pvc", "-o", "jsonpath={.items[*].metadata.uid}")
        #expect(try server.kubectlOK("get", "pvc", "data-store-0", "-o", "jsonpath={.metadata.labels.app}") == "store")

        // Each Pod writes to its claim.
        try server.kubectlOK("wait", "--for=condition=Ready", "pod/store-0", "pod/store-1", "--timeout=120s")
        let podUIDs = try server.kubectlOK("get", "pod", "store-0", "store-1", "-o", "jsonpath={.items[*].metadata.uid}")
        for ordinal in 0..<2 { try server.kubectlOK("exec", "store-\(ordinal)", "--", "sh", "-c", "echo kept-\(ordinal) > /data/f") }

        // The Pods go and come back, new Pods of the same names with the same claims and what was written in them.
        try server.kubectlOK("delete", "pod", "store-0", "store-1", "--wait=false")
        #expect(PodTests.eventually(60) {
            let now = JobTests.quiet(server, "get", "pod", "store-0", "store-1", "-o", "jsonpath={.items[*].metadata.uid}")
            return now.split(separator: " ").count == 2 && Set(now.split(separator: " ")).isDisjoint(with: podUIDs.split(separator: " "))
        }, "store-0 and store-1 were not made again")
        try server.kubectlOK("wait", "--for=condition=Ready", "pod/store-0", "pod/store-1", "--timeout=120s")
        #expect(try server.kubectlOK("get", "pvc", "-o", "jsonpath={.items[*].metadata.uid}") == uids)
        for ordinal in 0..<2 {
            #expect(try server.kubectlOK("exec", "store-\(ordinal)", "--", "cat", "/data/f") == "kept-\(ordinal)\n", "store-\(ordinal)'s claim")
        }

        // A template's claims may not change; the set is refused and stays as it was.
        let changed = try server.kubectl(["apply", "-f", "-"], stdin: Self.claims.replacingOccurrences(of: "storage: 1Mi", with: "storage: 2Mi"))
        #expect(changed.status != 0 && changed.stderr.contains("updates to statefulset spec for fields other than"), "\(changed.stderr)")

        // The set goes, its claims stay (Retain).
        try server.kubectlOK("delete", "-f", "-", stdin: Self.claims)
        #expect(PodTests.eventually(60) { ((try? server.kubectlOK("get", "sts,pods", "--no-headers")) ?? "x").isEmpty })
        #expect(try server.kubectlOK("get", "pvc", "-o", "jsonpath={.items[*].metadata.uid}") == uids)
        try server.kubectlOK("delete", "pvc", "--all")
    }

    static func daemonSet(image: String, selector: String = "kubernetes.io/os: linux") -> String {
        """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent}
        spec:
          selector: {matchLabels: {app: agent}}
          template:
            metadata: {labels: {app: agent}}
            spec:
              nodeSelector: {\(selector)}
              terminationGracePeriodSeconds: 1
              containers:
              - {name: agent, image: \(image), imagePullPolicy: IfNotPresent, command: [sleep, "3600"], readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}}
        """
    }

    @Test func aDaemonSetRunsOnePodHereAndRollsItsTemplate() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try PodTests.loadBusybox(server)
        #expect(try PodTests.berth(server, ["tag", "busybox:test", "busybox:v2"]).status == 0)
        try server.kubectlOK("apply", "-f", "-", stdin: Self.daemonSet(image: "busybox:test"))
        try server.kubectlOK("rollout", "status", "daemonset/agent", "--timeout=120s")
        let header = try server.kubectlOK("get", "daemonsets").split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.split(separator: " ").filter { !$0.isEmpty } == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE", "SELECTOR", "AGE"], "\(header)")
        let row = try server.kubectlOK("get", "ds", "agent", "--no-headers").split(separator: " ").filter { !$0.isEmpty }
        #expect(row.prefix(7) == ["agent", "1", "1", "1", "1", "1", "kubernetes.io/os=linux"], "\(row)")
        let node = try server.kubectlOK("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}")
        let described = try server.kubectlOK("describe", "daemonset", "agent")
        #expect(described.contains("Desired Number of Nodes Scheduled: 1") && described.contains("SuccessfulCreate"), "\(described)")
        #expect(try server.kubectlOK("get", "pods", "-l", "app=agent", "-o", "jsonpath={.items[*].spec.nodeName}") == node)

        try server.kubectlOK("set", "image", "daemonset/agent", "agent=busybox:v2")
        try server.kubectlOK("rollout", "status", "daemonset/agent", "--timeout=120s")
        #expect(PodTests.eventually(30) {
            ((try? server.kubectlOK("get", "pods", "-l", "app=agent", "-o", "jsonpath={.items[*].spec.containers[0].image}")) ?? "") == "busybox:v2"
        })
        // Back to the first template through its ControllerRevision.
        let history = try server.kubectlOK("rollout", "history", "daemonset/agent")
        #expect(history.split(separator: "\n").filter { $0.first == "1" || $0.first == "2" }.count == 2, "\(history)")
        try server.kubectlOK("rollout", "undo", "daemonset/agent")
        try server.kubectlOK("rollout", "status", "daemonset/agent", "--timeout=120s")
        #expect(PodTests.eventually(30) {
            JobTests.quiet(server, "get", "pods", "-l", "app=agent", "-o", "jsonpath={.items[*].spec.containers[0].image}") == "busybox:test"
        }, "undo did not bring busybox:test back")

        // A selector this node's labels do not match: nothing runs.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.daemonSet(image: "busybox:v2", selector: "disk: none"))
        #expect(PodTests.eventually(60) {
            ((try? server.kubectlOK("get", "pods", "-l", "app=agent", "--no-headers")) ?? "x").isEmpty
                && JobTests.quiet(server, "get", "ds", "agent", "-o", "jsonpath={.status.desiredNumberScheduled}") == "0"
        })
        try server.kubectlOK("delete", "-f", "-", stdin: Self.daemonSet(image: "busybox:v2"))
        #expect(PodTests.eventually(60) {
            ((try? server.kubectlOK("get", "ds,pods", "--no-headers")) ?? "x").isEmpty && ((try? PodTests.podContainers(server)) ?? ["x"]).isEmpty
        })
    }
}
