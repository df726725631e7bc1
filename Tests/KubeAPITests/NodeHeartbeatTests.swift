import Foundation
import TestSupport
import Testing

/// The kubelet's heartbeats: the node's Lease renewed every 10 s; the Node's status posted with a
/// new lastHeartbeatTime when it changed or when the report frequency (5 min; shortened here)
/// passed, its conditions' lastTransitionTime kept, the Node Ready throughout.
@Suite(.enabled(if: KubeEnv.ready))
struct NodeHeartbeatTests {
    static func lease(_ server: KubeServer, _ node: String) -> String {
        (try? server.kubectlOK("get", "lease", "-n", "kube-node-lease", node, "-o", "jsonpath={.spec.renewTime}")) ?? ""
    }

    static func ready(_ server: KubeServer, _ node: String, _ field: String) -> String {
        (try? server.kubectlOK("get", "node", node, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].\(field)}")) ?? ""
    }

    @Test func leaseIsRenewedAndStatusReported() throws {
        let quiet = try KubeServer()
        defer { quiet.stop() }
        let reporting = try KubeServer(serveEnvironment: ["BERTH_NODE_STATUS_REPORT_FREQUENCY": "1"])
        defer { reporting.stop() }
        let node = try quiet.kubectlOK("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}")
        let firstLease = Self.lease(quiet, node)
        let firstHeartbeat = Self.ready(quiet, node, "lastHeartbeatTime")
        let firstReported = Self.ready(reporting, node, "lastHeartbeatTime")
        let transition = Self.ready(reporting, node, "lastTransitionTime")
        #expect(!firstLease.isEmpty && !firstHeartbeat.isEmpty && !firstReported.isEmpty)
        // Metadata times are to the second: let one pass so that a new heartbeat differs.
        #expect(PodTests.eventually(25) { Self.lease(quiet, node) != firstLease && Self.ready(reporting, node, "lastHeartbeatTime") != firstReported })
        #expect(Self.lease(quiet, node) > firstLease)
        #expect(Self.ready(reporting, node, "lastHeartbeatTime") > firstReported)
        // Nothing changed and 5 min have not passed: no new status post, yet the Lease says the node lives.
        #expect(Self.ready(quiet, node, "lastHeartbeatTime") == firstHeartbeat)
        // A heartbeat is not a transition.
        #expect(Self.ready(reporting, node, "lastTransitionTime") == transition)
        for server in [quiet, reporting] {
            #expect(Self.ready(server, node, "status") == "True")
            #expect(Self.ready(server, node, "reason") == "KubeletReady")
            let table = try server.kubectlOK("get", "nodes", "--no-headers")
            #expect(table.contains(" Ready "), "\(table)")
        }
    }
}
