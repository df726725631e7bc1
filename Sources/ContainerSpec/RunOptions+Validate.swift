import Glibc
import LinuxSys

// MARK: checks across flags (Docker's daemon checks)

extension RunOptions {
    /// Docker's checks of a whole configuration, the ones its daemon makes on create: limits that
    /// contradict each other, values out of range. `hostCPUs` bounds `--cpus`.
    public func validate(hostCPUs: Int) throws(EngineError) {
        let minimumMemory: Int64 = 6 * 1024 * 1024
        if let name, !RunOptions.validContainerName(name) {
            throw .invalid("Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        }
        if let memory, memory != 0, memory < minimumMemory { throw .invalid("Minimum memory limit allowed is 6MB") }
        let memory = self.memory ?? 0
        let swap = memorySwap ?? 0
        if memory > 0, swap > 0, swap < memory {
            throw .invalid("Minimum memoryswap limit should be larger than memory limit, see usage")
        }
        if memory == 0, swap > 0 {
            throw .invalid("You should always set the Memory limit when using Memoryswap limit, see usage")
        }
        if let reservation = memoryReservation, reservation > 0 {
            if reservation < minimumMemory { throw .invalid("Minimum memory reservation allowed is 6MB") }
            if memory > 0, memory < reservation {
                throw .invalid("Minimum memory limit can not be less than memory reservation limit, see usage")
            }
        }
        let nano = nanoCPUs ?? 0
        if nano > 0, (cpuPeriod ?? 0) > 0 { throw .invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set") }
        if nano > 0, (cpuQuota ?? 0) > 0 { throw .invalid("Conflicting options: Nano CPUs and CPU Quota cannot both be set") }
        if nano < 0 || nano > Int64(hostCPUs) * 1_000_000_000 {
            throw .invalid("Range of CPUs is from 0.01 to \(hostCPUs).00, as there are only \(hostCPUs) CPUs available")
        }
        if let period = cpuPeriod, period != 0, period < 1000 || period > 1_000_000 {
            throw .invalid("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
        }
        if let quota = cpuQuota, quota > 0, quota < 1000 { throw .invalid("CPU cfs quota can not be less than 1ms (i.e. 1000)") }
        if let shm = shmSize, shm < 0 { throw .invalid("SHM size can not be less than 0") }
        if let adj = oomScoreAdj, adj < -1000 || adj > 1000 {
            throw .invalid("Invalid value \(adj), range for oom score adj is [-1000, 1000]")
        }
        if let workingDir, !workingDir.isEmpty, !workingDir.hasPrefix("/") {
            throw .invalid("the working directory '\(workingDir)' is invalid, it needs to be an absolute path")
        }
        let minimum: Int64 = 1_000_000  // 1ms, Docker's container.MinimumDuration
        for (label, value) in [("Interval", health.interval), ("Timeout", health.timeout), ("StartPeriod", health.startPeriod), ("StartInterval", health.startInterval)] {
            if let value, value != 0, value < minimum { throw .invalid("\(label) in Healthcheck cannot be less than 1ms") }
        }
        if let retries = health.retries, retries < 0 { throw .invalid("Retries in Healthcheck cannot be negative") }
        try checkRestartAndRemove()
        try validateModes()
        var targets = Set<String>()
        for mount in mounts {
            guard targets.insert(mount.target).inserted else { throw .invalid("Duplicate mount point: \(mount.target)") }
        }
    }

    /// The daemon's checks of the namespace, link, MAC, logging and GPU options against each other
    /// and the network mode (what `Engine.create` checks again for any caller).
    public func validateModes() throws(EngineError) {
        if utsMode == .host, let hostname, !hostname.isEmpty {
            throw .invalid("conflicting options: hostname and the UTS mode", reportedByDaemon: true)
        }
        if !(links ?? []).isEmpty {
            switch network {
            case .host:
                throw .invalid("conflicting options: host type networking can't be used with links. This would result in undefined behavior",
                               reportedByDaemon: true)
            case .container:
                throw .invalid("conflicting options: container type network can't be used with links. This would result in undefined behavior",
                               reportedByDaemon: true)
            default: break
            }
        }
        if macAddress != nil {
            switch network {
            case .host, .container: throw .invalid("conflicting options: mac-address and the network mode", reportedByDaemon: true)
            default: break
            }
        }
        for mode in [pidMode, ipcMode] {
            if case .container(let name) = mode, name.isEmpty { throw .invalid("invalid container format container:<name|id>") }
        }
        if logDriver == LogDriver.none, !logOptions.isEmpty { throw .invalid("invalid logging opts for driver none") }
        try checkGPUs()
    }

    /// CPUs this process may run on (its affinity mask, as Go's runtime.NumCPU counts), the bound
    /// Docker puts on `--cpus`.
    public static func hostCPUs() -> Int {
        if let status = try? FS.readText("/proc/self/status"),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) {
            let count = line.dropFirst("Cpus_allowed:".count).reduce(0) { $0 + ($1.hexDigitValue ?? 0).nonzeroBitCount }
            if count > 0 { return count }
        }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// Docker's container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, optionally after one `/` (so two
    /// characters at least: `create --name`, `run --name`, `rename`).
    public static func validContainerName(_ name: String) -> Bool {
        validName(name, minimumLength: 2)
    }

    /// Docker's restricted names, `[a-zA-Z0-9][a-zA-Z0-9_.-]*` after an optional `/`, at least
    /// `minimumLength` characters long (networks take one).
    public static func validName(_ name: String, minimumLength: Int) -> Bool {
        let trimmed = name.hasPrefix("/") ? Array(name.utf8.dropFirst()) : Array(name.utf8)
        guard trimmed.count >= max(minimumLength, 1), isAlphanumeric(trimmed[0]) else { return false }
        return trimmed.dropFirst().allSatisfy { isAlphanumeric($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    }
}
