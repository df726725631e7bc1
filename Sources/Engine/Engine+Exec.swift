import CLinuxSys
import ContainerRuntime
import ContainerSpec
import Glibc
import LinuxSys
import OCI

/// What `exec` runs in a running container, and how.
public struct ExecRequest: Sendable {
    public var command: [String]
    public var tty = false
    /// `-i`: the process reads our stdin (else /dev/null; with `tty`, no keystrokes reach the pty).
    public var interactive = false
    public var detach = false
    public var privileged = false
    /// `KEY=VALUE` entries (the CLI has already resolved bare keys and env files), after the container's.
    public var env: [String] = []
    /// `-u user[:group]`, resolved inside the container; nil: the container's user.
    public var user: String?
    /// `-w`; nil: the container's working directory.
    public var workdir: String?
    /// The initial size of the pty with `tty` (rows, columns).
    public var consoleSize: (rows: Int, columns: Int)?

    public init(command: [String]) {
        self.command = command
    }
}

/// An exec that did not run its process, with Docker's exit status for it.
public struct ExecError: Error, CustomStringConvertible, Sendable {
    public var kind: EngineError.Kind
    public var message: String
    /// 1 for the daemon's refusals (not running, paused), 126 the process could not be started,
    /// 127 its executable was not found.
    public var exitCode: Int32
    /// Docker's daemon refused the exec (a CLI prints it after "Error response from daemon: "); false
    /// for the runtime's own failure to start the process, which Docker prints as it is.
    public var reportedByDaemon: Bool
    public var description: String { message }

    public init(_ kind: EngineError.Kind, _ message: String, exitCode: Int32, reportedByDaemon: Bool) {
        self.kind = kind
        self.message = message
        self.exitCode = exitCode
        self.reportedByDaemon = reportedByDaemon
    }
}

/// The descriptors an exec's process gets as its stdio when a client other than our terminal
/// runs it (the API): borrowed, the caller keeps and closes its own. nil stdin: /dev/null.
public struct ExecDescriptors: Sendable {
    public var stdin: Int32?
    public var stdout: Int32
    public var stderr: Int32
    public init(stdin: Int32?, stdout: Int32, stderr: Int32) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// A started exec (`Engine.startExec`): the process's pid, its pty master with a terminal, and
/// its status once it ends. `wait` must be called once, or the runtime stays a zombie.
public final class ExecSession: Sendable {
    public let id: String
    /// The process's pid on the host (Docker's ExecInspect.Pid).
    public let pid: Int32
    /// The pty's master with a terminal (`raw` -1 without); closed with the session.
    public let master: FileDescriptor
    let runtimePID: pid_t
    let engine: Engine
    let container: Container

    init(id: String, pid: Int32, runtimePID: pid_t, master: consuming FileDescriptor, engine: Engine, container: Container) {
        self.id = id
        self.pid = pid
        self.runtimePID = runtimePID
        self.master = master
        self.engine = engine
        self.container = container
    }

    /// Waits for the process to end; its status (128 + signal when killed), and Docker's exec_die event.
    public func wait() -> Int32 {
        let status = ((try? ProcessSys.wait(runtimePID)) ?? .exited(255)).shellStatus
        engine.recordEvent(container, "exec_die", ["execID": id, "exitCode": "\(status)"])
        return status
    }

    /// Sets the pty's window size (nothing without a terminal).
    public func resize(rows: Int, columns: Int) {
        guard master.raw >= 0 else { return }
        _ = berth_set_winsize(master.raw, UInt16(clamping: rows), UInt16(clamping: columns))
    }
}

/// The container's processes as `top` shows them: `ps`'s titles and the rows of the container's pids.
public struct ProcessTable: Sendable, Equatable {
    public var titles: [String]
    public var processes: [[String]]
}

extension Engine {
    // MARK: - Exec

    /// `exec`: runs a process in a running container through `berth-runtime exec`: the container's
    /// namespaces, cgroup, seccomp and limits; its environment with `env` after it; its user and
    /// working directory unless the request names others. The process gets our stdio (stdin only
    /// when `interactive`, none with `detach`), or with `tty` a pty we relay to our terminal.
    /// Returns the process's exit status (128 + signal when killed), or 0 with `detach` once it
    /// has started.
    public func exec(_ container: Container, _ request: ExecRequest) throws(ExecError) -> Int32 {
        let initPid = try execTarget(container)
        let process: OCI.Process
        do { process = try execProcess(container, request, initPid: initPid) } catch {
            throw ExecError(error.kind, error.message, exitCode: 126, reportedByDaemon: true)
        }
        // Docker's exec events: "exec_create: CMD", "exec_start: CMD" and, once the process has
        // ended, exec_die with its status (a detached exec's end is nobody's to see: none then).
        let execID = Self.newID()
        let commandText = request.command.joined(separator: " ")
        recordEvent(container, "exec_create: " + commandText, ["execID": execID])
        recordEvent(container, "exec_start: " + commandText, ["execID": execID])
        do {
            let status = try runtimeExec(container, process, request)
            if !request.detach { recordEvent(container, "exec_die", ["execID": execID, "exitCode": "\(status)"]) }
            return status
        } catch {
            throw execFailure(container, execID: execID, error)
        }
    }

    /// The pid of the container's init, when the container can take an exec now (Docker's
    /// refusals otherwise: paused, restarting, not running).
    func execTarget(_ container: Container) throws(ExecError) -> Int32 {
        let current = status(container)
        switch current.status {
        case .running: return current.state.pid
        case .paused:
            throw ExecError(.conflict, "Container \(container.id) is paused, unpause the container before exec", exitCode: 1, reportedByDaemon: true)
        case .restarting:
            throw ExecError(.conflict, "Container \(container.id) is restarting, wait until the container is running", exitCode: 1, reportedByDaemon: true)
        default:
            throw ExecError(.conflict, "container \(container.id) is not running", exitCode: 1, reportedByDaemon: true)
        }
    }

    /// A process that could not be started: its exec_die event, and Docker's wording and
    /// statuses (127 when the command is not there, 126 otherwise).
    func execFailure(_ container: Container, execID: String, _ error: RuntimeError) -> ExecError {
        recordEvent(container, "exec_die", ["execID": execID, "exitCode": "\(Self.execFailureStatus(error.kind))"])
        let reason = error.message.hasPrefix("unable to start container process")
            ? error.message : "unable to start container process: \(error.message)"
        let text = "OCI runtime exec failed: exec failed: \(reason): unknown"
        return ExecError(.internal, text, exitCode: Self.execFailureStatus(error.kind), reportedByDaemon: false)
    }

    // MARK: - Exec for the API's clients

    /// `POST /containers/{id}/exec`: an exec is created only in a container that can take one
    /// now (Docker's 409s otherwise); records Docker's exec_create event and returns the new ID.
    /// Nothing runs until `startExec`.
    public func createExec(_ container: Container, _ request: ExecRequest) throws(ExecError) -> String {
        _ = try execTarget(container)
        guard !request.command.isEmpty else {
            throw ExecError(.invalidArgument, "No exec command specified", exitCode: 1, reportedByDaemon: true)
        }
        let execID = Self.newID()
        recordEvent(container, "exec_create: " + request.command.joined(separator: " "), ["execID": execID])
        return execID
    }

    /// `POST /exec/{id}/start`: starts the exec created as `id` with `stdio` (the caller's
    /// descriptors, duplicated for the process; nil stdin is /dev/null), or with `tty` on a new
    /// pty whose master the session holds (`stdio` is then ignored). Returns once the process
    /// runs; `ExecSession.wait` gives its status. The process gets none of our other descriptors.
    public func startExec(_ container: Container, _ request: ExecRequest, id execID: String,
                          stdio: ExecDescriptors) throws(ExecError) -> ExecSession {
        let initPid = try execTarget(container)
        let process: OCI.Process
        do { process = try execProcess(container, request, initPid: initPid) } catch {
            recordEvent(container, "exec_die", ["execID": execID, "exitCode": "126"])
            throw ExecError(error.kind, error.message, exitCode: 126, reportedByDaemon: true)
        }
        recordEvent(container, "exec_start: " + request.command.joined(separator: " "), ["execID": execID])
        do throws(RuntimeError) {
            let spawned = try spawnRuntimeExec(container, process, request.tty ? .terminal
                                               : .descriptors(stdin: stdio.stdin, stdout: stdio.stdout, stderr: stdio.stderr))
            var master = FileDescriptor(adopting: -1)
            if spawned.console.raw >= 0 {
                do throws(RuntimeError) { master = FileDescriptor(adopting: try Console.receiveMaster(spawned.console.raw)) } catch {
                    // The runtime has started the process: it must not be left without its pty's other end.
                    _ = Glibc.kill(spawned.processPID, SIGKILL)
                    _ = try? ProcessSys.wait(spawned.runtimePID)
                    throw error
                }
            }
            return ExecSession(id: execID, pid: spawned.processPID, runtimePID: spawned.runtimePID, master: master,
                               engine: self, container: container)
        } catch {
            throw execFailure(container, execID: execID, error)
        }
    }

    /// 127 when the command does not exist (not found in $PATH, or a path with nothing there),
    /// 126 for every other failure to start it (permission denied, a directory, a bad working directory).
    static func execFailureStatus(_ kind: RuntimeError.Kind) -> Int32 {
        kind == .executableNotFound ? 127 : 126
    }

    /// Runs `process` through `berth-runtime exec` with our own stdio (the CLI's exec): with
    /// `tty` the pty master comes back and is relayed to our terminal. The runtime runs in a
    /// session of its own, so our terminal's signals reach it only through us, once: we pass ours
    /// on as we would to the process.
    func runtimeExec(_ container: Container, _ process: OCI.Process, _ request: ExecRequest) throws(RuntimeError) -> Int32 {
        let stdio: RuntimeStdio = request.detach ? .detached
            : request.tty ? .terminal
            // Without a terminal the process gets our stdout and stderr, and our stdin with -i.
            : .descriptors(stdin: request.interactive ? 0 : nil, stdout: 1, stderr: 2)
        let spawned = try spawnRuntimeExec(container, process, stdio)
        if request.detach {
            _ = try? ProcessSys.wait(spawned.runtimePID)
            return 0
        }
        var master: Int32?
        if spawned.console.raw >= 0 { master = try? Console.receiveMaster(spawned.console.raw) }
        defer { if let master { FS.close(master) } }
        var input: Int32 = 0
        var devNull = FileDescriptor(adopting: -1)
        if master != nil && !request.interactive {
            // -t without -i: no keystrokes; the window size comes from our stdout.
            do { devNull = try FS.openOwned("/dev/null", O_RDONLY) } catch { throw error.context("exec: open /dev/null") }
            input = devNull.raw
        }
        return ForegroundProcess(pid: spawned.runtimePID, reapOrphans: false).wait(relaying: master, input: input).shellStatus
    }

    /// What `berth-runtime exec`'s process is connected to.
    enum RuntimeStdio {
        /// Nothing: the runtime returns once the process has started.
        case detached
        /// A pty, whose master the runtime sends back over a socket pair.
        case terminal
        /// These descriptors (the caller's, duplicated into the runtime) as its 0, 1 and 2; no
        /// stdin: /dev/null.
        case descriptors(stdin: Int32?, stdout: Int32, stderr: Int32)
    }

    /// A started `berth-runtime exec` and the process it started.
    struct SpawnedExec: ~Copyable {
        var runtimePID: pid_t
        /// The exec'd process, as the host sees it.
        var processPID: pid_t
        /// With a terminal, our end of the console socket the pty master comes over.
        var console: FileDescriptor
    }

    /// Starts `berth-runtime exec` for `process`, a process of its own: a container's process is
    /// cloned only from a single-threaded one, and this one runs Swift concurrency. The runtime
    /// gets the process as a memfd and reports on a pipe that it started or why it did not (typed:
    /// the 126/127 split needs no reading of messages). Returns once the process has started; it
    /// holds no descriptor of ours but the ones `stdio` hands over.
    func spawnRuntimeExec(_ container: Container, _ process: OCI.Process, _ stdio: RuntimeStdio) throws(RuntimeError) -> SpawnedExec {
        guard let binary = Executables.sibling("berth-runtime") else {
            throw RuntimeError("berth-runtime not found beside berth or in /usr/local/bin, /usr/bin (or set BERTH_RUNTIME)")
        }
        var opened: [Int32] = []
        defer { for fd in opened { FS.close(fd) } }
        // What only the runtime keeps: closed here once it is started.
        var handed: [Int32] = []
        defer { for fd in handed { FS.close(fd) } }
        // Every fd handed over is first moved to 10 or above, so no dup2 onto 0…5 in the child
        // overwrites another that is still to be handed over.
        func handOver(_ fd: Int32) throws(RuntimeError) -> Int32 {
            let high = berth_fcntl_int(fd, F_DUPFD_CLOEXEC, 10)
            guard high >= 0 else { throw SysError("dup", "fd \(fd)").context("exec") }
            handed.append(high)
            return high
        }
        let processFile = berth_memfd("berth-exec-process")
        guard processFile >= 0 else { throw SysError("memfd_create", "process.json").context("exec") }
        opened.append(processFile)
        do { try FS.write(processFile, encodeCompact(process)) } catch { throw error.context("exec: write process.json") }
        var status: [Int32] = [0, 0]
        guard berth_pipe2(&status, O_CLOEXEC) == 0 else { throw SysError("pipe2").context("exec") }
        opened.append(status[0])
        handed.append(status[1])

        var argv = [binary, "--root", runtimeRoot, "exec", "--status-fd", "3", "--process", "/proc/self/fd/4"]
        var keep: [(fd: Int32, as: Int32)] = [(try handOver(status[1]), 3), (try handOver(processFile), 4)]
        var console: (ours: Int32, theirs: Int32)?
        switch stdio {
        case .detached:
            argv.append("--detach")
        case .terminal:
            do { console = try ProcessSys.socketPair(type: SOCK_STREAM) } catch { throw error.context("create console socket") }
            opened.append(console!.ours)
            handed.append(console!.theirs)
            keep.append((try handOver(console!.theirs), 5))
            argv += ["--console-socket-fd", "5"]
        case .descriptors(let stdin, let stdout, let stderr):
            if let stdin { keep.append((try handOver(stdin), 0)) }
            keep += [(try handOver(stdout), 1), (try handOver(stderr), 2)]
        }
        argv.append(container.id)

        let pid: pid_t
        do {
            // From a sealed copy: it enters the container (CVE-2019-5736).
            pid = try SealedExecutable.spawn(binary, argv, keep: keep, newSession: true)
        } catch {
            throw error.context("exec: start \(binary)")
        }
        // Only the runtime holds the write end of the status pipe now: its end (or its report) ends our read.
        for fd in handed { FS.close(fd) }
        handed.removeAll()
        let report = ExecReport.read(from: status[0])
        guard let report, report.failure == nil else {
            let exit = (try? ProcessSys.wait(pid)) ?? .exited(255)
            throw report?.failure ?? RuntimeError("\(binary) exec ended without starting the process (status \(exit.shellStatus))")
        }
        // The console socket outlives this call: the master comes over it.
        if let console { opened.removeAll { $0 == console.ours } }
        return SpawnedExec(runtimePID: pid, processPID: report.pid ?? 0, console: FileDescriptor(adopting: console?.ours ?? -1))
    }

    /// The process an exec runs: built from the container's own (its capabilities, limits,
    /// no-new-privileges) with Docker's rules for what an exec changes.
    func execProcess(_ container: Container, _ request: ExecRequest, initPid: Int32) throws(EngineError) -> OCI.Process {
        guard !request.command.isEmpty else { throw .invalid("exec: no command given") }
        let spec = try bundleSpec(container)
        guard var process = spec.process else { throw .system("config.json of \(container.name) has no process") }
        process.args = request.command
        process.commandLine = nil
        process.terminal = request.tty ? true : nil
        process.consoleSize = request.consoleSize.map { ConsoleSize(height: UInt32(clamping: $0.rows), width: UInt32(clamping: $0.columns)) }

        // Docker's exec environment: PATH, HOSTNAME (TERM=xterm when the exec has a terminal), the
        // container's Env, then the exec's own; HOME comes from the user's passwd entry when unset.
        var base = [SpecBuilder.defaultPath, "HOSTNAME=" + (spec.hostname ?? container.shortID)]
        if request.tty { base.append("TERM=xterm") }
        let env = SpecBuilder.replaceOrAppend(base, container.config.env ?? [])
        process.env = SpecBuilder.replaceOrAppend(env, request.env)

        if let dir = request.workdir, !dir.isEmpty {
            guard dir.hasPrefix("/") else {
                throw .invalid("the working directory '\(dir)' is invalid, it needs to be an absolute path")
            }
            process.cwd = FS.clean(dir)
        }

        // The user named inside the container, through its root as its init sees it (volumes included).
        let userSpec = request.user ?? container.config.user ?? ""
        // Docker adds the container's --group-add to an exec's user as well.
        let user = try UserLookup.resolve(userSpec, groupAdd: container.options.groupAdd, rootfs: "/proc/\(initPid)/root")
        process.user = User(uid: user.uid, gid: user.gid, umask: process.user.umask, additionalGids: user.additionalGids)
        let capabilities = request.privileged ? HostInfo.current.allCapabilities : (process.capabilities?.bounding ?? [])
        process.capabilities = SpecBuilder.capabilitySets(capabilities, uid: user.uid)
        return process
    }

    /// The container's runtime spec as the engine wrote it for this run.
    func bundleSpec(_ container: Container) throws(EngineError) -> Spec {
        let path = runDirectory(container.id) + "/config.json"
        let bytes: [UInt8]
        do { bytes = try FS.readFile(path) } catch { throw .system("read \(path)", error) }
        do { return try Spec.decode(bytes) } catch { throw .system("decode \(path)", error) }
    }

    // MARK: - Attach

    /// `attach`: a connection to the running container's supervisor, speaking AttachFrame.
    public func attach(_ container: Container) throws(EngineError) -> Int32 {
        let current = status(container)
        switch current.status {
        case .running: break
        case .paused: throw .conflict("You cannot attach to a paused container, unpause it first")
        case .restarting: throw .conflict("You cannot attach to a restarting container, wait until it is running")
        default: throw .conflict("You cannot attach to a stopped container, start it first")
        }
        let path = attachSocketPath(container.id)
        let fd = berth_connect_unix(path)
        guard fd >= 0 else {
            throw .system("attach to \(container.name)", SysError("connect", path))
        }
        return fd
    }

    // MARK: - Top

    /// `top`: the host's `ps` with `psArgs` (Docker's default `-ef`), its header and the rows whose
    /// PID is one of the container's processes (and, for thread listings, the rows under them).
    public func top(_ container: Container, psArgs: [String]) throws(EngineError) -> ProcessTable {
        let current = status(container)
        switch current.status {
        case .running, .paused: break
        case .restarting:
            throw .conflict("Container \(container.id) is restarting, wait until the container is running", reportedByDaemon: true)
        default:
            throw .conflict("container \(container.id) is not running", reportedByDaemon: true)
        }
        let arguments = psArgs.isEmpty ? ["-ef"] : psArgs
        // Docker refuses `key=PID…` column renames other than pid=: the PID column must stay findable.
        for argument in arguments {
            let (key, value) = argument.split(separator: "=", maxSplits: 1).map(String.init).pairOrNil
            if let value, value.hasPrefix("PID"), key != "pid" {
                throw .invalid("specifying \"\(key)=\(value)\" is not allowed", reportedByDaemon: true)
            }
        }
        let pids: [pid_t]
        do { pids = try runtime.processes(id: container.id) } catch {
            throw .system("list the processes of \(container.name)", error, reportedByDaemon: true)
        }
        // `-q PIDS` asks ps for just these; some listings (forests) refuse it, so retry without.
        let quick = ["-q", pids.map(String.init).joined(separator: ",")]
        var run = try Self.capture(["ps"] + arguments + quick)
        if run.status != 0 { run = try Self.capture(["ps"] + arguments) }
        guard run.status == 0 else {
            let line = run.stderr.split(separator: "\n").first.map(String.init) ?? "exit status \(run.status)"
            throw .system("ps: \(line)", reportedByDaemon: true)
        }
        return try Self.parsePS(run.stdout, pids: Set(pids))
    }

    /// Splits `ps` output into the header's titles and the rows of `pids`: each row split on
    /// blanks into as many fields as there are titles, the last taking the rest of the line. A row
    /// whose PID is `-` (a thread, with `-L`/`m`) belongs to the process above it.
    static func parsePS(_ output: String, pids: Set<pid_t>) throws(EngineError) -> ProcessTable {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        let titles = (lines.first ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let pidColumn = titles.firstIndex(of: "PID") else {
            throw .system("Couldn't find PID field in ps output", reportedByDaemon: true)
        }
        var rows: [[String]] = []
        var previousKept = false
        for line in lines.dropFirst() where !line.isEmpty {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count > pidColumn else { continue }
            let keep: Bool
            if fields[pidColumn] == "-" {
                keep = previousKept
            } else {
                guard let pid = pid_t(fields[pidColumn]) else {
                    throw .system("Unexpected pid '\(fields[pidColumn])'", reportedByDaemon: true)
                }
                keep = pids.contains(pid)
                previousKept = keep
            }
            guard keep else { continue }
            var row = Array(fields.prefix(titles.count - 1))
            row.append(fields.dropFirst(titles.count - 1).joined(separator: " "))
            rows.append(row)
        }
        return ProcessTable(titles: titles, processes: rows)
    }

    /// Runs a host program found in PATH and collects its output (through a temporary file: ps's
    /// output may exceed a pipe's buffer).
    static func capture(_ argv: [String]) throws(EngineError) -> (status: Int32, stdout: String, stderr: String) {
        guard let program = ["/usr/bin/", "/bin/", "/usr/local/bin/"].map({ $0 + argv[0] }).first(where: { access($0, X_OK) == 0 }) else {
            throw .system("ps: executable file not found in $PATH", reportedByDaemon: true)
        }
        // Files of our own (O_EXCL), removed at once: only the open descriptors are needed.
        let base = "/tmp/berth-ps-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let out: Int32
        let err: Int32
        do {
            out = try FS.open(base + ".out", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600)
            unlink(base + ".out")
        } catch { throw .system("create a temporary file for ps", error) }
        defer { FS.close(out) }
        do {
            err = try FS.open(base + ".err", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600)
            unlink(base + ".err")
        } catch { throw .system("create a temporary file for ps", error) }
        defer { FS.close(err) }
        let pid: pid_t
        do { pid = try ProcessSys.spawn([program] + argv.dropFirst(), keep: [(out, 1), (err, 2)], newSession: false) } catch {
            throw .system("run \(argv[0])", error)
        }
        let exit: ProcessSys.Exit
        do { exit = try ProcessSys.wait(pid) } catch { throw .system("wait for \(argv[0])", error) }
        let stdout = Self.readFromStart(out)
        let stderr = Self.readFromStart(err)
        return (exit.shellStatus, stdout, stderr)
    }

    static func readFromStart(_ fd: Int32) -> String {
        _ = lseek(fd, 0, SEEK_SET)
        return String(decoding: (try? FS.read(fd, max: 64 << 20)) ?? [], as: UTF8.self)
    }
}

private extension Array where Element == String {
    /// ["k", "v"] → ("k", "v"); ["k"] → ("k", nil).
    var pairOrNil: (String, String?) { (first ?? "", count > 1 ? self[1] : nil) }
}
