import CLinuxSys
import Glibc

/// Process-level calls: clone, wait, signals, namespaces, identity, capabilities, limits, exec.
public enum ProcessSys {
    /// fork(2) into new namespaces. Returns 0 in the child, the child's pid in the parent.
    public static func clone(flags: UInt) throws(SysError) -> pid_t {
        try sys("clone") { berth_clone(flags) }
    }

    public enum Exit: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)

        /// The shell's convention that runc follows: the exit code, or 128 + signal.
        public var shellStatus: Int32 {
            switch self {
            case .exited(let code): return code
            case .signaled(let signal): return 128 + signal
            }
        }
    }

    public static func decode(status: Int32) -> Exit {
        if berth_wifsignaled(status) != 0 { return .signaled(berth_wtermsig(status)) }
        return .exited(berth_wexitstatus(status))
    }

    public static func wait(_ pid: pid_t) throws(SysError) -> Exit {
        var status: Int32 = 0
        try sys("waitpid", "\(pid)") { waitpid(pid, &status, 0) }
        return decode(status: status)
    }

    public static func kill(_ pid: pid_t, _ signal: Int32) throws(SysError) {
        try sys("kill", "pid \(pid)") { Glibc.kill(pid, signal) }
    }

    public static func setns(_ path: String, _ type: Int32) throws(SysError) {
        let fd = try FS.open(path, O_RDONLY)
        defer { FS.close(fd) }
        try sys("setns", path) { berth_setns(fd, type) }
    }

    public static func unshare(_ flags: Int32, describe: String) throws(SysError) {
        try sys("unshare", describe) { berth_unshare(flags) }
    }

    public static func setIdentity(uid: uid_t, gid: gid_t, groups: [gid_t]) throws(SysError) {
        do {
            try sys("setgroups") { groups.withUnsafeBufferPointer { Glibc.setgroups($0.count, $0.baseAddress) } }
        } catch {
            // In a user namespace made without root, setgroups is denied; with no groups to set that is fine.
            guard error.errno == EPERM, groups.isEmpty, setgroupsDenied() else { throw error }
        }
        try sys("setresgid", "\(gid)") { berth_setresgid(gid) }
        try sys("setresuid", "\(uid)") { berth_setresuid(uid) }
    }

    private static func setgroupsDenied() -> Bool {
        (try? FS.readText("/proc/self/setgroups"))?.hasPrefix("deny") == true
    }

    public static func prctl(_ option: Int32, _ a2: UInt = 0, _ a3: UInt = 0, _ a4: UInt = 0, _ a5: UInt = 0,
                             describe: String) throws(SysError) {
        try sys("prctl", describe) { berth_prctl(option, a2, a3, a4, a5) }
    }

    public static func capset(effective: UInt64, permitted: UInt64, inheritable: UInt64) throws(SysError) {
        try sys("capset") { berth_capset(effective, permitted, inheritable) }
    }

    public static func lastCapability() -> Int { Int(berth_cap_last_cap()) }

    public static func setrlimit(_ resource: Int32, soft: UInt64, hard: UInt64, describe: String) throws(SysError) {
        var limit = rlimit(rlim_cur: rlim_t(soft), rlim_max: rlim_t(hard))
        try sys("setrlimit", describe) { Glibc.setrlimit(__rlimit_resource_t(UInt32(resource)), &limit) }
    }

    /// A connected pair of unix sockets (close-on-exec): SOCK_SEQPACKET for parent/child handshakes,
    /// SOCK_STREAM where a console socket is expected.
    public static func socketPair(type: __socket_type = SOCK_SEQPACKET) throws(SysError) -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        try sys("socketpair") { socketpair(AF_UNIX, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) }
        return (fds[0], fds[1])
    }

    /// execve(2); returns only by throwing.
    public static func exec(_ path: String, args: [String], env: [String]) -> SysError {
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        execve(path, &cArgs, &cEnv)
        return SysError("exec", path)
    }

    /// The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat),
    /// which tells a live container init from an unrelated process that reused its pid.
    public static func startTime(_ pid: pid_t) -> UInt64? {
        guard let stat = try? FS.readText("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command come state (field 3) ... starttime (field 22): index 19 here.
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// Whether `pid` is still the process that started at `startTime` and has not ended (a zombie
    /// has ended): one read of /proc/PID/stat.
    public static func isAlive(_ pid: pid_t, startTime: UInt64) -> Bool {
        guard pid > 0, let stat = try? FS.readText("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, state != "Z", state != "X" else { return false }
        return UInt64(fields[19]) == startTime
    }

    /// Starts `argv` without waiting for it: stdin, stdout and stderr on /dev/null, `keep` fds
    /// dup'ed to the given numbers, default signal dispositions and an empty signal mask (the
    /// caller's threads may block signals), and with `newSession` a session of its own.
    /// `executable`, when given, is an fd to run instead of the file `argv[0]` names (a sealed
    /// copy, see SealedExecutable); `environment` replaces ours.
    public static func spawn(_ argv: [String], keep: [(fd: Int32, as: Int32)] = [], newSession: Bool,
                             executable: Int32? = nil, environment: [String]? = nil) throws(SysError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in Int32(0)...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0) }
        for (fd, target) in keep { posix_spawn_file_actions_adddup2(&actions, fd, target) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        var flags = Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newSession { flags |= BERTH_POSIX_SPAWN_SETSID }
        posix_spawnattr_setflags(&attributes, flags)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var cEnv: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup($0) } + [nil] }
        defer { for entry in cEnv ?? [] { free(entry) } }
        // A close-on-exec fd is still open when execve opens its /proc/self/fd path.
        let path = executable.map { "/proc/self/fd/\($0)" } ?? argv[0]
        var pid: pid_t = 0
        let rc = cEnv == nil ? posix_spawn(&pid, path, &actions, &attributes, &cArgs, environ)
                             : posix_spawn(&pid, path, &actions, &attributes, &cArgs, &cEnv!)
        guard rc == 0 else { throw SysError("spawn", argv[0], errno: rc) }
        return pid
    }

    /// The one-letter state of a process (R, S, Z, T ...), nil if it is gone.
    public static func state(_ pid: pid_t) -> Character? {
        guard let stat = try? FS.readText("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ").first?.first
    }
}
