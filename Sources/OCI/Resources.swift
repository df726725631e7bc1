// `linux.resources`: the cgroup limits of a container, as the runtime spec names them.
// The same shape is what `update --resources` reads.

public struct Resources: Codable, Sendable, Equatable {
    public var devices: [DeviceRule]?
    public var memory: MemoryLimits?
    public var cpu: CPULimits?
    public var pids: PidsLimit?
    public var blockIO: BlockIO?
    public var hugepageLimits: [HugepageLimit]?
    public var network: NetworkResources?
    public var rdma: [String: RdmaLimit]?
    public var unified: [String: String]?

    public init(devices: [DeviceRule]? = nil, memory: MemoryLimits? = nil, cpu: CPULimits? = nil,
                pids: PidsLimit? = nil) {
        self.devices = devices
        self.memory = memory
        self.cpu = cpu
        self.pids = pids
    }
}

public struct DeviceRule: Codable, Sendable, Equatable {
    public var allow: Bool
    public var type: String?
    public var major: Int64?
    public var minor: Int64?
    public var access: String?

    public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
        self.allow = allow
        self.type = type
        self.major = major
        self.minor = minor
        self.access = access
    }
}

public struct MemoryLimits: Codable, Sendable, Equatable {
    public var limit: Int64?
    public var reservation: Int64?
    public var swap: Int64?
    public var kernel: Int64?
    public var kernelTCP: Int64?
    public var swappiness: UInt64?
    public var disableOOMKiller: Bool?
    public var useHierarchy: Bool?
    public var checkBeforeUpdate: Bool?

    public init(limit: Int64? = nil, reservation: Int64? = nil, swap: Int64? = nil) {
        self.limit = limit
        self.reservation = reservation
        self.swap = swap
    }
}

public struct CPULimits: Codable, Sendable, Equatable {
    public var shares: UInt64?
    public var quota: Int64?
    public var burst: UInt64?
    public var period: UInt64?
    public var realtimeRuntime: Int64?
    public var realtimePeriod: UInt64?
    public var cpus: String?
    public var mems: String?
    public var idle: Int64?

    public init(shares: UInt64? = nil, quota: Int64? = nil, period: UInt64? = nil, cpus: String? = nil,
                mems: String? = nil) {
        self.shares = shares
        self.quota = quota
        self.period = period
        self.cpus = cpus
        self.mems = mems
    }
}

public struct PidsLimit: Codable, Sendable, Equatable {
    public var limit: Int64?

    public init(limit: Int64?) { self.limit = limit }
}

public struct BlockIO: Codable, Sendable, Equatable {
    public var weight: UInt16?
    public var leafWeight: UInt16?
    public var weightDevice: [WeightDevice]?
    public var throttleReadBpsDevice: [ThrottleDevice]?
    public var throttleWriteBpsDevice: [ThrottleDevice]?
    public var throttleReadIOPSDevice: [ThrottleDevice]?
    public var throttleWriteIOPSDevice: [ThrottleDevice]?

    public init(weight: UInt16? = nil) { self.weight = weight }
}

public struct WeightDevice: Codable, Sendable, Equatable {
    public var major: Int64
    public var minor: Int64
    public var weight: UInt16?
    public var leafWeight: UInt16?
}

public struct ThrottleDevice: Codable, Sendable, Equatable {
    public var major: Int64
    public var minor: Int64
    public var rate: UInt64
}

public struct HugepageLimit: Codable, Sendable, Equatable {
    public var pageSize: String
    public var limit: UInt64
}

public struct NetworkResources: Codable, Sendable, Equatable {
    public var classID: UInt32?
    public var priorities: [InterfacePriority]?
}

public struct InterfacePriority: Codable, Sendable, Equatable {
    public var name: String
    public var priority: UInt32
}

public struct RdmaLimit: Codable, Sendable, Equatable {
    public var hcaHandles: UInt32?
    public var hcaObjects: UInt32?
}
