import Foundation
import TestSupport
import Testing

/// `kubectl run -it --rm` and `kubectl attach -it` driven as a person would, under a terminal (a pty):
/// what is typed reaches the container's shell, its output the terminal, kubectl exits with the
/// container's status and `--rm` deletes the Pod; with kubectl 1.33 (WebSockets) and 1.27 (SPDY).
@Suite(.serialized, .enabled(if: KubeEnv.ready && BusyboxImage.failure == nil && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")
                            && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
struct KubectlRunTests {
    /// Runs kubectl on a pty; once `prompt` appears in its output, types `input`. Ends it after 90 s.
    static let driver = """
        import os, pty, select, signal, sys, time
        prompt, data = sys.argv[1].encode(), sys.argv[2].encode()
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(sys.argv[3], sys.argv[3:])
        out, sent, deadline = b"", False, time.time() + 90
        while time.time() < deadline:
            if not sent and prompt in out:
                time.sleep(0.5)
                os.write(fd, data)
                sent = True
            ready, _, _ = select.select([fd], [], [], 0.2)
            if fd in ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        else:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        sys.stdout.buffer.write(out)
        sys.exit(os.waitstatus_to_exitcode(status))
        """

    static func underTerminal(_ server: KubeServer, _ arguments: [String], version: String, prompt: String, input: String) throws -> Output {
        try sh(server.inNetwork + ["/usr/bin/python3", "-c", driver, prompt, input, KubeEnv.kubectl(version)] + arguments,
               environment: server.environment)
    }

    @Test(arguments: KubeEnv.versions)
    func runInteractiveRemovesThePodAndExitsWithTheContainersStatus(version: String) throws {
        let server = try KubeServer()
        defer { PodTests.cleanUp(server); server.stop() }
        try PodTests.loadBusybox(server)
        let name = "run" + version.replacing(".", with: "")
        let prompt = "If you don't see a command prompt, try pressing enter."
        let run = try Self.underTerminal(server, ["run", name, "-it", "--rm", "--image=busybox:test", "--image-pull-policy=IfNotPresent",
                                                  "--restart=Never", "--", "sh"],
                                         version: version, prompt: prompt, input: "echo typed-$((6*7)); exit 3\r")
        #expect(run.stdout.contains("typed-42"), "\(run.stdout)\n\(server.serverLog)")
        #expect(run.status == 3, "\(run.stdout)")
        #expect(run.stdout.contains("pod \"\(name)\" deleted"), "\(run.stdout)")
        #expect(try server.kubectl(["get", "pod", name]).stderr.contains("NotFound"))

        // attach -it to a pod that waits on its terminal.
        let attached = name + "-a"
        try server.kubectlOK("apply", "-f", "-", stdin: """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(attached)}
            spec:
              restartPolicy: Never
              terminationGracePeriodSeconds: 1
              containers:
              - {name: c, image: busybox:test, imagePullPolicy: IfNotPresent, command: [sh], stdin: true, tty: true}
            """)
        let waited = try server.kubectl(["wait", "--for=condition=Ready", "pod/" + attached, "--timeout=60s"])
        try #require(waited.status == 0, "\(waited.stderr)")
        let attach = try Self.underTerminal(server, ["attach", "-it", attached], version: version, prompt: prompt,
                                            input: "echo attached-$((6*7)) $(hostname); exit 4\r")
        #expect(attach.stdout.contains("attached-42 \(attached)"), "\(attach.stdout)")
        #expect(PodTests.eventually(30) {
            (try? server.kubectlOK("get", "pod", attached, "-o", "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}")) == "4"
        })
        try server.kubectlOK("delete", "pod", attached)
    }
}
