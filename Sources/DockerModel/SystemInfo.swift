/// Docker's `GET /info` (`info --format '{{json .}}'`), API 1.50: members in Docker's order.
/// KernelMemoryTCP is left out unless the host has it (omitempty); Authorization, GenericResources,
/// Swarm.RemoteManagers and an empty Warnings are null, as Go's nil slices; Labels and CDISpecDirs `[]`.
public struct SystemInfo: Encodable, Sendable {
    public var id: String
    public var containers: Int
    public var containersRunning: Int
    public var containersPaused: Int
    public var containersStopped: Int
    public var images: Int
    public var driver: String
    public var driverStatus: [[String]]
    public var plugins: Plugins
    public var memoryLimit: Bool
    public var swapLimit: Bool
    public var kernelMemoryTCP: Bool
    public var cpuCfsPeriod: Bool
    public var cpuCfsQuota: Bool
    public var cpuShares: Bool
    public var cpuSet: Bool
    public var pidsLimit: Bool
    public var ipv4Forwarding: Bool
    public var debug = false
    public var nFd: Int
    public var oomKillDisable: Bool
    public var nGoroutines: Int
    public var systemTime: String
    public var loggingDriver = "json-file"
    public var cgroupDriver = "cgroupfs"
    public var cgroupVersion: String
    public var nEventsListener = 0
    public var kernelVersion: String
    public var operatingSystem: String
    public var osVersion: String
    public var osType = "linux"
    public var architecture: String
    public var indexServerAddress = "https://index.docker.io/v1/"
    public var registryConfig = RegistryConfig()
    public var ncpu: Int
    public var memTotal: Int64
    public var dockerRootDir: String
    public var httpProxy: String
    public var httpsProxy: String
    public var noProxy: String
    public var name: String
    public var labels: [String] = []
    public var experimentalBuild = false
    public var serverVersion: String
    /// Name → path of each OCI runtime the engine can use.
    public var runtimes: [String: String]
    public var defaultRuntime: String
    public var liveRestoreEnabled: Bool
    public var isolation = ""
    public var initBinary: String
    public var containerdCommit = ""
    public var runcCommit: String
    public var initCommit = ""
    public var securityOptions: [String]
    public var cdiSpecDirs: [String] = []
    public var warnings: [String] = []

    public struct Plugins: Encodable, Sendable {
        public var volume: [String]
        public var network: [String]
        public var log: [String]
        public init(volume: [String], network: [String], log: [String]) {
            self.volume = volume
            self.network = network
            self.log = log
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encodeMembers([
                (AnyKey("Volume"), volume), (AnyKey("Network"), network), (AnyKey("Authorization"), [String]?.none),
                (AnyKey("Log"), log),
            ])
        }
    }

    /// The registries' settings: Docker's defaults (loopback is insecure, no mirrors).
    public struct RegistryConfig: Encodable, Sendable {
        public var insecureRegistryCIDRs = ["::1/128", "127.0.0.0/8"]
        public var mirrors: [String] = []
        public init() {}
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            var indexes = c.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("IndexConfigs"))
            var hub = indexes.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("docker.io"))
            try hub.encodeMembers([
                (AnyKey("Mirrors"), mirrors), (AnyKey("Name"), "docker.io"), (AnyKey("Official"), true), (AnyKey("Secure"), true),
            ])
            try c.encode(insecureRegistryCIDRs, forKey: AnyKey("InsecureRegistryCIDRs"))
            try c.encode(mirrors, forKey: AnyKey("Mirrors"))
        }
    }

    struct Commit: Encodable {
        var id: String
        enum CodingKeys: String, CodingKey { case id = "ID" }
    }

    struct Runtime: Encodable, Sendable {
        var path: String
        enum CodingKeys: String, CodingKey { case path }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encodeMembers([
            (AnyKey("ID"), id), (AnyKey("Containers"), containers), (AnyKey("ContainersRunning"), containersRunning),
            (AnyKey("ContainersPaused"), containersPaused), (AnyKey("ContainersStopped"), containersStopped),
            (AnyKey("Images"), images), (AnyKey("Driver"), driver), (AnyKey("DriverStatus"), driverStatus),
            (AnyKey("Plugins"), plugins), (AnyKey("MemoryLimit"), memoryLimit), (AnyKey("SwapLimit"), swapLimit),
        ])
        if kernelMemoryTCP { try c.encode(true, forKey: AnyKey("KernelMemoryTCP")) }
        try c.encodeMembers([
            (AnyKey("CpuCfsPeriod"), cpuCfsPeriod), (AnyKey("CpuCfsQuota"), cpuCfsQuota), (AnyKey("CPUShares"), cpuShares),
            (AnyKey("CPUSet"), cpuSet), (AnyKey("PidsLimit"), pidsLimit), (AnyKey("IPv4Forwarding"), ipv4Forwarding),
            (AnyKey("Debug"), debug), (AnyKey("NFd"), nFd), (AnyKey("OomKillDisable"), oomKillDisable),
            (AnyKey("NGoroutines"), nGoroutines), (AnyKey("SystemTime"), systemTime), (AnyKey("LoggingDriver"), loggingDriver),
            (AnyKey("CgroupDriver"), cgroupDriver), (AnyKey("CgroupVersion"), cgroupVersion),
            (AnyKey("NEventsListener"), nEventsListener), (AnyKey("KernelVersion"), kernelVersion),
            (AnyKey("OperatingSystem"), operatingSystem), (AnyKey("OSVersion"), osVersion), (AnyKey("OSType"), osType),
            (AnyKey("Architecture"), architecture), (AnyKey("IndexServerAddress"), indexServerAddress),
            (AnyKey("RegistryConfig"), registryConfig), (AnyKey("NCPU"), ncpu), (AnyKey("MemTotal"), memTotal),
            (AnyKey("GenericResources"), [String]?.none), (AnyKey("DockerRootDir"), dockerRootDir),
            (AnyKey("HttpProxy"), httpProxy), (AnyKey("HttpsProxy"), httpsProxy), (AnyKey("NoProxy"), noProxy),
            (AnyKey("Name"), name), (AnyKey("Labels"), labels), (AnyKey("ExperimentalBuild"), experimentalBuild),
            (AnyKey("ServerVersion"), serverVersion), (AnyKey("Runtimes"), SortedMap(runtimes.mapValues(Runtime.init))),
            (AnyKey("DefaultRuntime"), defaultRuntime),
        ])
        var swarm = c.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("Swarm"))
        try swarm.encodeMembers([
            (AnyKey("NodeID"), ""), (AnyKey("NodeAddr"), ""), (AnyKey("LocalNodeState"), "inactive"),
            (AnyKey("ControlAvailable"), false), (AnyKey("Error"), ""), (AnyKey("RemoteManagers"), [String]?.none),
        ])
        try c.encodeMembers([
            (AnyKey("LiveRestoreEnabled"), liveRestoreEnabled), (AnyKey("Isolation"), isolation), (AnyKey("InitBinary"), initBinary),
            (AnyKey("ContainerdCommit"), Commit(id: containerdCommit)), (AnyKey("RuncCommit"), Commit(id: runcCommit)),
            (AnyKey("InitCommit"), Commit(id: initCommit)), (AnyKey("SecurityOptions"), securityOptions),
            (AnyKey("CDISpecDirs"), cdiSpecDirs), (AnyKey("Warnings"), warnings.isEmpty ? nil : warnings),
        ])
    }
}
