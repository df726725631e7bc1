import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// Everything the container's init needs, prepared by the parent before clone.
struct InitParameters {
    var id: String
    var spec: Spec
    var bundle: String
    var rootfs: String
    var sync: SyncSocket
    /// O_PATH fd of the exec fifo; reopened for writing to wait for `start`.
    var fifoFD: Int32
    var cgroup: Cgroup?
    var joinNamespaces: [(NamespaceType, String)]
    var newUserNamespace: Bool
    var newCgroupNamespace: Bool
    var newTimeNamespace: Bool
    var noPivot: Bool
    var noNewKeyring: Bool
    var preserveFds: Int
    /// The console socket, when the process has a terminal.
    var consoleFD: Int32?
    var seccomp: PreparedSeccomp?
}

/// The container's first process, from clone to exec. It runs in the new namespaces, single-threaded,
/// and reports each failure to the parent over the sync socket before exiting; once `start` opens
/// the exec fifo it execs the user's program.
enum ContainerInit {
    static func run(_ parameters: InitParameters) -> Never {
        // Until exec this process is the runtime binary. Non-dumpable, its /proc/<pid>/exe cannot be
        // opened by container processes, which could otherwise rewrite the binary (CVE-2019-5736).
        // Without root the parent must still write our id maps, which needs us dumpable until then;
        // nothing runs in the container before that.
        let parentWritesMaps = geteuid() != 0 && parameters.newUserNamespace
        if !parentWritesMaps { _ = berth_prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) }
        do {
            try setUp(parameters)
        } catch {
            parameters.sync.send(.failed(error))
            _exit(1)
        }
        // setUp only returns by exec failing after start, when no one is listening any more.
        _exit(127)
    }

    private static func setUp(_ p: InitParameters) throws(RuntimeError) {
        let spec = p.spec
        guard let process = spec.process else { throw RuntimeError("process is missing from config.json") }
        try ProcessAttributes.applyInitialAffinity(process)
        guard p.sync.receive() == .proceed else { _exit(1) }
        _ = berth_prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)

        if p.newUserNamespace {
            // The parent has written the id maps; become root of the new namespace.
            do { try ProcessSys.setIdentity(uid: 0, gid: 0, groups: []) } catch { throw error.context("become root in user namespace") }
        }
        for (type, path) in p.joinNamespaces.sorted(by: { lhs, _ in lhs.0 == .user }) {
            do { try ProcessSys.setns(path, Namespaces.flag(type)) } catch { throw error.context("join \(type.rawValue) namespace") }
        }
        if p.newCgroupNamespace {
            do { try ProcessSys.unshare(Int32(CLONE_NEWCGROUP), describe: "cgroup namespace") } catch { throw error.context("create cgroup namespace") }
        }
        if p.newTimeNamespace {
            try enterTimeNamespace(offsets: spec.linux?.timeOffsets)
        }
        _ = setsid()
        umask(0)
        if !p.noNewKeyring {
            // A keyring of its own, so the container cannot read the host session's keys.
            _ = berth_join_session_keyring("_ses.\(p.id)")
        }

        // A procfs no one else can see, for /proc writes that must not be redirected (CVE-2025-52881).
        let proc: Int32
        do { proc = try MountSys.privateProcfs() } catch { throw error.context("mount private procfs") }

        // Set before the rootfs, so createContainer hooks already see the container's names.
        try setHostnames(spec)
        let devNull = try openVerifiedDevNull()
        var rootfs = Rootfs(spec: spec, rootfs: p.rootfs, bundle: p.bundle, cgroup: p.cgroup,
                            newCgroupNamespace: p.newCgroupNamespace, devNullFD: devNull)
        rootfs.procFD = proc
        // No mount namespace in the config: the container shares the runtime's mounts, so (as runc)
        // no rootfs is prepared and nothing pivots; mounting there would change the host's tree.
        let ownMounts = (spec.linux?.namespaces ?? []).contains { $0.type == .mount }
        if ownMounts { try rootfs.prepare() }
        let hooks = spec.hooks
        if !(hooks?.prestart ?? []).isEmpty || !(hooks?.createRuntime ?? []).isEmpty {
            p.sync.send(.runCreateHooks)
            switch p.sync.receive() {
            case .proceed: break
            default: _exit(1)
            }
        }
        try HookRunner.run(hooks?.createContainer, phase: "createContainer", state: hookState(p, status: .created))
        if ownMounts {
            try rootfs.protectPaths()
            try rootfs.pivot(noPivot: p.noPivot)
        } else {
            // runc chroots here too; it also mounts the config's mounts into the host's namespace and
            // leaves them there, which this does not do.
            do {
                _ = try sys("chdir", p.rootfs) { chdir(p.rootfs) }
                _ = try sys("chroot", p.rootfs) { chroot(".") }
                _ = try sys("chdir", "/") { chdir("/") }
            } catch {
                throw error.context("enter rootfs without a mount namespace")
            }
        }
        FS.close(devNull)
        if let console = p.consoleFD {
            try Console.setUp(socket: console, size: process.consoleSize, bindConsole: ownMounts)
            FS.close(console)
        }
        if ownMounts && spec.root?.readonly == true { try rootfs.makeRootReadonly() }

        try writeSysctls(spec.linux?.sysctl, proc: proc)
        try ProcessSetup.applyRlimits(process.rlimits)
        try ProcessAttributes.apply(process, linux: spec.linux)
        try ProcessAttributes.applyAppArmor(process, proc: proc)
        try ProcessSetup.applyIdentityAndSeccomp(process, seccomp: p.seccomp, sync: p.sync)
        let env = ProcessSetup.environment(process)
        let args = process.args ?? []
        let program = try ProcessSetup.resolveExecutable(args[0], env: env)
        ProcessSetup.closeInheritedDescriptors(preserve: p.preserveFds)

        // Set up: tell the parent, then wait for `start` to open the other end of the fifo.
        p.sync.send(.ready)
        FS.close(p.sync.fd)
        let fifo = berth_openat(proc, "self/fd/\(p.fifoFD)", O_WRONLY | O_CLOEXEC, 0)
        guard fifo >= 0 else { _exit(1) }
        _ = Glibc.write(fifo, "0", 1)
        FS.close(fifo)
        FS.close(p.fifoFD)

        if let startHooks = hooks?.startContainer, !startHooks.isEmpty {
            do {
                try HookRunner.run(startHooks, phase: "startContainer", state: hookState(p, status: .running))
            } catch {
                report(error.message)
                _exit(1)
            }
        }
        FS.close(proc)
        ProcessSetup.resetSignals()
        umask(mode_t(process.user.umask ?? 0o022))
        do { try ProcessAttributes.applyFinalAffinity(process) } catch { report(error.message); _exit(1) }
        let error = ProcessSys.exec(program, args: args, env: env)
        report("exec \(args[0]): \(error)")
        _exit(error.errno == ENOENT ? 127 : 126)
    }

    /// The host's /dev/null, opened in this mount namespace (a bind source must be in it) and checked
    /// to be the 1:3 character device, so masking can never bind something else over a path.
    private static func openVerifiedDevNull() throws(RuntimeError) -> Int32 {
        let fd: Int32
        do { fd = try FS.open("/dev/null", BERTH_O_PATH) } catch { throw error.context("open /dev/null") }
        guard let st = try? FS.fstat(fd), st.st_mode & S_IFMT == S_IFCHR,
              berth_major(st.st_rdev) == 1, berth_minor(st.st_rdev) == 3 else {
            FS.close(fd)
            throw RuntimeError("/dev/null is not the null device (1:3); refusing to mask paths with it")
        }
        return fd
    }

    /// After start nothing listens on the sync socket; the user sees errors on the container's stderr.
    private static func report(_ message: String) {
        let line = "berth-runtime: \(message)\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    }

    private static func hookState(_ p: InitParameters, status: ContainerStatus) -> OCI.State {
        OCI.State(id: p.id, status: status, pid: getpid(), bundle: p.bundle, rootfs: p.rootfs, created: "",
                  annotations: p.spec.annotations)
    }

    private static func setHostnames(_ spec: Spec) throws(RuntimeError) {
        if let hostname = spec.hostname, !hostname.isEmpty {
            if sethostname(hostname, hostname.utf8.count) != 0 { throw SysError("sethostname", hostname).context("set hostname") }
        }
        if let domainname = spec.domainname, !domainname.isEmpty {
            if setdomainname(domainname, domainname.utf8.count) != 0 { throw SysError("setdomainname", domainname).context("set domainname") }
        }
    }

    private static func writeSysctls(_ sysctl: [String: String]?, proc: Int32) throws(RuntimeError) {
        for (key, value) in (sysctl ?? [:]).sorted(by: { $0.key < $1.key }) {
            let file = "sys/" + key.replacingDots()
            do { try writeProc(proc, file, value) } catch { throw error.context("set sysctl \(key)") }
        }
    }

    private static func writeProc(_ proc: Int32, _ path: String, _ value: String) throws(SysError) {
        let fd = try FS.openat(proc, path, O_WRONLY, describe: "/proc/" + path)
        defer { FS.close(fd) }
        try FS.write(fd, Array(value.utf8), describe: "/proc/" + path)
    }

    /// A new time namespace takes effect at exec; its clock offsets must be written before then.
    private static func enterTimeNamespace(offsets: [String: TimeOffset]?) throws(RuntimeError) {
        do {
            try ProcessSys.unshare(BERTH_CLONE_NEWTIME, describe: "time namespace")
            var lines: [String] = []
            for (clock, offset) in (offsets ?? [:]).sorted(by: { $0.key < $1.key }) {
                lines.append("\(clock) \(offset.secs ?? 0) \(offset.nanosecs ?? 0)")
            }
            if !lines.isEmpty {
                try FS.writeFile("/proc/self/timens_offsets", lines.joined(separator: "\n"))
            }
        } catch {
            throw error.context("create time namespace")
        }
    }
}

extension String {
    /// `net.ipv4.ip_forward` -> `net/ipv4/ip_forward` (a key may already use slashes).
    func replacingDots() -> String {
        String(map { $0 == "." ? "/" : $0 })
    }
}

enum Namespaces {
    static func flag(_ type: NamespaceType) -> Int32 {
        switch type {
        case .pid: return Int32(CLONE_NEWPID)
        case .network: return Int32(CLONE_NEWNET)
        case .mount: return Int32(CLONE_NEWNS)
        case .ipc: return Int32(CLONE_NEWIPC)
        case .uts: return Int32(CLONE_NEWUTS)
        case .user: return Int32(CLONE_NEWUSER)
        case .cgroup: return Int32(CLONE_NEWCGROUP)
        case .time: return BERTH_CLONE_NEWTIME
        }
    }
}
