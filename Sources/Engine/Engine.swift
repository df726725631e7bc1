import ContainerRuntime
import ContainerSpec
import Glibc
import GRDB
import ImageStore
import LinuxSys
import OCI

/// Berth's engine on one machine: containers (with their supervisors), over the image store.
/// Daemonless, as Podman is: every CLI process opens the same on-disk state, and the database and
/// per-container locks keep concurrent CLIs safe.
///
///     <root>/berth.db                         images, containers and volumes (SQLite, WAL)
///     <root>/volumes/<name>/_data             a local volume's content
///     <root>/containers/<id>/                 persistent: state.json, <id>-json.log, upper/, work/, init/
///                                             (the init layer), rootfs/ (the overlay mount point), hosts,
///                                             hostname, resolv.conf
///     <root>/trash/                           removed containers' directories, being deleted (`Trash`)
///     <runroot>/containers/<id>/              per boot: config.json (the bundle), supervisor.json, attach
///     <runroot>/runtime/                      the runtime's state (berth-runtime's format)
public final class Engine: Sendable {
    public let root: String
    public let runRoot: String
    public let images: ImageStore
    let containers: ContainerDatabase
    let volumeRecords: VolumeDatabase
    let networkRecords: NetworkDatabase
    let runtime: OCIRuntime
    let trash: Trash

    /// `database` is `openDatabase(root:migrations:)`'s, when the caller keeps tables of its own in it
    /// (`berth serve`'s Kubernetes store shares the engine's pool, so one process has one writer).
    public init(root: String, runRoot: String, database: StateDatabase? = nil) throws(EngineError) {
        self.root = FS.absolute(root)
        self.runRoot = FS.absolute(runRoot)
        let database = if let database { database } else { try Self.openDatabase(root: self.root) }
        do {
            images = try ImageStore(root: self.root, database: database.pool)
        } catch {
            throw .system("open image store \(root)", error)
        }
        containers = ContainerDatabase(pool: database.pool)
        volumeRecords = VolumeDatabase(pool: database.pool)
        networkRecords = NetworkDatabase(pool: database.pool)
        runtime = OCIRuntime(root: self.runRoot + "/runtime")
        trash = Trash(directory: self.root + "/trash")
        do {
            try FS.mkdirAll(self.root + "/containers", mode: 0o710)
            try FS.mkdirAll(self.runRoot + "/containers", mode: 0o700)
        } catch {
            throw .system("create engine directories", error)
        }
    }

    /// The image store alone, for the commands that need no more (`images`, `pull`, `rmi`): the
    /// engine's database opened and migrated as `Engine.init` does.
    public static func imageStore(root: String) throws(EngineError) -> ImageStore {
        let root = FS.absolute(root)
        let database = try openDatabase(root: root)
        do { return try ImageStore(root: root, database: database.pool) } catch {
            throw .system("open image store \(root)", error)
        }
    }

    /// `<root>/berth.db`, made and migrated, with a service's own tables' `migrations` applied too.
    public static func openDatabase(root: String, migrations: StateDatabase.Migrations = { _ in }) throws(EngineError) -> StateDatabase {
        let root = FS.absolute(root)
        do { try FS.mkdirAll(root, mode: 0o711) } catch { throw .system("create \(root)", error) }
        return try StateDatabase(path: root + "/berth.db", migrations: migrations)
    }

    // MARK: - Paths

    func containerDirectory(_ id: String) -> String { root + "/containers/" + id }
    func runDirectory(_ id: String) -> String { runRoot + "/containers/" + id }
    /// The runtime's state directory (`runtime`'s root, berth-runtime's --root).
    var runtimeRoot: String { runRoot + "/runtime" }
    func statePath(_ id: String) -> String { containerDirectory(id) + "/state.json" }
    public func logPath(_ id: String) -> String { containerDirectory(id) + "/\(id)-json.log" }
    func rootfsPath(_ id: String) -> String { containerDirectory(id) + "/rootfs" }
    func attachSocketPath(_ id: String) -> String { runDirectory(id) + "/attach" }

    // MARK: - Finding containers

    public func all() throws(EngineError) -> [Container] { try containers.all() }

    /// Docker's lookup: a full ID, a name (with or without the leading slash), or a unique ID prefix.
    public func container(_ text: String) throws(EngineError) -> Container {
        let name = text.hasPrefix("/") ? String(text.dropFirst()) : text
        let matches = try containers.lookup(text, name: name)
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 { throw .notFound("multiple containers found with provided prefix: \(text)", reportedByDaemon: true) }
        throw .notFound("No such container: \(text)", reportedByDaemon: true)
    }

    /// The run state and Docker's status word, checked against the live system.
    public func status(_ container: Container) -> ContainerState {
        ContainerState(state: ContainerRunState.load(statePath(container.id)), runtime: runtime, id: container.id)
    }
}

/// A container's state as the engine reports it: the supervisor's record, corrected by what is
/// true now (a killed supervisor or container does not stay "running").
public struct ContainerState: Sendable {
    /// Docker's State.Status words; the raw values are what its API and CLI show. (Not the OCI
    /// runtime's `OCI.ContainerStatus`: creating, created, running, paused, stopped.)
    public enum Status: String, Sendable, Codable, CaseIterable {
        case created, running, paused, restarting, removing, exited, dead
    }

    public var status: Status
    public var state: ContainerRunState

    init(state recorded: ContainerRunState?, runtime: OCIRuntime, id: String) {
        guard var state = recorded else {
            self.status = .created
            self.state = ContainerRunState(status: .starting)
            return
        }
        switch state.status {
        case .running:
            if state.containerAlive {
                let runtimeStatus = try? runtime.state(id: id).status
                status = runtimeStatus == .paused ? .paused : .running
            } else if state.supervisorAlive {
                // Ended a moment ago; the supervisor is writing it down.
                status = .running
            } else {
                // Both gone without a word (kill -9): ended, status unknown.
                state.status = .exited
                state.pid = 0
                if state.exitCode == 0 { state.exitCode = 255 }
                status = .exited
            }
        case .restarting:
            status = state.supervisorAlive ? .restarting : .exited
        case .starting:
            status = state.supervisorAlive ? .created : (state.startedAt == ContainerRunState.zeroTime ? .created : .exited)
        case .exited:
            status = .exited
        }
        self.state = state
    }

    public var isRunning: Bool { status == .running || status == .paused }
}
