import ContainerRuntime
import ContainerSpec
import Glibc
import LinuxSys
import OCI
import Supervisor

// pause/unpause, update and the figures behind `stats`: operations on a container's live cgroup.

extension Engine {
    // MARK: - Pause

    /// `pause`: freezes every process of a running container (cgroup freezer).
    public func pause(_ container: Container) throws(EngineError) {
        let current = status(container)
        if current.status == .paused {
            throw .conflict("Container \(container.id) is already paused", reportedByDaemon: true)
        }
        if current.status == .restarting {
            throw .conflict("Container \(container.id) is restarting, wait until the container is running", reportedByDaemon: true)
        }
        guard current.status == .running, current.state.containerAlive else {
            throw .conflict("Container \(container.id) is not running", reportedByDaemon: true)
        }
        do { try runtime.pause(id: container.id) } catch {
            throw .system("Cannot pause container \(container.id): \(error)", reportedByDaemon: true)
        }
        recordEvent(container, "pause")
    }

    /// `unpause`: thaws a paused container.
    public func unpause(_ container: Container) throws(EngineError) {
        guard status(container).status == .paused else {
            throw .conflict("Container \(container.id) is not paused", reportedByDaemon: true)
        }
        do { try runtime.resume(id: container.id) } catch {
            throw .system("Cannot unpause container \(container.id): \(error)", reportedByDaemon: true)
        }
        recordEvent(container, "unpause")
    }

    // MARK: - Update

    /// What `update` may change; nil leaves a setting as it is.
    public struct ResourceUpdate: Sendable, Equatable {
        public var memory: Int64?
        /// Bytes, or -1 for unlimited swap.
        public var memorySwap: Int64?
        public var memoryReservation: Int64?
        public var nanoCPUs: Int64?
        public var cpuShares: UInt64?
        public var cpuPeriod: UInt64?
        public var cpuQuota: Int64?
        public var cpusetCpus: String?
        public var cpusetMems: String?
        public var pidsLimit: Int64?
        public var restart: RestartPolicy?

        public init() {}

        var changesResources: Bool {
            memory != nil || memorySwap != nil || memoryReservation != nil || nanoCPUs != nil || cpuShares != nil
                || cpuPeriod != nil || cpuQuota != nil || cpusetCpus != nil || cpusetMems != nil || pidsLimit != nil
        }
    }

    /// `update`: new limits for the stored configuration (what inspect shows and the next start
    /// uses) and, when the container runs, for its live cgroup; a new restart policy also reaches
    /// the running supervisor, which reads it from supervisor.json when the container ends.
    public func update(_ container: Container, _ change: ResourceUpdate) throws(EngineError) {
        var options = container.options
        let old = container.options
        if let memory = change.memory {
            // Docker keeps the swap limit already set; a memory limit above it needs a new one.
            let currentSwap = old.memorySwap ?? old.memory.map { $0 * 2 } ?? 0
            if change.memorySwap == nil, memory > 0, currentSwap > 0, memory > currentSwap {
                throw .conflict("Cannot update container \(container.id): Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time", reportedByDaemon: true)
            }
            if change.memorySwap == nil, old.memorySwap == nil {
                options.memorySwap = old.memory.map { $0 * 2 } ?? -1
            }
            options.memory = memory
        }
        if let swap = change.memorySwap { options.memorySwap = swap }
        if let value = change.memoryReservation { options.memoryReservation = value }
        if let value = change.nanoCPUs {
            options.nanoCPUs = value
            if value != 0 { options.cpuPeriod = nil; options.cpuQuota = nil }
        }
        if let value = change.cpuShares { options.cpuShares = value }
        if let value = change.cpuPeriod { options.cpuPeriod = value }
        if let value = change.cpuQuota { options.cpuQuota = value }
        if let value = change.cpusetCpus { options.cpusetCpus = value.isEmpty ? nil : value }
        if let value = change.cpusetMems { options.cpusetMems = value.isEmpty ? nil : value }
        if let value = change.pidsLimit { options.pidsLimit = value }
        if let restart = change.restart {
            if options.autoRemove, restart != .no {
                throw .invalid("Cannot update container \(container.id): Restart policy cannot be updated because AutoRemove is enabled for the container", reportedByDaemon: true)
            }
            options.restart = restart
        }
        do { try options.validate(hostCPUs: RunOptions.hostCPUs()) } catch {
            throw EngineError(error.kind, "Cannot update container \(container.id): \(error.message)", reportedByDaemon: true)
        }
        let current = status(container)
        if change.changesResources, current.isRunning {
            let host = HostInfo.current
            var resources: Resources
            do { resources = try SpecBuilder.resources(options, host: host) } catch {
                throw EngineError(error.kind, "Cannot update container \(container.id): \(error.message)", reportedByDaemon: true)
            }
            // A limit removed (0 / unlimited) must be written as such, not left out.
            if change.memory == 0 || change.memorySwap == -1 {
                var memory = resources.memory ?? MemoryLimits()
                if change.memory == 0 { memory.limit = -1 }
                if host.swapLimit, change.memorySwap == -1 || change.memory == 0 { memory.swap = -1 }
                resources.memory = memory
            }
            if change.nanoCPUs == 0 && change.cpuQuota == nil {
                var cpu = resources.cpu ?? CPULimits()
                cpu.quota = -1
                resources.cpu = cpu
            }
            do { try runtime.update(id: container.id, resources: resources) } catch {
                throw .system("Cannot update container \(container.id): \(error)", reportedByDaemon: true)
            }
        }
        try containers.update(id: container.id, options: options)
        if let restart = change.restart, let supervisorConfig = try? SupervisorConfig.load(runDirectory: runDirectory(container.id)) {
            var updated = supervisorConfig
            updated.restart = restart
            do { try updated.save(runDirectory: runDirectory(container.id)) } catch {
                throw .system("update the restart policy of \(container.name)", error)
            }
        }
    }

    // MARK: - Stats

    /// One reading of a container's usage, the raw figures Docker's CLI computes its columns from.
    public struct UsageSample: Sendable {
        /// The container's CPU time in nanoseconds.
        public var containerCPU: UInt64
        /// The host's CPU time (all CPUs, every state) in nanoseconds, from /proc/stat.
        public var systemCPU: UInt64
        public var onlineCPUs: Int
        /// Usage less inactive file cache, as Docker's CLI shows it.
        public var memoryUsage: UInt64
        /// The limit, or the host's memory when unlimited.
        public var memoryLimit: UInt64
        public var networkReceived: UInt64
        public var networkSent: UInt64
        public var blockRead: UInt64
        public var blockWritten: UInt64
        public var pids: UInt64
    }

    /// The usage of a running (or paused) container; nil when it does not run.
    public func usage(_ container: Container) -> UsageSample? {
        let current = status(container)
        guard current.isRunning, current.state.containerAlive else { return nil }
        guard let stats = try? runtime.stats(id: container.id) else { return nil }
        let memoryStat = stats.memoryStat
        // Docker's CLI: v1 subtracts total_inactive_file, v2 inactive_file.
        let inactive = memoryStat["total_inactive_file"] ?? memoryStat["inactive_file"] ?? 0
        let usage = stats.memoryUsage > inactive ? stats.memoryUsage - inactive : stats.memoryUsage
        let hostMemory = Self.hostMemory()
        var limit = stats.memoryLimit
        if limit == 0 || limit >= hostMemory { limit = hostMemory }
        let (received, sent) = Self.networkBytes(pid: current.state.pid)
        let (read, written) = Self.blockBytes(cgroupPaths: runtime.cgroupPaths(id: container.id))
        return UsageSample(containerCPU: stats.cpuTotalNanoseconds, systemCPU: Self.systemCPU(), onlineCPUs: Self.onlineCPUs(),
                           memoryUsage: usage, memoryLimit: limit, networkReceived: received, networkSent: sent,
                           blockRead: read, blockWritten: written, pids: stats.pidsCurrent)
    }

    /// The first line of /proc/stat in nanoseconds, as Docker's daemon reads SystemUsage.
    static func systemCPU() -> UInt64 {
        guard let text = try? FS.readText("/proc/stat"), let line = text.split(separator: "\n").first,
              line.hasPrefix("cpu ") else { return 0 }
        let ticks = line.split(separator: " ").dropFirst().prefix(7).compactMap { UInt64($0) }.reduce(0, +)
        let hz = UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
        return ticks * (1_000_000_000 / hz)
    }

    static func onlineCPUs() -> Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    static func hostMemory() -> UInt64 {
        guard let text = try? FS.readText("/proc/meminfo"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }) else { return 0 }
        return (line.split(separator: " ").dropFirst().first.flatMap { UInt64($0) } ?? 0) * 1024
    }

    /// Bytes received and sent on every interface but loopback of the container's network namespace.
    static func networkBytes(pid: Int32) -> (UInt64, UInt64) {
        guard pid > 0, let text = try? FS.readText("/proc/\(pid)/net/dev") else { return (0, 0) }
        var received: UInt64 = 0, sent: UInt64 = 0
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingPrefix(while: { $0 == " " })
            if name == "lo" { continue }
            let fields = line[line.index(after: colon)...].split(separator: " ").compactMap { UInt64($0) }
            guard fields.count >= 9 else { continue }
            received += fields[0]
            sent += fields[8]
        }
        return (received, sent)
    }

    /// Read and written bytes from blkio (v1: throttle.io_service_bytes) or io.stat (v2).
    static func blockBytes(cgroupPaths: [String]) -> (UInt64, UInt64) {
        var read: UInt64 = 0, written: UInt64 = 0
        for path in cgroupPaths {
            if let text = try? FS.readText(path + "/blkio.throttle.io_service_bytes") {
                for line in text.split(separator: "\n") {
                    let fields = line.split(separator: " ")
                    guard fields.count == 3, let value = UInt64(fields[2]) else { continue }
                    if fields[1] == "Read" { read += value } else if fields[1] == "Write" { written += value }
                }
                return (read, written)
            }
            if let text = try? FS.readText(path + "/io.stat") {
                for line in text.split(separator: "\n") {
                    for field in line.split(separator: " ").dropFirst() {
                        if field.hasPrefix("rbytes="), let value = UInt64(field.dropFirst(7)) { read += value }
                        if field.hasPrefix("wbytes="), let value = UInt64(field.dropFirst(7)) { written += value }
                    }
                }
                return (read, written)
            }
        }
        return (read, written)
    }
}
