import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// Runs OCI hooks: each one a program given the container's state JSON on stdin, which must exit 0
/// within its `timeout` seconds. Called from the runtime's namespaces (prestart, createRuntime,
/// poststart, poststop) or from the container's (createContainer, startContainer).
enum HookRunner {
    static func run(_ hooks: [Hook]?, phase: String, state: OCI.State) throws(RuntimeError) {
        guard let hooks, !hooks.isEmpty else { return }
        let input = encodeCompact(state)
        for (index, hook) in hooks.enumerated() {
            do {
                try run(hook, input: input)
            } catch {
                throw RuntimeError("\(phase) hook #\(index) (\(hook.path)) failed: \(error.message)")
            }
        }
    }

    static func run(_ hook: Hook, input: [UInt8]) throws(RuntimeError) {
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw SysError("pipe").context("hook stdin") }
        _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        let pid = fork()
        if pid < 0 {
            FS.close(pipeFDs[0]); FS.close(pipeFDs[1])
            throw SysError("fork").context("start hook")
        }
        if pid == 0 {
            _ = dup2(pipeFDs[0], 0)
            let args = (hook.args?.isEmpty ?? true) ? [hook.path] : hook.args!
            let error = ProcessSys.exec(hook.path, args: args, env: hook.env ?? [])
            let message = "exec \(hook.path): \(error)\n"
            _ = message.withCString { Glibc.write(2, $0, strlen($0)) }
            _exit(127)
        }
        FS.close(pipeFDs[0])
        // A hook that does not read its stdin must not block us: ignore EPIPE.
        let previous = signal(SIGPIPE, SIG_IGN)
        try? FS.write(pipeFDs[1], input)
        FS.close(pipeFDs[1])
        signal(SIGPIPE, previous)

        let exit = try wait(pid, timeoutSeconds: hook.timeout)
        switch exit {
        case .exited(0): return
        case .exited(let code): throw RuntimeError("exit status \(code)")
        case .signaled(let signal): throw RuntimeError("killed by signal \(signal)")
        }
    }

    /// Waits for a hook, killing it when its timeout passes.
    private static func wait(_ pid: pid_t, timeoutSeconds: Int?) throws(RuntimeError) -> ProcessSys.Exit {
        guard let timeoutSeconds else {
            do { return try ProcessSys.wait(pid) } catch { throw error.context("wait for hook") }
        }
        let pidfd = berth_pidfd_open(pid, 0)
        let deadline = Clock.monotonicMilliseconds() + Int64(timeoutSeconds) * 1000
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { if pidfd >= 0 { FS.close(pidfd) }; return ProcessSys.decode(status: status) }
            if result < 0 && errno != EINTR { throw SysError("waitpid").context("wait for hook") }
            let remaining = deadline - Clock.monotonicMilliseconds()
            if remaining <= 0 {
                _ = kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                if pidfd >= 0 { FS.close(pidfd) }
                throw RuntimeError("timed out after \(timeoutSeconds)s")
            }
            if pidfd >= 0 {
                _ = try? Poll.wait(pidfd, timeoutMilliseconds: Int32(min(remaining, 1000)))
            } else {
                usleep(10_000)
            }
        }
    }
}
