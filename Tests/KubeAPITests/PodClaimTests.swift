import Foundation
import TestSupport
import Testing

/// persistentVolumeClaim volumes with the real kubectl: a Pod naming a claim waits unscheduled until
/// the claim exists and is bound, then mounts the bound volume; the data outlives the Pod; deleting
/// the claim removes the directory (reclaimPolicy Delete) or keeps it (Retain).
@Suite(.serialized, .enabled(if: KubeEnv.ready && BusyboxImage.failure == nil && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")))
struct PodClaimTests {
    static func pod(_ name: String, claim: String, readOnly: Bool = false, _ script: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name)}
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          volumes: [{name: data, persistentVolumeClaim: {claimName: \(claim)\(readOnly ? ", readOnly: true" : "")}}]
          containers:
          - {name: c, image: busybox:test, imagePullPolicy: IfNotPresent, command: [sh, -c, "\(script)"], volumeMounts: [{name: data, mountPath: /data}]}
        """
    }

    static func claim(_ name: String, storageClass: String? = nil) -> String {
        """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: \(name)}
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 1Mi}}\(storageClass.map { "\n  storageClassName: \($0)" } ?? "")
        """
    }

    static func phase(_ server: KubeServer, _ pod: String) -> String {
        (try? server.kubectlOK("get", "pod", pod, "-o", "jsonpath={.status.phase}")) ?? ""
    }

    @Test func claimMountsTheBoundVolumeWhichOutlivesThePodAndIsReclaimed() throws {
        let server = try KubeServer()
        defer { PodTests.cleanUp(server); server.stop() }
        try PodTests.loadBusybox(server)
        let preemption = ". preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."

        // No claim yet: the pod stays Pending and unscheduled, in kube-scheduler's words.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.pod("writer", claim: "data", "echo kept > /data/file"))
        let scheduled = "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")]"
        #expect(PodTests.eventually(20) { (try? server.kubectlOK("get", "pod", "writer", "-o", scheduled + ".reason}")) == "Unschedulable" })
        #expect(try server.kubectlOK("get", "pod", "writer", "-o", scheduled + ".status}") == "False")
        #expect(try server.kubectlOK("get", "pod", "writer", "-o", scheduled + ".message}")
            == "0/1 nodes are available: persistentvolumeclaim \"data\" not found" + preemption)
        #expect(try server.kubectlOK("get", "pod", "writer", "-o", "jsonpath={.spec.nodeName}") == "")
        #expect(Self.phase(server, "writer") == "Pending")
        let events = try server.kubectlOK("get", "events", "--field-selector", "reason=FailedScheduling",
                                          "-o", "jsonpath={.items[*].type} {.items[*].source.component} {.items[*].message}")
        #expect(events == "Warning default-scheduler 0/1 nodes are available: persistentvolumeclaim \"data\" not found" + preemption, "\(events)")

        // A claim of a class nobody provisions stays unbound, and so does a pod naming it.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.claim("manual", storageClass: "manual") + "\n---\n"
                             + Self.pod("waiting", claim: "manual", "true"))
        #expect(PodTests.eventually(20) {
            (try? server.kubectlOK("get", "pod", "waiting", "-o", scheduled + ".message}"))
                == "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims" + preemption
        })

        // The claim comes (local-path binds it at once): the pod is scheduled, runs and writes.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.claim("data"))
        #expect(PodTests.eventually(60) { Self.phase(server, "writer") == "Succeeded" }, "\(server.serverLog)")
        let volume = try server.kubectlOK("get", "pvc", "data", "-o", "jsonpath={.spec.volumeName}")
        let path = try server.kubectlOK("get", "pv", volume, "-o", "jsonpath={.spec.hostPath.path}")
        #expect(path.hasPrefix(server.root + "/"), "\(path)")
        #expect((try? String(contentsOfFile: path + "/file", encoding: .utf8)) == "kept\n")
        try server.kubectlOK("delete", "pod", "writer")

        // A new pod reads it; the claim's readOnly makes the mount read-only.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.pod("reader", claim: "data", readOnly: true,
                                                                "cat /data/file; { echo more > /data/more; } 2>&1 || echo refused"))
        #expect(PodTests.eventually(60) { Self.phase(server, "reader") == "Succeeded" })
        let read = try server.kubectlOK("logs", "reader")
        #expect(read.hasPrefix("kept\n") && read.contains("Read-only file system") && read.hasSuffix("refused\n"), "\(read)")
        #expect(!FileManager.default.fileExists(atPath: path + "/more"))
        try server.kubectlOK("delete", "pod", "reader", "waiting")

        // reclaimPolicy Delete (the default class): the claim's deletion takes the volume and its directory.
        try server.kubectlOK("delete", "pvc", "data")
        #expect(PodTests.eventually(20) { !FileManager.default.fileExists(atPath: path) })
        #expect(PodTests.eventually(20) { (try? server.kubectl(["get", "pv", volume]))?.stderr.contains("NotFound") == true })

        // reclaimPolicy Retain: the volume is Released and its data stays.
        let retaining = """
            apiVersion: storage.k8s.io/v1
            kind: StorageClass
            metadata: {name: keep}
            provisioner: berth.io/local-path
            reclaimPolicy: Retain
            """
        try server.kubectlOK("apply", "-f", "-", stdin: retaining + "\n---\n" + Self.claim("kept", storageClass: "keep") + "\n---\n"
                             + Self.pod("keeper", claim: "kept", "echo retained > /data/file"))
        #expect(PodTests.eventually(60) { Self.phase(server, "keeper") == "Succeeded" })
        let keptVolume = try server.kubectlOK("get", "pvc", "kept", "-o", "jsonpath={.spec.volumeName}")
        let keptPath = try server.kubectlOK("get", "pv", keptVolume, "-o", "jsonpath={.spec.hostPath.path}")
        try server.kubectlOK("delete", "pod", "keeper")
        try server.kubectlOK("delete", "pvc", "kept")
        #expect(PodTests.eventually(20) { (try? server.kubectlOK("get", "pv", keptVolume, "-o", "jsonpath={.status.phase}")) == "Released" })
        #expect((try? String(contentsOfFile: keptPath + "/file", encoding: .utf8)) == "retained\n")
    }
}
