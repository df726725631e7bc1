import Foundation
import TestSupport
import Testing

/// Event, Node, StorageClass, PersistentVolume and PersistentVolumeClaim through kubectl: the
/// columns it shows for them, this machine as the Node, the local-path provisioner.
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct ClusterKindsTests {
    static func rows(_ table: String) -> [[String]] {
        table.split(separator: "\n").map { line in
            // Columns are separated by at least two spaces (some headers have one inside).
            line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    @Test(arguments: KubeEnv.versions)
    func thisMachineIsTheNode(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        let hostname = (try sh(["/bin/hostname"])).stdout.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let rows = Self.rows(try server.kubectlOK("get", "nodes", version: version))
        #expect(rows.first == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"], "\(rows)")
        #expect(rows.count == 2 && rows[1][0] == hostname && rows[1][1] == "Ready" && rows[1][2] == "control-plane" && rows[1][4] == "v1.33.0+berth", "\(rows)")
        // -o wide adds the priority-1 columns.
        let wide = Self.rows(try server.kubectlOK("get", "nodes", "-o", "wide", version: version))
        #expect(wide.first == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"], "\(wide)")
        #expect(wide.last?[6] == "<none>" && wide.last?[9] == "berth://1.33.0", "\(wide)")
        let node = try server.object(try server.kubectlOK("get", "node", hostname, "-o", "json", version: version))
        #expect(node.string("status.capacity.cpu") == String(ProcessInfo.processInfo.activeProcessorCount))
        let meminfo = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
        let total = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }!.split(separator: " ")[1]
        #expect(node.string("status.capacity.memory") == "\(total)Ki")
        #expect(node.string("status.allocatable.pods") == "110")
        #expect(node.string("status.capacity.ephemeral-storage")?.hasSuffix("Ki") == true)
        #expect(node.string("status.nodeInfo.operatingSystem") == "linux")
        #expect(node.string("status.nodeInfo.kernelVersion") == (try sh(["/bin/uname", "-r"])).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let labels = node.at("metadata.labels") as? [String: String] ?? [:]
        #expect(labels["kubernetes.io/hostname"] == hostname && labels["kubernetes.io/os"] == "linux")
        let addresses = node.at("status.addresses") as? [[String: String]] ?? []
        #expect(addresses.contains(["type": "Hostname", "address": hostname]), "\(addresses)")
        let describe = try server.kubectlOK("describe", "node", hostname, version: version)
        #expect(describe.contains("KubeletReady") && describe.contains("Non-terminated Pods:"), "\(describe)")
        // The node's Lease (kube-node-lease/<node>) as describe shows it.
        #expect(describe.contains("HolderIdentity:  \(hostname)\n"), "\(describe)")
        #expect(try server.kubectlOK("get", "lease", "-n", "kube-node-lease", "-o", "name", version: version) == "lease.coordination.k8s.io/\(hostname)\n")
    }

    /// A claim of the default class is bound at once to a new volume (a directory under
    /// <root>/kube/volumes) and the volume goes with the claim (reclaim Delete).
    @Test(arguments: KubeEnv.versions)
    func localPathProvisioner(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        let classes = Self.rows(try server.kubectlOK("get", "storageclass", version: version))
        #expect(classes == [["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"],
                            ["local-path (default)", "berth.io/local-path", "Delete", "Immediate", "false", classes.last?.last ?? ""]], "\(classes)")
        let claim = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n"
        #expect(try server.kubectlOK("apply", "-f", "-", version: version, stdin: claim) == "persistentvolumeclaim/data created\n")
        let pvc = try server.object(try server.kubectlOK("get", "pvc", "data", "-o", "json", version: version))
        #expect(pvc.string("spec.storageClassName") == "local-path")
        #expect(pvc.string("status.phase") == "Bound")
        let volume = try #require(pvc.string("spec.volumeName"))
        #expect(volume == "pvc-" + (pvc.string("metadata.uid") ?? ""))
        let claims = Self.rows(try server.kubectlOK("get", "pvc", version: version))
        #expect(claims.first == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"], "\(claims)")
        #expect(Array(claims.last?.prefix(7) ?? []) == ["data", "Bound", volume, "1Gi", "RWO", "local-path", "<unset>"], "\(claims)")
        let wideClaims = Self.rows(try server.kubectlOK("get", "pvc", "-o", "wide", version: version))
        #expect(wideClaims.first?.last == "VOLUMEMODE" && wideClaims.last?.last == "Filesystem", "\(wideClaims)")
        let volumes = Self.rows(try server.kubectlOK("get", "pv", version: version))
        #expect(volumes.first == ["NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE"], "\(volumes)")
        #expect(Array(volumes.last?.prefix(8) ?? []) == [volume, "1Gi", "RWO", "Delete", "Bound", "default/data", "local-path", "<unset>"], "\(volumes)")
        let pv = try server.object(try server.kubectlOK("get", "pv", volume, "-o", "json", version: version))
        let path = server.kubeDirectory + "/volumes/" + volume
        #expect(pv.string("spec.hostPath.path") == path)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue)
        // A claim without accessModes is invalid, as on a cluster.
        let bad = try server.kubectl(["apply", "-f", "-"], version: version, stdin: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: bad}\nspec: {}\n")
        #expect(bad.stderr.contains("spec.accessModes: Required value: at least 1 access mode is required"), "\(bad.stderr)")
        try server.kubectlOK("delete", "pvc", "data", version: version)
        #expect(try server.kubectl(["get", "pv", volume], version: version).status == 1)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test(arguments: KubeEnv.versions)
    func events(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        let now = ISO8601DateFormatter().string(from: Date())
        let event = """
            apiVersion: v1
            kind: Event
            metadata: {name: web.1}
            involvedObject: {kind: Pod, name: web, namespace: default}
            reason: Started
            message: Started container web
            type: Normal
            count: 1
            source: {component: kubelet}
            firstTimestamp: "\(now)"
            lastTimestamp: "\(now)"

            """
        try server.kubectlOK("apply", "-f", "-", version: version, stdin: event)
        try server.kubectlOK("apply", "-f", "-", version: version, stdin: event.replacingOccurrences(of: "web.1", with: "db.1")
            .replacingOccurrences(of: "name: web", with: "name: db").replacingOccurrences(of: "Normal", with: "Warning").replacingOccurrences(of: "Started", with: "BackOff"))
        let rows = Self.rows(try server.kubectlOK("get", "events", version: version))
        #expect(rows.first == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], "\(rows)")
        #expect(rows.contains { Array($0.dropFirst()) == ["Normal", "Started", "pod/web", "Started container web"] }, "\(rows)")
        let wide = Self.rows(try server.kubectlOK("get", "events", "-o", "wide", version: version))
        #expect(wide.first == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME"], "\(wide)")
        #expect(wide.contains { $0.suffix(4) == ["Started container web", $0[$0.count - 3], "1", "web.1"] && $0.contains("kubelet") }, "\(wide)")
        let listed = try server.kubectlOK("events", version: version)
        #expect(listed.contains("Started container web") && listed.contains("BackOff"), "\(listed)")
        #expect(try server.kubectlOK("get", "events", "--field-selector", "involvedObject.name=web", "-o", "name", version: version) == "event/web.1\n")
        #expect(try server.kubectlOK("get", "events", "--field-selector", "type=Warning", "-o", "name", version: version) == "event/db.1\n")

        // events.k8s.io/v1 shows the same objects with its member names, and writes them.
        let v1 = try server.object(try server.kubectlOK("get", "events.v1.events.k8s.io", "web.1", "-o", "json", version: version))
        #expect(v1.string("apiVersion") == "events.k8s.io/v1" && v1.string("note") == "Started container web" && v1.string("regarding.name") == "web")
        #expect(v1.at("deprecatedCount") as? Int == 1 && v1.string("deprecatedSource.component") == "kubelet" && v1["message"] == nil)
        let created = try server.kubectl(["apply", "-f", "-"], version: version, stdin: """
            apiVersion: events.k8s.io/v1
            kind: Event
            metadata: {name: pull.1}
            regarding: {kind: Pod, name: web, namespace: default}
            reason: Pulled
            note: Pulled the image
            type: Normal
            action: Pull
            reportingController: berth.io/kubelet
            reportingInstance: here
            eventTime: "2026-01-02T03:04:05.000000Z"

            """)
        #expect(created.status == 0 && created.stdout == "event.events.k8s.io/pull.1 created\n", "\(created.stdout)\(created.stderr)")
        let core = try server.object(try server.kubectlOK("get", "event", "pull.1", "-o", "json", version: version))
        #expect(core.string("apiVersion") == "v1" && core.string("message") == "Pulled the image" && core.string("involvedObject.name") == "web")
        #expect(core.string("reportingComponent") == "berth.io/kubelet")
        try server.kubectlOK("delete", "events.v1.events.k8s.io", "pull.1", version: version)
        #expect(try server.kubectl(["get", "event", "pull.1"], version: version).status == 1)
    }
}
