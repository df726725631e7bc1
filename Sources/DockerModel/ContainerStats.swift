import Engine

/// Docker's `GET /containers/{id}/stats` object (its StatsResponse), members in dockerd's order,
/// with Go's omitempty where dockerd has it. `precpu_stats` is the previous reading (zero on the
/// first), from which clients compute CPU %.
public struct StatsResponse: Encodable, Sendable {
    public var read: String
    public var preread: String
    public var pids = Pids()
    public var blkio = Blkio()
    public var cpu = CPU()
    public var precpu = CPU()
    public var memory = Memory()
    /// With Docker's leading slash.
    public var name: String
    public var id: String
    /// By interface; nil (left out) when the container has no network of its own.
    public var networks: SortedMap<Network>?

    /// Go's zero time, dockerd's `preread` when there is no previous reading.
    public static let zeroTime = "0001-01-01T00:00:00Z"

    public struct Pids: Encodable, Sendable {
        public var current: UInt64 = 0
        public var limit: UInt64 = 0
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            if current != 0 { try c.encode(current, forKey: AnyKey("current")) }
            if limit != 0 { try c.encode(limit, forKey: AnyKey("limit")) }
        }
    }

    public struct BlkioEntry: Encodable, Sendable {
        public var major: UInt64
        public var minor: UInt64
        public var op: String
        public var value: UInt64
    }

    public struct Blkio: Encodable, Sendable {
        /// Nil for a container that does not run: every list null, as Go's nil slices; otherwise
        /// the byte counts, and the lists Berth does not read empty (as dockerd has them).
        public var serviceBytes: [BlkioEntry]?
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encode(serviceBytes, forKey: AnyKey("io_service_bytes_recursive"))
            for key in ["io_serviced_recursive", "io_queue_recursive", "io_service_time_recursive", "io_wait_time_recursive",
                        "io_merged_recursive", "io_time_recursive", "sectors_recursive"] {
                if serviceBytes == nil { try c.encodeNil(forKey: AnyKey(key)) } else { try c.encode([BlkioEntry](), forKey: AnyKey(key)) }
            }
        }
    }

    public struct CPU: Encodable, Sendable {
        public var total: UInt64 = 0
        public var perCPU: [UInt64]?
        public var kernel: UInt64 = 0
        public var user: UInt64 = 0
        public var system: UInt64 = 0
        public var onlineCPUs: Int = 0
        public var periods: UInt64 = 0
        public var throttledPeriods: UInt64 = 0
        public var throttledTime: UInt64 = 0

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encode(Usage(total: total, perCPU: perCPU, kernel: kernel, user: user), forKey: AnyKey("cpu_usage"))
            if system != 0 { try c.encode(system, forKey: AnyKey("system_cpu_usage")) }
            if onlineCPUs != 0 { try c.encode(onlineCPUs, forKey: AnyKey("online_cpus")) }
            try c.encode(Throttling(periods: periods, throttledPeriods: throttledPeriods, throttledTime: throttledTime),
                         forKey: AnyKey("throttling_data"))
        }

        struct Usage: Encodable {
            var total: UInt64, perCPU: [UInt64]?, kernel: UInt64, user: UInt64
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: AnyKey.self)
                try c.encode(total, forKey: AnyKey("total_usage"))
                if let perCPU, !perCPU.isEmpty { try c.encode(perCPU, forKey: AnyKey("percpu_usage")) }
                try c.encode(kernel, forKey: AnyKey("usage_in_kernelmode"))
                try c.encode(user, forKey: AnyKey("usage_in_usermode"))
            }
        }

        struct Throttling: Encodable {
            var periods: UInt64, throttledPeriods: UInt64, throttledTime: UInt64
            enum CodingKeys: String, CodingKey {
                case periods, throttledPeriods = "throttled_periods", throttledTime = "throttled_time"
            }
        }
    }

    public struct Memory: Encodable, Sendable {
        public var usage: UInt64 = 0
        public var maxUsage: UInt64 = 0
        public var stats: [String: UInt64] = [:]
        public var failcnt: UInt64 = 0
        public var limit: UInt64 = 0
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            if usage != 0 { try c.encode(usage, forKey: AnyKey("usage")) }
            if maxUsage != 0 { try c.encode(maxUsage, forKey: AnyKey("max_usage")) }
            if !stats.isEmpty { try c.encode(SortedMap(stats), forKey: AnyKey("stats")) }
            if failcnt != 0 { try c.encode(failcnt, forKey: AnyKey("failcnt")) }
            if limit != 0 { try c.encode(limit, forKey: AnyKey("limit")) }
        }
    }

    public struct Network: Encodable, Sendable {
        public var rxBytes: UInt64, rxPackets: UInt64, rxErrors: UInt64, rxDropped: UInt64
        public var txBytes: UInt64, txPackets: UInt64, txErrors: UInt64, txDropped: UInt64
        enum CodingKeys: String, CodingKey {
            case rxBytes = "rx_bytes", rxPackets = "rx_packets", rxErrors = "rx_errors", rxDropped = "rx_dropped"
            case txBytes = "tx_bytes", txPackets = "tx_packets", txErrors = "tx_errors", txDropped = "tx_dropped"
        }
    }

    /// A container that is not running: every figure zero, as dockerd answers for one.
    public init(name: String, id: String) {
        read = Self.zeroTime
        preread = Self.zeroTime
        self.name = "/" + name
        self.id = id
    }

    /// `reading`, with `previous` as precpu_stats and preread.
    public init(_ reading: Engine.StatsReading, previous: Engine.StatsReading?, name: String, id: String) {
        self.init(name: name, id: id)
        read = reading.read
        preread = previous?.read ?? Self.zeroTime
        pids = Pids(current: reading.pidsCurrent, limit: reading.pidsLimit ?? 0)
        blkio = Blkio(serviceBytes: reading.blockIO.map { BlkioEntry(major: $0.major, minor: $0.minor, op: $0.op, value: $0.value) })
        cpu = Self.cpu(reading)
        precpu = previous.map(Self.cpu) ?? CPU()
        memory = Memory(usage: reading.memoryUsage, maxUsage: reading.memoryMaxUsage, stats: reading.memoryStats,
                        failcnt: reading.memoryFailcnt, limit: reading.memoryLimit)
        if !reading.networks.isEmpty {
            var byName: [String: Network] = [:]
            for n in reading.networks {
                byName[n.name] = Network(rxBytes: n.rxBytes, rxPackets: n.rxPackets, rxErrors: n.rxErrors, rxDropped: n.rxDropped,
                                         txBytes: n.txBytes, txPackets: n.txPackets, txErrors: n.txErrors, txDropped: n.txDropped)
            }
            networks = SortedMap(byName)
        }
    }

    static func cpu(_ reading: Engine.StatsReading) -> CPU {
        CPU(total: reading.cpuTotal, perCPU: reading.cpuPerCPU, kernel: reading.cpuKernel, user: reading.cpuUser,
            system: reading.systemCPU, onlineCPUs: reading.onlineCPUs, periods: reading.throttlingPeriods,
            throttledPeriods: reading.throttledPeriods, throttledTime: reading.throttledTime)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encode(read, forKey: AnyKey("read"))
        try c.encode(preread, forKey: AnyKey("preread"))
        try c.encode(pids, forKey: AnyKey("pids_stats"))
        try c.encode(blkio, forKey: AnyKey("blkio_stats"))
        try c.encode(0, forKey: AnyKey("num_procs"))
        try c.encode(Empty(), forKey: AnyKey("storage_stats"))
        try c.encode(cpu, forKey: AnyKey("cpu_stats"))
        try c.encode(precpu, forKey: AnyKey("precpu_stats"))
        try c.encode(memory, forKey: AnyKey("memory_stats"))
        try c.encode(name, forKey: AnyKey("name"))
        try c.encode(id, forKey: AnyKey("id"))
        try c.encodeIfPresent(networks, forKey: AnyKey("networks"))
    }
}
