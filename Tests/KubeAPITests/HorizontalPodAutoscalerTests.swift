import Foundation
import TestSupport
import Testing

/// autoscaling/v2 HorizontalPodAutoscalers: `kubectl autoscale` and a manifest with a behavior,
/// the columns of `kubectl get hpa`, and a Deployment whose Pods burn CPU scaled up while they burn
/// and down after they stop (the manifest shortens the scale-down stabilisation window, as a user may).
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct HorizontalPodAutoscalerTests {
    /// Pods that burn a CPU (capped at 100m by their limit, 5 times their 20m request) until `end`
    /// (seconds since the epoch), then idle.
    static func deployment(end: Int) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: burn}
        spec:
          replicas: 1
          selector: {matchLabels: {app: burn}}
          template:
            metadata: {labels: {app: burn}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: burn
                image: busybox:test
                imagePullPolicy: IfNotPresent
                env: [{name: END, value: "\(end)"}]
                command: [sh, -c, 'while [ "$(date +%s)" -lt "$END" ]; do :; done; exec sleep 3600']
                resources: {requests: {cpu: 20m}, limits: {cpu: 100m}}
        """
    }

    static let autoscaler = """
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: burn}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burn}
          minReplicas: 1
          maxReplicas: 3
          metrics:
          - type: Resource
            resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
          behavior:
            scaleDown: {stabilizationWindowSeconds: 10}
        """

    static func replicas(_ server: KubeServer) throws -> Int {
        Int(try server.kubectlOK("get", "deployment", "burn", "-o", "jsonpath={.spec.replicas}")) ?? -1
    }

    /// The replicas and `kubectl describe hpa`, for a failure's message.
    static func state(_ server: KubeServer) -> String {
        "replicas: \((try? replicas(server)) ?? -1)\n" + ((try? server.kubectl(["describe", "hpa", "burn"]).stdout) ?? "")
    }

    @Test func aDeploymentThatBurnsCPUScalesUpThenDownAfterTheLoadStops() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try PodTests.loadBusybox(server)
        let end = Int(Date().timeIntervalSince1970) + 50
        try server.kubectlOK("apply", "-f", "-", stdin: Self.deployment(end: end))
        try server.kubectlOK("apply", "-f", "-", stdin: Self.autoscaler)

        // Defaults: the behavior given is completed with Kubernetes' rules.
        let hpa = try server.object(try server.kubectlOK("get", "hpa", "burn", "-o", "json"))
        #expect(hpa.at("spec.behavior.scaleDown.stabilizationWindowSeconds") as? Int == 10)
        #expect(hpa.string("spec.behavior.scaleDown.selectPolicy") == "Max")
        #expect(hpa.at("spec.behavior.scaleUp.stabilizationWindowSeconds") as? Int == 0)
        #expect((hpa.at("spec.behavior.scaleUp.policies") as? [[String: Any]])?.count == 2)

        // Under load: up to the maximum, with the reason in an Event and the status.
        let scaledUp = try PodTests.eventually(120) { try Self.replicas(server) == 3 }
        #expect(scaledUp, "\(Self.state(server))\n\(server.serverLog.suffix(2000))")
        let status = try server.object(try server.kubectlOK("get", "hpa", "burn", "-o", "json"))
        let conditions = (status.at("status.conditions") as? [[String: Any]] ?? []).reduce(into: [String: String]()) {
            $0[$1["type"] as? String ?? ""] = "\($1["status"] as? String ?? "") \($1["reason"] as? String ?? "")"
        }
        #expect(conditions["ScalingActive"] == "True ValidMetricFound", "\(conditions)")
        #expect(conditions["AbleToScale"]?.hasPrefix("True") == true, "\(conditions)")
        let metrics = status.at("status.currentMetrics") as? [[String: Any]] ?? []
        #expect(((metrics.first?["resource"] as? [String: Any])?["current"] as? [String: Any])?["averageUtilization"] != nil, "\(metrics)")
        let events = try server.kubectlOK("get", "events", "--field-selector", "reason=SuccessfulRescale", "-o", "jsonpath={.items[*].message}")
        #expect(events.contains("reason: cpu resource utilization (percentage of request) above target"), "\(events)")

        // `kubectl get hpa`, as 1.33 prints it.
        let table = try server.kubectlOK("get", "hpa")
        let lines = table.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.first == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"], "\(table)")
        #expect(lines.count == 2 && lines[1].prefix(3) == ["burn", "Deployment/burn", "cpu:"], "\(table)")
        #expect(lines.count == 2 && lines[1][3].hasSuffix("%/50%") && lines[1][4...5] == ["1", "3"], "\(table)")

        // After the load stops: back down to the minimum once the 10 s window has passed.
        let scaledDown = try PodTests.eventually(150) { try Self.replicas(server) == 1 }
        #expect(scaledDown, "\(Self.state(server))")
        let down = try server.kubectlOK("get", "events", "--field-selector", "reason=SuccessfulRescale", "-o", "jsonpath={.items[*].message}")
        #expect(down.contains("New size: 1; reason: All metrics below target"), "\(down)")
        try server.kubectlOK("delete", "hpa", "burn")
        try server.kubectlOK("delete", "deployment", "burn")
    }

    /// `kubectl autoscale` makes an HPA of the target's Deployment with the defaults filled in;
    /// invalid ones are refused with the field named.
    @Test func kubectlAutoscaleAndValidation() throws {
        let server = try KubeServer()
        defer { server.stop() }
        try server.kubectlOK("create", "deployment", "web", "--image=busybox:test", "--replicas=0")
        let out = try server.kubectlOK("autoscale", "deployment", "web", "--cpu-percent=50", "--min=1", "--max=4")
        #expect(out.contains("horizontalpodautoscaler.autoscaling/web autoscaled"), "\(out)")
        let hpa = try server.object(try server.kubectlOK("get", "hpa", "web", "-o", "json"))
        #expect(hpa.string("spec.scaleTargetRef.kind") == "Deployment")
        #expect(hpa.at("spec.maxReplicas") as? Int == 4)
        #expect(hpa.at("spec.minReplicas") as? Int == 1)
        let metric = (hpa.at("spec.metrics") as? [[String: Any]])?.first
        #expect(((metric?["resource"] as? [String: Any])?["target"] as? [String: Any])?["averageUtilization"] as? Int == 50, "\(hpa)")
        // The autoscaling/v1 view of the same object, and one made through it by kubectl 1.27.
        let v1 = try server.object(try server.kubectlOK("get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "json"))
        #expect(v1.string("apiVersion") == "autoscaling/v1")
        #expect(v1.at("spec.targetCPUUtilizationPercentage") as? Int == 50, "\(v1)")
        try server.kubectlOK("create", "deployment", "old", "--image=busybox:test", "--replicas=0", version: "1.27")
        try server.kubectlOK("autoscale", "deployment", "old", "--cpu-percent=70", "--max=2", version: "1.27")
        let old = try server.object(try server.kubectlOK("get", "hpa", "old", "-o", "json"))
        #expect(old.string("apiVersion") == "autoscaling/v2")
        let oldMetric = (old.at("spec.metrics") as? [[String: Any]])?.first
        #expect(((oldMetric?["resource"] as? [String: Any])?["target"] as? [String: Any])?["averageUtilization"] as? Int == 70, "\(old)")
        #expect(old.at("spec.minReplicas") as? Int == 1)
        // A target with no replicas: scaling is disabled, as Kubernetes says.
        let disabled = try PodTests.eventually(30) {
            try server.kubectlOK("get", "hpa", "web", "-o", "jsonpath={.status.conditions[?(@.type==\"ScalingActive\")].reason}") == "ScalingDisabled"
        }
        #expect(disabled)
        let described = try server.kubectlOK("describe", "hpa", "web")
        #expect(described.contains("Deployment/web") && described.contains("ScalingDisabled"), "\(described)")
        let invalid = try server.kubectl(["apply", "-f", "-"], stdin: """
            apiVersion: autoscaling/v2
            kind: HorizontalPodAutoscaler
            metadata: {name: bad}
            spec: {scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 3, maxReplicas: 2}
            """)
        #expect(invalid.status != 0)
        #expect(invalid.stderr.contains("spec.maxReplicas"), "\(invalid.stderr)")
    }
}
