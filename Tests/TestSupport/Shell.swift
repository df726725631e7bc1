import Foundation

public struct Output: Sendable {
    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a program to completion and collects its output. Output goes through temporary files, not
/// pipes: a created container's init inherits them and may outlive the command by far.
@discardableResult
public func sh(_ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil) throws -> Output {
    let base = NSTemporaryDirectory() + "berth-sh-" + "o-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    defer {
        for suffix in [".in", ".out", ".err"] { unlink(base + suffix) }
    }
    try Data((stdin ?? "").utf8).write(to: URL(fileURLWithPath: base + ".in"))
    let pid = try spawn(arguments, stdin: stdin == nil ? "/dev/null" : base + ".in", stdout: base + ".out", stderr: base + ".err",
                        environment: environment)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let stdout = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
    return Output(status: exitStatus(status), stdout: stdout, stderr: stderr)
}

/// Starts a program in the background: stdin from the file `stdin`, stdout to `stdout` and stderr
/// to `stderr` (to `stdout` when nil), truncated or, with `append`, appended to.
public func spawn(_ arguments: [String], stdin: String = "/dev/null", stdout: String, stderr: String? = nil, append: Bool = false,
                  environment: [String: String]? = nil) throws -> pid_t {
    let flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, flags, 0o600)
    if let stderr {
        posix_spawn_file_actions_addopen(&actions, 2, stderr, flags, 0o600)
    } else {
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }
    let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
    var cArgs: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    var cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
    defer { (cArgs + cEnv).forEach { free($0) } }
    // The test runner's threads block some signals; a program started from one must not inherit
    // that (a server must see SIGTERM).
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, &cArgs, &cEnv)
    guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
    return pid
}

/// A `waitpid` status as a shell reports it: the exit code, or 128 + the signal that ended it.
public func exitStatus(_ status: Int32) -> Int32 {
    let signaled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
    return signaled ? 128 + (status & 0x7f) : (status >> 8) & 0xff
}
