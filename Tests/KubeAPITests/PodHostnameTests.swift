import Foundation
import TestSupport
import Testing

/// One UTS namespace per Pod, the sandbox's: every container has the Pod's hostname, and a change
/// made in one (a privileged container's `hostname`) is seen by the others; hostNetwork Pods keep
/// the host's UTS namespace.
@Suite(.serialized, .enabled(if: KubeEnv.ready && BusyboxImage.failure == nil && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")))
struct PodHostnameTests {
    @Test func containersShareThePodsUTSNamespace() throws {
        let server = try KubeServer()
        defer { PodTests.cleanUp(server); server.stop() }
        try PodTests.loadBusybox(server)
        let out = server.base + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        func container(_ name: String, _ script: String, privileged: Bool = false) -> String {
            """
              - name: \(name)
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "readlink /proc/self/ns/uts > /out/$(POD)-\(name).ns; \(script); exec sleep 3600"]
                env: [{name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
                volumeMounts: [{name: out, mountPath: /out}]\(privileged ? "\n    securityContext: {privileged: true}" : "")
            """
        }
        func pod(_ name: String, _ extra: String, _ containers: [String]) -> String {
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name)}
            spec:
              terminationGracePeriodSeconds: 1
              \(extra)
              volumes: [{name: out, hostPath: {path: \(out)}}]
              containers:
            \(containers.joined(separator: "\n"))
            """
        }
        let manifest = [
            pod("names", "hostNetwork: false", [
                container("watcher", "hostname > /out/before; while [ ! -e /out/renamed ]; do sleep 0.1; done; hostname > /out/after"),
                container("renamer", "hostname > /out/renamer; hostname renamed-in-pod && touch /out/renamed", privileged: true),
            ]),
            pod("chosen", "hostname: picked\n  subdomain: sub", [container("c", "hostname > /out/chosen; grep picked /etc/hosts > /out/chosen-hosts")]),
            pod("onhost", "hostNetwork: true", [container("c", "hostname > /out/onhost")]),
        ].joined(separator: "\n---\n")
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        let waited = try server.kubectl(["wait", "--for=condition=Ready", "pod/names", "pod/chosen", "pod/onhost", "--timeout=90s"])
        try #require(waited.status == 0, "kubectl wait: \(waited.stderr)\n\(server.serverLog)")
        func read(_ name: String) -> String {
            (try? String(contentsOfFile: out + "/" + name, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        #expect(PodTests.eventually(20) { !read("after").isEmpty })
        #expect(read("before") == "names")
        #expect(read("renamer") == "names")
        // The privileged container renamed the pod's UTS namespace: the other container sees it.
        #expect(read("after") == "renamed-in-pod")
        #expect(read("names-watcher.ns") == read("names-renamer.ns") && read("names-watcher.ns").hasPrefix("uts:["))
        // spec.hostname names the pod's host.
        #expect(read("chosen") == "picked")
        let address = try server.kubectlOK("get", "pod", "chosen", "-o", "jsonpath={.status.podIP}")
        #expect(read("chosen-hosts") == "\(address)\tpicked.sub.default.svc.cluster.local picked", "\(read("chosen-hosts"))")
        // hostNetwork: the host's own UTS namespace (and so its name), not a copy.
        let hostNamespace = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/uts")) ?? "?"
        #expect(read("onhost-c.ns") == hostNamespace)
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        #expect(read("onhost") == String(cString: buffer))
        #expect(read("names-watcher.ns") != hostNamespace)
        try server.kubectlOK("delete", "pod", "names", "chosen", "onhost")
    }
}
