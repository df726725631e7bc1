import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// The last steps before exec: limits, identity, capabilities, working directory, environment,
/// and finding the program. Run inside the container, after pivot_root.
enum ProcessSetup {
    static func applyRlimits(_ rlimits: [Rlimit]?) throws(RuntimeError) {
        for limit in rlimits ?? [] {
            guard let resource = RlimitName.numbers[limit.type] else { continue }
            do {
                try ProcessSys.setrlimit(resource, soft: limit.soft, hard: limit.hard, describe: limit.type)
            } catch {
                throw error.context("set \(limit.type)")
            }
        }
    }

    static func mask(_ names: [String]?) -> UInt64 {
        var mask: UInt64 = 0
        for name in names ?? [] {
            if let number = Capability.number(name), number < 64 { mask |= 1 << UInt64(number) }
        }
        return mask
    }

    /// The highest capability the kernel knows, asked of the kernel: PR_CAPBSET_READ fails with EINVAL
    /// past it. Not /proc/sys/kernel/cap_last_cap: by now that is the container's /proc, which a
    /// container with CAP_SYS_ADMIN can cover with a fake file (an exec would then keep capabilities).
    static func kernelLastCapability() -> Int {
        var last = 0
        while last < 63, (try? ProcessSys.prctl(PR_CAPBSET_READ, UInt(last + 1), describe: "PR_CAPBSET_READ")) != nil {
            last += 1
        }
        return last
    }

    /// Switches to the process's user and groups and sets the five capability sets.
    /// Order matters: the bounding set is cut while CAP_SETPCAP is still held, capabilities survive
    /// the uid change through KEEPCAPS, and ambient ones can only be raised once inheritable is set.
    static func applyIdentity(_ process: OCI.Process, lastCap: Int) throws(RuntimeError) {
        let caps = process.capabilities
        let bounding = mask(caps?.bounding)
        do {
            for cap in 0...max(0, lastCap) where bounding & (1 << UInt64(cap)) == 0 {
                try ProcessSys.prctl(PR_CAPBSET_DROP, UInt(cap), describe: "drop \(Capability.names.indices.contains(cap) ? Capability.names[cap] : "cap \(cap)") from bounding set")
            }
            try ProcessSys.prctl(PR_SET_KEEPCAPS, 1, describe: "PR_SET_KEEPCAPS")
            try ProcessSys.setIdentity(uid: process.user.uid, gid: process.user.gid,
                                       groups: process.user.additionalGids ?? [])
            try ProcessSys.prctl(PR_SET_KEEPCAPS, 0, describe: "PR_SET_KEEPCAPS")
            try ProcessSys.capset(effective: mask(caps?.effective), permitted: mask(caps?.permitted),
                                  inheritable: mask(caps?.inheritable))
            // The kernel raises an ambient capability only if it is permitted and inheritable; like runc,
            // the others are skipped rather than failing the container.
            let raisable = mask(caps?.permitted) & mask(caps?.inheritable)
            for name in caps?.ambient ?? [] {
                guard let number = Capability.number(name), raisable & (1 << UInt64(number)) != 0 else {
                    Log.shared.debug("ambient \(name) skipped: not in both permitted and inheritable")
                    continue
                }
                try ProcessSys.prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_RAISE), UInt(number), describe: "raise ambient \(name)")
            }
        } catch {
            throw error.context("set user \(process.user.uid):\(process.user.gid) and capabilities")
        }
    }

    /// Identity, no_new_privs and the seccomp filter, in runc's order: without no_new_privs loading a
    /// filter needs CAP_SYS_ADMIN, so it goes in before capabilities are dropped; with it, as late as
    /// possible. A notify listener fd goes to the parent, which passes it to the agent at listenerPath.
    /// Also enters the working directory: as the process's user, and before a no_new_privs filter,
    /// which (as runc) goes on last so the profile need not allow chdir/getcwd (issue 15: a strict
    /// profile made every create fail with "outside the container's root").
    static func applyIdentityAndSeccomp(_ process: OCI.Process, seccomp: PreparedSeccomp?, sync: SyncSocket) throws(RuntimeError) {
        let noNewPrivileges = process.noNewPrivileges == true
        // Asked before any filter is on: a profile refusing prctl must not make it look small.
        let lastCap = kernelLastCapability()
        if let seccomp, !noNewPrivileges { try loadSeccomp(seccomp, sync: sync) }
        try applyIdentity(process, lastCap: lastCap)
        if noNewPrivileges {
            do { try ProcessSys.prctl(PR_SET_NO_NEW_PRIVS, 1, describe: "no_new_privs") } catch { throw error.context("set no_new_privs") }
        }
        try enterWorkingDirectory(process.cwd)
        if let seccomp, noNewPrivileges { try loadSeccomp(seccomp, sync: sync) }
    }

    private static func loadSeccomp(_ seccomp: PreparedSeccomp, sync: SyncSocket) throws(RuntimeError) {
        guard let listener = try seccomp.install() else { return }
        defer { FS.close(listener) }
        guard sync.send(.seccompListener, attaching: listener), sync.receive() == .proceed else {
            throw RuntimeError("seccomp: the runtime did not take the listener fd")
        }
    }

    /// Changes into the working directory and checks that it really is inside the container:
    /// a cwd reached through a leaked host fd reads "(unreachable)" (runc CVE-2024-21626).
    static func enterWorkingDirectory(_ cwd: String) throws(RuntimeError) {
        if chdir(cwd) != 0 {
            throw SysError("chdir", cwd).context("enter working directory")
        }
        var buffer = [CChar](repeating: 0, count: 4097)
        guard getcwd(&buffer, 4096) != nil, buffer[0] == 0x2f else {
            throw RuntimeError("working directory \(cwd) is outside the container's root")
        }
    }

    /// The environment, with HOME added from the container's /etc/passwd when the config lacks it.
    static func environment(_ process: OCI.Process) -> [String] {
        var env = process.env ?? []
        if !env.contains(where: { $0.hasPrefix("HOME=") }) {
            env.append("HOME=" + (home(of: process.user.uid) ?? "/"))
        }
        return env
    }

    static func home(of uid: UInt32) -> String? {
        Passwd.entry(uid: uid, file: "/etc/passwd")?.home
    }

    /// Finds the program as execvp would, in the PATH of the container's environment, and reports
    /// failures with runc's wording (`exec: "x": executable file not found in $PATH`).
    static func resolveExecutable(_ name: String, env: [String]) throws(RuntimeError) -> String {
        if name.contains("/") {
            var st = stat()
            if stat(name, &st) != 0 {
                let error = SysError("stat", name)
                throw RuntimeError("exec: \"\(name)\": stat \(name): \(error.reason)",
                                   kind: error.errno == ENOENT ? .executableNotFound : .executableNotRunnable)
            }
            if FS.isDirectory(st) { throw RuntimeError("exec: \"\(name)\": is a directory", kind: .executableNotRunnable) }
            return name
        }
        let path = env.last(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            var st = stat()
            if stat(candidate, &st) == 0, !FS.isDirectory(st), st.st_mode & 0o111 != 0 {
                return candidate
            }
        }
        throw RuntimeError("exec: \"\(name)\": executable file not found in $PATH", kind: .executableNotFound)
    }

    /// The container starts with every signal at its default and none blocked, whatever the caller
    /// (a shell, a test runner, a shim) had ignored or masked: both are inherited across exec.
    static func resetSignals() {
        for signal in 1..<Int32(65) where signal != SIGKILL && signal != SIGSTOP {
            Glibc.signal(signal, SIG_DFL)
        }
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
    }

    /// Marks every fd from 3 on close-on-exec except the `preserveFds` the caller passed in,
    /// so nothing of the runtime's reaches the container (runc CVE-2024-21626).
    static func closeInheritedDescriptors(preserve: Int) {
        let first = UInt32(3 + preserve)
        if berth_close_range(first, UInt32.max, UInt32(BERTH_CLOSE_RANGE_CLOEXEC)) != 0 {
            for fd in Int32(first)..<1024 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
        for fd in 3..<(3 + Int32(preserve)) {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) }
        }
    }
}

/// Lines of a passwd(5) file, looked up by uid.
enum Passwd {
    struct Entry {
        var name: String
        var home: String
    }

    static func entry(uid: UInt32, file: String) -> Entry? {
        guard let text = try? FS.readText(file) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 6, UInt32(fields[2]) == uid { return Entry(name: String(fields[0]), home: String(fields[5])) }
        }
        return nil
    }
}
