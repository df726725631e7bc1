import Foundation
import TestSupport
import Testing

/// subPath and subPathExpr, and the defence that makes them safe: a symlink a container plants in a
/// shared volume must not give another container the host's files (CVE-2017-1002101).
@Suite(.serialized, .enabled(if: KubeEnv.ready && BusyboxImage.failure == nil && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")))
struct PodSubPathTests {
    /// The mounts under `path` (what the kubelet's subPath binds and Memory emptyDirs leave behind).
    static func mounts(under path: String) -> [String] { KubeServer.mountPoints(under: path) }

    @Test func subPathAndSubPathExprMountPartsOfVolumes() throws {
        let server = try KubeServer()
        defer { PodTests.cleanUp(server); server.stop() }
        try PodTests.loadBusybox(server)
        let out = server.base + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let manifest = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings}
            data: {app.conf: "level=3", other: x}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: parts}
            spec:
              restartPolicy: Never
              terminationGracePeriodSeconds: 1
              volumes: [{name: out, hostPath: {path: \(out)}}, {name: scratch, emptyDir: {}}, {name: settings, configMap: {name: settings}}]
              initContainers:
              - name: prepare
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "mkdir -p /scratch/inner && echo inside > /scratch/inner/f && ln -s inner /scratch/link"]
                volumeMounts: [{name: scratch, mountPath: /scratch}]
              containers:
              - name: c
                image: busybox:test
                imagePullPolicy: IfNotPresent
                env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
                command: [sh, -c, "echo mine > /mine/f; cat /in/f > /mine/seen; cat /linked/f > /mine/linked; ls /in > /mine/listing; cat /etc/app.conf > /mine/conf"]
                volumeMounts:
                - {name: out, mountPath: /mine, subPathExpr: "$(POD_NAME)/x"}
                - {name: scratch, mountPath: /in, subPath: inner}
                - {name: scratch, mountPath: /linked, subPath: link}
                - {name: settings, mountPath: /etc/app.conf, subPath: app.conf}
            """
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        #expect(PodTests.eventually(60) { (try? server.kubectlOK("get", "pod", "parts", "-o", "jsonpath={.status.phase}")) == "Succeeded" },
                "\(server.serverLog)")
        func read(_ name: String) -> String? { try? String(contentsOfFile: out + "/parts/x/" + name, encoding: .utf8) }
        #expect(read("f") == "mine\n")
        #expect(read("seen") == "inside\n")
        // A symlink that stays inside the volume is followed, as Kubernetes does.
        #expect(read("linked") == "inside\n")
        #expect(read("listing") == "f\n")
        // One key of a ConfigMap as one file.
        #expect(read("conf") == "level=3")
        // The kubelet's binds go with the pod.
        #expect(!Self.mounts(under: server.root).filter { $0.contains("volume-subpaths") }.isEmpty)
        try server.kubectlOK("delete", "pod", "parts")
        #expect(PodTests.eventually(20) { Self.mounts(under: server.root).filter { $0.contains("volume-subpaths") }.isEmpty })
        #expect(FileManager.default.fileExists(atPath: out + "/parts/x/f"))
    }

    /// An emptyDir of medium Memory is one tmpfs for the pod: what one container writes, another
    /// reads (here through a subPath of it); it goes with the pod.
    @Test func memoryEmptyDirIsOneTmpfsForThePod() throws {
        let server = try KubeServer()
        defer { PodTests.cleanUp(server); server.stop() }
        try PodTests.loadBusybox(server)
        let out = server.base + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: memory}
            spec:
              terminationGracePeriodSeconds: 1
              volumes: [{name: out, hostPath: {path: \(out)}}, {name: shm, emptyDir: {medium: Memory, sizeLimit: 8Mi}}]
              containers:
              - name: writer
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "mkdir -p /shm/a && echo shared > /shm/a/f.tmp && mv /shm/a/f.tmp /shm/a/f; grep ' /shm ' /proc/mounts > /out/mounts; exec sleep 3600"]
                volumeMounts: [{name: shm, mountPath: /shm}, {name: out, mountPath: /out}]
              - name: reader
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "while [ ! -e /part/f ]; do sleep 0.1; done; cat /part/f > /out/read; exec sleep 3600"]
                volumeMounts: [{name: shm, mountPath: /part, subPath: a}, {name: out, mountPath: /out}]
            """
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        #expect(PodTests.eventually(60) { FileManager.default.fileExists(atPath: out + "/read") }, "\(server.serverLog)")
        #expect((try? String(contentsOfFile: out + "/read", encoding: .utf8)) == "shared\n")
        let mounts = (try? String(contentsOfFile: out + "/mounts", encoding: .utf8)) ?? ""
        #expect(mounts.contains(" /shm tmpfs ") && mounts.contains("size=8192k"), "\(mounts)")
        try server.kubectlOK("delete", "pod", "memory")
        #expect(Self.mounts(under: server.root).isEmpty, "\(Self.mounts(under: server.root))")
    }

    /// The attack: one container plants symlinks to `/` and to `..` in a shared emptyDir; the
    /// pod's other containers mount them as subPaths. Without the defence they would see the host's
    /// root (and the kubelet's pod directory); with it they never start, with the kubelet's reason.
    @Test func aSymlinkedSubPathCannotReachTheHost() throws {
        let server = try KubeServer()
        defer { PodTests.cleanUp(server); server.stop() }
        try PodTests.loadBusybox(server)
        let out = server.base + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        // What a victim that got the host's root would find there.
        let marker = "marker-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        try "host".write(toFile: "/tmp/" + marker, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: "/tmp/" + marker) }
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: attack}
            spec:
              terminationGracePeriodSeconds: 1
              volumes: [{name: shared, emptyDir: {}}, {name: out, hostPath: {path: \(out)}}]
              initContainers:
              - name: plant
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "ln -s / /shared/root && ln -s .. /shared/up && mkdir /shared/d && ln -s ../../../../../../.. /shared/d/deep"]
                volumeMounts: [{name: shared, mountPath: /shared}]
              containers:
              - name: root
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "ls /host/tmp > /out/root; sleep 3600"]
                volumeMounts: [{name: shared, mountPath: /host, subPath: root}, {name: out, mountPath: /out}]
              - name: up
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "ls -R /host > /out/up; sleep 3600"]
                volumeMounts: [{name: shared, mountPath: /host, subPath: up}, {name: out, mountPath: /out}]
              - name: deep
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "ls /host/tmp > /out/deep; sleep 3600"]
                volumeMounts: [{name: shared, mountPath: /host, subPath: d/deep}, {name: out, mountPath: /out}]
            """
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        let reasons = "jsonpath={range .status.containerStatuses[*]}{.name}={.state.waiting.reason}{\"\\n\"}{end}"
        #expect(PodTests.eventually(60) {
            ((try? server.kubectlOK("get", "pod", "attack", "-o", reasons)) ?? "").split(separator: "\n").sorted()
                == ["deep=CreateContainerConfigError", "root=CreateContainerConfigError", "up=CreateContainerConfigError"]
        }, "\((try? server.kubectlOK("get", "pod", "attack", "-o", "yaml")) ?? "")")
        let message = try server.kubectlOK("get", "pod", "attack", "-o", "jsonpath={.status.containerStatuses[?(@.name==\"root\")].state.waiting.message}")
        #expect(message.hasPrefix("failed to prepare subPath for volumeMount \"shared\" of container \"root\": subpath \"root\" not within volume path"),
                "\(message)")
        // Nothing ran and nothing was bound: the host's files were never in reach.
        for name in ["root", "up", "deep"] { #expect(!FileManager.default.fileExists(atPath: out + "/" + name)) }
        #expect(Self.mounts(under: server.root).filter { $0.contains("volume-subpaths") }.isEmpty)
        try server.kubectlOK("delete", "pod", "attack")
    }
}
