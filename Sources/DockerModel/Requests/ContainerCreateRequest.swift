import ContainerSpec
import GoCompat

/// `POST /containers/create?name=&platform=`: Docker's container.CreateRequest (the Config's fields,
/// with HostConfig and NetworkingConfig beside them), decoded with Go's rules (`RequestBody`). Every
/// field is optional: absent and `null` are nil, as Go leaves them zero. `runOptions` turns it into
/// the engine's RunOptions (ContainerCreateRequest+RunOptions.swift).
public struct ContainerCreateRequest: Sendable {
    /// `?name=`.
    public var name: String?
    /// `?platform=` (`linux/amd64`).
    public var platform: String?
    public var body: Body

    public init(body bytes: [UInt8], name: String? = nil, platform: String? = nil) throws(EngineError) {
        self.name = name
        self.platform = platform
        self.body = try RequestBody.decode(Body.self, from: bytes, .required)
    }

    public struct Body: Decodable, Sendable, GoNamed {
        /// nil when the body has none of Config's fields (Go leaves the embedded *Config nil).
        public var config: Config?
        public var hostConfig: HostConfig?
        public var networkingConfig: NetworkingConfig?
        public static var goName: String { "container.CreateRequest" }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case hostConfig = "HostConfig", networkingConfig = "NetworkingConfig"
        }

        public init(from decoder: any Decoder) throws {
            let fields = try decoder.container(keyedBy: Config.CodingKeys.self)
            config = fields.allKeys.isEmpty ? nil : try Config(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            hostConfig = try container.decodeIfPresent(HostConfig.self, forKey: .hostConfig)
            networkingConfig = try container.decodeIfPresent(NetworkingConfig.self, forKey: .networkingConfig)
        }
    }

    /// container.Config.
    public struct Config: Decodable, Sendable, GoNamed {
        public var hostname: String?
        public var domainname: String?
        public var user: String?
        public var attachStdin: Bool?
        public var attachStdout: Bool?
        public var attachStderr: Bool?
        public var exposedPorts: [String: EmptyObject]?
        public var tty: Bool?
        public var openStdin: Bool?
        public var stdinOnce: Bool?
        public var env: [String]?
        public var cmd: StringList?
        public var healthcheck: HealthConfig?
        public var argsEscaped: Bool?
        public var image: String?
        public var volumes: [String: EmptyObject]?
        public var workingDir: String?
        public var entrypoint: StringList?
        public var networkDisabled: Bool?
        public var macAddress: String?
        public var onBuild: [String]?
        public var labels: [String: String]?
        public var stopSignal: String?
        public var stopTimeout: Int?
        public var shell: StringList?
        public static var goName: String { "container.Config" }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case hostname = "Hostname", domainname = "Domainname", user = "User", attachStdin = "AttachStdin"
            case attachStdout = "AttachStdout", attachStderr = "AttachStderr", exposedPorts = "ExposedPorts", tty = "Tty"
            case openStdin = "OpenStdin", stdinOnce = "StdinOnce", env = "Env", cmd = "Cmd", healthcheck = "Healthcheck"
            case argsEscaped = "ArgsEscaped", image = "Image", volumes = "Volumes", workingDir = "WorkingDir"
            case entrypoint = "Entrypoint", networkDisabled = "NetworkDisabled", macAddress = "MacAddress", onBuild = "OnBuild"
            case labels = "Labels", stopSignal = "StopSignal", stopTimeout = "StopTimeout", shell = "Shell"
        }
    }

    /// container.HealthConfig; durations in nanoseconds (Go's time.Duration).
    public struct HealthConfig: Decodable, Sendable, GoNamed {
        public var test: [String]?
        public var interval: Int64?
        public var timeout: Int64?
        public var startPeriod: Int64?
        public var startInterval: Int64?
        public var retries: Int?
        public static var goName: String { "container.HealthConfig" }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case test = "Test", interval = "Interval", timeout = "Timeout", startPeriod = "StartPeriod"
            case startInterval = "StartInterval", retries = "Retries"
        }
    }

    /// container.HostConfig: its own fields, read through `fields` (`host.binds`), and the embedded
    /// Resources, whose keys sit beside them in the JSON.
    @dynamicMemberLookup
    public struct HostConfig: Decodable, Sendable, GoNamed {
        public var fields: Fields
        public var resources: Resources
        public static var goName: String { "container.HostConfig" }

        public init() {
            fields = Fields()
            resources = Resources()
        }

        public init(from decoder: any Decoder) throws {
            fields = try Fields(from: decoder)
            resources = try Resources(from: decoder)
        }

        public subscript<T>(dynamicMember path: KeyPath<Fields, T>) -> T { fields[keyPath: path] }

        public struct Fields: Decodable, Sendable {
            public var binds: [String]?
            public var containerIDFile: String?
            public var logConfig: LogConfig?
            public var networkMode: String?
            public var portBindings: [String: [PortBinding]]?
            public var restartPolicy: RestartPolicy?
            public var autoRemove: Bool?
            public var volumeDriver: String?
            public var volumesFrom: [String]?
            public var consoleSize: ConsoleSize?
            public var annotations: [String: String]?
            public var capAdd: StringList?
            public var capDrop: StringList?
            public var cgroupnsMode: String?
            public var dns: [String]?
            public var dnsOptions: [String]?
            public var dnsSearch: [String]?
            public var extraHosts: [String]?
            public var groupAdd: [String]?
            public var ipcMode: String?
            public var cgroup: String?
            public var links: [String]?
            public var oomScoreAdj: Int?
            public var pidMode: String?
            public var privileged: Bool?
            public var publishAllPorts: Bool?
            public var readonlyRootfs: Bool?
            public var securityOpt: [String]?
            public var storageOpt: [String: String]?
            public var tmpfs: [String: String]?
            public var utsMode: String?
            public var usernsMode: String?
            public var shmSize: Int64?
            public var sysctls: [String: String]?
            public var runtime: String?
            public var isolation: String?
            public var mounts: [Mount]?
            public var maskedPaths: [String]?
            public var readonlyPaths: [String]?
            public var initProcess: Bool?

            public init() {}

            enum CodingKeys: String, CodingKey, CaseIterable {
                case binds = "Binds", containerIDFile = "ContainerIDFile", logConfig = "LogConfig", networkMode = "NetworkMode"
                case portBindings = "PortBindings", restartPolicy = "RestartPolicy", autoRemove = "AutoRemove"
                case volumeDriver = "VolumeDriver", volumesFrom = "VolumesFrom", consoleSize = "ConsoleSize"
                case annotations = "Annotations", capAdd = "CapAdd", capDrop = "CapDrop", cgroupnsMode = "CgroupnsMode"
                case dns = "Dns", dnsOptions = "DnsOptions", dnsSearch = "DnsSearch", extraHosts = "ExtraHosts"
                case groupAdd = "GroupAdd", ipcMode = "IpcMode", cgroup = "Cgroup", links = "Links", oomScoreAdj = "OomScoreAdj"
                case pidMode = "PidMode", privileged = "Privileged", publishAllPorts = "PublishAllPorts"
                case readonlyRootfs = "ReadonlyRootfs", securityOpt = "SecurityOpt", storageOpt = "StorageOpt", tmpfs = "Tmpfs"
                case utsMode = "UTSMode", usernsMode = "UsernsMode", shmSize = "ShmSize", sysctls = "Sysctls"
                case runtime = "Runtime", isolation = "Isolation", mounts = "Mounts", maskedPaths = "MaskedPaths"
                case readonlyPaths = "ReadonlyPaths", initProcess = "Init"
            }
        }
    }

    /// container.Resources, embedded in HostConfig (create) and UpdateConfig (update).
    public struct Resources: Decodable, Sendable, GoNamed {
        public var cpuShares: Int64?
        public var memory: Int64?
        public var nanoCpus: Int64?
        public var cgroupParent: String?
        public var blkioWeight: UInt16?
        public var blkioWeightDevice: [WeightDevice]?
        public var blkioDeviceReadBps: [ThrottleDevice]?
        public var blkioDeviceWriteBps: [ThrottleDevice]?
        public var blkioDeviceReadIOps: [ThrottleDevice]?
        public var blkioDeviceWriteIOps: [ThrottleDevice]?
        public var cpuPeriod: Int64?
        public var cpuQuota: Int64?
        public var cpuRealtimePeriod: Int64?
        public var cpuRealtimeRuntime: Int64?
        public var cpusetCpus: String?
        public var cpusetMems: String?
        public var devices: [DeviceMapping]?
        public var deviceCgroupRules: [String]?
        public var deviceRequests: [DeviceRequest]?
        public var kernelMemory: Int64?
        public var kernelMemoryTCP: Int64?
        public var memoryReservation: Int64?
        public var memorySwap: Int64?
        public var memorySwappiness: Int64?
        public var oomKillDisable: Bool?
        public var pidsLimit: Int64?
        public var ulimits: [Ulimit]?
        public var cpuCount: Int64?
        public var cpuPercent: Int64?
        public var ioMaximumIOps: UInt64?
        public var ioMaximumBandwidth: UInt64?
        public static var goName: String { "container.Resources" }

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case cpuShares = "CpuShares", memory = "Memory", nanoCpus = "NanoCpus", cgroupParent = "CgroupParent"
            case blkioWeight = "BlkioWeight", blkioWeightDevice = "BlkioWeightDevice", blkioDeviceReadBps = "BlkioDeviceReadBps"
            case blkioDeviceWriteBps = "BlkioDeviceWriteBps", blkioDeviceReadIOps = "BlkioDeviceReadIOps"
            case blkioDeviceWriteIOps = "BlkioDeviceWriteIOps", cpuPeriod = "CpuPeriod", cpuQuota = "CpuQuota"
            case cpuRealtimePeriod = "CpuRealtimePeriod", cpuRealtimeRuntime = "CpuRealtimeRuntime", cpusetCpus = "CpusetCpus"
            case cpusetMems = "CpusetMems", devices = "Devices", deviceCgroupRules = "DeviceCgroupRules"
            case deviceRequests = "DeviceRequests", kernelMemory = "KernelMemory", kernelMemoryTCP = "KernelMemoryTCP"
            case memoryReservation = "MemoryReservation", memorySwap = "MemorySwap", memorySwappiness = "MemorySwappiness"
            case oomKillDisable = "OomKillDisable", pidsLimit = "PidsLimit", ulimits = "Ulimits", cpuCount = "CpuCount"
            case cpuPercent = "CpuPercent", ioMaximumIOps = "IOMaximumIOps", ioMaximumBandwidth = "IOMaximumBandwidth"
        }
    }

    public struct WeightDevice: Decodable, Sendable, GoNamed {
        public var path: String?
        public var weight: UInt16?
        public static var goName: String { "blkiodev.WeightDevice" }
        enum CodingKeys: String, CodingKey, CaseIterable { case path = "Path", weight = "Weight" }
    }

    public struct ThrottleDevice: Decodable, Sendable, GoNamed {
        public var path: String?
        public var rate: UInt64?
        public static var goName: String { "blkiodev.ThrottleDevice" }
        enum CodingKeys: String, CodingKey, CaseIterable { case path = "Path", rate = "Rate" }
    }

    public struct DeviceMapping: Decodable, Sendable, GoNamed {
        public var pathOnHost: String?
        public var pathInContainer: String?
        public var cgroupPermissions: String?
        public static var goName: String { "container.DeviceMapping" }
        enum CodingKeys: String, CodingKey, CaseIterable {
            case pathOnHost = "PathOnHost", pathInContainer = "PathInContainer", cgroupPermissions = "CgroupPermissions"
        }
    }

    /// `--gpus`: Berth has no device drivers.
    public struct DeviceRequest: Decodable, Sendable, GoNamed {
        public var driver: String?
        public var count: Int?
        public var deviceIDs: [String]?
        public var capabilities: [[String]]?
        public var options: [String: String]?
        public static var goName: String { "container.DeviceRequest" }
        enum CodingKeys: String, CodingKey, CaseIterable {
            case driver = "Driver", count = "Count", deviceIDs = "DeviceIDs", capabilities = "Capabilities", options = "Options"
        }
    }

    public struct Ulimit: Decodable, Sendable, GoNamed {
        public var name: String?
        public var hard: Int64?
        public var soft: Int64?
        public static var goName: String { "units.Ulimit" }
        enum CodingKeys: String, CodingKey, CaseIterable { case name = "Name", hard = "Hard", soft = "Soft" }
    }

    public struct LogConfig: Decodable, Sendable, GoNamed {
        public var type: String?
        public var config: [String: String]?
        public static var goName: String { "container.LogConfig" }
        enum CodingKeys: String, CodingKey, CaseIterable { case type = "Type", config = "Config" }
    }

    public struct PortBinding: Decodable, Sendable, GoNamed {
        public var hostIP: String?
        public var hostPort: String?
        public static var goName: String { "nat.PortBinding" }
        enum CodingKeys: String, CodingKey, CaseIterable { case hostIP = "HostIp", hostPort = "HostPort" }
    }

    public struct RestartPolicy: Decodable, Sendable, GoNamed {
        public var name: String?
        public var maximumRetryCount: Int?
        public static var goName: String { "container.RestartPolicy" }
        enum CodingKeys: String, CodingKey, CaseIterable { case name = "Name", maximumRetryCount = "MaximumRetryCount" }
    }

    /// mount.Mount (`--mount`).
    public struct Mount: Decodable, Sendable, GoNamed {
        public var type: String?
        public var source: String?
        public var target: String?
        public var readOnly: Bool?
        public var consistency: String?
        public var bindOptions: BindOptions?
        public var volumeOptions: VolumeOptions?
        public var imageOptions: ImageOptions?
        public var tmpfsOptions: TmpfsOptions?
        public var clusterOptions: EmptyObject?
        public static var goName: String { "mount.Mount" }
        enum CodingKeys: String, CodingKey, CaseIterable {
            case type = "Type", source = "Source", target = "Target", readOnly = "ReadOnly", consistency = "Consistency"
            case bindOptions = "BindOptions", volumeOptions = "VolumeOptions", imageOptions = "ImageOptions"
            case tmpfsOptions = "TmpfsOptions", clusterOptions = "ClusterOptions"
        }
    }

    public struct BindOptions: Decodable, Sendable, GoNamed {
        public var propagation: String?
        public var nonRecursive: Bool?
        public var createMountpoint: Bool?
        public var readOnlyNonRecursive: Bool?
        public var readOnlyForceRecursive: Bool?
        public static var goName: String { "mount.BindOptions" }
        enum CodingKeys: String, CodingKey, CaseIterable {
            case propagation = "Propagation", nonRecursive = "NonRecursive", createMountpoint = "CreateMountpoint"
            case readOnlyNonRecursive = "ReadOnlyNonRecursive", readOnlyForceRecursive = "ReadOnlyForceRecursive"
        }
    }

    public struct VolumeOptions: Decodable, Sendable, GoNamed {
        public var noCopy: Bool?
        public var labels: [String: String]?
        public var subpath: String?
        public var driverConfig: VolumeDriver?
        public static var goName: String { "mount.VolumeOptions" }
        enum CodingKeys: String, CodingKey, CaseIterable {
            case noCopy = "NoCopy", labels = "Labels", subpath = "Subpath", driverConfig = "DriverConfig"
        }
    }

    public struct VolumeDriver: Decodable, Sendable, GoNamed {
        public var name: String?
        public var options: [String: String]?
        public static var goName: String { "mount.Driver" }
        enum CodingKeys: String, CodingKey, CaseIterable { case name = "Name", options = "Options" }
    }

    public struct ImageOptions: Decodable, Sendable, GoNamed {
        public var subpath: String?
        public static var goName: String { "mount.ImageOptions" }
        enum CodingKeys: String, CodingKey, CaseIterable { case subpath = "Subpath" }
    }

    public struct TmpfsOptions: Decodable, Sendable, GoNamed {
        public var sizeBytes: Int64?
        /// os.FileMode: the permission bits as a number (1023 is 01777).
        public var mode: UInt32?
        /// `[["noexec"], ["nr_inodes", "1k"]]`: a flag alone, or a key and its value.
        public var options: [[String]]?
        public static var goName: String { "mount.TmpfsOptions" }
        enum CodingKeys: String, CodingKey, CaseIterable { case sizeBytes = "SizeBytes", mode = "Mode", options = "Options" }
    }

    /// network.NetworkingConfig.
    public struct NetworkingConfig: Decodable, Sendable, GoNamed {
        public var endpointsConfig: [String: EndpointSettings]?
        public static var goName: String { "network.NetworkingConfig" }
        enum CodingKeys: String, CodingKey, CaseIterable { case endpointsConfig = "EndpointsConfig" }
    }

    /// network.EndpointSettings: what a container asks of one network (create, and network connect).
    /// The fields after DriverOpts are the daemon's output; clients echo them empty.
    public struct EndpointSettings: Decodable, Sendable, GoNamed {
        public var ipamConfig: EndpointIPAMConfig?
        public var links: [String]?
        public var aliases: [String]?
        public var macAddress: String?
        public var driverOpts: [String: String]?
        public var gwPriority: Int?
        public var networkID: String?
        public var endpointID: String?
        public var gateway: String?
        public var ipAddress: String?
        public var ipPrefixLen: Int?
        public var ipv6Gateway: String?
        public var globalIPv6Address: String?
        public var globalIPv6PrefixLen: Int?
        public var dnsNames: [String]?
        public static var goName: String { "network.EndpointSettings" }

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case ipamConfig = "IPAMConfig", links = "Links", aliases = "Aliases", macAddress = "MacAddress"
            case driverOpts = "DriverOpts", gwPriority = "GwPriority", networkID = "NetworkID", endpointID = "EndpointID"
            case gateway = "Gateway", ipAddress = "IPAddress", ipPrefixLen = "IPPrefixLen", ipv6Gateway = "IPv6Gateway"
            case globalIPv6Address = "GlobalIPv6Address", globalIPv6PrefixLen = "GlobalIPv6PrefixLen", dnsNames = "DNSNames"
        }
    }

    public struct EndpointIPAMConfig: Decodable, Sendable, GoNamed {
        public var ipv4Address: String?
        public var ipv6Address: String?
        public var linkLocalIPs: [String]?
        public static var goName: String { "network.EndpointIPAMConfig" }
        enum CodingKeys: String, CodingKey, CaseIterable {
            case ipv4Address = "IPv4Address", ipv6Address = "IPv6Address", linkLocalIPs = "LinkLocalIPs"
        }
    }
}
