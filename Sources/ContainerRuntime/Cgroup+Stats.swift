import Glibc
import LinuxSys

/// Resource usage of a container, in the shape runc's `events` prints (libcontainer's types.Stats),
/// which containerd and Docker read.
public struct ContainerStats: Encodable, Sendable {
    public struct CPUUsage: Encodable, Sendable {
        var total: UInt64?
        var percpu: [UInt64]?
        var percpu_kernel: [UInt64]?
        var percpu_user: [UInt64]?
        var kernel: UInt64 = 0
        var user: UInt64 = 0
    }
    public struct Throttling: Encodable, Sendable {
        var periods: UInt64?
        var throttled_periods: UInt64?
        var throttled_time: UInt64?
    }
    public struct CPU: Encodable, Sendable {
        var usage = CPUUsage()
        var throttling = Throttling()
    }
    public struct MemoryEntry: Encodable, Sendable {
        var limit: UInt64 = 0
        var usage: UInt64?
        var max: UInt64?
        var failcnt: UInt64 = 0
    }
    public struct Memory: Encodable, Sendable {
        var cache: UInt64?
        var usage = MemoryEntry()
        var swap = MemoryEntry()
        var kernel = MemoryEntry()
        var raw: [String: UInt64]?
    }
    public struct Pids: Encodable, Sendable {
        var current: UInt64?
        var limit: UInt64?
    }
    public struct Empty: Encodable, Sendable {}

    var cpu = CPU()
    var memory = Memory()
    var pids = Pids()
    var blkio = Empty()
    var hugetlb: [String: MemoryEntry] = [:]
}

extension Cgroup {
    func stats() -> ContainerStats {
        var stats = ContainerStats()
        readCPU(into: &stats)
        readMemory(into: &stats)
        if let pids = directory(for: "pids") {
            stats.pids.current = number(pids.path + "/pids.current")
            stats.pids.limit = number(pids.path + "/pids.max")
        }
        return stats
    }

    /// How many times the kernel's OOM killer acted in the container (v1 oom_control, v2 memory.events).
    func oomKills() -> UInt64 {
        guard let memory = directory(for: "memory") else { return 0 }
        if memory.isV2 { return v2EventValue("oom_kill", in: memory.path, file: "memory.events") ?? 0 }
        return keyed(memory.path + "/memory.oom_control")["oom_kill"] ?? 0
    }

    private func readCPU(into stats: inout ContainerStats) {
        if let cpu = directory(for: "cpu"), cpu.isV2 {
            let values = keyed(cpu.path + "/cpu.stat")
            // v2 reports microseconds; the stats format is nanoseconds.
            stats.cpu.usage.total = values["usage_usec"].map { $0 * 1000 }
            stats.cpu.usage.user = (values["user_usec"] ?? 0) * 1000
            stats.cpu.usage.kernel = (values["system_usec"] ?? 0) * 1000
            stats.cpu.throttling = .init(periods: values["nr_periods"], throttled_periods: values["nr_throttled"],
                                         throttled_time: values["throttled_usec"].map { $0 * 1000 })
            return
        }
        if let cpuacct = directory(for: "cpuacct") {
            stats.cpu.usage.total = number(cpuacct.path + "/cpuacct.usage")
            stats.cpu.usage.percpu = numbers(cpuacct.path + "/cpuacct.usage_percpu")
            stats.cpu.usage.percpu_kernel = numbers(cpuacct.path + "/cpuacct.usage_percpu_sys")
            stats.cpu.usage.percpu_user = numbers(cpuacct.path + "/cpuacct.usage_percpu_user")
            stats.cpu.usage.kernel = number(cpuacct.path + "/cpuacct.usage_sys") ?? 0
            stats.cpu.usage.user = number(cpuacct.path + "/cpuacct.usage_user") ?? 0
        }
        if let cpu = directory(for: "cpu") {
            let values = keyed(cpu.path + "/cpu.stat")
            stats.cpu.throttling = .init(periods: values["nr_periods"], throttled_periods: values["nr_throttled"],
                                         throttled_time: values["throttled_time"])
        }
    }

    private func readMemory(into stats: inout ContainerStats) {
        guard let memory = directory(for: "memory") else { return }
        let path = memory.path
        let raw = keyed(path + "/memory.stat")
        stats.memory.raw = raw
        if memory.isV2 {
            stats.memory.cache = raw["file"]
            stats.memory.usage = .init(limit: number(path + "/memory.max") ?? UInt64.max,
                                       usage: number(path + "/memory.current"), max: number(path + "/memory.peak"),
                                       failcnt: v2EventValue("max", in: path, file: "memory.events") ?? 0)
            stats.memory.swap = .init(limit: number(path + "/memory.swap.max") ?? UInt64.max,
                                      usage: number(path + "/memory.swap.current"))
            return
        }
        stats.memory.cache = raw["cache"]
        func entry(_ prefix: String) -> ContainerStats.MemoryEntry {
            .init(limit: number(path + "/\(prefix).limit_in_bytes") ?? 0, usage: number(path + "/\(prefix).usage_in_bytes"),
                  max: number(path + "/\(prefix).max_usage_in_bytes"), failcnt: number(path + "/\(prefix).failcnt") ?? 0)
        }
        stats.memory.usage = entry("memory")
        stats.memory.swap = entry("memory.memsw")
        stats.memory.kernel = entry("memory.kmem")
    }

    /// One number; "max" (v2's unlimited) reads as the largest value.
    private func number(_ file: String) -> UInt64? {
        guard let text = try? FS.readText(file) else { return nil }
        let trimmed = text.trimmed
        return trimmed == "max" ? UInt64.max : UInt64(trimmed)
    }

    private func numbers(_ file: String) -> [UInt64]? {
        (try? FS.readText(file)).map { $0.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt64($0) } }
    }

    /// `key value` lines, as in memory.stat and cpu.stat.
    private func keyed(_ file: String) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in ((try? FS.readText(file)) ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, let value = UInt64(fields[1]) { values[String(fields[0])] = value }
        }
        return values
    }
}

/// Read access for engines that compute their own figures (`berth stats`).
extension ContainerStats {
    /// Total CPU time of the container in nanoseconds.
    public var cpuTotalNanoseconds: UInt64 { cpu.usage.total ?? (cpu.usage.user + cpu.usage.kernel) }
    /// memory.usage_in_bytes (v1) or memory.current (v2).
    public var memoryUsage: UInt64 { memory.usage.usage ?? 0 }
    /// The memory limit; v1 reports a huge number and v2 "max" (UInt64.max) when unlimited.
    public var memoryLimit: UInt64 { memory.usage.limit }
    /// memory.stat as keys and values.
    public var memoryStat: [String: UInt64] { memory.raw ?? [:] }
    public var pidsCurrent: UInt64 { pids.current ?? 0 }
}

/// The rest of the figures Docker's stats API reports (`GET /containers/{id}/stats`).
extension ContainerStats {
    public var cpuKernelNanoseconds: UInt64 { cpu.usage.kernel }
    public var cpuUserNanoseconds: UInt64 { cpu.usage.user }
    /// Per CPU (cgroup v1's cpuacct.usage_percpu); nil on v2, which has none.
    public var cpuPerCPUNanoseconds: [UInt64]? { cpu.usage.percpu }
    public var throttlingPeriods: UInt64 { cpu.throttling.periods ?? 0 }
    public var throttledPeriods: UInt64 { cpu.throttling.throttled_periods ?? 0 }
    public var throttledNanoseconds: UInt64 { cpu.throttling.throttled_time ?? 0 }
    /// The peak memory usage (v1 max_usage_in_bytes, v2 memory.peak), 0 when unknown.
    public var memoryMaxUsage: UInt64 { memory.usage.max ?? 0 }
    public var memoryFailcnt: UInt64 { memory.usage.failcnt }
    /// pids.max; nil when unlimited.
    public var pidsLimit: UInt64? { pids.limit == UInt64.max ? nil : pids.limit }
}
