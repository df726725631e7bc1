import ContainerSpec
import Foundation
import GoCompat
import Kube
@testable import KubeControllers
import KubeModel
import Synchronization
import Testing

/// The autoscaler's arithmetic over a real store, one pass at a time with the clock given: the 10 %
/// tolerance, the replica formula, the scale-up rate policies, the 300 s scale-down stabilisation
/// window, minReplicas, and what it writes (scale, status, conditions, events). The CPU readings are
/// set by the test (the metrics endpoint's own are HorizontalPodAutoscalerTests' business).
struct HorizontalPodAutoscalerControllerTests {
    /// Each Pod's CPU use in cores, as the test sets it.
    final class Readings: Sendable {
        let cores = Mutex<[String: Double]>([:])
    }

    final class Cluster: Sendable {
        let root = NSTemporaryDirectory() + "berth-hpa-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let store: ObjectStore
        let usage = Readings()
        let controller: HorizontalPodAutoscalerController

        init() throws {
            let store = try ObjectStore.open(root: root)
            self.store = store
            let usage = self.usage
            controller = HorizontalPodAutoscalerController(store: store, writer: .direct(store), metrics: { _ throws(EngineError) -> [JSONValue] in
                usage.cores.withLock { $0 }.sorted { $0.key < $1.key }.map { name, cores -> JSONValue in
                    .ordered([("metadata", .ordered([("name", .string(name)), ("namespace", .string("default"))])),
                              ("containers", .array([.ordered([("name", .string("web")), ("usage", .ordered([("cpu", .string("\(Int(cores * 1e9))n"))]))])]))])
                }
            }, log: { _ in })
            try json(Workloads.deployments, #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}}}}"#)
            for name in ["web-a", "web-b"] {
                try json(Workloads.pods, #"""
                    {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"default","labels":{"app":"web"}},
                     "spec":{"containers":[{"name":"web","image":"i","resources":{"requests":{"cpu":"100m"}}}]},
                     "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}
                    """#)
            }
            try json(HorizontalPodAutoscalerController.hpas, #"""
                {"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"web","namespace":"default"},
                 "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":1,"maxReplicas":10,
                         "metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":50}}}]}}
                """#)
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        func json(_ resource: Resource, _ text: String) throws { _ = try store.create(resource, try JSONParser.parse(Array(text.utf8))) }

        func pass(at now: Double, cores: Double) throws {
            usage.cores.withLock { $0 = ["web-a": cores, "web-b": cores] }
            let hpa = try store.get(ObjectKey(HorizontalPodAutoscalerController.hpas, namespace: "default", name: "web")).value()
            try controller.sync(hpa, now: now)
        }

        var replicas: Int? {
            (try? store.get(ObjectKey(Workloads.deployments, namespace: "default", name: "web")).value())?[member: "spec"]?[member: "replicas"]?.intValue
        }

        func condition(_ type: String) throws -> String {
            let hpa = try store.get(ObjectKey(HorizontalPodAutoscalerController.hpas, namespace: "default", name: "web")).value()
            let found = (hpa[member: "status"]?[member: "conditions"]?.arrayValue ?? []).first { $0[member: "type"]?.stringValue == type }
            return "\(found?[member: "status"]?.stringValue ?? "") \(found?[member: "reason"]?.stringValue ?? "")"
        }

        func events() throws -> [String] {
            try store.list(Resource("events")).items.map { try $0.value()[member: "message"]?.stringValue ?? "" }.sorted()
        }
    }

    @Test func toleranceFormulaRatesAndTheScaleDownWindow() throws {
        let cluster = try Cluster()
        // 52 % of the request against a 50 % target: within the 10 % tolerance, nothing changes.
        try cluster.pass(at: 1000, cores: 0.052)
        #expect(cluster.replicas == 2)
        #expect(try cluster.condition("AbleToScale") == "True ReadyForNewScale")
        #expect(try cluster.condition("ScalingActive") == "True ValidMetricFound")
        // 150 %: 2 × 150/50 = 6 replicas, what the default scale-up policies allow at most (max(2 + 4 Pods, 2 × 200 %)).
        try cluster.pass(at: 1015, cores: 0.15)
        #expect(cluster.replicas == 6)
        #expect(try cluster.condition("ScalingLimited") == "False DesiredWithinRange")
        #expect(try cluster.condition("AbleToScale") == "True SucceededRescale")
        #expect(try cluster.events() == ["New size: 6; reason: cpu resource utilization (percentage of request) above target"])
        // 1000 % asks for 40 (and the policies would allow 12 a full period after the last scale): the maximum is 10.
        try cluster.pass(at: 1030, cores: 1)
        #expect(cluster.replicas == 10)
        #expect(try cluster.condition("ScalingLimited") == "True TooManyReplicas")
        // Idle: the recommendations of the last 300 s still ask for 10, so it stays.
        try cluster.pass(at: 1045, cores: 0.001)
        #expect(cluster.replicas == 10)
        #expect(try cluster.condition("AbleToScale") == "True ScaleDownStabilized")
        // Past the window: down to minReplicas (the formula says ceil(0.02 × 2) = 1).
        try cluster.pass(at: 1400, cores: 0.001)
        #expect(cluster.replicas == 1)
        #expect(try cluster.events().contains("New size: 1; reason: All metrics below target"))
        let hpa = try cluster.store.get(ObjectKey(HorizontalPodAutoscalerController.hpas, namespace: "default", name: "web")).value()
        #expect(hpa[member: "status"]?[member: "desiredReplicas"]?.intValue == 1)
        #expect(hpa[member: "status"]?[member: "currentMetrics"]?.arrayValue?.first?[member: "resource"]?[member: "current"]?[member: "averageUtilization"]?.intValue == 1)
    }

    @Test func aPodWithoutACPURequestStopsScaling() throws {
        let cluster = try Cluster()
        try cluster.json(Workloads.pods, #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-c","namespace":"default","labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"i"}]},"status":{"phase":"Running"}}"#)
        try cluster.pass(at: 1000, cores: 1)
        #expect(cluster.replicas == 2)
        #expect(try cluster.condition("ScalingActive") == "False FailedGetResourceMetric")
    }
}
