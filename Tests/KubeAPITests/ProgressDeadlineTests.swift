import Foundation
import TestSupport
import Testing

/// A Deployment whose Pods never become ready: after progressDeadlineSeconds its Progressing
/// condition turns False (ProgressDeadlineExceeded) and `kubectl rollout status` fails saying so.
@Suite(.serialized, .enabled(if: KubeEnv.ready && BusyboxImage.failure == nil))
struct ProgressDeadlineTests {
    static let manifest = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: stuck}
        spec:
          replicas: 1
          progressDeadlineSeconds: 3
          selector: {matchLabels: {app: stuck}}
          template:
            metadata: {labels: {app: stuck}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - {name: s, image: busybox:test, imagePullPolicy: IfNotPresent, command: [sleep, "3600"], readinessProbe: {exec: {command: ["false"]}, periodSeconds: 1}}
        """

    @Test func aStuckRolloutExceedsItsProgressDeadline() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try PodTests.loadBusybox(server)
        try server.kubectlOK("apply", "-f", "-", stdin: Self.manifest)
        let started = Date()
        let status = try server.kubectl(["rollout", "status", "deployment/stuck", "--timeout=60s"])
        #expect(status.status != 0 && status.stderr.contains("exceeded its progress deadline"), "\(status.stderr)")
        #expect(Date().timeIntervalSince(started) < 30)
        let reason = try server.kubectlOK("get", "deployment", "stuck", "-o", "jsonpath={.status.conditions[?(@.type==\"Progressing\")].reason}")
        #expect(reason == "ProgressDeadlineExceeded")
        try server.kubectlOK("delete", "-f", "-", stdin: Self.manifest)

        // kubectl create deployment (a protobuf body) makes what it says.
        try server.kubectlOK("create", "deployment", "made", "--image=busybox:test", "--replicas=2", "--", "sleep", "3600")
        #expect(try server.kubectlOK("get", "deployment", "made", "-o", "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].command}")
            == #"2 ["sleep","3600"]"#)
        try server.kubectlOK("rollout", "status", "deployment/made", "--timeout=60s")
        try server.kubectlOK("delete", "deployment", "made")
        #expect(PodTests.eventually(60) {
            ((try? server.kubectlOK("get", "deploy,rs,pods", "--no-headers")) ?? "x").isEmpty && ((try? PodTests.podContainers(server)) ?? ["x"]).isEmpty
        })
    }
}
