import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// How the container's process is scheduled and placed: personality, I/O priority, scheduler,
/// CPU affinity and NUMA memory policy. Checked at create, applied in the process before exec.
enum ProcessAttributes {
    static let personalities: [String: UInt] = ["LINUX": 0x0000, "LINUX32": 0x0008]
    static let ioClasses: [String: Int32] = ["IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3]
    static let policies: [String: UInt32] = ["SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3,
                                             "SCHED_ISO": 4, "SCHED_IDLE": 5, "SCHED_DEADLINE": 6]
    static let schedulerFlags: [String: UInt64] = ["SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02,
                                                   "SCHED_FLAG_DL_OVERRUN": 0x04, "SCHED_FLAG_KEEP_POLICY": 0x08,
                                                   "SCHED_FLAG_KEEP_PARAMS": 0x10, "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20,
                                                   "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40]
    static let memoryModes: [String: Int32] = ["MPOL_DEFAULT": 0, "MPOL_PREFERRED": 1, "MPOL_BIND": 2, "MPOL_INTERLEAVE": 3,
                                               "MPOL_LOCAL": 4, "MPOL_PREFERRED_MANY": 5, "MPOL_WEIGHTED_INTERLEAVE": 6]
    static let memoryFlags: [String: Int32] = ["MPOL_F_NUMA_BALANCING": 1 << 13, "MPOL_F_RELATIVE_NODES": 1 << 14,
                                               "MPOL_F_STATIC_NODES": 1 << 15]

    /// Refuses unknown names and malformed lists with the field's path, before anything is created.
    static func validate(process: OCI.Process, linux: Linux?) throws(RuntimeError) {
        // A profile asked for on a host without AppArmor would otherwise run the process unconfined.
        if let profile = process.apparmorProfile, !profile.isEmpty, !appArmorEnabled {
            throw RuntimeError("process.apparmorProfile: \"\(profile)\" is set but AppArmor is not enabled on this host (/sys/module/apparmor/parameters/enabled)")
        }
        if let personality = linux?.personality, personalities[personality.domain] == nil {
            throw RuntimeError("linux.personality.domain: unknown domain \"\(personality.domain)\" (LINUX or LINUX32)")
        }
        if let io = process.ioPriority {
            guard ioClasses[io.class] != nil else { throw RuntimeError("process.ioPriority.class: unknown class \"\(io.class)\"") }
            guard (0...7).contains(io.priority ?? 0) else { throw RuntimeError("process.ioPriority.priority: \(io.priority ?? 0) is not in 0-7") }
        }
        if let scheduler = process.scheduler {
            guard policies[scheduler.policy] != nil else { throw RuntimeError("process.scheduler.policy: unknown policy \"\(scheduler.policy)\"") }
            for (index, flag) in (scheduler.flags ?? []).enumerated() where schedulerFlags[flag] == nil {
                throw RuntimeError("process.scheduler.flags[\(index)]: unknown flag \"\(flag)\"")
            }
        }
        if let affinity = process.execCPUAffinity {
            if let initial = affinity.initial, cpuList(initial) == nil { throw RuntimeError("process.execCPUAffinity.initial: invalid CPU list \"\(initial)\"") }
            if let final = affinity.final, cpuList(final) == nil { throw RuntimeError("process.execCPUAffinity.final: invalid CPU list \"\(final)\"") }
        }
        if let policy = linux?.memoryPolicy {
            guard memoryModes[policy.mode] != nil else { throw RuntimeError("linux.memoryPolicy.mode: unknown mode \"\(policy.mode)\"") }
            if let nodes = policy.nodes, !nodes.isEmpty, cpuList(nodes) == nil {
                throw RuntimeError("linux.memoryPolicy.nodes: invalid node list \"\(nodes)\"")
            }
            for (index, flag) in (policy.flags ?? []).enumerated() where memoryFlags[flag] == nil {
                throw RuntimeError("linux.memoryPolicy.flags[\(index)]: unknown flag \"\(flag)\"")
            }
        }
    }

    /// `execCPUAffinity.initial`: as soon as the process exists, before it joins the container's cgroup.
    static func applyInitialAffinity(_ process: OCI.Process) throws(RuntimeError) {
        guard let list = process.execCPUAffinity?.initial else { return }
        try setAffinity(list, field: "initial")
    }

    /// `execCPUAffinity.final`: the last thing before exec.
    static func applyFinalAffinity(_ process: OCI.Process) throws(RuntimeError) {
        guard let list = process.execCPUAffinity?.final else { return }
        try setAffinity(list, field: "final")
    }

    /// Personality, I/O priority, scheduler and memory policy; before capabilities are dropped, since
    /// real-time policies need CAP_SYS_NICE.
    static func apply(_ process: OCI.Process, linux: Linux?) throws(RuntimeError) {
        if let personality = linux?.personality, let domain = personalities[personality.domain] {
            if CLinuxSys.personality(domain) < 0 { throw SysError("personality", personality.domain).context("set personality") }
        }
        if let io = process.ioPriority, let ioClass = ioClasses[io.class] {
            if berth_ioprio_set(ioClass, Int32(io.priority ?? 0)) != 0 { throw SysError("ioprio_set", io.class).context("set I/O priority") }
        }
        if let scheduler = process.scheduler, let policy = policies[scheduler.policy] {
            let flags = (scheduler.flags ?? []).reduce(UInt64(0)) { $0 | (schedulerFlags[$1] ?? 0) }
            let result = berth_sched_setattr(policy, flags, scheduler.nice ?? 0, UInt32(max(0, scheduler.priority ?? 0)),
                                             scheduler.runtime ?? 0, scheduler.deadline ?? 0, scheduler.period ?? 0)
            if result != 0 { throw SysError("sched_setattr", scheduler.policy).context("set scheduler") }
        }
        if let policy = linux?.memoryPolicy, let mode = memoryModes[policy.mode] {
            let flags = (policy.flags ?? []).reduce(Int32(0)) { $0 | (memoryFlags[$1] ?? 0) }
            let nodes = cpuList(policy.nodes ?? "") ?? []
            var mask = [UInt](repeating: 0, count: 16)
            for node in nodes where node < mask.count * UInt.bitWidth {
                mask[node / UInt.bitWidth] |= 1 << UInt(node % UInt.bitWidth)
            }
            let maxNode = UInt(nodes.isEmpty ? 0 : mask.count * UInt.bitWidth)
            if berth_set_mempolicy(mode | flags, nodes.isEmpty ? nil : mask, maxNode) != 0 {
                throw SysError("set_mempolicy", policy.mode).context("set memory policy")
            }
        }
    }

    private static func setAffinity(_ list: String, field: String) throws(RuntimeError) {
        guard let cpus = cpuList(list) else { throw RuntimeError("execCPUAffinity.\(field): invalid CPU list \"\(list)\"") }
        let numbers = cpus.map { Int32($0) }
        if berth_set_affinity(numbers, Int32(numbers.count)) != 0 {
            throw SysError("sched_setaffinity", list).context("set execCPUAffinity.\(field)")
        }
    }

    /// `0-3,6,8-9` as the kernel's cpuset and node lists are written; nil when malformed.
    static func cpuList(_ text: String) -> [Int]? {
        var result: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 1 || bounds.count == 2, let low = Int(bounds[0].trimmed), low >= 0 else { return nil }
            let high = bounds.count == 2 ? Int(bounds[1].trimmed) : low
            guard let high, high >= low, high < 8192 else { return nil }
            result += Array(low...high)
        }
        return result.isEmpty ? nil : result
    }
}

extension Substring {
    var trimmed: String { String(self).trimmed }
}

extension ProcessAttributes {
    /// Read on the host, before any container mount exists.
    static var appArmorEnabled: Bool {
        ((try? FS.readText("/sys/module/apparmor/parameters/enabled")) ?? "").hasPrefix("Y")
    }

    /// Asks AppArmor to confine the process from its next execve, written through the runtime's
    /// private procfs (`proc`) so the container cannot redirect the write (CVE-2025-52881 class).
    static func applyAppArmor(_ process: OCI.Process, proc: Int32) throws(RuntimeError) {
        guard let profile = process.apparmorProfile, !profile.isEmpty else { return }
        var fd = berth_openat(proc, "thread-self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC, 0)
        if fd < 0 { fd = berth_openat(proc, "thread-self/attr/exec", O_WRONLY | O_CLOEXEC, 0) }
        guard fd >= 0 else { throw SysError("open", "attr/apparmor/exec").context("apparmor profile \(profile)") }
        defer { FS.close(fd) }
        let command = Array("exec \(profile)".utf8)
        guard Glibc.write(fd, command, command.count) == command.count else {
            throw SysError("write", "attr/apparmor/exec").context("apparmor profile \(profile)")
        }
    }
}
