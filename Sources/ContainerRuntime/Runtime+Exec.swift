import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// How `exec` runs a process: the process itself (from `--process`), or else the container's own
/// changed by `overrides`; and runc's exec flags.
public struct ExecOptions: Sendable {
    public var process: OCI.Process?
    public var overrides = ExecOverrides()
    public var detach = false
    public var pidFile: String?
    public var consoleSocket: String?
    /// A connected socket to send the pty master over, in place of `consoleSocket`'s path (the caller's to close).
    public var consoleSocketFD: Int32?
    /// Where one JSON line (ExecReport) tells the caller that the process has started, or why it
    /// could not: its caller can then tell a start failure from the process's own exit status.
    public var statusFD: Int32?
    public var preserveFds = 0
    public var ignorePaused = false

    public init(process: OCI.Process?) {
        self.process = process
    }
}

/// runc's exec flags that change the container's own process when no `--process` file is given.
public struct ExecOverrides: Sendable {
    public var args: [String] = []
    public var tty = false
    public var cwd: String?
    public var env: [String] = []
    /// `uid[:gid]`, numbers only, as runc takes it.
    public var user: String?
    public var additionalGids: [UInt32] = []
    public var capabilities: [String] = []
    public var noNewPrivileges = false

    public init() {}
}

extension OCIRuntime {
    /// The process `exec ID ARGS…` runs: the container's own (user, environment, capabilities, limits)
    /// with the arguments and the flags' changes applied, as runc builds it.
    static func execProcess(spec: Spec, id: String, overrides: ExecOverrides) throws(RuntimeError) -> OCI.Process {
        guard var process = spec.process else {
            throw RuntimeError("container \(id) has no process in its config")
        }
        guard !overrides.args.isEmpty else { throw RuntimeError("exec: process args cannot be empty") }
        process.args = overrides.args
        process.commandLine = nil
        process.terminal = overrides.tty
        process.consoleSize = nil
        if let cwd = overrides.cwd { process.cwd = cwd }
        process.env = (process.env ?? []) + overrides.env
        if let user = overrides.user {
            let parts = user.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
                throw RuntimeError("parsing \(user) as uid[:gid]: only numeric ids are accepted")
            }
            process.user.uid = uid
            if parts.count == 2, let gid = UInt32(parts[1]) { process.user.gid = gid }
        }
        if !overrides.additionalGids.isEmpty {
            process.user.additionalGids = (process.user.additionalGids ?? []) + overrides.additionalGids
        }
        if !overrides.capabilities.isEmpty {
            var caps = process.capabilities ?? Capabilities()
            for name in overrides.capabilities {
                guard Capability.number(name) != nil else { throw RuntimeError("unknown capability \"\(name)\"") }
                caps.bounding = (caps.bounding ?? []) + [name]
                caps.effective = (caps.effective ?? []) + [name]
                caps.permitted = (caps.permitted ?? []) + [name]
            }
            process.capabilities = caps
        }
        if overrides.noNewPrivileges { process.noNewPrivileges = true }
        return process
    }

    /// `exec`: runs another process in a created or running container, in all its namespaces and its
    /// cgroup. In the foreground returns the process's exit status (128 + signal when killed);
    /// with `detach`, 0 once it has started. With `statusFD`, reports there that the process
    /// started or why it did not.
    public func exec(id: String, options: ExecOptions) throws(RuntimeError) -> Int32 {
        do {
            return try startExec(id: id, options: options)
        } catch {
            if let fd = options.statusFD { ExecReport(failure: error).write(to: fd) }
            throw error
        }
    }

    private func startExec(id: String, options: ExecOptions) throws(RuntimeError) -> Int32 {
        let lock = try store.lock(id)
        var locked = true
        defer { if locked { FS.close(lock) } }
        let record = try store.load(id)
        switch status(record) {
        case .stopped: throw RuntimeError("cannot exec in a stopped container")
        case .paused where !options.ignorePaused:
            throw RuntimeError("cannot exec in a paused container (use --ignore-paused to override)")
        case .creating: throw RuntimeError("cannot exec in a container that is still being created")
        case .created, .running, .paused: break
        }
        let spec = try store.loadConfig(id)
        let process: OCI.Process
        if let given = options.process {
            process = given
        } else {
            process = try Self.execProcess(spec: spec, id: id, overrides: options.overrides)
        }
        guard let args = process.args, !args.isEmpty else { throw RuntimeError("exec: process args cannot be empty") }
        try ProcessAttributes.validate(process: process, linux: spec.linux)
        let seccomp = try PreparedSeccomp.prepare(spec.linux?.seccomp, cacheDirectory: SeccompCache.directory())
        let terminal = process.terminal == true
        let hasConsoleSocket = options.consoleSocket != nil || options.consoleSocketFD != nil
        if terminal && options.detach && !hasConsoleSocket {
            throw RuntimeError("cannot allocate tty if berth-runtime will detach without setting console socket")
        }
        if !terminal && hasConsoleSocket {
            throw RuntimeError("cannot use console socket if berth-runtime will not allocate tty")
        }

        // A pidfd pins the init: checked alive after opening, it cannot name a reused pid later.
        let pidfd = berth_pidfd_open(record.pid, 0)
        guard pidfd >= 0 else { throw SysError("pidfd_open", "pid \(record.pid)").context("exec") }
        defer { FS.close(pidfd) }
        guard isAlive(record) else { throw RuntimeError("cannot exec in a stopped container") }
        let join = Namespaces.differing(from: record.pid)

        var consoleFD: Int32?
        var relayEnd: Int32?
        if terminal {
            if let fd = options.consoleSocketFD {
                consoleFD = berth_fcntl_int(fd, F_DUPFD_CLOEXEC, 3)
                guard consoleFD! >= 0 else { throw SysError("dup", "console socket").context("exec") }
            } else if let path = options.consoleSocket {
                consoleFD = try Console.connect(path)
            } else {
                do {
                    let pair = try ProcessSys.socketPair(type: SOCK_STREAM)
                    (relayEnd, consoleFD) = (pair.0, pair.1)
                } catch {
                    throw error.context("create console socket")
                }
            }
        }
        defer {
            if let consoleFD { FS.close(consoleFD) }
            if let relayEnd { FS.close(relayEnd) }
        }
        let (parentEnd, childEnd): (Int32, Int32)
        do { (parentEnd, childEnd) = try ProcessSys.socketPair() } catch { throw error.context("create sync socket") }
        defer { FS.close(parentEnd) }

        // setns(CLONE_NEWPID) moves only our future children: the process is cloned into the container's
        // pid namespace. Without root, joining it needs its user namespace first (where we hold capabilities).
        var parentJoins = join & Int32(CLONE_NEWPID)
        if geteuid() != 0 && parentJoins != 0 { parentJoins |= join & Int32(CLONE_NEWUSER) }
        // Our own pid namespace, to return to after the clone: while a process's children go to
        // another one, it cannot create threads (a library caller's thread pool would hang).
        let ownPidNamespace = parentJoins & Int32(CLONE_NEWPID) != 0 ? (try? FS.open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) : nil
        defer {
            if let ownPidNamespace {
                _ = berth_setns(ownPidNamespace, Int32(CLONE_NEWPID))
                FS.close(ownPidNamespace)
            }
        }
        if parentJoins != 0 {
            do { try sys("setns", "pid namespace of \(record.pid)") { berth_setns(pidfd, parentJoins) } } catch {
                FS.close(childEnd)
                throw error.context("exec: join pid namespace")
            }
        }
        let parameters = ExecParameters(spec: spec, process: process, pidfd: pidfd, initPid: pid_t(record.pid),
                                        namespaces: join & ~parentJoins, sync: SyncSocket(fd: childEnd),
                                        consoleFD: consoleFD, preserveFds: options.preserveFds, seccomp: seccomp)
        CloneAudit.record()
        let pid: pid_t
        do { pid = try ProcessSys.clone(flags: 0) } catch { FS.close(childEnd); throw error.context("exec") }
        if pid == 0 {
            FS.close(lock)
            FS.close(parentEnd)
            if let relayEnd { FS.close(relayEnd) }
            ExecInit.run(parameters)
        }
        FS.close(childEnd)
        if let ownPidNamespace { _ = berth_setns(ownPidNamespace, Int32(CLONE_NEWPID)) }

        let sync = SyncSocket(fd: parentEnd)
        do throws(RuntimeError) {
            try cgroup(of: record).join(pid)
            if let score = process.oomScoreAdj {
                do { try FS.writeFile("/proc/\(pid)/oom_score_adj", "\(score)") } catch { throw error.context("set oom_score_adj") }
            }
            sync.send(.proceed)
            // The sync socket is close-on-exec: silence means the process has exec'd.
            loop: while true {
                let (message, attached) = sync.receiveWithFD()
                switch message {
                case .failed(let error): throw error
                case .seccompListener:
                    let state = ociState(record)
                    try forwardSeccompListener(attached, seccomp: spec.linux?.seccomp, pid: pid, state: state)
                    sync.send(.proceed)
                default: break loop
                }
            }
        } catch {
            _ = Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            throw error
        }
        if let pidFile = options.pidFile {
            do { try FS.writeFileAtomically(FS.absolute(pidFile), Array("\(pid)".utf8), mode: 0o644) } catch {
                throw error.context("write pid file")
            }
        }
        FS.close(lock)
        locked = false
        if options.detach {
            if let fd = options.statusFD { ExecReport(pid: pid).write(to: fd) }
            return 0
        }

        var master: Int32?
        if let relayEnd { master = try? Console.receiveMaster(relayEnd) }
        defer { if let master { FS.close(master) } }
        // Reported once our signal handlers are in place: the caller passes its signals on from then.
        return ForegroundProcess(pid: pid, reapOrphans: false).wait(relaying: master) {
            if let fd = options.statusFD { ExecReport(pid: pid).write(to: fd) }
        }.shellStatus
    }
}

/// What `exec` with a status fd reports, as one line of JSON: the process's pid once it has
/// started, or why it could not be started (the message the runtime would print, and its kind).
public struct ExecReport: Codable, Sendable, Equatable {
    public var pid: Int32?
    public var error: String?
    public var kind: RuntimeError.Kind?

    public init(pid: pid_t) { self.pid = pid }

    public init(failure: RuntimeError) {
        error = failure.message
        kind = failure.kind
    }

    /// The start failure this report describes, nil when the process started.
    public var failure: RuntimeError? {
        error.map { RuntimeError($0, kind: kind ?? .other) }
    }

    func write(to fd: Int32) {
        let line = encodeCompact(self) + [0x0A]
        var offset = 0
        while offset < line.count {
            let n = line[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            offset += n
        }
    }

    /// Reads the report from `fd`: the first line, or nil when the runtime wrote none before closing it.
    public static func read(from fd: Int32) -> ExecReport? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !bytes.contains(0x0A) {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += buffer[0..<n]
        }
        guard let end = bytes.firstIndex(of: 0x0A) else { return nil }
        return try? decodeJSON(ExecReport.self, Array(bytes[..<end]))
    }
}

struct ExecParameters {
    var spec: Spec
    var process: OCI.Process
    var pidfd: Int32
    var initPid: pid_t
    /// CLONE_NEW* flags of the namespaces to join (all of the init's that differ from ours).
    var namespaces: Int32
    var sync: SyncSocket
    var consoleFD: Int32?
    var preserveFds: Int
    var seccomp: PreparedSeccomp?
}

/// The exec'd process from clone to exec: joins the init's namespaces through its pidfd (all at
/// once, so the kernel orders user, mount and the rest), then sets up the process as create does.
enum ExecInit {
    static func run(_ parameters: ExecParameters) -> Never {
        // Non-dumpable until exec, like the init: /proc/<pid>/exe must not reach our binary (CVE-2019-5736).
        _ = berth_prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        do {
            try setUp(parameters)
        } catch {
            parameters.sync.send(.failed(RuntimeError("unable to start container process: " + error.message, kind: error.kind)))
            _exit(1)
        }
        _exit(127)
    }

    private static func setUp(_ p: ExecParameters) throws(RuntimeError) {
        try ProcessAttributes.applyInitialAffinity(p.process)
        // Wait until the parent has put us in the container's cgroup.
        guard p.sync.receive() == .proceed else { _exit(1) }
        // Both opened while this process still sees the host's mounts. The host's procfs: the
        // container's /proc could be anything it mounted there (CVE-2025-52881 class).
        let proc = p.process.apparmorProfile?.isEmpty == false ? try? FS.open("/proc", BERTH_O_PATH | O_DIRECTORY) : nil
        defer { if let proc { FS.close(proc) } }
        // A container without a mount namespace of its own is its init's chroot: joining the
        // other namespaces would leave this process at the host's "/" (the pidfd keeps the pid ours).
        var initRoot: Int32?
        if p.namespaces & Int32(CLONE_NEWNS) == 0 {
            do { initRoot = try FS.open("/proc/\(p.initPid)/root", BERTH_O_PATH | O_DIRECTORY) } catch {
                throw error.context("exec: open the container's root")
            }
        }
        if p.namespaces != 0 {
            do { try sys("setns", "namespaces of the container") { berth_setns(p.pidfd, p.namespaces) } } catch {
                throw error.context("exec: join container namespaces")
            }
        }
        FS.close(p.pidfd)
        if let initRoot {
            do {
                _ = try sys("fchdir", "the container's root") { fchdir(initRoot) }
                _ = try sys("chroot", "the container's root") { chroot(".") }
                _ = try sys("chdir", "/") { chdir("/") }
            } catch {
                throw error.context("exec: enter the container's root")
            }
            FS.close(initRoot)
        }
        _ = setsid()
        let process = p.process
        if let console = p.consoleFD {
            try Console.setUp(socket: console, size: process.consoleSize, bindConsole: false)
            FS.close(console)
        }
        try ProcessSetup.applyRlimits(process.rlimits)
        try ProcessAttributes.apply(process, linux: p.spec.linux)
        // As create does for the init: exec'd processes are confined by the same profile.
        if let proc { try ProcessAttributes.applyAppArmor(process, proc: proc) }
        try ProcessSetup.applyIdentityAndSeccomp(process, seccomp: p.seccomp, sync: p.sync)
        let env = ProcessSetup.environment(process)
        let args = process.args ?? []
        let program = try ProcessSetup.resolveExecutable(args[0], env: env)
        ProcessSetup.closeInheritedDescriptors(preserve: p.preserveFds)
        try ProcessAttributes.applyFinalAffinity(process)
        ProcessSetup.resetSignals()
        umask(mode_t(process.user.umask ?? 0o022))
        let error = ProcessSys.exec(program, args: args, env: env)
        // runc's wording: exec: "/etc/passwd": permission denied
        throw RuntimeError("exec: \"\(args[0])\": \(error.reason)", kind: error.errno == ENOENT ? .executableNotFound : .executableNotRunnable)
    }
}

extension Namespaces {
    static let procNames: [(name: String, flag: Int32)] = [
        ("user", Int32(CLONE_NEWUSER)), ("mnt", Int32(CLONE_NEWNS)), ("pid", Int32(CLONE_NEWPID)),
        ("net", Int32(CLONE_NEWNET)), ("ipc", Int32(CLONE_NEWIPC)), ("uts", Int32(CLONE_NEWUTS)),
        ("cgroup", Int32(CLONE_NEWCGROUP)), ("time", BERTH_CLONE_NEWTIME),
    ]

    /// The namespaces of `pid` that are not ours: the ones an exec'd process must join.
    static func differing(from pid: pid_t) -> Int32 {
        var flags: Int32 = 0
        for (name, flag) in procNames {
            guard let theirs = try? FS.stat("/proc/\(pid)/ns/\(name)"), let ours = try? FS.stat("/proc/self/ns/\(name)") else { continue }
            if theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev { flags |= flag }
        }
        return flags
    }
}

/// For tests: with BERTH_TEST_CLONE_AUDIT=FILE, the process about to clone an exec'd process
/// appends "pid=N threads=M" (its pid and the Threads: count of /proc/self/status) to FILE. A
/// clone is only safe from a single-threaded process (another thread may hold a lock the child needs).
enum CloneAudit {
    /// The variable's value; a test in this process may set it instead (setenv races other threads' getenv).
    nonisolated(unsafe) static var path: String? = getenv("BERTH_TEST_CLONE_AUDIT").map { String(cString: $0) }

    static func record() {
        guard let path, !path.isEmpty else { return }
        let status = (try? FS.readText("/proc/self/status")) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Threads:") }
        let threads = line?.dropFirst(8).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? "?"
        guard let fd = try? FS.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode: 0o600) else { return }
        defer { FS.close(fd) }
        try? FS.write(fd, Array("pid=\(getpid()) threads=\(threads)\n".utf8))
    }
}
