import Foundation
import TestSupport
import Testing

/// httpGet lifecycle hooks: postStart once the container has started, preStop before it is
/// stopped, both as GETs to the pod (busybox httpd in a sidecar logs what it is asked); a hook
/// that gets no answer is a FailedPostStartHook (the container is killed) or FailedPreStopHook Event.
@Suite(.serialized, .enabled(if: KubeEnv.ready && BusyboxImage.failure == nil && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")))
struct PodHookTests {
    @Test func httpGetHooksReachThePodAndFailuresAreEvents() throws {
        let server = try KubeServer()
        defer { PodTests.cleanUp(server); server.stop() }
        try PodTests.loadBusybox(server)
        let out = server.base + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: hooked}
            spec:
              terminationGracePeriodSeconds: 10
              volumes: [{name: out, hostPath: {path: \(out)}}]
              initContainers:
              - name: web
                image: busybox:test
                imagePullPolicy: IfNotPresent
                restartPolicy: Always
                command: [sh, -c, "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -vv -p 8080 -h /www 2>>/out/access"]
                ports: [{name: http, containerPort: 8080}]
                startupProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
                volumeMounts: [{name: out, mountPath: /out}]
              containers:
              - name: app
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sleep, "3600"]
                ports: [{name: web, containerPort: 8080}]
                lifecycle:
                  postStart: {httpGet: {path: /post-start, port: web}}
                  preStop: {httpGet: {path: /pre-stop, port: 8080, httpHeaders: [{name: X-Hook, value: pre}]}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: unanswered}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: app
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sleep, "3600"]
                lifecycle:
                  postStart: {httpGet: {path: /nobody, port: 9}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: refusing}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: app
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sleep, "3600"]
                lifecycle:
                  postStart: {exec: {command: [sh, -c, "echo nope; exit 7"]}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: sleeper}
            spec:
              terminationGracePeriodSeconds: 20
              containers:
              - name: app
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
                lifecycle:
                  preStop: {sleep: {seconds: 3}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: stopping}
            spec:
              terminationGracePeriodSeconds: 2
              containers:
              - name: app
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sleep, "3600"]
                lifecycle:
                  preStop: {httpGet: {path: /nobody, port: 9}}
            """
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        let waited = try server.kubectl(["wait", "--for=condition=Ready", "pod/hooked", "pod/stopping", "pod/sleeper", "--timeout=90s"])
        try #require(waited.status == 0, "kubectl wait: \(waited.stderr)\n\(server.serverLog)")
        func access() -> String { (try? String(contentsOfFile: out + "/access", encoding: .utf8)) ?? "" }
        // postStart: a GET to the pod's address on the named port; a 404 is an answer, so it succeeded.
        #expect(PodTests.eventually(10) { access().contains("url:/post-start") }, "\(access())")
        #expect(try server.kubectlOK("get", "pod", "hooked", "-o", "jsonpath={.status.containerStatuses[0].restartCount}") == "0")

        // No answer: FailedPostStartHook, the container is killed and restarted.
        let uid = try server.kubectlOK("get", "pod", "unanswered", "-o", "jsonpath={.metadata.uid}")
        func events(_ reason: String) -> String {
            (try? server.kubectlOK("get", "events", "--field-selector", "reason=\(reason)", "-o", "jsonpath={.items[*].message}")) ?? ""
        }
        #expect(PodTests.eventually(30) { !events("FailedPostStartHook").isEmpty })
        #expect(events("FailedPostStartHook").contains(
            "HTTP lifecycle hook (/nobody) for Container \"app\" in Pod \"unanswered_default(\(uid))\" failed - error: Get \"http://"),
            "\(events("FailedPostStartHook"))")
        #expect(PodTests.eventually(30) {
            Int((try? server.kubectlOK("get", "pod", "unanswered", "-o", "jsonpath={.status.containerStatuses[0].restartCount}")) ?? "") ?? 0 >= 1
        })
        let type = try server.kubectlOK("get", "events", "--field-selector", "reason=FailedPostStartHook", "-o", "jsonpath={.items[0].type}")
        #expect(type == "Warning")
        // An exec hook that fails says so in the same Event, with the command's output.
        let refusingUID = try server.kubectlOK("get", "pod", "refusing", "-o", "jsonpath={.metadata.uid}")
        #expect(PodTests.eventually(30) {
            events("FailedPostStartHook").contains("Exec lifecycle hook ([sh -c echo nope; exit 7]) for Container \"app\" in Pod \"refusing_default(\(refusingUID))\" failed - error: command 'sh -c echo nope; exit 7' exited with 7: nope\n, message: \"nope\\n\"")
        }, "\(events("FailedPostStartHook"))")

        // preStop: sent before the TERM, while the sidecar still serves.
        try server.kubectlOK("delete", "pod", "hooked")
        #expect(access().contains("url:/pre-stop"), "\(access())")
        try server.kubectlOK("delete", "pod", "stopping")
        #expect(PodTests.eventually(10) { events("FailedPreStopHook").contains("HTTP lifecycle hook (/nobody) for Container \"app\" in Pod \"stopping_default(") })
        try server.kubectlOK("delete", "pod", "unanswered", "refusing")
        // preStop sleep (Kubernetes 1.30): the TERM comes after it, well inside the grace period.
        let started = Date()
        try server.kubectlOK("delete", "pod", "sleeper")
        let took = Date().timeIntervalSince(started)
        #expect(took >= 3 && took < 15, "\(took)")
    }
}
