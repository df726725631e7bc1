import ContainerSpec
import Engine
import LinuxSys
import Synchronization

/// Execs created but not yet started (`POST /containers/{id}/exec` then `POST /exec/{id}/start`),
/// running, or ended (kept a while for `GET /exec/{id}/json`, as clients read the exit code there
/// after the stream ends). They live in the server's memory, as dockerd's do.
final class ExecRegistry: Sendable {
    private let entries = Mutex<[String: ExecInstance]>([:])

    /// How long an ended exec stays inspectable, and how long one never started is kept.
    static let keepEnded: Int64 = 600 * 1_000_000_000
    static let keepUnstarted: Int64 = 3600 * 1_000_000_000

    func add(_ instance: ExecInstance) {
        let now = MonotonicClock.now()
        entries.withLock { entries in
            entries = entries.filter { !$0.value.expired(now: now) }
            entries[instance.id] = instance
        }
    }

    /// The IDs of `containerID`'s execs not ended yet, oldest first (inspect's `ExecIDs`).
    func ids(container containerID: String) -> [String] {
        entries.withLock { entries in
            entries.values.filter { $0.containerID == containerID && !$0.hasEnded }.sorted { $0.created < $1.created }.map(\.id)
        }
    }

    /// By full ID, as dockerd looks execs up.
    func get(_ id: String) -> ExecInstance? {
        entries.withLock { $0[id] }
    }
}

/// One exec: what `POST /containers/{id}/exec` asked for, and its state once started.
final class ExecInstance: @unchecked Sendable {
    let id: String
    let containerID: String
    let request: ExecRequest
    let attachStdin: Bool
    let attachStdout: Bool
    let attachStderr: Bool
    /// The detach keys as given (`ctrl-p,ctrl-q`); inspect shows their bytes.
    let detachKeys: [UInt8]
    let created = MonotonicClock.now()

    enum Phase { case created, starting, running, ended }
    private let lock = ConditionLock()
    private var phase = Phase.created
    private var session: ExecSession?
    private var pid: Int32 = 0
    private var exitCode: Int32?
    private var ended: Int64 = 0

    init(id: String, containerID: String, request: ExecRequest, attachStdin: Bool, attachStdout: Bool, attachStderr: Bool, detachKeys: [UInt8]) {
        self.id = id
        self.containerID = containerID
        self.request = request
        self.attachStdin = attachStdin
        self.attachStdout = attachStdout
        self.attachStderr = attachStderr
        self.detachKeys = detachKeys
    }

    /// Claims the start; Docker's 409s for an exec started before.
    func claimStart() throws {
        try lock.withLock {
            switch phase {
            case .created: phase = .starting
            case .starting, .running: throw EngineError.conflict("Error: Exec command \(id) is already running")
            case .ended: throw EngineError.conflict("Error: Exec command \(id) has already run")
            }
        }
    }

    func started(_ session: ExecSession) {
        lock.withLock {
            self.session = session
            pid = session.pid
            phase = .running
            lock.broadcast()
        }
    }

    /// The process ended (or never started: `status` is then Docker's 126/127).
    func finished(_ status: Int32) {
        lock.withLock {
            exitCode = status
            phase = .ended
            ended = MonotonicClock.now()
            session = nil
            lock.broadcast()
        }
    }

    /// The running session, waiting up to `seconds` for a start under way (a client resizes as
    /// soon as it has sent the start); nil when the exec is not running.
    func runningSession(waiting seconds: Double) -> ExecSession? {
        lock.withLock {
            let deadline = MonotonicClock.seconds() + seconds
            while phase == .created || phase == .starting {
                let left = deadline - MonotonicClock.seconds()
                if left <= 0 { break }
                lock.wait(timeoutSeconds: left)
            }
            return session
        }
    }

    var state: (running: Bool, exitCode: Int32?, pid: Int32) {
        lock.withLock { (phase == .running || phase == .starting, exitCode, pid) }
    }

    var hasEnded: Bool { lock.withLock { phase == .ended } }

    func expired(now: Int64) -> Bool {
        lock.withLock {
            switch phase {
            case .ended: return now - ended > ExecRegistry.keepEnded
            case .created: return now - created > ExecRegistry.keepUnstarted
            default: return false
            }
        }
    }
}
