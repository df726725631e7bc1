import Foundation
import TestSupport
import Testing

/// kubectl's stream verbs against `berth serve`: logs, exec (WebSocket with kubectl 1.33, SPDY
/// with 1.27 and with 1.33 told not to use WebSockets), attach; what kubectl prints and exits with.
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct PodStreamTests {
    static let spdy = ["KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"]

    @Test(arguments: KubeEnv.versions)
    func logs(version: String) throws {
        let server = try KubeServer()
        defer {
            server.removeAllContainers()
            server.stop()
        }
        try PodStreamFixture.busyboxLoaded(server)
        let pod = try PodStreamFixture(server, name: "logger", containers: [
            // Apart in time: the log's order between stdout and stderr is the order lines reached it.
            .init(name: "main", command: "echo one; sleep 0.3; echo two >&2; sleep 0.3; echo three; sleep 3600"),
            .init(name: "side", command: "echo side says hi; sleep 3600"),
        ], annotations: ["kubectl.kubernetes.io/default-container": "side"], previousRuns: ["main": "echo earlier run"], version: version)
        // The Pod's logs once the containers have written them.
        var text = ""
        for _ in 0..<50 {
            text = try server.kubectlOK("logs", "logger", "-c", "main", version: version)
            if text == "one\ntwo\nthree\n" { break }
            usleep(100_000)
        }
        // stdout and stderr in the order written, as one stream.
        #expect(text == "one\ntwo\nthree\n")
        // No -c: the default-container annotation picks "side" (kubectl says nothing more when it does).
        #expect(try server.kubectlOK("logs", "logger", version: version) == "side says hi\n")
        #expect(try server.kubectlOK("logs", "pod/logger", "-c", "main", "--tail=1", version: version) == "three\n")
        #expect(try server.kubectlOK("logs", "logger", "-c", "main", "--tail=0", version: version) == "")
        #expect(try server.kubectlOK("logs", "logger", "-c", "main", "--limit-bytes=6", version: version) == "one\ntw")
        // The kubelet's timestamps: RFC 3339, UTC, nine fraction digits.
        let stamped = try server.kubectlOK("logs", "logger", "-c", "main", "--timestamps", version: version)
        let lines = stamped.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        let pattern = try Regex(#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one$"#)
        #expect(lines.first.map { $0.wholeMatch(of: pattern) != nil } == true, "\(stamped)")
        // Since a time after the lines: nothing; since an hour ago: everything.
        #expect(try server.kubectlOK("logs", "logger", "-c", "main", "--since-time=2099-01-01T00:00:00Z", version: version) == "")
        #expect(try server.kubectlOK("logs", "logger", "-c", "main", "--since=1h", version: version) == "one\ntwo\nthree\n")
        if pod.fake {
            #expect(try server.kubectlOK("logs", "logger", "-c", "main", "--previous", version: version) == "earlier run\n")
            let none = try server.kubectl(["logs", "logger", "-c", "side", "--previous"], version: version)
            #expect(none.status == 1)
            #expect(none.stderr == "Error from server (BadRequest): previous terminated container \"side\" in pod \"logger\" not found\n", "\(none.stderr)")
        }
        // A container the Pod does not have: kubectl finds out from the Pod; the API says it with the apiserver's 400.
        let wrong = try server.kubectl(["logs", "logger", "-c", "nope"], version: version)
        #expect(wrong.status == 1)
        #expect(wrong.stderr == "error: container nope is not valid for pod logger\n", "\(wrong.stderr)")
        let wrongRaw = try server.request("GET", "/api/v1/namespaces/default/pods/logger/log?container=nope")
        #expect(wrongRaw.status == 400)
        let status = try server.object(wrongRaw.body)
        #expect(status.string("reason") == "BadRequest")
        #expect(status.string("message") == "container nope is not valid for pod logger")
        let missing = try server.kubectl(["logs", "ghost"], version: version)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("pods \"ghost\" not found"), "\(missing.stderr)")
        // Without a container on the raw API (the annotation is kubectl's): the list to choose from.
        let unnamed = try server.request("GET", "/api/v1/namespaces/default/pods/logger/log")
        #expect(unnamed.status == 400)
        #expect(try server.object(unnamed.body).string("message") == "a container name must be specified for pod logger, choose one of: [main side]")
    }

    /// `logs -f` follows until the container ends.
    @Test(arguments: KubeEnv.versions)
    func logsFollow(version: String) throws {
        let server = try KubeServer()
        defer {
            server.removeAllContainers()
            server.stop()
        }
        try PodStreamFixture.busyboxLoaded(server)
        _ = try PodStreamFixture(server, name: "ticker", containers: [
            .init(name: "main", command: "for i in 1 2 3 4; do echo tick $i; sleep 1; done"),
        ], version: version)
        let started = Date()
        let followed = try server.kubectlOK("logs", "-f", "ticker", version: version)
        #expect(followed == "tick 1\ntick 2\ntick 3\ntick 4\n")
        // It waited for the later lines (the container was still writing when it began).
        #expect(Date().timeIntervalSince(started) > 1)
    }

    @Test(arguments: [("1.33", false), ("1.33", true), ("1.27", true)])
    func exec(version: String, spdy: Bool) throws {
        let server = try KubeServer()
        defer {
            server.removeAllContainers()
            server.stop()
        }
        let environment = spdy ? Self.spdy : [:]
        try PodStreamFixture.busyboxLoaded(server)
        _ = try PodStreamFixture(server, name: "shell", containers: [.init(name: "main", command: "sleep 3600")], version: version)
        let plain = try server.kubectl(["exec", "shell", "--", "sh", "-c", "echo out; echo err >&2"], version: version, extraEnvironment: environment)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout == "out\n")
        #expect(plain.stderr == "err\n")
        // A non-zero exit: kubectl's words and its status.
        let failing = try server.kubectl(["exec", "shell", "-c", "main", "--", "sh", "-c", "echo bye; exit 3"], version: version, extraEnvironment: environment)
        #expect(failing.status == 3)
        #expect(failing.stdout == "bye\n")
        #expect(failing.stderr == "command terminated with exit code 3\n", "\(failing.stderr)")
        // -i: stdin to the command, its end the command's end of input.
        let input = try server.kubectl(["exec", "-i", "shell", "--", "sh", "-c", "tr a-z A-Z; echo done"], version: version, stdin: "hello\nworld\n",
                                       extraEnvironment: environment)
        #expect(input.status == 0, "\(input.stderr)")
        #expect(input.stdout == "HELLO\nWORLD\ndone\n")
        // -it under a terminal (script gives kubectl one): a pty in the container, its size sent
        // (on the resize channel once the process has started: the shell waits for it).
        let command = "\(KubeEnv.kubectl(version)) exec -it shell -- sh -c 'test -t 0 && test -t 1 && echo on-a-tty; sleep 1; stty size'"
        var terminalEnvironment = server.environment
        for (key, value) in environment { terminalEnvironment[key] = value }
        terminalEnvironment["COLUMNS"] = "100"
        terminalEnvironment["LINES"] = "40"
        let terminal = try sh(["/usr/bin/script", "-qec", "stty cols 100 rows 40; " + command, "/dev/null"], stdin: "", environment: terminalEnvironment)
        #expect(terminal.status == 0, "\(terminal.stdout) \(terminal.stderr)")
        #expect(terminal.stdout.contains("on-a-tty"), "\(terminal.stdout)")
        #expect(terminal.stdout.contains("40 100"), "\(terminal.stdout)")
        // A command that is not there: the runtime's failure, as the kubelet reports it.
        let absent = try server.kubectl(["exec", "shell", "--", "/no/such/program"], version: version, extraEnvironment: environment)
        #expect(absent.status == 1)
        #expect(absent.stderr.hasPrefix("error: Internal error occurred: error executing command in container: "), "\(absent.stderr)")
        #expect(absent.stderr.contains("/no/such/program"), "\(absent.stderr)")
        // Discovery lists the Pod's stream subresources after pods, as the apiserver does.
        let core = try server.object(try server.request("GET", "/api/v1").body)
        let names = (core["resources"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names.contains("pods/exec") && names.contains("pods/log") && names.contains("pods/portforward") && names.contains("pods/attach"), "\(names)")
        // On the raw API: a request that is no upgrade, and a Pod whose container never starts (its image cannot be pulled).
        let plainGET = try server.request("GET", "/api/v1/namespaces/default/pods/shell/exec?command=true&stdout=true")
        #expect(plainGET.status == 400)
        #expect(try server.object(plainGET.body).string("message") == "Upgrade request required")
        try server.kubectlOK("create", "-f", "-", version: version, stdin: #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bare"},"spec":{"containers":[{"name":"main","image":"berth.invalid/never:0"}]}}"#)
        let notStarted = try server.request("POST", "/api/v1/namespaces/default/pods/bare/exec?command=true&stdout=true")
        #expect(notStarted.status == 404)
        #expect(try server.object(notStarted.body).string("message") == #"container not found ("main")"#)
        // A container the Pod does not have.
        let wrong = try server.kubectl(["exec", "shell", "-c", "nope", "--", "true"], version: version, extraEnvironment: environment)
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("container nope is not valid for pod shell") || wrong.stderr.contains("container nope not found in pod shell"),
                "\(wrong.stderr)")
    }

    @Test(arguments: [("1.33", false), ("1.33", true), ("1.27", true)])
    func attach(version: String, spdy: Bool) throws {
        let server = try KubeServer()
        defer {
            server.removeAllContainers()
            server.stop()
        }
        try PodStreamFixture.busyboxLoaded(server)
        _ = try PodStreamFixture(server, name: "talker", containers: [
            .init(name: "main", command: "sleep 2; for i in 1 2 3; do echo line $i; echo warn $i >&2; sleep 1; done"),
        ], version: version)
        let attached = try server.kubectl(["attach", "talker", "-c", "main"], version: version, extraEnvironment: spdy ? Self.spdy : [:])
        #expect(attached.status == 0, "\(attached.stderr)")
        #expect(attached.stdout.contains("line 3\n"), "\(attached.stdout)")
        #expect(attached.stderr.contains("warn 3\n"), "\(attached.stderr)")
        // -i: the client's input to the container's stdin (a container made with stdin open).
        _ = try PodStreamFixture(server, name: "listener", containers: [
            .init(name: "main", command: "sleep 2; read line; echo got: $line; sleep 1", stdin: true),
        ], version: version)
        let interactive = try server.kubectl(["attach", "-i", "listener"], version: version, stdin: "hello there\n",
                                             extraEnvironment: spdy ? Self.spdy : [:])
        #expect(interactive.stdout.contains("got: hello there\n"), "\(interactive.stdout) \(interactive.stderr)")
        // -it to a container with a terminal, under one (script gives kubectl one): keys in, the
        // screen out, the terminal's size sent as kubectl's resize (on a stream of its own: the shell waits a moment for it).
        _ = try PodStreamFixture(server, name: "console", containers: [
            .init(name: "main", command: "read line; echo got $line; sleep 1; stty size; sleep 1", tty: true, stdin: true),
        ], version: version)
        var environment = server.environment
        if spdy { for (key, value) in Self.spdy { environment[key] = value } }
        let command = "stty cols 90 rows 30; sleep 1; \(KubeEnv.kubectl(version)) attach -it console"
        let terminal = try sh(["/usr/bin/script", "-qec", command, "/dev/null"], stdin: "typed words\n", environment: environment)
        #expect(terminal.stdout.contains("got typed words"), "\(terminal.stdout) \(terminal.stderr)")
        #expect(terminal.stdout.contains("30 90"), "\(terminal.stdout)")
    }
}

/// kubectl port-forward: a local port to a port on the Pod's loopback (its network namespace),
/// over a WebSocket tunnel (1.33), SPDY (1.27, and 1.33 told not to use WebSockets).
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct PortForwardTests {
    @Test(arguments: [("1.33", false), ("1.33", true), ("1.27", true)])
    func portForward(version: String, spdy: Bool) throws {
        let server = try KubeServer()
        defer {
            server.removeAllContainers()
            server.stop()
        }
        try PodStreamFixture.busyboxLoaded(server)
        // Listening on the Pod's loopback only: reached from inside its namespace, not through any address.
        _ = try PodStreamFixture(server, name: "web", containers: [
            .init(name: "httpd", command: "mkdir -p /www && echo hello from the pod > /www/index.html && exec httpd -f -p 127.0.0.1:80 -h /www"),
        ], version: version)
        let local = try KubeServer.freePort()
        var environment = server.environment
        if spdy { environment["KUBECTL_PORT_FORWARD_WEBSOCKETS"] = "false" }
        let output = server.base + "/port-forward.out"
        let pid = try spawn([KubeEnv.kubectl(version), "port-forward", "pod/web", "\(local):80"], stdout: output, environment: environment)
        defer {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        var said = ""
        for _ in 0..<100 {
            said = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if said.contains("Forwarding from") { break }
            usleep(100_000)
        }
        #expect(said.contains("Forwarding from 127.0.0.1:\(local) -> 80"), "\(said)")
        // Twice: each connection is a stream pair of its own on the one connection.
        for _ in 0..<2 {
            let fetched = try sh([KubeEnv.curl, "-s", "--max-time", "20", "http://127.0.0.1:\(local)/"])
            #expect(fetched.status == 0, "\(fetched.stderr) \(said)")
            #expect(fetched.stdout == "hello from the pod\n")
        }
    }
}

/// kubectl cp (tar through exec, both ways) and kubectl top pod (metrics.k8s.io from the cgroups).
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct CopyAndTopTests {
    @Test(arguments: KubeEnv.versions)
    func copyBothWays(version: String) throws {
        let server = try KubeServer()
        defer {
            server.removeAllContainers()
            server.stop()
        }
        try PodStreamFixture.busyboxLoaded(server)
        _ = try PodStreamFixture(server, name: "box", containers: [.init(name: "main", command: "sleep 3600")], version: version)
        let local = server.base + "/tree"
        try FileManager.default.createDirectory(atPath: local + "/sub", withIntermediateDirectories: true)
        try "top file\n".write(toFile: local + "/a.txt", atomically: true, encoding: .utf8)
        try "nested file\n".write(toFile: local + "/sub/b.txt", atomically: true, encoding: .utf8)
        try server.kubectlOK("cp", local, "box:/tmp/tree", version: version)
        #expect(try server.kubectlOK("exec", "box", "--", "cat", "/tmp/tree/a.txt", "/tmp/tree/sub/b.txt", version: version) == "top file\nnested file\n")
        try server.kubectlOK("exec", "box", "--", "sh", "-c", "echo made inside > /tmp/tree/sub/c.txt", version: version)
        let back = server.base + "/back"
        try server.kubectlOK("cp", "box:/tmp/tree", back, version: version)
        #expect(try String(contentsOfFile: back + "/sub/c.txt", encoding: .utf8) == "made inside\n")
        #expect(try String(contentsOfFile: back + "/a.txt", encoding: .utf8) == "top file\n")
    }

    @Test(arguments: KubeEnv.versions)
    func topPod(version: String) throws {
        let server = try KubeServer()
        defer {
            server.removeAllContainers()
            server.stop()
        }
        try PodStreamFixture.busyboxLoaded(server)
        // One container busy (a shell loop), one idle: the busy one shows CPU time.
        _ = try PodStreamFixture(server, name: "busy", containers: [
            .init(name: "spin", command: "while true; do :; done"), .init(name: "idle", command: "sleep 3600"),
        ], version: version)
        let resources = try server.kubectlOK("api-resources", "--api-group=metrics.k8s.io", "--no-headers", version: version)
        #expect(resources.contains("pods") && resources.contains("PodMetrics"), "\(resources)")
        let table = try server.kubectlOK("top", "pod", version: version)
        let lines = table.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.first == ["NAME", "CPU(cores)", "MEMORY(bytes)"], "\(table)")
        let row = try #require(lines.first { $0.first == "busy" }, "\(table)")
        // A busy loop uses most of a core: hundreds of millicores.
        let millicores = Int(row[1].dropLast()) ?? 0
        #expect(row[1].hasSuffix("m") && millicores > 200, "\(table)")
        #expect(row[2].hasSuffix("Mi"), "\(table)")
        let containers = try server.kubectlOK("top", "pod", "busy", "--containers", version: version)
        #expect(containers.contains("spin") && containers.contains("idle"), "\(containers)")
        // The PodMetrics object as metrics-server serves it.
        let raw = try server.request("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy")
        #expect(raw.status == 200)
        let object = try server.object(raw.body)
        #expect(object.string("kind") == "PodMetrics")
        #expect(object.string("metadata.name") == "busy")
        #expect((object["containers"] as? [[String: Any]])?.count == 2)
        let missing = try server.request("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/ghost")
        #expect(missing.status == 404)
        // The Node's metrics: this machine, by its hostname.
        let nodes = try server.object(try server.request("GET", "/apis/metrics.k8s.io/v1beta1/nodes").body)
        let items = try #require(nodes["items"] as? [[String: Any]])
        #expect(items.count == 1)
        #expect((items.first?.at("usage.memory") as? String)?.hasSuffix("Ki") == true)
        // kubectl top node: the metrics against the Node's allocatable.
        let nodeTable = try server.kubectlOK("top", "node", version: version)
        let nodeLines = nodeTable.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        // (kubectl 1.27 heads its percentages CPU% and MEMORY%.)
        #expect(nodeLines.first == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
                || nodeLines.first == ["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"], "\(nodeTable)")
        #expect(nodeLines.count == 2 && nodeLines[1].count == 5 && nodeLines[1][2].hasSuffix("%"), "\(nodeTable)")
        #expect(try server.kubectlOK("get", "nodes", "-o", "name", version: version) == "node/\(nodeLines[1][0])\n")
    }
}
