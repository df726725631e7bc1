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

    /// Volumes made beforehand (static provisioning), as the persistent-volume controller binds: a
    /// claim takes the smallest Available volume of its class that fits its size and access modes, a
    /// claim that none fits waits Pending until one is made, a claim naming a volume gets that one; a
    /// Pod mounts the volume's own path; the claim's deletion releases the volume (Retain, the default
    /// of a volume made by hand) and its data stays.
    @Test func claimsBindToVolumesMadeBeforehand() throws {
        let server = try KubeServer()
        defer { PodTests.cleanUp(server); server.stop() }
        try PodTests.loadBusybox(server)
        func volume(_ name: String, _ size: String, modes: String = "[ReadWriteOnce]") -> String {
            """
            apiVersion: v1
            kind: PersistentVolume
            metadata: {name: \(name)}
            spec:
              capacity: {storage: \(size)}
              accessModes: \(modes)
              storageClassName: manual
              hostPath: {path: \(server.base)/\(name), type: DirectoryOrCreate}
            """
        }
        func claim(_ name: String, _ size: String, extra: String = "") -> String {
            """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: \(name)}
            spec:
              storageClassName: manual
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: \(size)}}\(extra)
            """
        }
        func bound(_ claim: String) -> String { JobTests.quiet(server, "get", "pvc", claim, "-o", "jsonpath={.status.phase} {.spec.volumeName}") }

        try server.kubectlOK("apply", "-f", "-", stdin: [volume("small", "1Gi"), volume("big", "10Gi"), volume("shared", "5Gi", modes: "[ReadOnlyMany]")]
                                .joined(separator: "\n---\n"))
        #expect(try server.kubectlOK("get", "pv", "small", "-o", "jsonpath={.status.phase}") == "Available")
        // 500Mi fits small and big: the smaller is taken, and names its claim.
        try server.kubectlOK("apply", "-f", "-", stdin: claim("first", "500Mi"))
        #expect(bound("first") == "Bound small")
        #expect(try server.kubectlOK("get", "pv", "small", "-o", "jsonpath={.status.phase} {.spec.claimRef.namespace}/{.spec.claimRef.name}")
                == "Bound default/first")
        // A claim naming big gets it, though a smaller one would do.
        try server.kubectlOK("apply", "-f", "-", stdin: claim("named", "1Mi", extra: "\n  volumeName: big"))
        #expect(bound("named") == "Bound big")
        // 20Gi fits none: Pending until a volume that fits is made. 2Gi fits only shared, whose mode is not asked for.
        try server.kubectlOK("apply", "-f", "-", stdin: claim("large", "20Gi") + "\n---\n" + claim("rwo", "2Gi"))
        #expect(bound("large") == "Pending ")
        try server.kubectlOK("apply", "-f", "-", stdin: volume("huge", "50Gi"))
        #expect(PodTests.eventually(10) { bound("large") == "Bound huge" }, "\(bound("large"))")
        #expect(try server.kubectlOK("get", "pvc", "large", "-o", "jsonpath={.status.capacity.storage}") == "50Gi")
        #expect(bound("rwo") == "Pending ")
        #expect(try server.kubectlOK("get", "pv", "shared", "-o", "jsonpath={.status.phase}") == "Available")

        // A Pod mounts the volume's own path.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.pod("writer", claim: "first", "echo static > /data/file"))
        #expect(PodTests.eventually(60) { Self.phase(server, "writer") == "Succeeded" })
        #expect((try? String(contentsOfFile: server.base + "/small/file", encoding: .utf8)) == "static\n")
        try server.kubectlOK("delete", "pod", "writer")

        // The claim goes; the volume (Retain) is Released, its data kept.
        try server.kubectlOK("delete", "pvc", "first")
        #expect(PodTests.eventually(20) { JobTests.quiet(server, "get", "pv", "small", "-o", "jsonpath={.status.phase}") == "Released" })
        #expect((try? String(contentsOfFile: server.base + "/small/file", encoding: .utf8)) == "static\n")
        try server.kubectlOK("delete", "pvc", "--all")
        try server.kubectlOK("delete", "pv", "--all")
    }

    /// Storage object in-use protection: a claim deleted while a Pod mounts it is only marked
    /// (Terminating, the pvc-protection finalizer holds it), its data stays and the Pod goes on
    /// writing; no new Pod may take it, nor hold it (an unscheduled Pod holds nothing); it goes with its
    /// volume once the Pod is gone; a finalizer taken off by hand comes back. A volume
    /// deleted while Bound waits (pv-protection) until its claim lets it go. Without the finalizer the
    /// claim's deletion took the volume's directory from under the running Pod.
    @Test func aClaimInUseIsKeptUntilItsPodGoes() throws {
        let server = try KubeServer()
        defer { PodTests.cleanUp(server); server.stop() }
        try PodTests.loadBusybox(server)
        try server.kubectlOK("apply", "-f", "-", stdin: Self.claim("held") + "\n---\n"
                             + Self.pod("holder", claim: "held", "echo first > /data/file; exec sleep 3600"))
        #expect(PodTests.eventually(60) { Self.phase(server, "holder") == "Running" }, "\(server.serverLog)")
        #expect(try server.kubectlOK("get", "pvc", "held", "-o", "jsonpath={.metadata.finalizers}") == "[\"kubernetes.io/pvc-protection\"]")
        let volume = try server.kubectlOK("get", "pvc", "held", "-o", "jsonpath={.spec.volumeName}")
        #expect(try server.kubectlOK("get", "pv", volume, "-o", "jsonpath={.metadata.finalizers}") == "[\"kubernetes.io/pv-protection\"]")
        let path = try server.kubectlOK("get", "pv", volume, "-o", "jsonpath={.spec.hostPath.path}")
        // A finalizer taken off by hand is put back, as the protection controller does.
        try server.kubectlOK("patch", "pvc", "held", "--type=json", "-p", #"[{"op":"remove","path":"/metadata/finalizers"}]"#)
        #expect(PodTests.eventually(10) {
            JobTests.quiet(server, "get", "pvc", "held", "-o", "jsonpath={.metadata.finalizers}") == "[\"kubernetes.io/pvc-protection\"]"
        })

        // Deleted while in use: marked, shown Terminating, and still there after the controllers' passes.
        try server.kubectlOK("delete", "pvc", "held", "--wait=false")
        usleep(1_500_000)
        let row = try server.kubectlOK("get", "pvc", "held", "--no-headers")
        #expect(row.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == "Terminating", "\(row)")
        #expect(try server.kubectlOK("get", "pv", volume, "-o", "jsonpath={.status.phase}") == "Bound")
        #expect(try server.kubectlOK("exec", "holder", "--", "sh", "-c", "echo second >> /data/file && cat /data/file") == "first\nsecond\n")
        #expect((try? String(contentsOfFile: path + "/file", encoding: .utf8)) == "first\nsecond\n")

        // No new Pod takes a claim being deleted (kube-scheduler's words).
        try server.kubectlOK("apply", "-f", "-", stdin: Self.pod("latecomer", claim: "held", "true"))
        let scheduled = "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")].message}"
        #expect(PodTests.eventually(20) {
            JobTests.quiet(server, "get", "pod", "latecomer", "-o", scheduled).contains("persistentvolumeclaim \"held\" is being deleted")
        })
        #expect(FileManager.default.fileExists(atPath: path + "/file"))

        // The running Pod goes: so do the claim, its volume (Delete) and the directory. The Pod that
        // was never scheduled holds nothing (else it and the claim would wait for each other forever).
        try server.kubectlOK("delete", "pod", "holder")
        #expect(PodTests.eventually(30) { (try? server.kubectl(["get", "pvc", "held"]))?.stderr.contains("NotFound") == true }, "\(server.serverLog)")
        #expect(PodTests.eventually(20) { (try? server.kubectl(["get", "pv", volume]))?.stderr.contains("NotFound") == true })
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(Self.phase(server, "latecomer") == "Pending")
        try server.kubectlOK("delete", "pod", "latecomer")

        // A volume deleted while Bound waits for its claim; a claim no Pod uses goes at once.
        try server.kubectlOK("apply", "-f", "-", stdin: """
            apiVersion: v1
            kind: PersistentVolume
            metadata: {name: handmade}
            spec:
              capacity: {storage: 1Gi}
              accessModes: [ReadWriteOnce]
              storageClassName: manual
              hostPath: {path: \(server.base)/handmade, type: DirectoryOrCreate}
            """ + "\n---\n" + Self.claim("idle", storageClass: "manual"))
        #expect(PodTests.eventually(10) { JobTests.quiet(server, "get", "pvc", "idle", "-o", "jsonpath={.status.phase}") == "Bound" })
        try server.kubectlOK("delete", "pv", "handmade", "--wait=false")
        usleep(1_500_000)
        #expect(try server.kubectlOK("get", "pv", "handmade", "--no-headers").contains(" Terminating "))
        try server.kubectlOK("delete", "pvc", "idle", "--timeout=10s")
        #expect(PodTests.eventually(20) { (try? server.kubectl(["get", "pv", "handmade"]))?.stderr.contains("NotFound") == true }, "\(server.serverLog)")
    }
}
