import ContainerSpec
import Foundation
import GoCompat
import Kube
@testable import KubeControllers
import KubeModel
import Testing

/// StatefulSets and DaemonSets over a real store, one controller pass at a time; `ready` plays
/// the kubelet (a Pod runs and is ready when the test says so), so the order of starts, stops
/// and replacements can be checked step by step.
struct StatefulSetControllerTests {
    final class Cluster {
        let root = NSTemporaryDirectory() + "berth-sts-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let store: ObjectStore
        let sets: StatefulSetController
        let daemons: DaemonSetController

        init() throws {
            store = try ObjectStore.open(root: root)
            sets = StatefulSetController(store: store, writer: .direct(store))
            daemons = DaemonSetController(store: store, writer: .direct(store))
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        func pods() throws -> [JSONValue] { try store.list(Workloads.pods).items.map { try $0.value() } }
        func podNames() throws -> [String] { try pods().compactMap { $0.metadataString("name") }.sorted() }
        func claimNames() throws -> [String] {
            try store.list(StatefulSetController.claims).items.map { try $0.value() }.compactMap { $0.metadataString("name") }.sorted()
        }
        func object(_ resource: Resource, _ name: String) throws -> JSONValue {
            try store.get(ObjectKey(resource, namespace: "default", name: name)).value()
        }

        func create(_ resource: Resource, _ json: String) throws { try store.create(resource, try JSONParser.parse(Array(json.utf8))) }

        func update(_ resource: Resource, _ name: String, _ change: @escaping (JSONValue) -> JSONValue) throws {
            try store.guaranteedUpdate(ObjectKey(resource, namespace: "default", name: name)) { old throws(EngineError) in change(old) }
        }

        /// Every Pod (or those named) runs and is ready.
        func ready(_ names: [String]? = nil) throws {
            let status = try JSONParser.parse(Array(#"{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}"#.utf8))
            for pod in try pods() where names?.contains(pod.metadataString("name") ?? "") ?? true {
                try update(Workloads.pods, pod.metadataString("name")!) { $0.setting("status", to: status) }
            }
        }

        func delete(_ name: String) throws { _ = try store.delete(ObjectKey(Workloads.pods, namespace: "default", name: name)) }
    }

    static func statefulSet(replicas: Int, policy: String = "OrderedReady", strategy: String = #"{"type":"RollingUpdate","rollingUpdate":{"partition":0}}"#,
                            image: String = "busybox:1") -> String {
        #"""
        {"kind":"StatefulSet","apiVersion":"apps/v1","metadata":{"name":"db","namespace":"default","uid":"u1"},
         "spec":{"replicas":\#(replicas),"serviceName":"db","podManagementPolicy":"\#(policy)","updateStrategy":\#(strategy),
                 "selector":{"matchLabels":{"app":"db"}},
                 "template":{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"db","image":"\#(image)"}],
                             "volumes":[{"name":"data","emptyDir":{}}]}},
                 "volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}]}}
        """#
    }

    @Test func orderedReadyStartsEachOrdinalAfterTheOneBeforeIsReady() throws {
        let cluster = try Cluster()
        try cluster.create(Workloads.statefulSets, Self.statefulSet(replicas: 3))
        try cluster.sets.sync()
        #expect(try cluster.podNames() == ["db-0"])
        try cluster.sets.sync()
        #expect(try cluster.podNames() == ["db-0"], "db-1 started before db-0 was ready")
        try cluster.ready()
        try cluster.sets.sync()
        #expect(try cluster.podNames() == ["db-0", "db-1"])
        try cluster.ready()
        try cluster.sets.sync()
        try cluster.ready()
        try cluster.sets.sync()
        #expect(try cluster.podNames() == ["db-0", "db-1", "db-2"])
        #expect(try cluster.claimNames() == ["data-db-0", "data-db-1", "data-db-2"])

        // The Pod: its hostname and subdomain, its claim in place of the template's volume, its labels.
        let pod = try cluster.object(Workloads.pods, "db-1")
        #expect(pod[member: "spec"]?[member: "hostname"] == .string("db-1"))
        #expect(pod[member: "spec"]?[member: "subdomain"] == .string("db"))
        let volumes = pod[member: "spec"]?[member: "volumes"]?.arrayItems ?? []
        #expect(volumes.count == 1)
        #expect(volumes.first?[member: "persistentVolumeClaim"]?[member: "claimName"] == .string("data-db-1"))
        let labels = pod[member: "metadata"]?[member: "labels"]
        #expect(labels?[member: "statefulset.kubernetes.io/pod-name"] == .string("db-1"))
        #expect(labels?[member: "apps.kubernetes.io/pod-index"] == .string("1"))
        #expect(labels?[member: "controller-revision-hash"]?.stringValue?.hasPrefix("db-") == true)
        let claim = try cluster.object(StatefulSetController.claims, "data-db-1")
        #expect(claim[member: "metadata"]?[member: "labels"]?[member: "app"] == .string("db"))
        #expect(claim[member: "metadata"]?[member: "ownerReferences"] == nil, "a retained claim is owned by the set")

        try cluster.ready()
        try cluster.sets.sync()
        let status = try cluster.object(Workloads.statefulSets, "db")[member: "status"]
        #expect(status?[member: "readyReplicas"] == .int(3))
        #expect(status?[member: "currentRevision"] == status?[member: "updateRevision"])

        // A deleted Pod comes back under its name, with the same claim; the claims are not made again.
        try cluster.delete("db-1")
        try cluster.sets.sync()
        #expect(try cluster.podNames() == ["db-0", "db-1", "db-2"])
        #expect(try cluster.object(StatefulSetController.claims, "data-db-1")[member: "metadata"]?[member: "uid"] == claim[member: "metadata"]?[member: "uid"])

        // Scale down: the highest first, one at a time; the claims stay.
        try cluster.ready()
        try cluster.update(Workloads.statefulSets, "db") { $0.setting("spec", to: ($0[member: "spec"] ?? .null).setting("replicas", to: .int(1))) }
        try cluster.sets.sync()
        #expect(try cluster.podNames() == ["db-0", "db-1"])
        try cluster.sets.sync()
        #expect(try cluster.podNames() == ["db-0"])
        #expect(try cluster.claimNames() == ["data-db-0", "data-db-1", "data-db-2"])
    }

    @Test func parallelStartsAllAndRollingUpdatesStopAtThePartition() throws {
        let cluster = try Cluster()
        try cluster.create(Workloads.statefulSets, Self.statefulSet(replicas: 3, policy: "Parallel",
                                                                    strategy: #"{"type":"RollingUpdate","rollingUpdate":{"partition":1}}"#))
        try cluster.sets.sync()
        #expect(try cluster.podNames() == ["db-0", "db-1", "db-2"])
        try cluster.ready()
        let before = try cluster.object(Workloads.pods, "db-0")[member: "metadata"]?[member: "labels"]?[member: "controller-revision-hash"]
        try cluster.update(Workloads.statefulSets, "db") { set in
            set.setting("spec", to: (set[member: "spec"] ?? .null).setting("template", to: try! JSONParser.parse(Array(
                #"{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"db","image":"busybox:2"}]}}"#.utf8))))
        }
        for _ in 0..<6 {
            try cluster.sets.sync()
            try cluster.ready()
        }
        func image(_ name: String) throws -> String? {
            try cluster.object(Workloads.pods, name)[member: "spec"]?[member: "containers"]?.arrayItems?.first?[member: "image"]?.stringValue
        }
        // Ordinals at or above the partition have the new template; db-0 keeps the old one.
        #expect(try image("db-2") == "busybox:2")
        #expect(try image("db-1") == "busybox:2")
        #expect(try image("db-0") == "busybox:1")
        #expect(try cluster.object(Workloads.pods, "db-0")[member: "metadata"]?[member: "labels"]?[member: "controller-revision-hash"] == before)
        let status = try cluster.object(Workloads.statefulSets, "db")[member: "status"]
        #expect(status?[member: "updatedReplicas"] == .int(2))
        // Both templates are revisions, numbered in order, named as the Pods' label says.
        let revisions = try cluster.store.list(ControllerRevisions.resource).items.map { try $0.value() }
            .sorted { ControllerRevisions.revision($0) < ControllerRevisions.revision($1) }
        #expect(revisions.map(ControllerRevisions.revision) == [1, 2])
        #expect(revisions.first?.metadataString("name") == before?.stringValue)
        #expect(revisions.last?.metadataString("name") == status?[member: "updateRevision"]?.stringValue)
        #expect(revisions.last?[member: "data"]?[member: "spec"]?[member: "template"]?[member: "$patch"] == .string("replace"))
        #expect(status?[member: "currentRevision"] != status?[member: "updateRevision"])
    }

    @Test func onDeleteReplacesOnlyWhatTheUserDeletes() throws {
        let cluster = try Cluster()
        try cluster.create(Workloads.statefulSets, Self.statefulSet(replicas: 2, policy: "Parallel", strategy: #"{"type":"OnDelete"}"#))
        try cluster.sets.sync()
        try cluster.ready()
        try cluster.update(Workloads.statefulSets, "db") { set in
            set.setting("spec", to: (set[member: "spec"] ?? .null).setting("template", to: try! JSONParser.parse(Array(
                #"{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"db","image":"busybox:2"}]}}"#.utf8))))
        }
        try cluster.sets.sync()
        try cluster.sets.sync()
        let images = try cluster.pods().compactMap { $0[member: "spec"]?[member: "containers"]?.arrayItems?.first?[member: "image"]?.stringValue }
        #expect(images == ["busybox:1", "busybox:1"])
        try cluster.delete("db-0")
        try cluster.sets.sync()
        #expect(try cluster.object(Workloads.pods, "db-0")[member: "spec"]?[member: "containers"]?.arrayItems?.first?[member: "image"] == .string("busybox:2"))
    }

    static let node = #"{"kind":"Node","apiVersion":"v1","metadata":{"name":"here","labels":{"kubernetes.io/os":"linux","disk":"ssd"}}}"#

    static func daemonSet(_ extra: String = "", image: String = "busybox:1") -> String {
        #"""
        {"kind":"DaemonSet","apiVersion":"apps/v1","metadata":{"name":"agent","namespace":"default"},
         "spec":{"selector":{"matchLabels":{"app":"agent"}},"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1}},
                 "template":{"metadata":{"labels":{"app":"agent"}},"spec":{\#(extra)"containers":[{"name":"a","image":"\#(image)"}]}}}}
        """#
    }

    @Test func aDaemonSetRunsOnePodOnEachNodeItsSelectorAccepts() throws {
        let cluster = try Cluster()
        try cluster.store.create(Workloads.nodes, try JSONParser.parse(Array(Self.node.utf8)))
        try cluster.create(Workloads.daemonSets, Self.daemonSet(#""nodeSelector":{"disk":"ssd"},"#))
        try cluster.daemons.sync()
        try cluster.daemons.sync()
        let pods = try cluster.pods()
        #expect(pods.count == 1)
        #expect(DaemonSetController.nodeOf(try #require(pods.first)) == "here")
        try cluster.ready()
        try cluster.daemons.sync()
        let status = try cluster.object(Workloads.daemonSets, "agent")[member: "status"]
        #expect(status?[member: "desiredNumberScheduled"] == .int(1))
        #expect(status?[member: "currentNumberScheduled"] == .int(1))
        #expect(status?[member: "numberReady"] == .int(1))
        #expect(status?[member: "updatedNumberScheduled"] == .int(1))

        // A new template: the old Pod goes, then the new one comes.
        try cluster.update(Workloads.daemonSets, "agent") { set in
            set.setting("spec", to: (set[member: "spec"] ?? .null).setting("template", to: try! JSONParser.parse(Array(
                #"{"metadata":{"labels":{"app":"agent"}},"spec":{"nodeSelector":{"disk":"ssd"},"containers":[{"name":"a","image":"busybox:2"}]}}"#.utf8))))
        }
        try cluster.daemons.sync()
        try cluster.daemons.sync()
        #expect(try cluster.pods().compactMap { $0[member: "spec"]?[member: "containers"]?.arrayItems?.first?[member: "image"]?.stringValue } == ["busybox:2"])

        // A selector no node matches: no Pod.
        try cluster.update(Workloads.daemonSets, "agent") { set in
            set.setting("spec", to: (set[member: "spec"] ?? .null).setting("template", to: try! JSONParser.parse(Array(
                #"{"metadata":{"labels":{"app":"agent"}},"spec":{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"disk","operator":"In","values":["hdd"]}]}]}}},"containers":[{"name":"a","image":"busybox:2"}]}}"#.utf8))))
        }
        try cluster.daemons.sync()
        #expect(try cluster.pods().isEmpty)
        #expect(try cluster.object(Workloads.daemonSets, "agent")[member: "status"]?[member: "desiredNumberScheduled"] == .int(0))
    }
}

extension StatefulSetControllerTests {
    /// maxSurge: the new Pod starts beside the old one (never on more than maxSurge nodes at once),
    /// the old one goes only once the new one is available, so the node is never without a ready daemon.
    @Test func aSurgingDaemonSetStartsTheNewPodBeforeTheOldGoes() throws {
        let cluster = try Cluster()
        for name in ["here", "there"] {
            try cluster.store.create(Workloads.nodes, try JSONParser.parse(Array(Self.node.replacingOccurrences(of: #""name":"here""#, with: #""name":"\#(name)""#).utf8)))
        }
        try cluster.create(Workloads.daemonSets, Self.daemonSet().replacingOccurrences(of: #"{"maxUnavailable":1}"#, with: #"{"maxUnavailable":0,"maxSurge":1}"#))
        try cluster.daemons.sync()
        #expect(try cluster.pods().count == 2)
        try cluster.ready()
        let before = Set(try cluster.podNames())
        func image(_ pod: JSONValue) -> String { pod[member: "spec"]?[member: "containers"]?.arrayItems?.first?[member: "image"]?.stringValue ?? "" }
        try cluster.update(Workloads.daemonSets, "agent") { set in
            set.setting("spec", to: (set[member: "spec"] ?? .null).setting("template", to: try! JSONParser.parse(Array(
                #"{"metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"name":"a","image":"busybox:2"}]}}"#.utf8))))
        }
        try cluster.daemons.sync()
        try cluster.daemons.sync()
        // One node surges: its old Pod stays beside the new one, which is not ready yet; the other node waits.
        #expect(try cluster.pods().map(image).sorted() == ["busybox:1", "busybox:1", "busybox:2"])
        let fresh = try #require(cluster.pods().first { image($0) == "busybox:2" })
        try cluster.ready([fresh.metadataString("name")!])
        try cluster.daemons.sync()
        // Ready: that node's old Pod goes, and the other node surges.
        let afterFirst = try cluster.pods()
        #expect(afterFirst.map(image).sorted() == ["busybox:1", "busybox:2", "busybox:2"])
        #expect(Set(afterFirst.filter { image($0) == "busybox:1" }.compactMap { DaemonSetController.nodeOf($0) })
                == Set([DaemonSetController.nodeOf(fresh)!] + ["here", "there"]).subtracting([DaemonSetController.nodeOf(fresh)!]))
        try cluster.ready()
        try cluster.daemons.sync()
        let done = try cluster.pods()
        #expect(done.map(image) == ["busybox:2", "busybox:2"])
        #expect(Set(done.compactMap { $0.metadataString("name") }).isDisjoint(with: before))
        #expect(Set(done.compactMap { DaemonSetController.nodeOf($0) }) == ["here", "there"])
    }

    @Test func ordinalsStartWhereAskedAndWhenScaledDeleteRemovesTheClaims() throws {
        let cluster = try Cluster()
        let json = Self.statefulSet(replicas: 2, policy: "Parallel")
            .replacingOccurrences(of: #""serviceName":"db","#, with: #""serviceName":"db","ordinals":{"start":5},"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Retain","whenScaled":"Delete"},"#)
        try cluster.create(Workloads.statefulSets, json)
        try cluster.sets.sync()
        #expect(try cluster.podNames() == ["db-5", "db-6"])
        #expect(try cluster.claimNames() == ["data-db-5", "data-db-6"])
        try cluster.ready()
        try cluster.update(Workloads.statefulSets, "db") { $0.setting("spec", to: ($0[member: "spec"] ?? .null).setting("replicas", to: .int(1))) }
        try cluster.sets.sync()
        try cluster.sets.sync()
        #expect(try cluster.podNames() == ["db-5"])
        #expect(try cluster.claimNames() == ["data-db-5"], "the scaled-away claim was kept")
    }
}

extension StatefulSetControllerTests {
    /// A NoSchedule taint keeps daemon Pods off the node unless the template tolerates it.
    @Test func taintsKeepDaemonsOffUnlessTolerated() throws {
        let tainted = try JSONParser.parse(Array(#"{"kind":"Node","metadata":{"name":"here"},"spec":{"taints":[{"key":"dedicated","value":"db","effect":"NoSchedule"}]}}"#.utf8))
        func template(_ tolerations: String) throws -> JSONValue {
            try JSONParser.parse(Array(#"{"spec":{"tolerations":\#(tolerations),"containers":[{"name":"a","image":"i"}]}}"#.utf8))
        }
        #expect(!DaemonSetController.accepts(try template("[]"), node: tainted))
        #expect(!DaemonSetController.accepts(try template(#"[{"key":"dedicated","operator":"Equal","value":"web","effect":"NoSchedule"}]"#), node: tainted))
        #expect(DaemonSetController.accepts(try template(#"[{"key":"dedicated","operator":"Equal","value":"db","effect":"NoSchedule"}]"#), node: tainted))
        #expect(DaemonSetController.accepts(try template(#"[{"key":"dedicated","operator":"Exists"}]"#), node: tainted))
        #expect(DaemonSetController.accepts(try template(#"[{"operator":"Exists"}]"#), node: tainted))
        // A cordoned node keeps its daemons (every daemon Pod tolerates unschedulable).
        let cordoned = try JSONParser.parse(Array(#"{"kind":"Node","metadata":{"name":"here"},"spec":{"taints":[{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"}]}}"#.utf8))
        #expect(DaemonSetController.accepts(try template("[]"), node: cordoned))
        let soft = try JSONParser.parse(Array(#"{"kind":"Node","metadata":{"name":"here"},"spec":{"taints":[{"key":"k","effect":"PreferNoSchedule"}]}}"#.utf8))
        #expect(DaemonSetController.accepts(try template("[]"), node: soft))
    }
}
