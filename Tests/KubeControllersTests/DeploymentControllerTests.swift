import ContainerSpec
import Foundation
import GoCompat
import Kube
@testable import KubeControllers
import KubeModel
import Testing

/// Deployments and ReplicaSets over a real store, one controller pass at a time. The kubelet's part
/// is played by `runPods` (every new Pod gets an address and turns ready at once; KubeletTests run the
/// real one), so every intermediate state of a rollout can be checked against maxSurge and
/// maxUnavailable.
struct DeploymentControllerTests {
    final class Cluster {
        let root = NSTemporaryDirectory() + "berth-deploy-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let store: ObjectStore
        let deployments: DeploymentController
        let replicaSets: ReplicaSetController
        var nextIP = 2

        init() throws {
            store = try ObjectStore.open(root: root)
            deployments = DeploymentController(store: store, writer: .direct(store))
            replicaSets = ReplicaSetController(store: store, writer: .direct(store))
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        func pods() throws -> [JSONValue] { try store.list(Workloads.pods).items.map { try $0.value() } }
        func sets() throws -> [JSONValue] { try store.list(Workloads.replicaSets).items.map { try $0.value() } }
        func deployment(_ name: String = "web") throws -> JSONValue {
            try store.get(ObjectKey(Workloads.deployments, namespace: "default", name: name)).value()
        }

        /// Pods without an address get one and are Running and Ready (the kubelet's part).
        func runPods() throws {
            for pod in try pods() where pod[member: "status"]?[member: "podIP"] == nil {
                let status = try JSONParser.parse(Array(#"""
                    {"phase":"Running","podIP":"10.42.0.\#(nextIP)","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"\#(SystemFields.timestamp())"}]}
                    """#.utf8))
                nextIP += 1
                try store.guaranteedUpdate(ObjectKey(Workloads.pods, namespace: "default", name: pod.metadataString("name")!)) { old throws(EngineError) in
                    old.setting("status", to: status).setting("spec", to: (old[member: "spec"] ?? .ordered([])).setting("nodeName", to: .string("node")))
                }
            }
        }

        /// Passes until nothing changes; `check` sees the Pods after every step.
        func converge(maxRounds: Int = 60, check: ([JSONValue]) throws -> Void = { _ in }) throws {
            for _ in 0..<maxRounds {
                let before = try store.currentRevision()
                for step in [{ try self.deployments.sync() }, { try self.replicaSets.sync() }, { try self.runPods() }] as [() throws -> Void] {
                    try step()
                    try check(try pods())
                }
                if try store.currentRevision() == before { return }
            }
            Issue.record("no steady state after \(maxRounds) rounds")
        }

        func apply(_ json: String) throws {
            let object = try JSONParser.parse(Array(json.utf8))
            let key = ObjectKey(Workloads.deployments, namespace: "default", name: object.metadataString("name")!)
            if (try? store.get(key)) == nil {
                try store.create(Workloads.deployments, object)
                return
            }
            let spec = object[member: "spec"]
            try store.guaranteedUpdate(key) { old in old.setting("spec", to: spec) }
        }
    }

    static func deployment(image: String, replicas: Int = 3, strategy: String = #"{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}"#,
                           history: Int = 10) -> String {
        #"""
        {"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","namespace":"default"},
         "spec":{"replicas":\#(replicas),"revisionHistoryLimit":\#(history),"selector":{"matchLabels":{"app":"web"}},"strategy":\#(strategy),
                 "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"\#(image)"}]}}}}
        """#
    }

    static func images(_ pods: [JSONValue]) -> [String] {
        pods.filter(Workloads.isActive).compactMap { $0[member: "spec"]?[member: "containers"]?.arrayValue?.first?[member: "image"]?.stringValue }.sorted()
    }

    @Test func aRollingUpdateStaysWithinSurgeAndUnavailableAndRollsBack() throws {
        let cluster = try Cluster()
        try cluster.apply(Self.deployment(image: "web:1"))
        try cluster.converge()
        #expect(Self.images(try cluster.pods()) == ["web:1", "web:1", "web:1"])
        var deployment = try cluster.deployment()
        #expect(deployment[member: "status"]?[member: "availableReplicas"]?.intValue == 3)
        #expect(deployment[member: "status"]?[member: "updatedReplicas"]?.intValue == 3)
        #expect(deployment[member: "metadata"]?[member: "annotations"]?[member: "deployment.kubernetes.io/revision"]?.stringValue == "1")
        let progressing = deployment[member: "status"]?[member: "conditions"]?.arrayValue?.first { $0[member: "type"]?.stringValue == "Progressing" }
        #expect(progressing?[member: "reason"]?.stringValue == "NewReplicaSetAvailable")
        let pods = try cluster.pods()
        #expect(pods.allSatisfy { $0[member: "metadata"]?[member: "labels"]?[member: "pod-template-hash"] != nil })
        let firstSet = try #require(try cluster.sets().first?.metadataString("name"))
        #expect(pods.allSatisfy { $0.metadataString("name")!.hasPrefix(firstSet + "-") })

        // New image: never fewer than 3 ready (maxUnavailable 0), never more than 4 (maxSurge 1).
        try cluster.apply(Self.deployment(image: "web:2"))
        try cluster.converge { pods in
            let active = pods.filter(Workloads.isActive)
            #expect(active.count <= 4, "more than replicas + maxSurge: \(active.count)")
            #expect(active.filter(Workloads.isReady).count >= 3, "fewer than 3 ready during the rollout")
        }
        #expect(Self.images(try cluster.pods()) == ["web:2", "web:2", "web:2"])
        #expect(try cluster.sets().count == 2)
        #expect(try cluster.deployment()[member: "metadata"]?[member: "annotations"]?[member: "deployment.kubernetes.io/revision"]?.stringValue == "2")

        // Back to web:1 (what `kubectl rollout undo` sends): the first ReplicaSet again, revision 3.
        try cluster.apply(Self.deployment(image: "web:1"))
        try cluster.converge()
        #expect(Self.images(try cluster.pods()) == ["web:1", "web:1", "web:1"])
        let sets = try cluster.sets()
        #expect(sets.count == 2)
        let reused = try #require(sets.first { $0.metadataString("name") == firstSet })
        #expect(DeploymentController.revision(reused) == 3 && DeploymentController.replicas(reused) == 3)
        deployment = try cluster.deployment()
        #expect(deployment[member: "metadata"]?[member: "annotations"]?[member: "deployment.kubernetes.io/revision"]?.stringValue == "3")
    }

    @Test func scalingAndAPodDeletedByHand() throws {
        let cluster = try Cluster()
        try cluster.apply(Self.deployment(image: "web:1"))
        try cluster.converge()
        for count in [5, 1] {
            try cluster.apply(Self.deployment(image: "web:1", replicas: count))
            try cluster.converge()
            #expect(try cluster.pods().filter(Workloads.isActive).count == count)
            #expect(try cluster.deployment()[member: "status"]?[member: "readyReplicas"]?.intValue == count)
        }
        let pod = try #require(try cluster.pods().first)
        try cluster.store.delete(ObjectKey(Workloads.pods, namespace: "default", name: pod.metadataString("name")!))
        try cluster.converge()
        let after = try cluster.pods()
        #expect(after.count == 1 && after.first?.metadataString("name") != pod.metadataString("name"), "the deleted Pod was not replaced")
    }

    @Test func recreateRemovesTheOldPodsFirst() throws {
        let cluster = try Cluster()
        let recreate = #"{"type":"Recreate"}"#
        try cluster.apply(Self.deployment(image: "web:1", strategy: recreate))
        try cluster.converge()
        try cluster.apply(Self.deployment(image: "web:2", strategy: recreate))
        try cluster.converge { pods in
            let images = Set(Self.images(pods))
            #expect(images.count <= 1, "old and new Pods at once: \(images)")
        }
        #expect(Self.images(try cluster.pods()) == ["web:2", "web:2", "web:2"])
    }

    @Test func oldReplicaSetsBeyondTheHistoryLimitGo() throws {
        let cluster = try Cluster()
        for version in 1...4 {
            try cluster.apply(Self.deployment(image: "web:\(version)", replicas: 1, history: 1))
            try cluster.converge()
        }
        let sets = try cluster.sets()
        #expect(sets.count == 2, "\(sets.map { $0.metadataString("name") ?? "" })")
        #expect(sets.map(DeploymentController.revision).sorted() == [3, 4])
    }
}
