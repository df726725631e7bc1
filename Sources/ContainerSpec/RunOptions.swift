import ContainerNetwork

/// What `berth run` / `berth create` were asked for, as typed values: the flags of `docker run`
/// after parsing, before the image's config is merged in. Stored with the container (it is what
/// `inspect` reports as HostConfig/Config and what a restart builds the spec from again).
public struct RunOptions: Codable, Sendable, Equatable {
    // MARK: identity and process
    public var name: String?
    public var hostname: String?
    public var domainname: String?
    /// `--entrypoint`: nil keeps the image's; `[""]`-like empty array clears it (`--entrypoint ""`).
    public var entrypoint: [String]?
    /// The words after IMAGE; nil (or empty) keeps the image's Cmd.
    public var command: [String]?
    /// `-e`/`--env-file` in the order given, each `KEY=VALUE` (a bare `KEY` already resolved from the
    /// caller's environment, or dropped when unset, as Docker does).
    public var env: [String] = []
    public var workingDir: String?
    /// `-u`: `user`, `uid`, `user:group`, `uid:gid`, as given (resolved against the rootfs later).
    public var user: String?
    /// `--group-add`.
    public var groupAdd: [String] = []
    public var labels: [String: String] = [:]
    /// `--expose` and the container ports of `-p`, as "80/tcp" (Docker adds both to ExposedPorts);
    /// nil when none (and in records written before the flag existed).
    public var exposedPorts: [String]?
    public var tty = false
    public var interactive = false
    public var detach = false
    public var autoRemove = false
    public var stopSignal: String?
    /// `--stop-timeout` in seconds; nil means Docker's 10.
    public var stopTimeout: Int?
    /// `--init`: run an init (tini) as pid 1 that reaps zombies and forwards signals.
    public var initProcess = false
    public var pull: PullPolicy = .missing
    /// `-a`/`--attach` (Docker's Config.AttachStdin/AttachStdout/AttachStderr): the streams a
    /// foreground run relays. nil: Docker's default, stdout and stderr (and stdin with `-i`); none
    /// with `-d`. Stdin reaches the container only with `-i` as well.
    public var attach: [StandardStream]?
    /// Docker's Config.StdinOnce as an API client gave it: the end of an attached client's stdin
    /// closes the container's. nil (the CLI, older records): `-i` without `-d`, as Docker's CLI sets it.
    public var stdinOnce: Bool?
    /// `--platform os[/arch[/variant]]`, normalized ("linux/amd64"); nil: the image's own. `create`
    /// refuses an image built for another platform, with Docker's words.
    public var platform: String?
    /// `--cidfile` (Docker's HostConfig.ContainerIDFile): where the CLI wrote the container's ID.
    /// Recorded for inspect only: the file is the client's business, as with Docker (see
    /// `ContainerIDFile`); a daemon never writes it.
    public var containerIDFile: String?

    // MARK: namespaces (nil: a namespace of the container's own)
    /// `--pid host|container:NAME` (HostConfig.PidMode).
    public var pidMode: NamespaceMode?
    /// `--ipc private|shareable|host|none|container:NAME` (HostConfig.IpcMode); nil is Docker's
    /// default, `private`. Only a `shareable` (or `host`) container's IPC can be joined.
    public var ipcMode: NamespaceMode?
    /// `--uts host` (HostConfig.UTSMode): the host's hostname; `-h` conflicts with it.
    public var utsMode: NamespaceMode?
    /// `--userns host` (HostConfig.UsernsMode). Berth never remaps users, so this changes nothing
    /// but what inspect reports; Docker's only other value needs a remapping daemon.
    public var usernsMode: NamespaceMode?

    // MARK: filesystem
    public var mounts: [MountRequest] = []
    public var readOnlyRootfs = false
    /// `--volumes-from CONTAINER[:ro|rw]` as given (HostConfig.VolumesFrom). `Engine.create` copies
    /// that container's volumes and binds into `mounts` (marked `fromContainer`).
    public var volumesFrom: [String]?

    // MARK: resources (nil: no limit)
    /// `-m` in bytes.
    public var memory: Int64?
    /// `--memory-swap` in bytes, -1 for unlimited; nil means Docker's default (twice `memory`).
    public var memorySwap: Int64?
    public var memoryReservation: Int64?
    /// `--cpus` in billionths of a CPU (Docker's NanoCPUs): 1.5 → 1_500_000_000.
    public var nanoCPUs: Int64?
    public var cpuShares: UInt64?
    public var cpuPeriod: UInt64?
    public var cpuQuota: Int64?
    public var cpusetCpus: String?
    public var cpusetMems: String?
    /// `--pids-limit`; -1 or 0 means unlimited as in Docker.
    public var pidsLimit: Int64?
    public var ulimits: [Ulimit] = []
    public var shmSize: Int64?
    public var oomScoreAdj: Int?
    /// `--oom-kill-disable` (HostConfig.OomKillDisable): memory.oom_control on cgroup v1; dropped
    /// with Docker's warning where the kernel has no such switch (cgroup v2).
    public var oomKillDisable: Bool?
    /// `--gpus` as given (HostConfig.DeviceRequests in Docker's API). Berth has no device driver
    /// for GPUs: any request is refused at create with Docker's words for that case.
    public var gpus: String?

    // MARK: security
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var privileged = false
    public var devices: [DeviceRequest] = []
    /// `--security-opt seccomp=unconfined` → `.unconfined`, `seccomp=PATH` → `.profile(PATH)` (Docker's
    /// profile format, read at create time), nil → the default profile.
    public var seccomp: SeccompChoice?
    public var noNewPrivileges = false
    /// Every `--security-opt` but seccomp, kept for inspect; systempaths, writable-cgroups, mask,
    /// unmask and proc-opts shape the spec; apparmor=NAME becomes process.apparmorProfile (refused
    /// by the runtime where AppArmor is off); label is accepted and has no effect.
    public var securityOpt: [String] = []
    /// `--sysctl KEY=VALUE`.
    public var sysctls: [String: String] = [:]

    // MARK: network
    public var network: NetworkMode = .default
    /// `-p`, `-P`, `--network-alias`, `--ip`, `--dns*`, `--add-host`; nil when none was given
    /// (and in records written before networks existed).
    public var networking: NetworkRequest?
    /// `--link NAME[:ALIAS]`, each as "NAME:ALIAS" (HostConfig.Links). At start the linked
    /// container must run; its address goes into /etc/hosts under the alias (on the default bridge
    /// also Docker's legacy ALIAS_NAME/_ENV_/_PORT_ variables).
    public var links: [String]?
    /// `--mac-address` (the primary endpoint's MacAddress), lowercase; nil: the kernel's choice.
    public var macAddress: String?
    public var net: NetworkRequest {
        get { networking ?? NetworkRequest() }
        set { networking = newValue == NetworkRequest() ? nil : newValue }
    }

    // MARK: lifecycle
    public var restart: RestartPolicy = .no
    /// Health check flags; nil fields keep the image's HEALTHCHECK values.
    public var health: HealthOverride = HealthOverride()
    /// `--no-healthcheck`: disable any image health check.
    public var noHealthcheck = false
    /// `--log-opt max-size=… max-file=…` (and any other KEY=VALUE, kept for inspect).
    public var logOptions: [String: String] = [:]
    /// `--log-driver json-file|local|none` (HostConfig.LogConfig.Type); nil: json-file. `local`
    /// keeps the same readable log (its options: max-size, max-file, compress); `none` keeps none,
    /// and `logs` says so.
    public var logDriver: LogDriver?

    public init() {}
}

public enum PullPolicy: String, Codable, Sendable, Equatable {
    case missing, always, never
}

/// One of a container's standard streams (`-a stdin|stdout|stderr`).
public enum StandardStream: String, Codable, Sendable, Equatable, CaseIterable {
    case stdin, stdout, stderr
}

/// Whose namespace a container uses: Docker's PidMode, IpcMode, UTSMode and UsernsMode.
public enum NamespaceMode: Codable, Sendable, Equatable {
    /// One of its own (Docker's "" for PidMode/UTSMode/UsernsMode, "private" for IpcMode).
    case `private`
    /// The host's ("host").
    case host
    /// Another container's ("container:NAME|ID"), joined at start through /proc/PID/ns/…; refused
    /// when that container is not running.
    case container(String)
    /// IPC only: one of its own that other containers may join, /dev/shm included ("shareable").
    case shareable
    /// IPC only: one of its own without /dev/shm ("none").
    case none
}

/// `--log-driver`: what Berth keeps of a container's output.
public enum LogDriver: String, Codable, Sendable, Equatable {
    case jsonFile = "json-file"
    case local
    case none
}

/// One `-v`, `--mount` or `--tmpfs`.
public struct MountRequest: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, Equatable {
        /// A host path (`-v /host:/ctr`, `--mount type=bind`).
        case bind
        /// A named volume (`-v name:/ctr`), or anonymous when `source` is nil (`-v /ctr`, image VOLUME).
        case volume
        case tmpfs
    }
    public var kind: Kind
    /// Host path for binds, volume name for volumes (nil: anonymous), nil for tmpfs.
    public var source: String?
    /// Absolute path inside the container.
    public var target: String
    public var readOnly = false
    /// Further mount options as given: `z`/`Z`/`rprivate`/`nocopy` for -v, `size=…`/`mode=…` for tmpfs.
    public var options: [String] = []
    /// Copied by `--volumes-from` from this container (its ID): listed in inspect's Mounts, not
    /// among the container's own Binds.
    public var fromContainer: String?
    /// A `-v` bind: a missing host directory is created at start, as Docker does for its Binds.
    /// Otherwise (`--mount`, builds) a missing source is refused at create.
    public var createsMissingSource: Bool?

    public init(kind: Kind, source: String?, target: String, readOnly: Bool = false, options: [String] = []) {
        self.kind = kind
        self.source = source
        self.target = target
        self.readOnly = readOnly
        self.options = options
    }
}

/// `--ulimit nofile=1024:2048` (soft:hard; one number sets both).
public struct Ulimit: Codable, Sendable, Equatable {
    /// Docker's short name: `nofile`, `nproc`, `core`, `memlock`, `stack`, ….
    public var name: String
    public var soft: Int64
    public var hard: Int64
    public init(name: String, soft: Int64, hard: Int64) {
        self.name = name
        self.soft = soft
        self.hard = hard
    }
}

/// `--device /dev/host[:/dev/ctr[:rwm]]`.
public struct DeviceRequest: Codable, Sendable, Equatable {
    public var hostPath: String
    public var containerPath: String
    /// Cgroup permissions, a subset of "rwm".
    public var permissions: String
    public init(hostPath: String, containerPath: String, permissions: String = "rwm") {
        self.hostPath = hostPath
        self.containerPath = containerPath
        self.permissions = permissions
    }
}

public enum SeccompChoice: Codable, Sendable, Equatable {
    case unconfined
    /// `seccomp=builtin`: Docker 28's default profile even where an operator replaced the default.
    case builtin
    case profile(path: String)
}

/// What a container asks of its networks, beside the mode.
public struct NetworkRequest: Codable, Sendable, Equatable {
    /// `-p`, parsed; host port 0 means "pick a free one at start".
    public var publish: [PortMapping] = []
    /// `-P`: every EXPOSEd port to a free host port.
    public var publishAll = false
    public var aliases: [String] = []
    /// `--ip`.
    public var ipv4: String?
    public var dns: [String] = []
    public var dnsSearch: [String] = []
    public var dnsOptions: [String] = []
    /// `--add-host name:ip`, as given.
    public var extraHosts: [String] = []
    public init() {}
}

public enum NetworkMode: Codable, Sendable, Equatable {
    /// No flag given: the default bridge network.
    case `default`
    case none
    case host
    /// `bridge` or a user network name.
    case named(String)
    /// `container:NAME|ID`.
    case container(String)
}

/// `--health-cmd/-interval/-timeout/-retries/-start-period`; durations in nanoseconds as Docker stores them.
public struct HealthOverride: Codable, Sendable, Equatable {
    /// `--health-cmd "curl …"`, stored as Docker does: `["CMD-SHELL", "curl …"]`.
    public var test: [String]?
    public var interval: Int64?
    public var timeout: Int64?
    public var retries: Int?
    public var startPeriod: Int64?
    public var startInterval: Int64?
    public init() {}
}
