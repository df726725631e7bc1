import CLinuxSys
import Glibc
import LinuxSys

/// Runs a program to completion with `input` on its stdin and returns its status and output:
/// how a CNI plugin is called (config on stdin, result or error JSON on stdout).
struct PluginProcess {
    struct Output {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
    }

    static func run(_ argv: [String], environment: [String], input: [UInt8]) throws(NetworkError) -> Output {
        try start(argv, environment: environment, input: input).wait()
    }

    /// A started plugin: its input written, its output not yet read.
    struct Running {
        var pid: pid_t
        var stdout: Int32
        var stderr: Int32

        /// Reads its output until it ends; a plugin still running after `timeout` seconds (a hung
        /// netlink call, a stuck lock) is killed, so no command waits forever.
        func wait(timeout: Double = 120) -> Output {
            var out: [UInt8] = [], err: [UInt8] = []
            var open: [Int32] = [stdout, stderr]
            let deadline = MonotonicClock.seconds() + timeout
            var killed = false
            while !open.isEmpty {
                var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                let left = deadline - MonotonicClock.seconds()
                if left <= 0 && !killed {
                    Glibc.kill(pid, SIGKILL)
                    killed = true
                    err += Array("killed after \(Int(timeout)) s".utf8)
                }
                if poll(&fds, nfds_t(fds.count), killed ? -1 : Int32(min(left * 1000 + 1, 60_000))) < 0 {
                    if errno == EINTR { continue }
                    break
                }
                for entry in fds where entry.revents != 0 {
                    let chunk = (try? FS.read(entry.fd, max: 64 << 10)) ?? []
                    if chunk.isEmpty {
                        FS.close(entry.fd)
                        open.removeAll { $0 == entry.fd }
                    } else if entry.fd == stdout {
                        out += chunk
                    } else {
                        err += chunk
                    }
                }
            }
            open.forEach(FS.close)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return Output(status: ProcessSys.decode(status: status).shellStatus, stdout: out, stderr: err)
        }
    }

    /// Starts the program and hands it `input`; the caller may start others before it waits.
    static func start(_ argv: [String], environment: [String], input: [UInt8]) throws(NetworkError) -> Running {
        func pipe() throws(NetworkError) -> Pipe {
            do { return try FS.pipe() } catch { throw NetworkError("pipe", error) }
        }
        let stdinPipe = try pipe(), stdoutPipe = try pipe(), stderrPipe = try pipe()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe.read.raw, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe.write.raw, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe.write.raw, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = environment.map { strdup($0) } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attributes, &cArgs, &cEnv)
        // The child's ends are its own now.
        stdinPipe.read.close(); stdoutPipe.write.close(); stderrPipe.write.close()
        guard rc == 0 else { throw NetworkError("run \(argv[0])", SysError("spawn", argv[0], errno: rc)) }
        // A config is a few KiB, well under a pipe's buffer, but a plugin may exit without reading.
        var ignore = sigaction()
        var previous = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        sigaction(SIGPIPE, &ignore, &previous)
        try? FS.write(stdinPipe.write.raw, input)
        sigaction(SIGPIPE, &previous, nil)
        stdinPipe.write.close()
        return Running(pid: pid, stdout: stdoutPipe.read.take(), stderr: stderrPipe.read.take())
    }
}

