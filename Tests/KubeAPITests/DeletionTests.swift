import Foundation
import TestSupport
import Testing

/// Deletion through kubectl and curl: graceful Pods, finalizers, ownerReferences garbage
/// collection (background, foreground, orphan), namespaces that empty themselves.
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct DeletionTests {
    /// A ConfigMap `owner` and ConfigMaps `dependents` that name it in ownerReferences.
    static func family(_ server: KubeServer, _ owner: String, _ dependents: [String]) throws {
        try server.kubectlOK("create", "configmap", owner)
        let uid = try server.kubectlOK("get", "cm", owner, "-o", "jsonpath={.metadata.uid}")
        for name in dependents {
            try server.kubectlOK("apply", "-f", "-", stdin: """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: \(name)
                  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: \(owner), uid: \(uid), blockOwnerDeletion: true}]

                """)
        }
    }

    static func names(_ server: KubeServer, _ resource: String = "cm", namespace: String = "default") throws -> [String] {
        try server.kubectlOK("get", resource, "-n", namespace, "-o", "jsonpath={.items[*].metadata.name}").split(separator: " ").map(String.init).sorted()
    }

    @Test(arguments: KubeEnv.versions)
    func garbageCollection(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        // Background (the default): the dependents go with the owner.
        try Self.family(server, "owner1", ["a1", "b1"])
        #expect(try server.kubectlOK("delete", "cm", "owner1", version: version) == "configmap \"owner1\" deleted\n")
        #expect(try Self.names(server) == [])
        // Orphan: the dependents stay, without the reference.
        try Self.family(server, "owner2", ["a2"])
        try server.kubectlOK("delete", "cm", "owner2", "--cascade=orphan", version: version)
        #expect(try Self.names(server) == ["a2"])
        #expect(try server.kubectlOK("get", "cm", "a2", "-o", "jsonpath={.metadata.ownerReferences}") == "")
        // Foreground: the owner waits (foregroundDeletion) while a dependent is held by its finalizer.
        try Self.family(server, "owner3", ["a3"])
        try server.kubectlOK("patch", "cm", "a3", "-p", #"{"metadata":{"finalizers":["example.com/hold"]}}"#)
        try server.kubectlOK("delete", "cm", "owner3", "--cascade=foreground", "--wait=false", version: version)
        let owner = try server.object(try server.kubectlOK("get", "cm", "owner3", "-o", "json"))
        #expect(owner.at("metadata.finalizers") as? [String] == ["foregroundDeletion"])
        #expect(owner.string("metadata.deletionTimestamp") != nil)
        let held = try server.object(try server.kubectlOK("get", "cm", "a3", "-o", "json"))
        #expect(held.string("metadata.deletionTimestamp") != nil)
        // A finalizer may not be added to an object being deleted.
        let added = try server.kubectl(["patch", "cm", "a3", "--type", "merge", "-p", #"{"metadata":{"finalizers":["example.com/hold","example.com/more"]}}"#])
        #expect(added.status == 1 && added.stderr.contains("no new finalizers can be added if the object is being deleted"), "\(added.stderr)")
        // The finalizer removed, the dependent goes, then the owner.
        try server.kubectlOK("patch", "cm", "a3", "--type", "json", "-p", #"[{"op":"remove","path":"/metadata/finalizers"}]"#)
        #expect(try Self.names(server) == ["a2"])
    }

    /// A Pod on a node is deleted gracefully (Terminating until deleted with grace period 0, as the
    /// kubelet does); one never scheduled goes at once; DELETE answers with the Pod.
    @Test(arguments: KubeEnv.versions)
    func gracefulPods(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  nodeName: here\n  terminationGracePeriodSeconds: 20\n  containers: [{name: c, image: busybox}]\n"
        try server.kubectlOK("apply", "-f", "-", stdin: pod)
        #expect(try server.kubectlOK("delete", "pod", "p", "--wait=false", version: version) == "pod \"p\" deleted\n")
        let object = try server.object(try server.kubectlOK("get", "pod", "p", "-o", "json"))
        #expect(object.at("metadata.deletionGracePeriodSeconds") as? Int == 20)
        let deadline = try #require(object.string("metadata.deletionTimestamp"))
        let created = try #require(object.string("metadata.creationTimestamp"))
        let format = ISO8601DateFormatter()
        let seconds = format.date(from: deadline)!.timeIntervalSince(format.date(from: created)!)
        #expect(seconds >= 19 && seconds <= 25, "\(created) \(deadline)")
        let table = try server.kubectlOK("get", "pods", version: version)
        #expect(table.split(separator: "\n").last?.split(separator: " ").prefix(3) == ["p", "0/1", "Terminating"], "\(table)")
        // A shorter grace period shortens it; 0 removes the Pod.
        let result = try server.request("DELETE", "/api/v1/namespaces/default/pods/p", body: #"{"gracePeriodSeconds":0}"#)
        #expect(result.status == 200)
        #expect(try server.object(result.body).string("kind") == "Pod", "\(result.body)")
        #expect(try Self.names(server, "pods") == [])
        // Unscheduled (its scheduler is not this node's, so it stays so): gone at once, whatever its grace period.
        try server.kubectlOK("apply", "-f", "-", stdin: pod.replacingOccurrences(of: "  nodeName: here\n", with: "  schedulerName: elsewhere\n"))
        try server.kubectlOK("delete", "pod", "p", "--wait=false", version: version)
        #expect(try Self.names(server, "pods") == [])
    }

    /// A namespace is Terminating while a graceful Pod is in it, refuses new objects, and goes
    /// when the Pod does; deletecollection honours label selectors.
    @Test func namespacesAndCollections() throws {
        let server = try KubeServer()
        defer { server.stop() }
        try server.kubectlOK("create", "namespace", "t1")
        try server.kubectlOK("apply", "-f", "-", stdin: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: t1}\nspec:\n  nodeName: here\n  containers: [{name: c, image: busybox}]\n")
        try server.kubectlOK("create", "configmap", "c1", "-n", "t1")
        try server.kubectlOK("delete", "namespace", "t1", "--wait=false")
        #expect(try server.kubectlOK("get", "ns", "t1", "-o", "jsonpath={.status.phase}") == "Terminating")
        #expect(try Self.names(server, "cm", namespace: "t1") == [])
        #expect(try Self.names(server, "pods", namespace: "t1") == ["p"])
        let refused = try server.kubectl(["create", "configmap", "c2", "-n", "t1"])
        #expect(refused.stderr.contains("unable to create new content in namespace t1 because it is being terminated"), "\(refused.stderr)")
        try server.kubectlOK("delete", "pod", "p", "-n", "t1", "--grace-period=0", "--force")
        #expect(try server.kubectl(["get", "ns", "t1"]).status == 1)

        for (name, tier) in [("x", "web"), ("y", "web"), ("z", "db")] {
            try server.kubectlOK("create", "configmap", name)
            try server.kubectlOK("label", "cm", name, "tier=\(tier)")
        }
        #expect(try server.kubectlOK("delete", "cm", "-l", "tier=web") == "configmap \"x\" deleted\nconfigmap \"y\" deleted\n")
        let collection = try server.request("DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=tier%3Ddb&propagationPolicy=Foreground")
        #expect(collection.status == 200, "\(collection.body)")
        #expect(try Self.names(server) == [])
    }

    /// A namespace with a Deployment running in it goes, and takes its Pods' containers with it: the
    /// kubelet's Killing events and the ReplicaSet's replacements are refused while it is Terminating
    /// (once, a Killing event written after the namespace emptied kept it Terminating for ever).
    @Test func aNamespaceWithRunningPodsGoes() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try PodTests.loadBusybox(server)
        try server.kubectlOK("create", "namespace", "gone")
        try server.kubectlOK("apply", "-n", "gone", "-f", "-", stdin: DeploymentTests.manifest(image: "busybox:test"))
        try server.kubectlOK("rollout", "status", "-n", "gone", "deployment/web", "--timeout=120s")
        let deleted = try server.kubectl(["delete", "namespace", "gone", "--timeout=60s"])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let left = try server.kubectl(["get", "ns", "gone", "-o", "yaml"])
        let kinds = try server.kubectlOK("api-resources", "--verbs=list", "--namespaced", "-o", "name").split(separator: "\n").joined(separator: ",")
        let inside = try server.kubectl(["get", kinds, "-n", "gone", "-o", "name"]).stdout
        #expect(left.status == 1, "namespace gone is still there: \(left.stdout)\n\(inside)")
        #expect(PodTests.eventually(30) { (try? PodTests.berth(server, ["ps", "-q"]).stdout.isEmpty) == true },
                "the namespace's containers are still running")
    }
}
