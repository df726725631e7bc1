import ContainerRuntime
import Glibc
import LinuxSys

/// The figures behind Docker's stats API (`GET /containers/{id}/stats`): the same readings as
/// `usage` (what `berth stats` shows), kept raw as dockerd reports them, for clients that compute
/// their own columns (the docker CLI subtracts the inactive file cache itself).
extension Engine {
    public struct StatsReading: Sendable {
        /// When it was read, RFC 3339 with nanoseconds.
        public var read: String
        public var pidsCurrent: UInt64
        public var pidsLimit: UInt64?
        /// Nanoseconds.
        public var cpuTotal: UInt64
        public var cpuPerCPU: [UInt64]?
        public var cpuKernel: UInt64
        public var cpuUser: UInt64
        /// The host's CPU time in nanoseconds (/proc/stat), as dockerd's system_cpu_usage.
        public var systemCPU: UInt64
        public var onlineCPUs: Int
        public var throttlingPeriods: UInt64
        public var throttledPeriods: UInt64
        public var throttledTime: UInt64
        /// memory.usage_in_bytes (v1) or memory.current (v2), the cache included.
        public var memoryUsage: UInt64
        public var memoryMaxUsage: UInt64
        public var memoryFailcnt: UInt64
        /// The limit, or the host's memory when unlimited (as dockerd caps it).
        public var memoryLimit: UInt64
        /// memory.stat.
        public var memoryStats: [String: UInt64]
        public var networks: [NetworkCounters]
        public var blockIO: [BlockIOEntry]
    }

    /// One interface's counters from the container's /proc/net/dev.
    public struct NetworkCounters: Sendable, Equatable {
        public var name: String
        public var rxBytes: UInt64, rxPackets: UInt64, rxErrors: UInt64, rxDropped: UInt64
        public var txBytes: UInt64, txPackets: UInt64, txErrors: UInt64, txDropped: UInt64
    }

    /// One line of blkio.throttle.io_service_bytes (v1: ops Read, Write, Sync, Async, Discard,
    /// Total) or of io.stat (v2: ops read and write).
    public struct BlockIOEntry: Sendable, Equatable {
        public var major: UInt64
        public var minor: UInt64
        public var op: String
        public var value: UInt64
    }

    /// The reading of a running (or paused) container; nil when it does not run.
    public func statsReading(_ container: Container) -> StatsReading? {
        let current = status(container)
        guard current.isRunning, current.state.containerAlive else { return nil }
        guard let stats = try? runtime.stats(id: container.id) else { return nil }
        let hostMemory = Self.hostMemory()
        var limit = stats.memoryLimit
        if limit == 0 || limit >= hostMemory { limit = hostMemory }
        return StatsReading(
            read: Clock.rfc3339Nano(), pidsCurrent: stats.pidsCurrent, pidsLimit: stats.pidsLimit,
            cpuTotal: stats.cpuTotalNanoseconds, cpuPerCPU: stats.cpuPerCPUNanoseconds, cpuKernel: stats.cpuKernelNanoseconds,
            cpuUser: stats.cpuUserNanoseconds, systemCPU: Self.systemCPU(), onlineCPUs: Self.onlineCPUs(),
            throttlingPeriods: stats.throttlingPeriods, throttledPeriods: stats.throttledPeriods, throttledTime: stats.throttledNanoseconds,
            memoryUsage: stats.memoryUsage, memoryMaxUsage: stats.memoryMaxUsage, memoryFailcnt: stats.memoryFailcnt, memoryLimit: limit,
            memoryStats: stats.memoryStat, networks: Self.networkCounters(pid: current.state.pid),
            blockIO: Self.blockIOEntries(cgroupPaths: runtime.cgroupPaths(id: container.id)))
    }

    /// Every interface but loopback of the network namespace `pid` is in.
    static func networkCounters(pid: Int32) -> [NetworkCounters] {
        guard pid > 0, let text = try? FS.readText("/proc/\(pid)/net/dev") else { return [] }
        var counters: [NetworkCounters] = []
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon].trimmingPrefix(while: { $0 == " " }))
            if name == "lo" { continue }
            // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets errs drop …
            let f = line[line.index(after: colon)...].split(separator: " ").compactMap { UInt64($0) }
            guard f.count >= 12 else { continue }
            counters.append(NetworkCounters(name: name, rxBytes: f[0], rxPackets: f[1], rxErrors: f[2], rxDropped: f[3],
                                            txBytes: f[8], txPackets: f[9], txErrors: f[10], txDropped: f[11]))
        }
        return counters
    }

    /// The block I/O bytes by device, from the files `blockBytes` sums.
    static func blockIOEntries(cgroupPaths: [String]) -> [BlockIOEntry] {
        func device(_ text: Substring) -> (UInt64, UInt64)? {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let major = UInt64(parts[0]), let minor = UInt64(parts[1]) else { return nil }
            return (major, minor)
        }
        for path in cgroupPaths {
            if let text = try? FS.readText(path + "/blkio.throttle.io_service_bytes") {
                return text.split(separator: "\n").compactMap { line in
                    let fields = line.split(separator: " ")
                    guard fields.count == 3, let (major, minor) = device(fields[0]), let value = UInt64(fields[2]) else { return nil }
                    return BlockIOEntry(major: major, minor: minor, op: String(fields[1]), value: value)
                }
            }
            if let text = try? FS.readText(path + "/io.stat") {
                var entries: [BlockIOEntry] = []
                for line in text.split(separator: "\n") {
                    let fields = line.split(separator: " ")
                    guard let first = fields.first, let (major, minor) = device(first) else { continue }
                    for field in fields.dropFirst() {
                        if field.hasPrefix("rbytes="), let value = UInt64(field.dropFirst(7)) {
                            entries.append(BlockIOEntry(major: major, minor: minor, op: "read", value: value))
                        }
                        if field.hasPrefix("wbytes="), let value = UInt64(field.dropFirst(7)) {
                            entries.append(BlockIOEntry(major: major, minor: minor, op: "write", value: value))
                        }
                    }
                }
                return entries
            }
        }
        return []
    }
}
