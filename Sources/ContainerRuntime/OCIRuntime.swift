import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// The OCI runtime as a library: the operations of the runtime spec (create, start, state, kill,
/// delete) plus runc's `run` and `list`, on containers kept under one state directory.
public struct OCIRuntime: Sendable {
    public let store: StateStore

    public init(root: String = "/run/berth-runtime") {
        self.store = StateStore(root: root)
    }

    /// /run/berth-runtime for root; for an ordinary user, as runc: under $XDG_RUNTIME_DIR.
    public static func defaultRoot() -> String {
        guard geteuid() != 0 else { return "/run/berth-runtime" }
        if let runtimeDir = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtimeDir.isEmpty {
            return runtimeDir + "/berth-runtime"
        }
        return "/tmp/berth-runtime-\(geteuid())"
    }

    // MARK: - Status

    /// The status the spec defines, derived from what is true now rather than what was last written:
    /// a dead or reused pid is "stopped", a pending exec fifo "created", a frozen cgroup "paused".
    func status(_ record: ContainerRecord) -> ContainerStatus {
        guard record.pid > 0, isAlive(record) else { return .stopped }
        if !record.createFinished { return .creating }
        if FS.exists(store.fifoPath(record.id)) { return .created }
        if cgroup(of: record).isFrozen { return .paused }
        return .running
    }

    func isAlive(_ record: ContainerRecord) -> Bool {
        ProcessSys.isAlive(record.pid, startTime: record.pidStartTime)
    }

    func cgroup(of record: ContainerRecord) -> Cgroup {
        let hierarchies = CgroupHierarchy.discover()
        var matched: [CgroupHierarchy] = []
        var paths: [String] = []
        for path in record.cgroupPaths {
            if let hierarchy = hierarchies.first(where: { path.hasPrefix($0.mountPoint + "/") }) {
                matched.append(hierarchy)
                paths.append(path)
            }
        }
        return Cgroup(hierarchies: matched, paths: paths)
    }

    func ociState(_ record: ContainerRecord, owner: String = "") -> OCI.State {
        let status = status(record)
        return OCI.State(id: record.id, status: status, pid: status == .stopped ? 0 : record.pid,
                         bundle: record.bundle, rootfs: record.rootfs, created: record.created, owner: owner,
                         annotations: record.annotations)
    }

    /// The cgroup directories a container was given (empty when it is unknown).
    public func cgroupPaths(id: String) -> [String] {
        (try? store.load(id))?.cgroupPaths ?? []
    }

    /// `state`: the container's state as the spec defines it.
    public func state(id: String) throws(RuntimeError) -> OCI.State {
        try StateStore.validate(id: id)
        return ociState(try store.load(id))
    }

    /// `list`: every container under the root, skipping ones whose state cannot be read.
    public func list() -> [OCI.State] {
        store.ids().compactMap { id in
            guard let record = try? store.load(id) else { return nil }
            let owner = (try? FS.stat(store.directory(id))).flatMap { userName($0.st_uid) } ?? ""
            return ociState(record, owner: owner)
        }
    }

    /// The owner's name from /etc/passwd, read directly: the binary is static, without NSS.
    private func userName(_ uid: uid_t) -> String? {
        Passwd.entry(uid: uid, file: "/etc/passwd")?.name ?? "\(uid)"
    }

    // MARK: - Start

    /// `start`: lets a created container's init exec the user's program, then runs poststart hooks.
    public func start(id: String) throws(RuntimeError) {
        let lock = try store.lock(id)
        defer { FS.close(lock) }
        let record = try store.load(id)
        switch status(record) {
        case .created: break
        case .stopped: throw RuntimeError("cannot start a container that has stopped")
        case .running: throw RuntimeError("cannot start an already running container")
        case .paused: throw RuntimeError("cannot start a paused container")
        case .creating: throw RuntimeError("cannot start a container that is still being created")
        }
        try start(record)
    }

    /// Starts a container known to be created (run calls it straight after create).
    func start(_ record: ContainerRecord) throws(RuntimeError) {
        try releaseInit(record)
        let state = OCI.State(id: record.id, status: .running, pid: record.pid, bundle: record.bundle,
                              rootfs: record.rootfs, created: record.created, annotations: record.annotations)
        do {
            try HookRunner.run(record.poststartHooks, phase: "poststart", state: state)
        } catch {
            // The spec: a failing poststart hook is logged, and the container keeps running.
            Log.shared.warning(error.message)
        }
    }

    /// Opens the exec fifo and reads the init's byte: from that moment the init goes on to exec.
    private func releaseInit(_ record: ContainerRecord) throws(RuntimeError) {
        let path = store.fifoPath(record.id)
        let fifo: FileDescriptor
        do { fifo = try FS.openOwned(path, O_RDONLY | O_NONBLOCK) } catch { throw error.context("open exec fifo") }
        let fd = fifo.raw
        while true {
            let ready: Poll.Events?
            do { ready = try Poll.wait(fd, timeoutMilliseconds: 100) } catch {
                throw SysError("poll", path, errno: error.errno).context("wait for container init")
            }
            if let ready, ready.contains(.readable) {
                var byte: UInt8 = 0
                let n = Glibc.read(fd, &byte, 1)
                if n == 1 { break }
            }
            if !isAlive(record) { throw RuntimeError("container init exited before start") }
        }
        _ = unlink(path)
    }

    // MARK: - Kill

    /// `kill`: sends a signal to the init, or with `all` to every process in the container's cgroup.
    /// `--all` works on a stopped container too, as in runc: when the init of a container without a
    /// pid namespace of its own (a shared-PID pod) exits, its other processes live on in the cgroup,
    /// and containerd's shim kills them with `kill --all` on every task delete.
    public func kill(id: String, signal: Int32, all: Bool = false) throws(RuntimeError) {
        let lock = try store.lock(id)
        defer { FS.close(lock) }
        let record = try store.load(id)
        let status = status(record)
        if all {
            let cgroup = cgroup(of: record)
            for pid in cgroup.processes() { _ = Glibc.kill(pid, signal) }
            // A stopped process only acts on a fatal signal once it runs again.
            if signal == SIGKILL, status == .paused || (status == .stopped && cgroup.isFrozen) { try? cgroup.thaw() }
            return
        }
        guard status != .stopped else { throw RuntimeError("container not running") }
        try signalInit(record, signal)
    }

    /// Signals the init through a pidfd, so a pid reused after the init died is never hit.
    func signalInit(_ record: ContainerRecord, _ signal: Int32) throws(RuntimeError) {
        let pidfd = berth_pidfd_open(record.pid, 0)
        if pidfd >= 0 {
            defer { FS.close(pidfd) }
            guard isAlive(record) else { throw RuntimeError("container not running") }
            if berth_pidfd_send_signal(pidfd, signal) != 0 {
                if errno == ESRCH { throw RuntimeError("container not running") }
                throw SysError("pidfd_send_signal", "pid \(record.pid)").context("kill container")
            }
            return
        }
        guard isAlive(record) else { throw RuntimeError("container not running") }
        do { try ProcessSys.kill(record.pid, signal) } catch { throw error.context("kill container") }
    }

    // MARK: - Delete

    /// `delete`: removes a stopped (or created) container; a running one only with `force`, which
    /// kills everything in it first. Poststop hooks run last.
    public func delete(id: String, force: Bool = false) throws(RuntimeError) {
        let lock: Int32
        do {
            lock = try store.lock(id)
        } catch {
            // runc: `delete --force` of a container that does not exist succeeds.
            if force && !FS.exists(store.directory(id)) { return }
            throw error
        }
        defer { FS.close(lock) }
        let record: ContainerRecord
        do {
            record = try store.load(id)
        } catch {
            // An interrupted create left a directory without a usable record: nothing runs there.
            guard FS.exists(store.directory(id)) else { throw error }
            store.remove(id)
            return
        }
        let status = status(record)
        switch status {
        case .stopped:
            break
        case .created, .creating:
            killEverything(record)
        case .running, .paused:
            guard force else {
                throw RuntimeError("cannot delete container \(id) that is not stopped: \(status.rawValue)")
            }
            killEverything(record)
        }
        finish(record)
    }

    /// Removes a container whose processes are gone, then runs its poststop hooks.
    func finish(_ record: ContainerRecord) {
        destroy(record)
        let state = OCI.State(id: record.id, status: .stopped, pid: record.pid, bundle: record.bundle,
                              rootfs: record.rootfs, created: record.created, annotations: record.annotations)
        do {
            try HookRunner.run(record.poststopHooks, phase: "poststop", state: state)
        } catch {
            Log.shared.warning(error.message)
        }
    }

    /// SIGKILL to the init and everything in its cgroup, then waits until they are gone.
    private func killEverything(_ record: ContainerRecord) {
        let cgroup = cgroup(of: record)
        let pidfd = berth_pidfd_open(record.pid, 0)
        if isAlive(record) {
            if pidfd >= 0 { _ = berth_pidfd_send_signal(pidfd, SIGKILL) } else { _ = Glibc.kill(record.pid, SIGKILL) }
        }
        for pid in cgroup.processes() { _ = Glibc.kill(pid, SIGKILL) }
        try? cgroup.thaw()
        if pidfd >= 0 {
            _ = try? Poll.wait(pidfd, timeoutMilliseconds: 5000)
            FS.close(pidfd)
        }
        // Reap it if it is ours (run, or a create in this process).
        var status: Int32 = 0
        _ = waitpid(record.pid, &status, WNOHANG)
        for _ in 0..<500 where !cgroup.processes().isEmpty {
            usleep(2000)
        }
    }

    /// Removes what a container left: its cgroups and its state directory.
    func destroy(_ record: ContainerRecord) {
        if !record.cgroupPaths.isEmpty {
            let cgroup = cgroup(of: record)
            for pid in cgroup.processes() { _ = Glibc.kill(pid, SIGKILL) }
            cgroup.destroy()
        }
        store.remove(record.id)
    }
}
