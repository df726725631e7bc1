import Foundation
import TestSupport
import Testing

/// A Pod whose containers run, for the stream verbs' tests. The Pod object is made with kubectl;
/// its containers are the kubelet's when one runs it (Engine containers labelled for the Pod
/// appear within a few seconds). Without a kubelet the test makes them itself, as the kubelet's
/// contract names and labels them (`k8s_<container>_<pod>_<namespace>_<uid>_<restart>`), and
/// sets the Pod's status to Running through the API.
struct PodStreamFixture {
    let server: KubeServer
    let name: String
    let uid: String
    /// True when this test made the containers (no kubelet ran them).
    let fake: Bool

    struct Spec {
        var name: String
        var command: String
        var tty = false
        var stdin = false
    }

    static func busyboxLoaded(_ server: KubeServer) throws {
        try #require(BusyboxImage.failure == nil, "\(BusyboxImage.failure ?? "")")
        let loaded = try server.berth(["load", "-i", BusyboxImage.tar])
        try #require(loaded.status == 0, "berth load: \(loaded.stderr)")
        let id = try #require(loaded.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        try #require(try server.berth(["tag", id, "busybox:test"]).status == 0)
    }

    /// The Pod `name` with `containers`, made and running. `previousRuns` (without a kubelet):
    /// earlier runs of a container that printed the given text and exited.
    init(_ server: KubeServer, name: String, containers: [Spec], annotations: [String: String] = [:],
         previousRuns: [String: String] = [:], version: String = "1.33") throws {
        self.server = server
        self.name = name
        var manifest: [String: Any] = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": name, "annotations": annotations],
            "spec": ["containers": containers.map { spec -> [String: Any] in
                ["name": spec.name, "image": "busybox:test", "command": ["sh", "-c", spec.command], "tty": spec.tty, "stdin": spec.stdin]
            }],
        ]
        if annotations.isEmpty { manifest["metadata"] = ["name": name] }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: manifest), as: UTF8.self)
        try server.kubectlOK("create", "-f", "-", version: version, stdin: text)
        uid = try server.kubectlOK("get", "pod", name, "-o", "jsonpath={.metadata.uid}", version: version)
        try #require(!uid.isEmpty)
        // A kubelet, if one runs, makes the containers soon.
        var made = false
        for _ in 0..<30 {
            if !(try server.berth(["ps", "-aq", "--filter", "label=io.kubernetes.pod.uid=\(uid)"]).stdout.isEmpty) {
                made = true
                break
            }
            usleep(100_000)
        }
        fake = !made
        if fake {
            for spec in containers {
                var restart = 0
                if let earlier = previousRuns[spec.name] {
                    try run(spec, restart: 0, command: earlier, detach: false)
                    restart = 1
                }
                try run(spec, restart: restart, command: spec.command, detach: true)
            }
            let statuses = containers.map { spec -> [String: Any] in
                ["name": spec.name, "ready": true, "restartCount": previousRuns[spec.name] == nil ? 0 : 1, "image": "busybox:test",
                 "state": ["running": ["startedAt": "2026-01-01T00:00:00Z"]]]
            }
            let patch = String(decoding: try JSONSerialization.data(withJSONObject: ["status": ["phase": "Running", "containerStatuses": statuses]]), as: UTF8.self)
            let patched = try server.request("PATCH", "/api/v1/namespaces/default/pods/\(name)", headers: ["Content-Type: application/merge-patch+json"], body: patch)
            try #require(patched.status == 200, "set the Pod's status: \(patched.body)")
        }
        // Running, as kubectl port-forward and attach check.
        for _ in 0..<600 {
            if try server.kubectlOK("get", "pod", name, "-o", "jsonpath={.status.phase}", version: version) == "Running" { return }
            usleep(100_000)
        }
        Issue.record("pod \(name) did not become Running")
    }

    private func run(_ spec: Spec, restart: Int, command: String, detach: Bool) throws {
        var arguments = ["run", "--name", "k8s_\(spec.name)_\(name)_default_\(uid)_\(restart)",
                         "--label", "io.kubernetes.pod.name=\(name)", "--label", "io.kubernetes.pod.namespace=default",
                         "--label", "io.kubernetes.pod.uid=\(uid)", "--label", "io.kubernetes.container.name=\(spec.name)"]
        if detach { arguments.append("-d") }
        if spec.tty { arguments.append("-t") }
        if spec.stdin { arguments.append("-i") }
        let result = try server.berth(arguments + ["busybox:test", "sh", "-c", command])
        try #require(result.status == 0, "berth run: \(result.stderr)")
    }
}

extension KubeServer {
    /// The CLI on this server's root.
    func berth(_ arguments: [String], stdin: String? = nil) throws -> Output {
        try sh([KubeEnv.berth, "--root", root, "--runroot", runRoot] + arguments, stdin: stdin)
    }

    /// kubectl with extra environment (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false forces SPDY).
    func kubectl(_ arguments: [String], version: String, stdin: String? = nil, extraEnvironment: [String: String]) throws -> Output {
        var environment = self.environment
        for (key, value) in extraEnvironment { environment[key] = value }
        return try sh([KubeEnv.kubectl(version)] + arguments, stdin: stdin, environment: environment)
    }
}
