import ContainerSpec
import Engine
import Glibc
import GoCompat
import LinuxSys

/// Commands run in a pod's container (lifecycle hooks, exec probes) through the Engine's exec, with
/// a time limit: past it the process is killed, as the kubelet's exec with a timeout.
extension Kubelet {
    struct ExecResult {
        /// nil when it could not run or timed out.
        var exitCode: Int32?
        var output: String
        var timedOut = false
    }

    func execIn(_ container: Container, _ command: [String], timeout: Double) -> ExecResult {
        guard !command.isEmpty else { return ExecResult(exitCode: nil, output: "no command") }
        let outputPath = podDirectory(container.options.labels[PodContainerName.Label.podUID] ?? "none") + "/exec-\(container.shortID)-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try FS.mkdirAll(String(outputPath[..<outputPath.lastIndex(of: "/")!]), mode: 0o700)
        } catch {
            return ExecResult(exitCode: nil, output: "\(error)")
        }
        let output = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            if output >= 0 { close(output) }
            if null >= 0 { close(null) }
            unlink(outputPath)
        }
        guard output >= 0, null >= 0 else { return ExecResult(exitCode: nil, output: "open exec output: errno \(errno)") }
        let request = ExecRequest(command: command)
        let session: ExecSession
        do {
            let id = try engine.createExec(container, request)
            session = try engine.startExec(container, request, id: id, stdio: ExecDescriptors(stdin: null, stdout: output, stderr: output))
        } catch {
            return ExecResult(exitCode: nil, output: error.message)
        }
        final class Done: @unchecked Sendable {
            let lock = ConditionLock()
            var status: Int32?
        }
        let done = Done()
        Threads.detach {
            let status = session.wait()
            done.lock.withLock {
                done.status = status
                done.lock.broadcast()
            }
        }
        let deadline = MonotonicClock.seconds() + timeout
        var status = done.lock.withLock { () -> Int32? in
            while done.status == nil {
                let left = deadline - MonotonicClock.seconds()
                if left <= 0 { break }
                _ = done.lock.wait(timeoutSeconds: left)
            }
            return done.status
        }
        var timedOut = false
        if status == nil {
            timedOut = true
            _ = kill(session.pid, SIGKILL)
            status = nil
        }
        let text = (try? FS.readText(outputPath)) ?? ""
        return ExecResult(exitCode: status, output: String(text.suffix(1024)), timedOut: timedOut)
    }
}
