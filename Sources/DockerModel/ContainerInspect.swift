import ContainerNetwork
import ContainerSpec
import Engine
import LinuxSys
import OCI
import Supervisor

/// Docker's `GET /containers/{id}/json` (`docker container inspect`): the fields people script
/// against, members in Docker's order. Optional members marked "omitted" are left out when nil;
/// the others print `null`.
public struct ContainerInspect: Encodable, Sendable {
    public var id: String
    public var created: String
    public var path: String
    public var args: [String]
    public var state: State
    public var image: String
    public var resolvConfPath: String
    public var hostnamePath: String
    public var hostsPath: String
    public var logPath: String
    public var name: String
    public var restartCount: Int
    public var driver = "overlay"
    public var platform = "linux"
    public var mountLabel = ""
    public var processLabel = ""
    public var appArmorProfile = ""
    /// The container's execs made or running (not ended); null when none, as dockerd. Only the
    /// API server knows them (they live in its memory, as dockerd's do).
    public var execIDs: [String]?
    public var hostConfig: HostConfig
    public var graphDriver: GraphDriver
    /// Omitted unless sizes were asked for.
    public var sizeRw: Int64?
    public var sizeRootFs: Int64?
    public var mounts: [MountPoint]
    public var config: Config
    public var networkSettings: NetworkSettings

    public struct State: Encodable, Sendable {
        public var status: String
        public var running: Bool
        public var paused: Bool
        public var restarting: Bool
        public var oomKilled: Bool
        public var dead = false
        public var pid: Int
        public var exitCode: Int
        public var error: String
        public var startedAt: String
        public var finishedAt: String
        /// Omitted for a container without a health check.
        public var health: Health?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encodeMembers([
                (AnyKey("Status"), status), (AnyKey("Running"), running), (AnyKey("Paused"), paused),
                (AnyKey("Restarting"), restarting), (AnyKey("OOMKilled"), oomKilled), (AnyKey("Dead"), dead),
                (AnyKey("Pid"), pid), (AnyKey("ExitCode"), exitCode), (AnyKey("Error"), error),
                (AnyKey("StartedAt"), startedAt), (AnyKey("FinishedAt"), finishedAt),
            ])
            try c.encodeIfPresent(health, forKey: AnyKey("Health"))
        }
    }

    public struct Health: Encodable, Sendable {
        public var status: String
        public var failingStreak: Int
        public var log: [Probe]

        public struct Probe: Encodable, Sendable {
            public var start: String
            public var end: String
            public var exitCode: Int
            public var output: String
            enum CodingKeys: String, CodingKey { case start = "Start", end = "End", exitCode = "ExitCode", output = "Output" }
        }
        enum CodingKeys: String, CodingKey { case status = "Status", failingStreak = "FailingStreak", log = "Log" }
    }

    public struct HealthConfig: Encodable, Sendable {
        public var test: [String]?
        public var interval: Int64?
        public var timeout: Int64?
        public var startPeriod: Int64?
        public var startInterval: Int64?
        public var retries: Int?

        public init(_ health: OCI.HealthConfig) {
            test = health.test
            interval = health.interval
            timeout = health.timeout
            startPeriod = health.startPeriod
            startInterval = health.startInterval
            retries = health.retries
        }

        /// Test always (null when unset); the durations and Retries only when set.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encode(test, forKey: AnyKey("Test"))
            try c.encodeIfPresent(interval, forKey: AnyKey("Interval"))
            try c.encodeIfPresent(timeout, forKey: AnyKey("Timeout"))
            try c.encodeIfPresent(startPeriod, forKey: AnyKey("StartPeriod"))
            try c.encodeIfPresent(startInterval, forKey: AnyKey("StartInterval"))
            try c.encodeIfPresent(retries, forKey: AnyKey("Retries"))
        }
    }

    public struct Config: Encodable, Sendable {
        public var hostname: String
        public var domainname: String
        public var user: String
        public var attachStdin: Bool
        public var attachStdout: Bool
        public var attachStderr: Bool
        public var exposedPorts: SortedSet?
        public var tty: Bool
        public var openStdin: Bool
        public var stdinOnce: Bool
        public var env: [String]?
        public var cmd: [String]?
        /// Omitted when the container has none.
        public var healthcheck: HealthConfig?
        public var image: String
        public var volumes: SortedSet?
        public var workingDir: String
        public var entrypoint: [String]?
        public var onBuild: [String]?
        /// `{}` when there are none.
        public var labels: SortedMap<String>
        /// Omitted when not set.
        public var stopSignal: String?
        public var stopTimeout: Int?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encodeMembers([
                (AnyKey("Hostname"), hostname), (AnyKey("Domainname"), domainname), (AnyKey("User"), user),
                (AnyKey("AttachStdin"), attachStdin), (AnyKey("AttachStdout"), attachStdout), (AnyKey("AttachStderr"), attachStderr),
                (AnyKey("ExposedPorts"), exposedPorts), (AnyKey("Tty"), tty), (AnyKey("OpenStdin"), openStdin),
                (AnyKey("StdinOnce"), stdinOnce), (AnyKey("Env"), env), (AnyKey("Cmd"), cmd),
            ])
            try c.encodeIfPresent(healthcheck, forKey: AnyKey("Healthcheck"))
            try c.encodeMembers([
                (AnyKey("Image"), image), (AnyKey("Volumes"), volumes), (AnyKey("WorkingDir"), workingDir),
                (AnyKey("Entrypoint"), entrypoint), (AnyKey("OnBuild"), onBuild), (AnyKey("Labels"), labels),
            ])
            try c.encodeIfPresent(stopSignal, forKey: AnyKey("StopSignal"))
            try c.encodeIfPresent(stopTimeout, forKey: AnyKey("StopTimeout"))
        }
    }

    public struct PortBinding: Encodable, Sendable, Equatable {
        public var hostIP: String
        public var hostPort: String
        public init(hostIP: String, hostPort: String) {
            self.hostIP = hostIP
            self.hostPort = hostPort
        }
        enum CodingKeys: String, CodingKey { case hostIP = "HostIp", hostPort = "HostPort" }
    }

    public struct RestartPolicy: Encodable, Sendable {
        public var name: String
        public var maximumRetryCount: Int
        enum CodingKeys: String, CodingKey { case name = "Name", maximumRetryCount = "MaximumRetryCount" }
    }

    public struct Ulimit: Encodable, Sendable {
        public var name: String
        public var hard: Int64
        public var soft: Int64
        enum CodingKeys: String, CodingKey { case name = "Name", hard = "Hard", soft = "Soft" }
    }

    public struct DeviceMapping: Encodable, Sendable {
        public var pathOnHost: String
        public var pathInContainer: String
        public var cgroupPermissions: String
        enum CodingKeys: String, CodingKey {
            case pathOnHost = "PathOnHost", pathInContainer = "PathInContainer", cgroupPermissions = "CgroupPermissions"
        }
    }

    public struct LogConfig: Encodable, Sendable {
        public var type: String
        public var config: SortedMap<String>
        enum CodingKeys: String, CodingKey { case type = "Type", config = "Config" }
    }

    public struct HostConfig: Encodable, Sendable {
        public var binds: [String]?
        public var containerIDFile = ""
        public var networkMode: String
        public var portBindings: SortedMap<[PortBinding]>
        public var publishAllPorts: Bool
        public var dns: [String]
        public var dnsOptions: [String]
        public var dnsSearch: [String]
        public var extraHosts: [String]?
        public var restartPolicy: RestartPolicy
        public var autoRemove: Bool
        public var volumesFrom: [String]?
        public var capAdd: [String]?
        public var capDrop: [String]?
        public var groupAdd: [String]?
        public var ipcMode = "private"
        /// "/target:/container/alias", as Docker stores links.
        public var links: [String]?
        public var oomScoreAdj: Int
        public var pidMode = ""
        public var privileged: Bool
        public var readonlyRootfs: Bool
        public var securityOpt: [String]?
        public var utsMode = ""
        public var usernsMode = ""
        public var tmpfs: SortedMap<String>?
        public var sysctls: SortedMap<String>?
        public var shmSize: Int64
        /// `true` or null, as Docker gives it.
        public var initProcess: Bool?
        public var memory: Int64
        public var memoryReservation: Int64
        public var memorySwap: Int64
        public var nanoCpus: Int64
        public var cpuShares: Int64
        public var cpuPeriod: Int64
        public var cpuQuota: Int64
        public var cpusetCpus: String
        public var cpusetMems: String
        public var oomKillDisable = false
        public var pidsLimit: Int64?
        public var ulimits: [Ulimit]?
        /// `[]` when there are none.
        public var devices: [DeviceMapping]
        public var logConfig: LogConfig

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encodeMembers([
                (AnyKey("Binds"), binds), (AnyKey("ContainerIDFile"), containerIDFile), (AnyKey("NetworkMode"), networkMode),
                (AnyKey("PortBindings"), portBindings),
                (AnyKey("PublishAllPorts"), publishAllPorts), (AnyKey("Dns"), dns), (AnyKey("DnsOptions"), dnsOptions),
                (AnyKey("DnsSearch"), dnsSearch), (AnyKey("ExtraHosts"), extraHosts), (AnyKey("RestartPolicy"), restartPolicy),
                (AnyKey("AutoRemove"), autoRemove), (AnyKey("VolumesFrom"), volumesFrom), (AnyKey("CapAdd"), capAdd),
                (AnyKey("CapDrop"), capDrop), (AnyKey("GroupAdd"), groupAdd), (AnyKey("IpcMode"), ipcMode), (AnyKey("Links"), links),
                (AnyKey("OomScoreAdj"), oomScoreAdj), (AnyKey("PidMode"), pidMode), (AnyKey("Privileged"), privileged),
                (AnyKey("ReadonlyRootfs"), readonlyRootfs), (AnyKey("SecurityOpt"), securityOpt), (AnyKey("UTSMode"), utsMode),
                (AnyKey("UsernsMode"), usernsMode), (AnyKey("Tmpfs"), tmpfs),
                (AnyKey("Sysctls"), sysctls), (AnyKey("ShmSize"), shmSize), (AnyKey("Init"), initProcess),
                (AnyKey("Memory"), memory), (AnyKey("MemoryReservation"), memoryReservation), (AnyKey("MemorySwap"), memorySwap),
                (AnyKey("NanoCpus"), nanoCpus), (AnyKey("CpuShares"), cpuShares), (AnyKey("CpuPeriod"), cpuPeriod),
                (AnyKey("CpuQuota"), cpuQuota), (AnyKey("CpusetCpus"), cpusetCpus), (AnyKey("CpusetMems"), cpusetMems),
                (AnyKey("OomKillDisable"), oomKillDisable), (AnyKey("PidsLimit"), pidsLimit), (AnyKey("Ulimits"), ulimits),
                (AnyKey("Devices"), devices),
                (AnyKey("LogConfig"), logConfig),
            ])
        }
    }

    public struct GraphDriver: Encodable, Sendable {
        public var data: OrderedMap<String>
        public var name = "overlay"
        enum CodingKeys: String, CodingKey { case data = "Data", name = "Name" }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encodeMembers([
            (AnyKey("Id"), id), (AnyKey("Created"), created), (AnyKey("Path"), path), (AnyKey("Args"), args),
            (AnyKey("State"), state), (AnyKey("Image"), image), (AnyKey("ResolvConfPath"), resolvConfPath),
            (AnyKey("HostnamePath"), hostnamePath), (AnyKey("HostsPath"), hostsPath), (AnyKey("LogPath"), logPath),
            (AnyKey("Name"), name), (AnyKey("RestartCount"), restartCount), (AnyKey("Driver"), driver),
            (AnyKey("Platform"), platform), (AnyKey("MountLabel"), mountLabel), (AnyKey("ProcessLabel"), processLabel),
            (AnyKey("AppArmorProfile"), appArmorProfile), (AnyKey("ExecIDs"), execIDs), (AnyKey("HostConfig"), hostConfig), (AnyKey("GraphDriver"), graphDriver),
        ])
        try c.encodeIfPresent(sizeRw, forKey: AnyKey("SizeRw"))
        try c.encodeIfPresent(sizeRootFs, forKey: AnyKey("SizeRootFs"))
        try c.encodeMembers([(AnyKey("Mounts"), mounts), (AnyKey("Config"), config), (AnyKey("NetworkSettings"), networkSettings)])
    }
}

/// A container's mount as inspect lists it. Name and Driver belong to volumes only (omitted for binds).
public struct MountPoint: Encodable, Sendable, Equatable {
    public var type: String
    public var name: String?
    public var source: String
    public var destination: String
    public var driver: String?
    public var mode: String
    public var rw: Bool
    public var propagation: String

    public init(type: String, name: String? = nil, source: String, destination: String, driver: String? = nil,
                mode: String, rw: Bool, propagation: String) {
        self.type = type
        self.name = name
        self.source = source
        self.destination = destination
        self.driver = driver
        self.mode = mode
        self.rw = rw
        self.propagation = propagation
    }

    enum CodingKeys: String, CodingKey {
        case type = "Type", name = "Name", source = "Source", destination = "Destination", driver = "Driver", mode = "Mode"
        case rw = "RW", propagation = "Propagation"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encode(source, forKey: .source)
        try c.encode(destination, forKey: .destination)
        try c.encodeIfPresent(driver, forKey: .driver)
        try c.encode(mode, forKey: .mode)
        try c.encode(rw, forKey: .rw)
        try c.encode(propagation, forKey: .propagation)
    }
}

/// Docker's NetworkSettings: the published ports, and per network the endpoint's address (filled
/// while the container runs); the top-level address fields are the default network's, as Docker's.
public struct NetworkSettings: Encodable, Sendable {
    public var bridge = ""
    public var sandboxID: String
    public var hairpinMode = false
    /// Every exposed or published port; null for one exposed but not published.
    public var ports: OrderedMap<[PortBinding]?>
    public var sandboxKey: String
    public var endpointID: String
    public var gateway: String
    public var globalIPv6Address = ""
    public var globalIPv6PrefixLen = 0
    public var ipAddress: String
    public var ipPrefixLen: Int
    public var ipv6Gateway = ""
    public var macAddress: String
    public var networks: OrderedMap<EndpointSettings>

    public typealias PortBinding = ContainerInspect.PortBinding

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encodeMembers([
            (AnyKey("Bridge"), bridge), (AnyKey("SandboxID"), sandboxID), (AnyKey("HairpinMode"), hairpinMode),
            (AnyKey("Ports"), ports), (AnyKey("SandboxKey"), sandboxKey), (AnyKey("EndpointID"), endpointID),
            (AnyKey("Gateway"), gateway), (AnyKey("GlobalIPv6Address"), globalIPv6Address),
            (AnyKey("GlobalIPv6PrefixLen"), globalIPv6PrefixLen), (AnyKey("IPAddress"), ipAddress),
            (AnyKey("IPPrefixLen"), ipPrefixLen), (AnyKey("IPv6Gateway"), ipv6Gateway), (AnyKey("MacAddress"), macAddress),
            (AnyKey("Networks"), networks),
        ])
    }
}

/// One network of a container. For `host` and `none` Docker shows the NetworkID only.
public struct EndpointSettings: Encodable, Sendable {
    public var ipamIPv4Address: String?
    public var aliases: [String]?
    public var networkID: String
    public var endpointID: String
    public var gateway: String
    public var ipAddress: String
    public var ipPrefixLen: Int
    public var macAddress: String
    /// Only NetworkID (the host and none pseudo-networks).
    public var idOnly = false

    public init(networkID: String) {
        self.networkID = networkID
        endpointID = ""
        gateway = ""
        ipAddress = ""
        ipPrefixLen = 0
        macAddress = ""
        idOnly = true
    }

    public init(ipamIPv4Address: String?, aliases: [String]?, networkID: String, endpointID: String, gateway: String,
                ipAddress: String, ipPrefixLen: Int, macAddress: String) {
        self.ipamIPv4Address = ipamIPv4Address
        self.aliases = aliases
        self.networkID = networkID
        self.endpointID = endpointID
        self.gateway = gateway
        self.ipAddress = ipAddress
        self.ipPrefixLen = ipPrefixLen
        self.macAddress = macAddress
    }

    struct IPAMConfig: Encodable, Sendable {
        var ipv4Address: String
        enum CodingKeys: String, CodingKey { case ipv4Address = "IPv4Address" }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        if idOnly {
            try c.encode(networkID, forKey: AnyKey("NetworkID"))
            return
        }
        try c.encodeMembers([
            (AnyKey("IPAMConfig"), ipamIPv4Address.map(IPAMConfig.init)), (AnyKey("Links"), [String]?.none),
            (AnyKey("Aliases"), aliases), (AnyKey("NetworkID"), networkID), (AnyKey("EndpointID"), endpointID),
            (AnyKey("Gateway"), gateway), (AnyKey("IPAddress"), ipAddress), (AnyKey("IPPrefixLen"), ipPrefixLen),
            (AnyKey("IPv6Gateway"), ""), (AnyKey("GlobalIPv6Address"), ""), (AnyKey("GlobalIPv6PrefixLen"), 0),
            (AnyKey("MacAddress"), macAddress), (AnyKey("DriverOpts"), [String: String]?.none),
        ])
    }
}
