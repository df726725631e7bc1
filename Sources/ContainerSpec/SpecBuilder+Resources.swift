import OCI

extension SpecBuilder {
    /// Docker's smallest memory limit.
    static let minimumMemory: Int64 = 6 << 20

    /// The cgroup limits, validated with Docker's messages. Only what was asked for is set (zero
    /// and nil mean "no limit" to the runtime, as to runc).
    public static func resources(_ options: RunOptions, host: HostInfo) throws(EngineError) -> Resources {
        var resources = Resources()

        // Memory: Docker defaults swap to twice the limit where swap can be limited.
        let memory = options.memory ?? 0
        let reservation = options.memoryReservation ?? 0
        var swap = options.memorySwap ?? 0
        if memory < 0 || reservation < 0 { throw .invalid("invalid memory value: negative") }
        if memory > 0 && memory < minimumMemory { throw .invalid("Minimum memory limit allowed is 6MB") }
        if memory == 0 && swap > 0 {
            throw .invalid("You should always set the Memory limit when using Memoryswap limit, see usage")
        }
        if memory > 0 && swap > 0 && swap < memory {
            throw .invalid("Minimum memoryswap limit should be larger than memory limit, see usage")
        }
        if memory > 0 && reservation > 0 && memory < reservation {
            throw .invalid("Minimum memory limit can not be less than memory reservation limit, see usage")
        }
        if host.swapLimit {
            if memory > 0 && swap == 0 { swap = memory * 2 }
        } else {
            // Docker warns "Your kernel does not support swap limit capabilities" and drops it.
            swap = 0
        }
        if memory > 0 || reservation > 0 || swap != 0 {
            resources.memory = MemoryLimits(limit: memory > 0 ? memory : nil, reservation: reservation > 0 ? reservation : nil,
                                            swap: swap != 0 ? swap : nil)
        }
        // Only cgroup v1 has the switch; elsewhere Docker drops it with a warning (see `warnings`).
        if options.oomKillDisable == true, !host.cgroupV2 {
            var limits = resources.memory ?? MemoryLimits()
            limits.disableOOMKiller = true
            resources.memory = limits
        }

        // CPU: --cpus becomes a quota over Docker's 100 ms period.
        var cpu = CPULimits()
        if let nano = options.nanoCPUs, nano != 0 {
            if (options.cpuPeriod ?? 0) != 0 {
                throw .invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set")
            }
            if (options.cpuQuota ?? 0) != 0 {
                throw .invalid("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
            }
            if nano < 0 || nano > Int64(host.cpuCount) * 1_000_000_000 {
                throw .invalid("Range of CPUs is from 0.01 to \(host.cpuCount).00, as there are only \(host.cpuCount) CPUs available")
            }
            let period: UInt64 = 100_000
            cpu.period = period
            cpu.quota = nano * Int64(period) / 1_000_000_000
        } else {
            if let period = options.cpuPeriod, period != 0 {
                guard (1000...1_000_000).contains(period) else {
                    throw .invalid("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
                }
                cpu.period = period
            }
            if let quota = options.cpuQuota, quota != 0 {
                guard quota >= 1000 || quota == -1 else { throw .invalid("CPU cfs quota can not be less than 1ms (i.e. 1000)") }
                cpu.quota = quota
            }
        }
        if let shares = options.cpuShares, shares != 0 { cpu.shares = shares }
        if let cpus = options.cpusetCpus, !cpus.isEmpty {
            guard validCPUList(cpus) else { throw .invalid("Invalid value \(cpus) for cpuset cpus") }
            cpu.cpus = cpus
        }
        if let mems = options.cpusetMems, !mems.isEmpty {
            guard validCPUList(mems) else { throw .invalid("Invalid value \(mems) for cpuset mems") }
            cpu.mems = mems
        }
        if cpu != CPULimits() { resources.cpu = cpu }

        // Pids: Docker passes 0 and negatives as -1, "unlimited".
        if let pids = options.pidsLimit {
            resources.pids = PidsLimit(limit: pids > 0 ? pids : -1)
        }
        return resources
    }

    /// What Docker's daemon warns of at create (its CLI prints each as "WARNING: …"): settings this
    /// host cannot honour, or that may hurt it.
    public static func warnings(_ options: RunOptions, host: HostInfo) -> [String] {
        var warnings: [String] = []
        if options.oomKillDisable == true {
            if host.cgroupV2 {
                warnings.append("Your kernel does not support OomKillDisable. OomKillDisable discarded.")
            } else if (options.memory ?? 0) == 0 {
                warnings.append("OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.")
            }
        }
        return warnings
    }

    /// "0-3,5": comma-separated numbers and ranges.
    static func validCPUList(_ list: String) -> Bool {
        list.split(separator: ",", omittingEmptySubsequences: false).allSatisfy { part in
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else { return false }
            if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]) { return low <= high }
            return true
        }
    }

    /// `--ulimit` as rlimits; Docker sets none by default, so the process keeps the limits it inherits.
    static func rlimits(_ ulimits: [Ulimit]) throws(EngineError) -> [Rlimit]? {
        var result: [Rlimit] = []
        for ulimit in ulimits {
            let type = "RLIMIT_" + ulimit.name.uppercased()
            guard RlimitName.numbers[type] != nil else { throw .invalid("invalid ulimit type: \(ulimit.name)") }
            // -1 is "unlimited" (RLIM_INFINITY) as Go's uint64 conversion makes it.
            let soft = UInt64(bitPattern: ulimit.soft), hard = UInt64(bitPattern: ulimit.hard)
            guard soft <= hard else {
                throw .invalid("ulimit soft limit must be less than or equal to hard limit: \(ulimit.soft) > \(ulimit.hard)")
            }
            let rlimit = Rlimit(type: type, hard: hard, soft: soft)
            if let index = result.firstIndex(where: { $0.type == type }) { result[index] = rlimit } else { result.append(rlimit) }
        }
        return result.isEmpty ? nil : result
    }
}
