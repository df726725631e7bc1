import Glibc
import LinuxSys

/// What `info` reports about the machine, read from the kernel and /etc each time (uname,
/// sysinfo, os-release, the cgroup mounts, /proc).
public struct HostFacts: Sendable {
    public var kernelVersion: String
    public var architecture: String
    public var operatingSystem: String
    public var osVersion: String
    public var hostname: String
    public var ncpu: Int
    public var memTotal: Int64
    /// "1" or "2": "2" when /sys/fs/cgroup is the unified hierarchy.
    public var cgroupVersion: String
    /// The cgroup controllers available (memory, cpu, cpuset, pids …) and files that show a v1 feature.
    public var memoryLimit: Bool
    public var swapLimit: Bool
    public var kernelMemoryTCP: Bool
    public var cpuCfsPeriod: Bool
    public var cpuCfsQuota: Bool
    public var cpuShares: Bool
    public var cpuSet: Bool
    public var pidsLimit: Bool
    public var oomKillDisable: Bool
    public var ipv4Forwarding: Bool
    /// Open descriptors and threads of this process (Docker's NFd and NGoroutines).
    public var openFiles: Int
    public var threads: Int

    public static func current() -> HostFacts {
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let release = osRelease()
        let v2 = isCgroup2("/sys/fs/cgroup")
        let controllers = v2 ? Set(((try? FS.readText("/sys/fs/cgroup/cgroup.controllers")) ?? "").split(whereSeparator: \.isWhitespace).map(String.init)) : []
        func v1(_ path: String) -> Bool { !v2 && FS.exists("/sys/fs/cgroup/" + path) }
        // cgroup v2 shows swap limits as memory.swap.max in every non-root group; ours will do.
        let own = ((try? FS.readText("/proc/self/cgroup")) ?? "").split(separator: "\n").first { $0.hasPrefix("0::") }?.dropFirst(3) ?? ""
        let swapV2 = FS.exists("/sys/fs/cgroup\(own)/memory.swap.max") || FS.exists("/sys/fs/cgroup/init.scope/memory.swap.max")
        return HostFacts(
            kernelVersion: field(names.release), architecture: field(names.machine),
            operatingSystem: release["PRETTY_NAME"] ?? "Linux", osVersion: release["VERSION_ID"] ?? "",
            hostname: field(names.nodename), ncpu: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))),
            memTotal: memTotal(), cgroupVersion: v2 ? "2" : "1",
            memoryLimit: v2 ? controllers.contains("memory") : v1("memory/memory.limit_in_bytes"),
            swapLimit: v2 ? swapV2 : v1("memory/memory.memsw.limit_in_bytes"),
            kernelMemoryTCP: v1("memory/memory.kmem.tcp.limit_in_bytes"),
            cpuCfsPeriod: v2 ? controllers.contains("cpu") : v1("cpu/cpu.cfs_period_us"),
            cpuCfsQuota: v2 ? controllers.contains("cpu") : v1("cpu/cpu.cfs_quota_us"),
            cpuShares: v2 ? controllers.contains("cpu") : v1("cpu/cpu.shares"),
            cpuSet: v2 ? controllers.contains("cpuset") : v1("cpuset/cpuset.cpus"),
            pidsLimit: v2 ? controllers.contains("pids") : v1("pids"),
            oomKillDisable: v1("memory/memory.oom_control"),
            ipv4Forwarding: ((try? FS.readText("/proc/sys/net/ipv4/ip_forward")) ?? "").hasPrefix("1"),
            openFiles: ((try? FS.list(path: "/proc/self/fd")) ?? []).count,
            threads: ((try? FS.list(path: "/proc/self/task")) ?? []).count)
    }

    /// /etc/os-release (or /usr/lib/os-release) as a map, quotes removed.
    static func osRelease() -> [String: String] {
        guard let text = (try? FS.readText("/etc/os-release")) ?? (try? FS.readText("/usr/lib/os-release")) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            var value = line[line.index(after: equals)...]
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = value.dropFirst().dropLast()
            }
            values[String(line[..<equals])] = String(value)
        }
        return values
    }

    static func isCgroup2(_ path: String) -> Bool { FS.filesystemType(path) == 0x6367_7270 }

    /// /proc/meminfo's MemTotal, in bytes (what sysinfo's totalram says).
    static func memTotal() -> Int64 {
        let text = (try? FS.readText("/proc/meminfo")) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }) else { return 0 }
        return (Int64(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    /// Docker's "Backing Filesystem" words for the filesystem holding `path`.
    public static func backingFilesystem(_ path: String) -> String {
        guard let type = FS.filesystemType(path) else { return "<unknown>" }
        switch type {
        case 0xEF53: return "extfs"
        case 0x5846_5342: return "xfs"
        case 0x9123_683E: return "btrfs"
        case 0x0102_1994: return "tmpfs"
        case 0x794C_7630: return "overlayfs"
        case 0x2FC1_2FC1: return "zfs"
        case 0x6573_5546: return "fuseblk"
        default: return "<unknown>"
        }
    }
}
