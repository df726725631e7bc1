import Glibc
import LinuxSys
import OCI

/// Writing `linux.resources` into cgroup files, v1 or v2 per controller.
extension Cgroup {
    func apply(_ resources: Resources?, devices specDevices: [Device] = [], updatingDevices: Bool = true) throws(RuntimeError) {
        let resources = resources ?? Resources()
        if let memory = resources.memory { try applyMemory(memory) }
        if let cpu = resources.cpu { try applyCPU(cpu) }
        if let pids = resources.pids { try applyPids(pids) }
        if let blockIO = resources.blockIO { try applyBlockIO(blockIO) }
        for limit in resources.hugepageLimits ?? [] { try applyHugepages(limit) }
        if let network = resources.network { try applyNetwork(network) }
        if let unified = resources.unified { try applyUnified(unified) }
        if updatingDevices { try applyDevices(resources.devices, specDevices: specDevices) }
    }

    /// Writes `value` to `file` of the directory holding `controller`; a missing controller or file is
    /// an error that names both, because a limit that was asked for must not be silently dropped.
    func write(_ controller: String, _ file: String, _ value: String) throws(RuntimeError) {
        guard let directory = directory(for: controller) else {
            throw RuntimeError("cannot set \(file)=\(value): the \(controller) cgroup controller is not available on this host")
        }
        let path = directory.path + "/" + file
        do {
            try FS.writeFile(path, value)
        } catch {
            if error.errno == ENOENT {
                throw RuntimeError("cannot set \(file)=\(value): \(path) does not exist (this kernel lacks it)")
            }
            throw RuntimeError("cannot set \(file)=\(value) in \(directory.path): \(error)")
        }
    }

    func isV2(_ controller: String) -> Bool { directory(for: controller)?.isV2 ?? false }

    private func applyMemory(_ given: MemoryLimits) throws(RuntimeError) {
        // Engines send 0 for "not set" (Docker's config and update both do), as runc reads them.
        var memory = given
        if memory.limit == 0 { memory.limit = nil }
        if memory.reservation == 0 { memory.reservation = nil }
        if memory.swap == 0 { memory.swap = nil }
        if isV2("memory") {
            if let limit = memory.limit { try write("memory", "memory.max", limit < 0 ? "max" : "\(limit)") }
            if let reservation = memory.reservation {
                try write("memory", "memory.low", reservation < 0 ? "max" : "\(reservation)")
            }
            if let swap = memory.swap {
                // v1's swap is memory+swap; v2 limits swap alone.
                let value: String
                if swap < 0 { value = "max" } else if let limit = memory.limit, limit > 0 {
                    value = "\(max(0, swap - limit))"
                } else { value = "\(swap)" }
                try write("memory", "memory.swap.max", value)
            }
            if memory.disableOOMKiller == true {
                throw RuntimeError("linux.resources.memory.disableOOMKiller is not supported on cgroup v2")
            }
            return
        }
        let limit = memory.limit.map { $0 < 0 ? "-1" : "\($0)" }
        let swap = memory.swap.map { $0 < 0 ? "-1" : "\($0)" }
        if let limit, let swap {
            // memory.memsw must stay >= memory.limit at every step, so the order depends on direction.
            do {
                try write("memory", "memory.limit_in_bytes", limit)
                try writeSwap(swap)
            } catch {
                try writeSwap(swap)
                try write("memory", "memory.limit_in_bytes", limit)
            }
        } else if let limit {
            try write("memory", "memory.limit_in_bytes", limit)
        } else if let swap {
            try writeSwap(swap)
        }
        if let reservation = memory.reservation {
            try write("memory", "memory.soft_limit_in_bytes", reservation < 0 ? "-1" : "\(reservation)")
        }
        if let swappiness = memory.swappiness, swappiness <= 100 {
            try write("memory", "memory.swappiness", "\(swappiness)")
        }
        if memory.disableOOMKiller == true { try write("memory", "memory.oom_control", "1") }
        if (memory.kernel ?? 0) != 0 || (memory.kernelTCP ?? 0) != 0 {
            Log.shared.warning("linux.resources.memory.kernel and kernelTCP are deprecated and ignored")
        }
    }

    private func writeSwap(_ value: String) throws(RuntimeError) {
        guard let directory = directory(for: "memory") else { return }
        if !FS.exists(directory.path + "/memory.memsw.limit_in_bytes") {
            if value == "-1" { return }
            throw RuntimeError("cannot set memory.memsw.limit_in_bytes=\(value): this kernel has no swap accounting")
        }
        try write("memory", "memory.memsw.limit_in_bytes", value)
    }

    private func applyCPU(_ cpu: CPULimits) throws(RuntimeError) {
        if isV2("cpu") {
            if let shares = cpu.shares, shares > 0 { try write("cpu", "cpu.weight", "\(Cgroup.weight(fromShares: shares))") }
            if cpu.quota != nil || cpu.period != nil {
                let quota = cpu.quota.map { $0 <= 0 ? "max" : "\($0)" } ?? "max"
                try write("cpu", "cpu.max", "\(quota) \(cpu.period ?? 100_000)")
            }
            if let burst = cpu.burst { try write("cpu", "cpu.max.burst", "\(burst)") }
            if let idle = cpu.idle { try write("cpu", "cpu.idle", "\(idle)") }
            if cpu.realtimeRuntime != nil || cpu.realtimePeriod != nil {
                throw RuntimeError("linux.resources.cpu.realtimeRuntime/realtimePeriod are not supported on cgroup v2")
            }
        } else {
            if let shares = cpu.shares, shares > 0 { try write("cpu", "cpu.shares", "\(shares)") }
            // The period goes first: a quota is checked against the current period.
            if let period = cpu.period, period > 0 { try write("cpu", "cpu.cfs_period_us", "\(period)") }
            if let quota = cpu.quota, quota != 0 { try write("cpu", "cpu.cfs_quota_us", "\(quota < 0 ? -1 : quota)") }
            if let burst = cpu.burst { try write("cpu", "cpu.cfs_burst_us", "\(burst)") }
            if let period = cpu.realtimePeriod, period > 0 { try write("cpu", "cpu.rt_period_us", "\(period)") }
            if let runtime = cpu.realtimeRuntime, runtime != 0 { try write("cpu", "cpu.rt_runtime_us", "\(runtime)") }
            if let idle = cpu.idle { try write("cpu", "cpu.idle", "\(idle)") }
        }
        if let cpus = cpu.cpus, !cpus.isEmpty { try write("cpuset", "cpuset.cpus", cpus) }
        if let mems = cpu.mems, !mems.isEmpty { try write("cpuset", "cpuset.mems", mems) }
    }

    /// cgroup v1 cpu.shares [2, 262144] onto v2 cpu.weight [1, 10000], the conversion runc and crun use.
    static func weight(fromShares shares: UInt64) -> UInt64 {
        let clamped = min(max(shares, 2), 262_144)
        return 1 + ((clamped - 2) * 9999) / 262_142
    }

    private func applyPids(_ pids: PidsLimit) throws(RuntimeError) {
        guard let limit = pids.limit, limit != 0 else { return }
        try write("pids", "pids.max", limit <= 0 ? "max" : "\(limit)")
    }

    private func applyBlockIO(_ io: BlockIO) throws(RuntimeError) {
        if isV2("io") {
            if let weight = io.weight, weight != 0 { try write("io", "io.weight", "default \(Cgroup.ioWeight(fromBlkio: weight))") }
            for device in io.weightDevice ?? [] {
                if let weight = device.weight, weight != 0 {
                    try write("io", "io.weight", "\(device.major):\(device.minor) \(Cgroup.ioWeight(fromBlkio: weight))")
                }
            }
            let throttles: [(String, [ThrottleDevice]?)] = [
                ("rbps", io.throttleReadBpsDevice), ("wbps", io.throttleWriteBpsDevice),
                ("riops", io.throttleReadIOPSDevice), ("wiops", io.throttleWriteIOPSDevice),
            ]
            for (key, devices) in throttles {
                for device in devices ?? [] {
                    try write("io", "io.max", "\(device.major):\(device.minor) \(key)=\(device.rate == 0 ? "max" : "\(device.rate)")")
                }
            }
            return
        }
        if let weight = io.weight, weight != 0 { try write("blkio", blkioFile("weight"), "\(weight)") }
        if let leaf = io.leafWeight, leaf != 0 { try write("blkio", "blkio.leaf_weight", "\(leaf)") }
        for device in io.weightDevice ?? [] {
            if let weight = device.weight, weight != 0 { try write("blkio", blkioFile("weight_device"), "\(device.major):\(device.minor) \(weight)") }
            if let leaf = device.leafWeight, leaf != 0 { try write("blkio", "blkio.leaf_weight_device", "\(device.major):\(device.minor) \(leaf)") }
        }
        let throttles: [(String, [ThrottleDevice]?)] = [
            ("blkio.throttle.read_bps_device", io.throttleReadBpsDevice),
            ("blkio.throttle.write_bps_device", io.throttleWriteBpsDevice),
            ("blkio.throttle.read_iops_device", io.throttleReadIOPSDevice),
            ("blkio.throttle.write_iops_device", io.throttleWriteIOPSDevice),
        ]
        for (file, devices) in throttles {
            for device in devices ?? [] { try write("blkio", file, "\(device.major):\(device.minor) \(device.rate)") }
        }
    }

    /// Kernels with BFQ name the weight files blkio.bfq.*; CFQ kernels name them blkio.*.
    private func blkioFile(_ name: String) -> String {
        guard let directory = directory(for: "blkio") else { return "blkio." + name }
        return FS.exists(directory.path + "/blkio." + name) ? "blkio." + name : "blkio.bfq." + name
    }

    /// blkio weight [10, 1000] onto io.weight [1, 10000].
    static func ioWeight(fromBlkio weight: UInt16) -> UInt64 {
        let clamped = UInt64(min(max(weight, 10), 1000))
        return 1 + (clamped - 10) * 9999 / 990
    }

    private func applyHugepages(_ limit: HugepageLimit) throws(RuntimeError) {
        let file = isV2("hugetlb") ? "hugetlb.\(limit.pageSize).max" : "hugetlb.\(limit.pageSize).limit_in_bytes"
        try write("hugetlb", file, "\(limit.limit)")
    }

    private func applyNetwork(_ network: NetworkResources) throws(RuntimeError) {
        if let classID = network.classID { try write("net_cls", "net_cls.classid", "\(classID)") }
        for priority in network.priorities ?? [] {
            try write("net_prio", "net_prio.ifpriomap", "\(priority.name) \(priority.priority)")
        }
    }

    private func applyUnified(_ unified: [String: String]) throws(RuntimeError) {
        guard let directory = unifiedPath else {
            throw RuntimeError("linux.resources.unified needs cgroup v2, which is not mounted on this host")
        }
        for (key, value) in unified.sorted(by: { $0.key < $1.key }) {
            guard !key.contains("/"), !key.hasPrefix(".") else {
                throw RuntimeError("linux.resources.unified: invalid key \"\(key)\"")
            }
            do { try FS.writeFile(directory + "/" + key, value) } catch {
                throw RuntimeError("cannot set \(key)=\(value) in \(directory): \(error)")
            }
        }
    }
}
