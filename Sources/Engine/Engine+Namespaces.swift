import CLinuxSys
import ContainerSpec
import Glibc
import LinuxSys

/// `--pid` and `--ipc` with `container:NAME`, `--ipc shareable|host`: which namespaces a starting
/// container joins, and the /dev/shm it shares, resolved as Docker's daemon does at start.
extension Engine {
    /// What a container joins and shares, for `SpecInput`; `unmountAtEnd` is what the supervisor
    /// unmounts when the container has ended (its own shareable /dev/shm).
    struct SharedNamespaces {
        var pid: String?
        var ipc: String?
        var uts: String?
        var shm: String?
        var unmountAtEnd: [String] = []
    }

    /// The tmpfs a `shareable` container keeps its /dev/shm on, outside its mount namespace so that
    /// a container joining its IPC namespace can bind the same one (Docker's mounts/shm).
    func shmPath(_ id: String) -> String { containerDirectory(id) + "/shm" }

    /// Resolves the container's namespace modes; refuses (with Docker's words) to join a
    /// container that is not running, or an IPC namespace its owner did not make shareable.
    func sharedNamespaces(_ container: Container) throws(EngineError) -> SharedNamespaces {
        var shared = SharedNamespaces()
        let options = container.options
        if case .container(let name) = options.pidMode {
            let other = try self.container(name)
            guard let pid = runningPid(other) else {
                throw .conflict("container \(other.id) is not running", reportedByDaemon: true)
            }
            shared.pid = "/proc/\(pid)/ns/pid"
        }
        // Only the kubelet asks for this (a Pod's containers share its sandbox's hostname); Docker has no `--uts container:`.
        if case .container(let name) = options.utsMode {
            let other = try self.container(name)
            guard let pid = runningPid(other) else {
                throw .conflict("container \(other.id) is not running", reportedByDaemon: true)
            }
            shared.uts = "/proc/\(pid)/ns/uts"
        }
        switch options.ipcMode ?? .private {
        case .container(let name):
            let other = try self.container(name)
            guard let pid = runningPid(other) else {
                throw .conflict("can't join IPC of container \(other.id): container \(other.id) is not running", reportedByDaemon: true)
            }
            switch other.options.ipcMode ?? .private {
            case .shareable: shared.shm = shmPath(other.id)
            case .host: shared.shm = "/dev/shm"
            default:
                throw .conflict("can't join IPC of container \(other.id): non-shareable IPC (hint: use IpcMode:shareable for the donor container)",
                                reportedByDaemon: true)
            }
            shared.ipc = "/proc/\(pid)/ns/ipc"
        case .host:
            shared.shm = "/dev/shm"
        case .shareable:
            let path = shmPath(container.id)
            try mountShm(path, size: options.shmSize ?? SpecBuilder.defaultShmSize)
            shared.shm = path
            shared.unmountAtEnd = [path]
        case .private, .none:
            break
        }
        return shared
    }

    /// The init's pid of a running (or paused) container.
    func runningPid(_ container: Container) -> Int32? {
        let current = status(container)
        return current.isRunning && current.state.pid > 0 ? current.state.pid : nil
    }

    /// A tmpfs for /dev/shm at `path` (left as it is when already mounted), with Docker's options.
    func mountShm(_ path: String, size: Int64) throws(EngineError) {
        if Self.isMountPoint(path) { return }
        do {
            try FS.mkdirAll(path, mode: 0o700)
            try MountSys.mount(source: "shm", target: path, type: "tmpfs", flags: UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC),
                               data: "mode=1777,size=\(size)")
        } catch {
            throw .system("mount the /dev/shm of a shareable IPC namespace at \(path)", error)
        }
    }

    func unmountShm(_ id: String) {
        let path = shmPath(id)
        while Self.isMountPoint(path) {
            if (try? MountSys.umount(path, flags: Int32(MNT_DETACH))) == nil { break }
        }
    }

    /// Create's checks: a container whose namespace is to be joined must exist (it need not run yet).
    func checkNamespaceDonors(_ options: RunOptions) throws(EngineError) {
        for mode in [options.pidMode, options.ipcMode] {
            if let name = mode?.containerName { _ = try container(name) }
        }
    }
}
