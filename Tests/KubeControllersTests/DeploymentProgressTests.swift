import ContainerSpec
import Foundation
import GoCompat
import Kube
@testable import KubeControllers
import KubeModel
import Testing

/// progressDeadlineSeconds: a rollout whose Pods never become ready times out (Progressing False,
/// ProgressDeadlineExceeded, as `kubectl rollout status` reports it) and recovers once they do.
struct DeploymentProgressTests {
    @Test func aStalledRolloutExceedsItsProgressDeadline() throws {
        let cluster = try DeploymentControllerTests.Cluster()
        let json = DeploymentControllerTests.deployment(image: "web:1")
            .replacingOccurrences(of: #""revisionHistoryLimit""#, with: #""progressDeadlineSeconds":2,"revisionHistoryLimit""#)
        try cluster.apply(json)
        func progressing() throws -> (String, String) {
            let condition = try cluster.deployment()[member: "status"]?[member: "conditions"]?.arrayItems?.first { $0[member: "type"] == .string("Progressing") }
            return (condition?[member: "status"]?.stringValue ?? "", condition?[member: "reason"]?.stringValue ?? "")
        }
        // Pods are made but never run: no progress after the first steps.
        for _ in 0..<3 {
            try cluster.deployments.sync()
            try cluster.replicaSets.sync()
        }
        #expect(try progressing().0 == "True")
        let wake = try #require(cluster.deployments.timer?.take())
        #expect(wake <= Int64(time(nil)) + 3)
        sleep(3)
        try cluster.deployments.sync()
        #expect(try progressing() == ("False", "ProgressDeadlineExceeded"))
        try cluster.deployments.sync()
        #expect(try progressing() == ("False", "ProgressDeadlineExceeded"), "a pass without progress ended the timeout")
        // The Pods run: the rollout completes.
        try cluster.converge()
        #expect(try progressing() == ("True", "NewReplicaSetAvailable"))
    }
}

extension DeploymentProgressTests {
    /// A paused Deployment says so in Progressing (Unknown, DeploymentPaused), then DeploymentResumed.
    @Test func pauseAndResumeShowInProgressing() throws {
        let cluster = try DeploymentControllerTests.Cluster()
        try cluster.apply(DeploymentControllerTests.deployment(image: "web:1"))
        try cluster.converge()
        func progressing() throws -> (String, String) {
            let condition = try cluster.deployment()[member: "status"]?[member: "conditions"]?.arrayItems?.first { $0[member: "type"] == .string("Progressing") }
            return (condition?[member: "status"]?.stringValue ?? "", condition?[member: "reason"]?.stringValue ?? "")
        }
        func setPaused(_ paused: Bool) throws {
            try cluster.store.guaranteedUpdate(ObjectKey(Workloads.deployments, namespace: "default", name: "web")) { old throws(EngineError) in
                old.setting("spec", to: (old[member: "spec"] ?? .null).setting("paused", to: .bool(paused)))
            }
        }
        try setPaused(true)
        try cluster.deployments.sync()
        #expect(try progressing() == ("Unknown", "DeploymentPaused"))
        try setPaused(false)
        try cluster.deployments.sync()
        #expect(try progressing() == ("Unknown", "DeploymentResumed"))
        try cluster.converge()
        #expect(try progressing() == ("True", "NewReplicaSetAvailable"))
    }
}
