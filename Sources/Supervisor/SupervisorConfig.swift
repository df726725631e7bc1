import ContainerSpec
import Glibc
import LinuxSys
import OCI

/// What the engine tells a container's supervisor: written by the engine as `supervisor.json` in the
/// container's run directory before it starts `berth-supervisor RUNDIR`.
public struct SupervisorConfig: Codable, Sendable, Equatable {
    public var id: String
    /// The OCI bundle (config.json) the runtime creates the container from.
    public var bundle: String
    /// The runtime's state root (the engine's private one, not berth-runtime's default).
    public var runtimeRoot: String
    /// The container's persistent run state (`ContainerRunState`), kept across reboots.
    public var statePath: String
    /// The json-file log and its rotation.
    public var logPath: String
    public var logMaxSize: Int64?
    public var logMaxFiles: Int
    /// The unix socket attach clients connect to (`berth attach`, `start -a`, later the API server).
    public var attachSocket: String
    public var tty: Bool
    /// `-i`: the container's stdin stays open and is fed by attached clients.
    public var openStdin: Bool
    /// Close the container's stdin when the first client that wrote to it detaches (`docker run -i`).
    public var stdinOnce: Bool
    public var restart: RestartPolicy
    /// The overlay mount of the rootfs: unmounted when the supervisor ends for good.
    public var rootfsMount: String?
    /// Run once the container has ended for good (e.g. `berth rm` for `run -d --rm`).
    public var exitCommand: [String]?
    /// The image's or the user's health check (Docker's Test/Interval/Timeout/Retries/StartPeriod).
    public var healthcheck: HealthConfig?
    /// The engine's events file, and the container's attributes its events carry (image, name, labels).
    public var eventsPath: String?
    public var eventAttributes: [String: String]?
    /// The container's networks, detached (CNI DEL) when it has ended for good.
    public var network: NetworkTeardown?
    /// `--log-driver none`: the output goes to attached clients only, no log is written.
    public var logDisabled: Bool?
    /// Mounts the engine made for the container outside its rootfs (the tmpfs of a `shareable`
    /// IPC namespace's /dev/shm): unmounted when the container has ended for good, as the rootfs.
    public var unmountAtEnd: [String]?

    public struct NetworkTeardown: Codable, Sendable, Equatable {
        public var recordDirectory: String
        public var netns: String
        public var dnsDirectory: String
        public init(recordDirectory: String, netns: String, dnsDirectory: String) {
            self.recordDirectory = recordDirectory
            self.netns = netns
            self.dnsDirectory = dnsDirectory
        }
    }

    public init(id: String, bundle: String, runtimeRoot: String, statePath: String, logPath: String,
                logMaxSize: Int64?, logMaxFiles: Int, attachSocket: String, tty: Bool, openStdin: Bool,
                stdinOnce: Bool, restart: RestartPolicy, rootfsMount: String?, exitCommand: [String]?,
                healthcheck: HealthConfig?, eventsPath: String? = nil, eventAttributes: [String: String]? = nil) {
        self.id = id
        self.bundle = bundle
        self.runtimeRoot = runtimeRoot
        self.statePath = statePath
        self.logPath = logPath
        self.logMaxSize = logMaxSize
        self.logMaxFiles = logMaxFiles
        self.attachSocket = attachSocket
        self.tty = tty
        self.openStdin = openStdin
        self.stdinOnce = stdinOnce
        self.restart = restart
        self.rootfsMount = rootfsMount
        self.exitCommand = exitCommand
        self.healthcheck = healthcheck
        self.eventsPath = eventsPath
        self.eventAttributes = eventAttributes
    }

    public static let fileName = "supervisor.json"
    /// Created by `stop`/`kill`/`rm -f` before they act: the exit that follows is not restarted.
    /// From `stop` it holds a `StopRequest`, which the supervisor carries out.
    public static let stopRequestName = "stop-requested"
    /// Sent to the supervisor once a `StopRequest` is in place (it reads it from its signalfd).
    public static let stopNotifySignal = SIGUSR2

    public static func load(runDirectory: String) throws(SupervisorError) -> SupervisorConfig {
        let path = runDirectory + "/" + fileName
        do {
            return try JSONTreeDecoder.decode(SupervisorConfig.self, from: try FS.readFile(path))
        } catch {
            throw SupervisorError("read \(path)", error)
        }
    }

    public func save(runDirectory: String) throws(SupervisorError) {
        let path = runDirectory + "/" + Self.fileName
        do {
            try FS.writeFileAtomically(path, try JSONTreeEncoder.encode(self), mode: 0o600)
        } catch {
            throw SupervisorError("write \(path)", error)
        }
    }
}

/// `stop`'s request to the supervisor, the content of `stop-requested`: the signal for the
/// container's init and the seconds before every process of the container gets SIGKILL. The
/// supervisor carries it out, so a CLI killed meanwhile does not leave the container running.
public struct StopRequest: Codable, Sendable, Equatable {
    public var signal: Int32
    /// Negative: no SIGKILL, wait for as long as it takes (Docker's `stop -t -1`).
    public var timeout: Int

    public init(signal: Int32, timeout: Int) {
        self.signal = signal
        self.timeout = timeout
    }

    /// The request in `runDirectory`; nil when there is none, or only the bare marker of `kill`/`rm -f`.
    public static func load(runDirectory: String) -> StopRequest? {
        guard let bytes = try? FS.readFile(runDirectory + "/" + SupervisorConfig.stopRequestName), !bytes.isEmpty else { return nil }
        return try? JSONTreeDecoder.decode(StopRequest.self, from: bytes)
    }

    public func save(runDirectory: String) throws(SupervisorError) {
        let path = runDirectory + "/" + SupervisorConfig.stopRequestName
        do {
            try FS.writeFileAtomically(path, try JSONTreeEncoder.encode(self), mode: 0o600)
        } catch {
            throw SupervisorError("write \(path)", error)
        }
    }
}
