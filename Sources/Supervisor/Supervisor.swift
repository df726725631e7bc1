import ContainerNetwork
import CLinuxSys
import ContainerRuntime
import ContainerSpec
import Glibc
import LinuxSys
import OCI

/// One container's supervisor, the role conmon plays for Podman: a small single-threaded process
/// that outlives the CLI. It creates and starts the container with the runtime library (so the
/// container's init is its child), holds the container's stdio (pipes, or a pty master with -t),
/// writes the json-file log, serves attach clients on a unix socket, records every state change in
/// `ContainerRunState`, and applies the restart policy. No threads: one poll loop.
public final class Supervisor {
    let runDirectory: String
    let config: SupervisorConfig
    let runtime: OCIRuntime
    var state: ContainerRunState
    /// nil with `--log-driver none`.
    var log: JSONFileLogWriter?
    var listener: Int32 = -1
    var signalFD: Int32 = -1
    /// Readable when `stop` has asked us to stop the container (`SupervisorConfig.stopNotifySignal`).
    var stopFD: Int32 = -1
    var devNull: Int32 = -1
    /// Where the first start's outcome goes (the engine waits for it); closed once written.
    var readyFD: Int32?
    var clients: [AttachClient] = []
    /// The client the launching CLI holds (`run` in the foreground). When it receives the exit
    /// status, that CLI cleans up (`--rm`) itself, so the exit command is not run twice.
    var launcherFD: Int32 = -1
    var launcherGotExit = false

    // The current run.
    var outputs: [(fd: Int32, stream: LogStream)] = []
    /// Our end of the container's stdin: a pipe's write end, or the pty master.
    var stdinFD: Int32 = -1
    var master: Int32 = -1
    var pendingStdin: [UInt8] = []
    var initPid: pid_t = 0
    var exitStatus: Int32?
    var runStarted = 0.0
    var healthMonitor: HealthMonitor?
    /// A `StopRequest` is being carried out in this run: its exit is recorded as a `stop`.
    var stopping = false
    /// When the stop signal has had its time and every process of the container gets SIGKILL.
    var killDeadline: Double?
    /// The container's memory cgroup, watched for OOMs during the run (Docker's `oom` event).
    var oomWatch: OOMWatch?

    final class AttachClient {
        let fd: Int32
        var reader = AttachFrameReader()
        var pending: [UInt8] = []
        /// This client's stdin feeds the container (the first one with -i).
        var feedsStdin: Bool
        init(fd: Int32, feedsStdin: Bool) {
            self.fd = fd
            self.feedsStdin = feedsStdin
        }
    }

    init(runDirectory: String, config: SupervisorConfig, readyFD: Int32?) throws(SupervisorError) {
        self.runDirectory = runDirectory
        self.config = config
        self.runtime = OCIRuntime(root: config.runtimeRoot)
        self.readyFD = readyFD
        state = ContainerRunState.load(config.statePath) ?? ContainerRunState(status: .starting)
        // A supervisor is started for a start by a person (start, restart, run, boot), which resets
        // Docker's restart manager: an on-failure:N container gets its N retries again.
        state.restartCount = 0
        state.handlesStopRequests = true
        log = config.logDisabled == true ? nil
            : try JSONFileLogWriter(path: config.logPath, maxSize: config.logMaxSize, maxFiles: config.logMaxFiles)
    }

    /// `berth-supervisor RUNDIR [--ready-fd N] [--attach-fd N]`: the process's whole life.
    public static func main(_ arguments: [String]) -> Int32 {
        var positional: [String] = []
        var readyFD: Int32?
        var attachFD: Int32?
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if (argument == "--ready-fd" || argument == "--attach-fd"), index + 1 < arguments.count, let fd = Int32(arguments[index + 1]) {
                if argument == "--ready-fd" { readyFD = fd } else { attachFD = fd }
                index += 2
                continue
            }
            positional.append(argument)
            index += 1
        }
        guard positional.count == 1 else {
            _ = try? FS.write(2, Array("usage: berth-supervisor RUNDIR [--ready-fd N] [--attach-fd N]\n".utf8))
            return 2
        }
        // Nothing else the engine had open may reach the container.
        let keep = max(readyFD ?? 2, attachFD ?? 2)
        _ = berth_close_range(UInt32(keep + 1), UInt32.max, 0)
        let runDirectory = positional[0]
        do {
            // The supervisor makes the container's init and runs health probes in it: it must run
            // from a sealed copy of itself (CVE-2019-5736). The engine starts it from one already.
            try SealedExecutable.reexecIfNeeded(arguments)
            let config = try SupervisorConfig.load(runDirectory: runDirectory)
            let supervisor = try Supervisor(runDirectory: runDirectory, config: config, readyFD: readyFD)
            if let attachFD {
                _ = fcntl(attachFD, F_SETFL, fcntl(attachFD, F_GETFL) | O_NONBLOCK)
                _ = fcntl(attachFD, F_SETFD, FD_CLOEXEC)
                supervisor.clients.append(AttachClient(fd: attachFD, feedsStdin: config.openStdin))
                supervisor.launcherFD = attachFD
            }
            return supervisor.run()
        } catch {
            if let readyFD { _ = try? FS.write(readyFD, Array("error\t125\t\(error)\n".utf8)) }
            _ = try? FS.write(2, Array("berth-supervisor: \(error)\n".utf8))
            return 1
        }
    }

    // MARK: - Life

    func run() -> Int32 {
        setUp()
        var first = true
        while true {
            do {
                try startContainer()
            } catch {
                let message = "\(error)"
                state.status = .exited
                state.error = message
                state.exitCode = Self.exitCode(forStartFailure: error.startFailure)
                state.finishedAt = Clock.rfc3339Nano()
                state.pid = 0
                try? state.save(config.statePath)
                broadcastExit(state.exitCode)
                if first { report("error\t\(state.exitCode)\t\(message)") }
                break
            }
            if first { report("ok\t\(initPid)") }
            first = false
            pump()
            finishRun()
            guard shouldRestart(), waitBeforeRestart() else { break }
            state.restartCount += 1
        }
        tearDown()
        return 0
    }

    /// Docker's statuses for a container whose process could not be started: 127 its executable
    /// is not there, 126 it cannot be executed, 128 anything else (a mount, a cgroup, a hook).
    static func exitCode(forStartFailure kind: RuntimeError.Kind) -> Int32 {
        switch kind {
        case .executableNotFound: return 127
        case .executableNotRunnable: return 126
        case .other: return 128
        }
    }

    func setUp() {
        // First: the stop signal's default action would end us, and our pid goes into the state
        // (where `stop` finds it) only after this.
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGCHLD)
        sigaddset(&mask, SupervisorConfig.stopNotifySignal)
        sigprocmask(SIG_BLOCK, &mask, nil)
        var childMask = sigset_t()
        sigemptyset(&childMask)
        sigaddset(&childMask, SIGCHLD)
        signalFD = berth_signalfd(&childMask)
        var stopMask = sigset_t()
        sigemptyset(&stopMask)
        sigaddset(&stopMask, SupervisorConfig.stopNotifySignal)
        stopFD = berth_signalfd(&stopMask)
        _ = berth_prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        signal(SIGPIPE, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        devNull = (try? FS.open("/dev/null", O_RDWR | O_CLOEXEC)) ?? -1
        try? Log.shared.configure(path: runDirectory + "/runtime.log", format: .json, debug: false)
        _ = unlink(config.attachSocket)
        listener = berth_listen_unix(config.attachSocket, 16)
        if listener >= 0 { _ = chmod(config.attachSocket, 0o600) }
        state.supervisorPid = getpid()
        state.supervisorStartTime = ProcessSys.startTime(getpid()) ?? 0
    }

    func report(_ line: String) {
        guard let fd = readyFD else { return }
        _ = try? FS.write(fd, Array((line + "\n").utf8))
        FS.close(fd)
        readyFD = nil
    }

    // MARK: - Start

    /// Creates the container with its stdio on our pipes (or a pty), and starts it.
    func startContainer() throws(SupervisorError) {
        // A runtime record left by a supervisor killed with -9 is in the way of the new create.
        try? runtime.delete(id: config.id, force: true)
        state.status = .starting
        state.error = ""
        exitStatus = nil
        stopping = false
        killDeadline = nil
        var options = CreateOptions(bundle: config.bundle)
        var childEnds: [Int32] = []
        defer { for fd in childEnds { FS.close(fd) } }
        var consolePair: (Int32, Int32)?
        if config.tty {
            do { consolePair = try ProcessSys.socketPair(type: SOCK_STREAM) } catch { throw SupervisorError("console socket", error) }
            options.consoleSocketFD = consolePair?.1
            if let consolePair { childEnds += [consolePair.0, consolePair.1] }
        } else {
            let stdout = try Self.pipe()
            let stderr = try Self.pipe()
            childEnds += [stdout.write, stderr.write]
            outputs = [(stdout.read, .stdout), (stderr.read, .stderr)]
            var stdinRead = devNull
            if config.openStdin {
                let stdin = try Self.pipe()
                childEnds.append(stdin.read)
                stdinRead = stdin.read
                stdinFD = stdin.write
                _ = fcntl(stdinFD, F_SETFL, fcntl(stdinFD, F_GETFL) | O_NONBLOCK)
            }
            // The runtime gives the container the caller's fds 0-2, as runc does.
            dup2(stdinRead, 0)
            dup2(stdout.write, 1)
            dup2(stderr.write, 2)
        }
        defer {
            dup2(devNull, 0)
            dup2(devNull, 1)
            dup2(devNull, 2)
        }
        do {
            initPid = try runtime.create(id: config.id, options: options)
            if let consolePair {
                master = try Console.receiveMaster(consolePair.0)
                _ = fcntl(master, F_SETFD, FD_CLOEXEC)
                _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
                outputs = [(master, .stdout)]
                stdinFD = config.openStdin ? master : -1
            }
            try runtime.start(id: config.id)
        } catch {
            try? runtime.delete(id: config.id, force: true)
            closeRun()
            throw SupervisorError(error)
        }
        runStarted = Clock.monotonicSeconds()
        state.status = .running
        state.pid = initPid
        state.pidStartTime = ProcessSys.startTime(initPid) ?? 0
        state.startedAt = Clock.rfc3339Nano()
        state.finishedAt = ContainerRunState.zeroTime
        state.exitCode = 0
        state.oomKilled = false
        oomWatch = runtime.oomWatch(id: config.id)
        startHealthChecks()
        try state.save(config.statePath)
        emitEvent("start")
    }

    static func pipe() throws(SupervisorError) -> (read: Int32, write: Int32) {
        do {
            let pipe = try FS.pipe()
            return (pipe.read.take(), pipe.write.take())
        } catch {
            throw SupervisorError("pipe2: \(String(cString: strerror(error.errno)))")
        }
    }

    // MARK: - The loop

    /// Moves bytes until the container has ended and its output is drained.
    func pump() {
        var drainDeadline: Double?
        // A stop may have been asked between two runs, its signal read by `waitBeforeRestart`.
        checkStopRequest()
        while true {
            if exitStatus != nil {
                if outputs.isEmpty { break }
                let now = Clock.monotonicSeconds()
                if drainDeadline == nil { drainDeadline = now + 2 }
                if let deadline = drainDeadline, now >= deadline { break }
            }
            var fds: [pollfd] = []
            fds.append(pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0))
            fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
            fds.append(pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0))
            for output in outputs { fds.append(pollfd(fd: output.fd, events: Int16(POLLIN), revents: 0)) }
            for client in clients {
                fds.append(pollfd(fd: client.fd, events: Int16(POLLIN) | (client.pending.isEmpty ? 0 : Int16(POLLOUT)), revents: 0))
            }
            let stdinIndex = fds.count
            if stdinFD >= 0 && !pendingStdin.isEmpty && stdinFD != master {
                fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0))
            }
            let healthIndex = fds.count
            let polledHealth = healthOutputFD != nil
            if let fd = healthOutputFD { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            let oomIndex = fds.count
            if let watch = oomWatch { fds.append(pollfd(fd: watch.fd, events: Int16(POLLIN), revents: 0)) }
            var base: Int32 = exitStatus != nil ? 50 : (!pendingStdin.isEmpty && stdinFD == master ? 20 : -1)
            if let killDeadline, exitStatus == nil {
                let milliseconds = Int32(max(0, min((killDeadline - Clock.monotonicSeconds()) * 1000 + 1, 3_600_000)))
                base = base < 0 ? milliseconds : min(base, milliseconds)
            }
            let ready = poll(&fds, nfds_t(fds.count), healthPollTimeout(base))
            if ready < 0 && errno != EINTR { break }
            if fds[0].revents != 0 { reapChildren() }
            if fds[2].revents != 0 {
                _ = berth_drain_signalfd(stopFD)
                checkStopRequest()
            }
            if let killDeadline, exitStatus == nil, Clock.monotonicSeconds() >= killDeadline { killEverything() }
            var index = 3
            var closedOutputs: [Int32] = []
            for output in outputs {
                if fds[index].revents != 0 && !readOutput(output.fd, output.stream) { closedOutputs.append(output.fd) }
                index += 1
            }
            for fd in closedOutputs { closeOutput(fd) }
            var droppedClients: [Int32] = []
            for client in clients {
                let revents = fds[index].revents
                index += 1
                if revents & Int16(POLLOUT) != 0 && !flush(client) { droppedClients.append(client.fd) }
                if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 && !readClient(client) { droppedClients.append(client.fd) }
            }
            for fd in droppedClients { dropClient(fd) }
            // Only now: `fds` has entries for the clients polled, not for ones accepted now.
            if fds[1].revents != 0 { acceptClients() }
            if stdinIndex < fds.count, fds[stdinIndex].revents != 0 { writeStdin() }
            if stdinFD >= 0 && stdinFD == master && !pendingStdin.isEmpty { writeStdin() }
            if polledHealth, fds[healthIndex].revents != 0 { readHealthOutput() }
            if oomIndex < fds.count, fds[oomIndex].revents != 0 { checkOOM() }
            healthTick()
        }
    }

    func reapChildren() {
        _ = berth_drain_signalfd(signalFD)
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { break }
            if pid == initPid { exitStatus = ProcessSys.decode(status: status).shellStatus } else { healthReaped(pid, status: status) }
        }
    }

    /// Reads what the container wrote; false at its end (EOF, or EIO from a pty whose slave closed).
    func readOutput(_ fd: Int32, _ stream: LogStream) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n < 0 { return errno == EAGAIN || errno == EINTR }
        if n == 0 { return false }
        let time = LogTimestamp.now()
        buffer.withUnsafeBytes { bytes in
            let chunk = UnsafeRawBufferPointer(rebasing: bytes[0..<n])
            // A full disk loses log lines, never the container or its attached clients.
            try? log?.write(stream, chunk, at: time)
            let frame = AttachFrame.encode(stream == .stdout ? .stdout : .stderr, chunk)
            for client in clients { send(frame, to: client) }
        }
        return true
    }

    func closeOutput(_ fd: Int32) {
        guard let index = outputs.firstIndex(where: { $0.fd == fd }) else { return }
        try? log?.flush(outputs[index].stream)
        outputs.remove(at: index)
        if fd == master {
            master = -1
            if stdinFD == fd { stdinFD = -1 }
        }
        FS.close(fd)
    }

    // MARK: - Attach clients

    func acceptClients() {
        while true {
            let fd = berth_accept4(listener, Int32(SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue))
            if fd < 0 { return }
            // A later client feeds stdin only if nobody does yet (docker attach semantics, simplified).
            let feeds = config.openStdin && !clients.contains { $0.feedsStdin } && stdinFD >= 0
            clients.append(AttachClient(fd: fd, feedsStdin: feeds))
        }
    }

    func send(_ bytes: [UInt8], to client: AttachClient) {
        client.pending += bytes
        _ = flush(client)
        // A client that stops reading does not hold up the container or the log.
        if client.pending.count > 8 << 20 { client.pending.removeAll() }
    }

    /// Writes what a client is owed; false when the client is gone.
    func flush(_ client: AttachClient) -> Bool {
        while !client.pending.isEmpty {
            let n = client.pending.withUnsafeBytes { Glibc.send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 { return errno == EAGAIN || errno == EINTR }
            client.pending.removeFirst(n)
        }
        return true
    }

    /// Reads a client's frames; false when it hung up or spoke nonsense.
    func readClient(_ client: AttachClient) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { Glibc.recv(client.fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { return errno == EAGAIN || errno == EINTR }
        if n == 0 {
            // A client going away closes stdin only for a run that said so (Docker's StdinOnce), and
            // never a terminal's: that is how `run -it` detaches (ctrl-p ctrl-q) and the shell goes on.
            if client.feedsStdin && config.stdinOnce && stdinFD != master { closeStdin() }
            return false
        }
        client.reader.append(Array(buffer[0..<n]))
        while let frame = client.reader.next() {
            guard case .success(let (stream, payload)) = frame else { return false }
            switch stream {
            case .stdin:
                if client.feedsStdin && stdinFD >= 0 {
                    pendingStdin += payload
                    writeStdin()
                }
            case .closeStdin:
                if client.feedsStdin && config.stdinOnce { closeStdin() }
            case .resize:
                if master >= 0, payload.count >= 4 {
                    let rows = UInt16(payload[0]) << 8 | UInt16(payload[1])
                    let columns = UInt16(payload[2]) << 8 | UInt16(payload[3])
                    _ = berth_set_winsize(master, rows, columns)
                }
            case .stdout, .stderr, .exit:
                break
            }
        }
        return true
    }

    func writeStdin() {
        while !pendingStdin.isEmpty && stdinFD >= 0 {
            let n = pendingStdin.withUnsafeBytes { Glibc.write(stdinFD, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { return }
                pendingStdin.removeAll()
                return
            }
            pendingStdin.removeFirst(n)
        }
    }

    /// The container sees the end of its input: the pipe closes (with a terminal, an EOT keeps the
    /// pty open for its output).
    func closeStdin() {
        guard stdinFD >= 0 else { return }
        if stdinFD == master {
            pendingStdin.append(0x04)
            writeStdin()
        } else {
            writeStdin()
            FS.close(stdinFD)
            stdinFD = -1
            pendingStdin.removeAll()
        }
    }

    func dropClient(_ fd: Int32) {
        guard let index = clients.firstIndex(where: { $0.fd == fd }) else { return }
        clients.remove(at: index)
        FS.close(fd)
        if fd == launcherFD { launcherFD = -1 }
    }

    func broadcastExit(_ status: Int32) {
        let frame = AttachFrame.encode(.exit, AttachFrame.exitPayload(status))
        for client in clients {
            send(frame, to: client)
            // Best effort, briefly blocking: the client is waiting for exactly this frame.
            _ = fcntl(client.fd, F_SETFL, fcntl(client.fd, F_GETFL) & ~O_NONBLOCK)
            if flush(client) && client.fd == launcherFD { launcherGotExit = true }
            FS.close(client.fd)
        }
        clients.removeAll()
    }

    // MARK: - End of a run

    func finishRun() {
        for output in outputs { try? log?.flush(output.stream); FS.close(output.fd) }
        outputs.removeAll()
        let status = exitStatus ?? 255
        stopHealthChecks()
        // A notification the loop had no turn to read (the kill and the exit came together).
        checkOOM()
        oomWatch = nil
        state.oomKilled = state.oomKilled || oomKilled()
        try? runtime.delete(id: config.id, force: true)
        closeRun()
        state.status = .exited
        state.exitCode = status
        state.pid = 0
        state.finishedAt = Clock.rfc3339Nano()
        // Before the state says exited: whoever waits for that (stop, rm -f) logs its event after this one.
        emitEvent("die", ["exitCode": "\(status)", "execDuration": "\(Int(Clock.monotonicSeconds() - runStarted))"])
        if stopping { emitEvent("stop") }
        try? state.save(config.statePath)
        broadcastExit(status)
    }

    func closeRun() {
        for output in outputs { FS.close(output.fd) }
        outputs.removeAll()
        if stdinFD >= 0 && stdinFD != master { FS.close(stdinFD) }
        if master >= 0 { FS.close(master) }
        stdinFD = -1
        master = -1
        pendingStdin.removeAll()
    }

    /// Docker's `oom` event, once per notification read (the kernel's OOMs in between count as one,
    /// as runc reads its eventfd); the run's State.OOMKilled is set at once.
    func checkOOM() {
        guard let watch = oomWatch, watch.check() > 0 else { return }
        state.oomKilled = true
        try? state.save(config.statePath)
        emitEvent("oom")
    }

    /// Whether the kernel's OOM killer acted in the container's memory cgroup during this run.
    func oomKilled() -> Bool {
        for path in runtime.cgroupPaths(id: config.id) {
            for file in ["memory.events", "memory.oom_control"] {
                guard let text = try? FS.readText(path + "/" + file) else { continue }
                for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
                    if let count = Int(line.dropFirst(9).split(separator: " ").first ?? ""), count > 0 { return true }
                }
            }
        }
        return false
    }

    // MARK: - Restart policy

    var stopRequested: Bool { FS.exists(runDirectory + "/" + SupervisorConfig.stopRequestName) }

    /// Docker's rules: `always` and `unless-stopped` unless a user stopped it; `on-failure` after a
    /// non-zero exit, up to its count.
    func shouldRestart() -> Bool {
        if stopRequested { return false }
        // `berth update --restart` rewrites supervisor.json while the container runs.
        switch (try? SupervisorConfig.load(runDirectory: runDirectory))?.restart ?? config.restart {
        case .no: return false
        case .always, .unlessStopped: return true
        case .onFailure(let maximum):
            guard state.exitCode != 0 else { return false }
            if let maximum, maximum > 0 { return state.restartCount < maximum }
            return true
        }
    }

    /// Docker's backoff: 100 ms doubling per restart up to a minute, back to 100 ms after a run of
    /// 10 s or more. False when a stop request came in while waiting.
    func waitBeforeRestart() -> Bool {
        let ranFor = Clock.monotonicSeconds() - runStarted
        if ranFor >= 10 { restartDelay = 0.1 } else { restartDelay = min(restartDelay * 2, 60) }
        state.status = .restarting
        try? state.save(config.statePath)
        let until = Clock.monotonicSeconds() + restartDelay
        while Clock.monotonicSeconds() < until {
            if stopRequested { return false }
            var fds = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0), pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 3, Int32(max(1, min(100, (until - Clock.monotonicSeconds()) * 1000))))
            if fds[0].revents != 0 { reapChildren() }
            // Only a wake-up: the request's file, checked above, cancels the restart.
            if fds[2].revents != 0 { _ = berth_drain_signalfd(stopFD) }
            if fds[1].revents != 0 {
                // Attaching to a restarting container sees the next run's output.
                acceptClients()
            }
        }
        return !stopRequested
    }

    var restartDelay = 0.05

    // MARK: - Stop

    /// Carries out `stop`'s request, once per run: the stop signal to the init (a paused container
    /// thawed first), SIGKILL to all its processes after the timeout. Events as Docker's: kill
    /// (signal), [kill (9)], then die and stop when it has ended.
    func checkStopRequest() {
        guard !stopping, let request = StopRequest.load(runDirectory: runDirectory) else { return }
        stopping = true
        // Ended already, not yet written down: nothing to signal, the exit is still the stop's.
        guard exitStatus == nil else { return }
        emitEvent("kill", ["signal": "\(request.signal)"])
        if (try? runtime.state(id: config.id).status) == .paused { try? runtime.resume(id: config.id) }
        try? runtime.kill(id: config.id, signal: request.signal)
        killDeadline = request.timeout < 0 ? nil : Clock.monotonicSeconds() + Double(request.timeout)
    }

    func killEverything() {
        killDeadline = nil
        emitEvent("kill", ["signal": "\(SIGKILL)"])
        try? runtime.kill(id: config.id, signal: SIGKILL, all: true)
    }

    // MARK: - Ending for good

    func tearDown() {
        log?.close()
        // Addresses, published ports and DNS names go with the container, as Docker frees them;
        // the address release runs while the rest is cleaned up.
        let network = config.network.map { network in
            NetworkSandbox.beginTearDown(recordDirectory: network.recordDirectory, netns: network.netns) { attachment in
                DNSRecords.withdraw(network.dnsDirectory, attachment)
                emitNetworkDisconnect(networkID: attachment.network.id, name: attachment.network.name)
            }
        }
        if let mount = config.rootfsMount { try? MountSys.umount(mount, flags: Int32(MNT_DETACH)) }
        for mount in config.unmountAtEnd ?? [] { try? MountSys.umount(mount, flags: Int32(MNT_DETACH)) }
        if listener >= 0 { FS.close(listener) }
        _ = unlink(config.attachSocket)
        network?.finish()
        state.supervisorPid = 0
        try? state.save(config.statePath)
        // The engine's cleanup command, in a session of its own; nobody waits for it.
        if let command = config.exitCommand, !command.isEmpty, !launcherGotExit {
            _ = try? ProcessSys.spawn(command, newSession: true)
        }
    }
}
