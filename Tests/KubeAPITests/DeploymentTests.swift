import Foundation
import TestSupport
import Testing

/// A Deployment behind a Service, driven by the real kubectl and served by the real kubelet,
/// controllers and proxy in a server of its own network namespace: every replica answers through
/// the cluster IP, scaling, a rolling update with no failed request, rollback, a Pod deleted by
/// hand replaced, and everything gone after `kubectl delete -f`.
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct DeploymentTests {
    static func manifest(image: String) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 3
          selector: {matchLabels: {app: web}}
          strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
          template:
            metadata: {labels: {app: web}}
            spec:
              terminationGracePeriodSeconds: 5
              containers:
              - name: web
                image: \(image)
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
                readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
                # As on a cluster: stay up while the endpoint leaves the rotation.
                lifecycle: {preStop: {exec: {command: [sleep, "2"]}}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: 8080}]
        """
    }

    /// The distinct answers (pod hostnames) of `count` requests to the cluster IP, and the failures.
    static func spread(_ server: KubeServer, _ ip: String, _ count: Int) throws -> (names: Set<String>, failures: Int) {
        var names: Set<String> = []
        var failures = 0
        for _ in 0..<count {
            if let answer = try server.get("http://\(ip)/") { names.insert(answer.trimmingCharacters(in: .whitespacesAndNewlines)) } else { failures += 1 }
        }
        return (names, failures)
    }

    static func images(_ server: KubeServer) throws -> [String] {
        let text = try server.kubectlOK("get", "pods", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.spec.containers[0].image}{\"\\n\"}{end}")
        return text.split(separator: "\n").map(String.init).sorted()
    }

    /// kill -9 of `berth serve` in the middle of a rolling update: once it is back, the controllers go
    /// on from what the store says, and the rollout ends with the replicas asked for, all of the new
    /// template, the old ReplicaSet at zero (none lost, none doubled).
    @Test func aRolloutGoesOnAfterTheServerIsKilled() throws {
        let server = try KubeServer()
        defer { PodTests.cleanUp(server); server.stop() }
        try PodTests.loadBusybox(server)
        let tagged = try PodTests.berth(server, ["tag", "busybox:test", "busybox:v2"])
        try #require(tagged.status == 0, "berth tag: \(tagged.stderr)")
        let deployment = String(Self.manifest(image: "busybox:test").split(separator: "---")[0])
        try server.kubectlOK("apply", "-f", "-", stdin: deployment)
        try server.kubectlOK("rollout", "status", "deployment/web", "--timeout=120s")
        try server.kubectlOK("set", "image", "deployment/web", "web=busybox:v2")
        #expect(PodTests.eventually(60) {
            (Int(JobTests.quiet(server, "get", "deployment", "web", "-o", "jsonpath={.status.updatedReplicas}")) ?? 0) >= 1
        }, "the rollout did not begin")
        kill(server.pid, SIGKILL)
        server.terminate()
        try server.start()
        try server.kubectlOK("rollout", "status", "deployment/web", "--timeout=120s")
        #expect(PodTests.eventually(60) { (try? Self.images(server)) == ["busybox:v2", "busybox:v2", "busybox:v2"] },
                "pods after the rollout: \((try? Self.images(server)) ?? [])")
        let sets = try server.kubectlOK("get", "rs", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.spec.replicas} {end}")
        #expect(sets.split(separator: " ").sorted() == ["0", "3"], "ReplicaSets' replicas: \(sets)")
        try server.kubectlOK("delete", "-f", "-", stdin: deployment)
    }

    @Test func aDeploymentBehindAServiceScalesRollsBackAndHeals() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try PodTests.loadBusybox(server)
        let tagged = try PodTests.berth(server, ["tag", "busybox:test", "busybox:v2"])
        try #require(tagged.status == 0, "berth tag: \(tagged.stderr)")
        try server.kubectlOK("apply", "-f", "-", stdin: Self.manifest(image: "busybox:test"))
        try server.kubectlOK("rollout", "status", "deployment/web", "--timeout=120s")
        let table = try server.kubectlOK("get", "deployment", "web", "--no-headers")
        #expect(table.split(separator: " ").prefix(4) == ["web", "3/3", "3", "3"], "\(table)")
        #expect(try server.kubectlOK("get", "rs", "--no-headers").split(separator: "\n").count == 1)

        // Every replica answers through the Service.
        let ip = try server.kubectlOK("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")
        #expect(PodTests.eventually(30) { ((try? Self.spread(server, ip, 30))?.names.count ?? 0) == 3 }, "not every replica answers through \(ip)")

        // A Pod that turns unready (its probe's page gone) leaves the rotation, and comes back when ready again.
        let names = try server.kubectlOK("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}").split(separator: " ").map(String.init)
        try #require(names.count == 3, "\(names)")
        try server.kubectlOK("exec", names[0], "--", "mv", "/www/index.html", "/www/away")
        #expect(PodTests.eventually(30) {
            JobTests.quiet(server, "get", "pod", names[0], "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}") == "False"
                && (try? Self.spread(server, ip, 20))?.names == Set(names.dropFirst())
        }, "the unready \(names[0]) is still in the rotation: \((try? Self.spread(server, ip, 20))?.names ?? [])")
        try server.kubectlOK("exec", names[0], "--", "mv", "/www/away", "/www/index.html")
        #expect(PodTests.eventually(30) { ((try? Self.spread(server, ip, 30))?.names.count ?? 0) == 3 }, "\(names[0]) did not come back")

        // A container killed with kill -9 is started again by the kubelet; its Pod comes back into the rotation.
        let container = try #require(try PodTests.podContainers(server).first { $0.hasPrefix("k8s_web_\(names[1])_") })
        let pid = pid_t(try PodTests.berth(server, ["inspect", "-f", "{{.State.Pid}}", container]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        try #require(pid > 0, "no pid for \(container)")
        kill(pid, SIGKILL)
        #expect(PodTests.eventually(60) {
            JobTests.quiet(server, "get", "pod", names[1], "-o", "jsonpath={.status.containerStatuses[0].restartCount}") == "1"
                && ((try? Self.spread(server, ip, 30))?.names.count ?? 0) == 3
        }, "\(names[1]) was not running again behind \(ip) after kill -9")

        // Scale 3 → 5 → 1 → 3.
        try server.kubectlOK("scale", "deployment/web", "--replicas=5")
        try server.kubectlOK("rollout", "status", "deployment/web", "--timeout=120s")
        #expect(PodTests.eventually(30) { ((try? Self.spread(server, ip, 60))?.names.count ?? 0) == 5 }, "not 5 replicas behind \(ip)")
        try server.kubectlOK("scale", "deployment/web", "--replicas=1")
        try server.kubectlOK("rollout", "status", "deployment/web", "--timeout=120s")
        #expect(PodTests.eventually(30) { (try? Self.images(server).count) == 1 })
        #expect(PodTests.eventually(30) { ((try? Self.spread(server, ip, 20))?.names.count ?? 0) == 1 }, "not 1 replica behind \(ip)")
        try server.kubectlOK("scale", "deployment/web", "--replicas=3")
        try server.kubectlOK("rollout", "status", "deployment/web", "--timeout=120s")
        #expect(PodTests.eventually(30) { (try? Self.images(server).count) == 3 })

        // A rolling update with maxUnavailable 0: a client loop sees no failed request.
        try server.kubectlOK("set", "image", "deployment/web", "web=busybox:v2")
        let rollout = try TestSupport.spawn(server.inNetwork + [KubeEnv.kubectl("1.33"), "--kubeconfig", server.kubeconfig, "rollout", "status",
                                                                  "deployment/web", "--timeout=120s"], stdout: server.base + "/rollout.log")
        var requests = 0, failures = 0
        var status: Int32 = 0
        while waitpid(rollout, &status, WNOHANG) == 0 {
            if try server.get("http://\(ip)/") == nil { failures += 1 }
            requests += 1
        }
        #expect(status == 0, "rollout status: \((try? String(contentsOfFile: server.base + "/rollout.log", encoding: .utf8)) ?? "")")
        #expect(failures == 0, "\(failures) of \(requests) requests failed during the rollout")
        #expect(PodTests.eventually(30) { (try? Self.images(server)) == ["busybox:v2", "busybox:v2", "busybox:v2"] })
        #expect(try server.kubectlOK("get", "deployment", "web", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}") == "2")

        // Rollback to the first template.
        try server.kubectlOK("rollout", "undo", "deployment/web")
        try server.kubectlOK("rollout", "status", "deployment/web", "--timeout=120s")
        #expect(PodTests.eventually(30) { (try? Self.images(server)) == ["busybox:test", "busybox:test", "busybox:test"] })
        #expect(try server.kubectlOK("get", "rs", "--no-headers").split(separator: "\n").count == 2)

        // A Pod deleted by hand is replaced.
        let pods = try server.kubectlOK("get", "pods", "-l", "app=web", "-o", "name").split(separator: "\n").map(String.init)
        let victim = try #require(pods.first)
        try server.kubectlOK("delete", victim, "--wait=false")
        #expect(PodTests.eventually(60) {
            let now = ((try? server.kubectlOK("get", "pods", "-l", "app=web", "--no-headers")) ?? "").split(separator: "\n")
            return now.count == 3 && now.allSatisfy { $0.contains("1/1") && $0.contains("Running") } && !now.contains { victim.hasSuffix("/" + ($0.split(separator: " ").first ?? "")) }
        }, "the deleted Pod was not replaced")

        // Everything goes with the manifest.
        try server.kubectlOK("delete", "-f", "-", stdin: Self.manifest(image: "busybox:test"))
        #expect(PodTests.eventually(60) {
            ((try? server.kubectlOK("get", "deploy,rs,pods", "--no-headers")) ?? "x").isEmpty
                && ((try? PodTests.podContainers(server)) ?? ["x"]).isEmpty
        }, "left after delete -f: \((try? server.kubectlOK("get", "deploy,rs,pods", "--no-headers")) ?? "")")
    }

    /// What the apiserver refuses: a selector that does not match the template, a negative scale,
    /// a changed selector; nothing is made or changed by the refusal.
    @Test func badDeploymentsAreRefused() throws {
        let server = try KubeServer()
        defer { server.stop() }
        let mismatched = Self.manifest(image: "busybox:test").components(separatedBy: "---")[0]
            .replacingOccurrences(of: "selector: {matchLabels: {app: web}}", with: "selector: {matchLabels: {app: other}}")
        let refused = try server.kubectl(["apply", "-f", "-"], stdin: mismatched)
        #expect(refused.status != 0 && refused.stderr.contains("`selector` does not match template `labels`"), "\(refused.stderr)")
        #expect(try server.kubectl(["get", "deployment", "web"]).status != 0, "a refused Deployment was stored")
        try server.kubectlOK("apply", "-f", "-", stdin: Self.manifest(image: "busybox:test").components(separatedBy: "---")[0])
        let negative = try server.kubectl(["scale", "deployment/web", "--replicas=-1"])
        #expect(negative.status != 0, "scale to -1 was taken")
        let moved = try server.kubectl(["patch", "deployment", "web", "-p", #"{"spec":{"selector":{"matchLabels":{"app":"web","x":"y"}},"template":{"metadata":{"labels":{"x":"y"}}}}}"#])
        #expect(moved.status != 0 && moved.stderr.contains("field is immutable"), "\(moved.stderr)")
        #expect(try server.kubectlOK("get", "deployment", "web", "-o", "jsonpath={.spec.replicas} {.spec.selector.matchLabels}") == "3 {\"app\":\"web\"}")
    }
}
