import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// How a container is created: the flags of `create` and `run`.
public struct CreateOptions: Sendable {
    public var bundle: String
    public var pidFile: String?
    public var consoleSocket: String?
    public var noPivot = false
    public var noNewKeyring = false
    public var preserveFds = 0
    /// The runtime's end of an in-process console socket (a socketpair), when the caller — `run`, or
    /// the engine's supervisor — takes the pty master itself with `Console.receiveMaster`.
    public var consoleSocketFD: Int32?

    public init(bundle: String, pidFile: String? = nil, consoleSocket: String? = nil) {
        self.bundle = bundle
        self.pidFile = pidFile
        self.consoleSocket = consoleSocket
    }
}

extension OCIRuntime {
    /// `create`: builds the container and leaves its init blocked before exec (status "created").
    /// Returns the init's host pid; the init stays a child of this process.
    @discardableResult
    public func create(id: String, options: CreateOptions) throws(RuntimeError) -> pid_t {
        try createRecord(id: id, options: options).record.pid
    }

    func createRecord(id: String, options: CreateOptions) throws(RuntimeError) -> (record: ContainerRecord, spec: Spec) {
        let bundle = FS.absolute(options.bundle)
        let (spec, configBytes) = try loadSpec(bundle: bundle)
        guard let process = spec.process else { throw RuntimeError("config.json: process: required to create a container") }
        if process.terminal == true && options.consoleSocket == nil && options.consoleSocketFD == nil {
            throw RuntimeError("cannot allocate tty if berth-runtime will detach without setting console socket")
        }
        if let seccomp = spec.linux?.seccomp { try SeccompFilter.validate(seccomp) }
        try ProcessAttributes.validate(process: process, linux: spec.linux)
        if process.terminal != true && options.consoleSocket != nil {
            throw RuntimeError("cannot use console socket if berth-runtime will not allocate tty")
        }
        // No mount namespace is valid (the container shares the host's mounts, as in runc), but then
        // nothing can be masked or made read-only without changing the host's own /proc and /sys.
        if !(spec.linux?.namespaces ?? []).contains(where: { $0.type == .mount }) {
            if !(spec.linux?.maskedPaths ?? []).isEmpty || !(spec.linux?.readonlyPaths ?? []).isEmpty {
                throw RuntimeError("config.json: linux.maskedPaths/readonlyPaths: masking paths needs a mount namespace in linux.namespaces")
            }
        }
        let rootPath = spec.root!.path
        let rootfs = FS.clean(rootPath.hasPrefix("/") ? rootPath : bundle + "/" + rootPath)
        guard let rootStat = try? FS.stat(rootfs), FS.isDirectory(rootStat) else {
            throw RuntimeError("config.json: root.path: rootfs \(rootfs) is not a directory")
        }

        var cgroup = try Cgroup(cgroupsPath: spec.linux?.cgroupsPath, id: id)
        if geteuid() != 0 && !cgroup.isCreatable {
            // Rootless without delegated cgroups: a container without limits runs in the caller's cgroup.
            guard spec.linux?.resources.map({ $0 == Resources() || $0 == Resources(devices: $0.devices) }) ?? true else {
                throw RuntimeError("linux.resources: cgroup limits need cgroups this user may write (none are delegated to uid \(geteuid()))")
            }
            cgroup = Cgroup(hierarchies: [], paths: [])
        }
        let lock = try store.claim(id)
        defer { FS.close(lock) }
        // Saved before anything is made, so a create killed at any later point can be undone by delete.
        var record = ContainerRecord(id: id, pid: 0, pidStartTime: 0, bundle: bundle, rootfs: rootfs,
                                     created: Clock.rfc3339Nano(), owner: "", annotations: spec.annotations,
                                     poststartHooks: spec.hooks?.poststart, poststopHooks: spec.hooks?.poststop,
                                     cgroupPaths: cgroup.paths, createFinished: false)
        do throws(RuntimeError) {
            try store.save(record)
            // exec reads the config as it was at create, whatever happens to the bundle later.
            try store.saveConfig(id, configBytes)
            let pid = try build(&record, spec: spec, cgroup: cgroup, options: options, lock: lock)
            if let pidFile = options.pidFile {
                do {
                    try FS.writeFileAtomically(FS.absolute(pidFile), Array("\(pid)".utf8), mode: 0o644)
                } catch {
                    throw error.context("write pid file")
                }
            }
            return (record, spec)
        } catch {
            destroy(record)
            throw error
        }
    }

    func loadSpec(bundle: String) throws(RuntimeError) -> (Spec, [UInt8]) {
        let path = bundle + "/config.json"
        let bytes: [UInt8]
        do { bytes = try FS.readFile(path) } catch {
            throw RuntimeError("cannot read \(path): \(error)")
        }
        do {
            let spec = try Spec.decode(bytes)
            try spec.validate()
            return (spec, bytes)
        } catch {
            throw RuntimeError("\(path): \(error)")
        }
    }

    private func build(_ record: inout ContainerRecord, spec: Spec, cgroup: Cgroup, options: CreateOptions,
                       lock: Int32) throws(RuntimeError) -> pid_t {
        let namespaces = spec.linux?.namespaces ?? []
        let seccomp = try PreparedSeccomp.prepare(spec.linux?.seccomp, cacheDirectory: SeccompCache.directory())
        try cgroup.create(controllers: cgroup.v2Controllers(for: spec.linux?.resources))
        try cgroup.apply(spec.linux?.resources, devices: spec.linux?.devices ?? [])

        // The exec fifo is what `start` opens; the init blocks opening its other end.
        let fifoPath = store.fifoPath(record.id)
        if mkfifo(fifoPath, 0o622) != 0 || chmod(fifoPath, 0o622) != 0 {
            throw SysError("mkfifo", fifoPath).context("create exec fifo")
        }
        let fifoFD: Int32
        do { fifoFD = try FS.open(fifoPath, BERTH_O_PATH) } catch { throw error.context("prepare container init") }
        defer { FS.close(fifoFD) }
        let (parentEnd, childEnd) = try socketPair()
        defer { FS.close(parentEnd) }
        let hasTerminal = spec.process?.terminal == true
        var consoleFD = hasTerminal ? options.consoleSocketFD : nil
        if hasTerminal, consoleFD == nil, let path = options.consoleSocket {
            do { consoleFD = try Console.connect(path) } catch { FS.close(childEnd); throw error }
        }
        defer { if options.consoleSocketFD == nil, let consoleFD { FS.close(consoleFD) } }

        // A pid namespace given by path must be entered before clone: it applies to children only.
        if let pidPath = namespaces.first(where: { $0.type == .pid })?.path {
            do { try ProcessSys.setns(pidPath, Int32(CLONE_NEWPID)) } catch { FS.close(childEnd); throw error.context("join pid namespace") }
        }
        var flags: UInt = 0
        for namespace in namespaces where namespace.path == nil && namespace.type != .cgroup && namespace.type != .time {
            flags |= UInt(Namespaces.flag(namespace.type))
        }
        let parameters = InitParameters(
            id: record.id, spec: spec, bundle: record.bundle, rootfs: record.rootfs, sync: SyncSocket(fd: childEnd),
            fifoFD: fifoFD, cgroup: cgroup,
            joinNamespaces: namespaces.compactMap { ns in ns.path.map { (ns.type, $0) } }.filter { $0.0 != .pid },
            newUserNamespace: namespaces.contains { $0.type == .user && $0.path == nil },
            newCgroupNamespace: namespaces.contains { $0.type == .cgroup && $0.path == nil },
            newTimeNamespace: namespaces.contains { $0.type == .time && $0.path == nil },
            noPivot: options.noPivot, noNewKeyring: options.noNewKeyring, preserveFds: options.preserveFds,
            consoleFD: consoleFD, seccomp: seccomp)

        let pid: pid_t
        do { pid = try ProcessSys.clone(flags: flags) } catch { FS.close(childEnd); throw error.context("create container init") }
        if pid == 0 {
            // The container must not hold the lock that start, kill and delete wait for.
            FS.close(lock)
            FS.close(parentEnd)
            ContainerInit.run(parameters)
        }
        FS.close(childEnd)
        record.pid = pid
        record.pidStartTime = ProcessSys.startTime(pid) ?? 0
        try store.save(record)

        let sync = SyncSocket(fd: parentEnd)
        do throws(RuntimeError) {
            if parameters.newUserNamespace { try writeIDMaps(pid: pid, linux: spec.linux) }
            try cgroup.join(pid)
            if let score = spec.process?.oomScoreAdj {
                // Written from outside, by pid: the init is non-dumpable, so in a user namespace it may
                // not write its own proc files.
                do { try FS.writeFile("/proc/\(pid)/oom_score_adj", "\(score)") } catch { throw error.context("set oom_score_adj") }
            }
            sync.send(.proceed)
            loop: while true {
                let (message, attached) = sync.receiveWithFD()
                switch message {
                case .seccompListener:
                    let state = OCI.State(id: record.id, status: .creating, pid: pid, bundle: record.bundle,
                                          rootfs: record.rootfs, created: record.created, annotations: spec.annotations)
                    try forwardSeccompListener(attached, seccomp: spec.linux?.seccomp, pid: pid, state: state)
                    sync.send(.proceed)
                case .runCreateHooks:
                    let state = OCI.State(id: record.id, status: .creating, pid: pid, bundle: record.bundle,
                                          rootfs: record.rootfs, created: record.created, annotations: spec.annotations)
                    try HookRunner.run(spec.hooks?.prestart, phase: "prestart", state: state)
                    try HookRunner.run(spec.hooks?.createRuntime, phase: "createRuntime", state: state)
                    sync.send(.proceed)
                case .ready:
                    break loop
                case .failed(let error):
                    throw error
                case .proceed, nil:
                    throw RuntimeError("container init exited during set-up (\(describeExit(pid)))")
                }
            }
        } catch {
            _ = Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            throw error
        }
        record.createFinished = true
        try store.save(record)
        return pid
    }

    /// Passes the container's seccomp listener fd on to the agent at `listenerPath`, then closes our copy.
    func forwardSeccompListener(_ fd: Int32?, seccomp: Seccomp?, pid: pid_t, state: OCI.State) throws(RuntimeError) {
        guard let fd else { throw RuntimeError("seccomp: the container sent no listener fd") }
        defer { FS.close(fd) }
        guard let path = seccomp?.listenerPath, !path.isEmpty else { throw RuntimeError("linux.seccomp.listenerPath is not set") }
        try ContainerProcessState.send(listenerFD: fd, to: path, pid: pid, state: state, metadata: seccomp?.listenerMetadata)
    }

    private func socketPair() throws(RuntimeError) -> (Int32, Int32) {
        do { return try ProcessSys.socketPair() } catch { throw error.context("create sync socket") }
    }

    /// uid_map and gid_map are written from outside the new user namespace, before the init goes on.
    private func writeIDMaps(pid: pid_t, linux: Linux?) throws(RuntimeError) {
        do {
            if getuid() != 0 { try FS.writeFile("/proc/\(pid)/setgroups", "deny") }
            try FS.writeFile("/proc/\(pid)/uid_map", IDMapping.procMapText(linux?.uidMappings ?? []))
            try FS.writeFile("/proc/\(pid)/gid_map", IDMapping.procMapText(linux?.gidMappings ?? []))
        } catch {
            throw error.context("write user namespace id maps")
        }
    }

    private func describeExit(_ pid: pid_t) -> String {
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return "no status" }
        switch ProcessSys.decode(status: status) {
        case .exited(let code): return "exit status \(code)"
        case .signaled(let signal): return "killed by signal \(signal)"
        }
    }
}
