import Glibc
import LinuxSys
import OCI

/// The commands that act on a running container's cgroup: pause, resume, ps, update.
extension OCIRuntime {
    /// `pause`: freezes every process of a running container.
    public func pause(id: String) throws(RuntimeError) {
        let lock = try store.lock(id)
        defer { FS.close(lock) }
        let record = try store.load(id)
        switch status(record) {
        case .running: try cgroup(of: record).freeze()
        case .paused: return
        default: throw RuntimeError("container not running")
        }
    }

    /// `resume`: thaws a paused container.
    public func resume(id: String) throws(RuntimeError) {
        let lock = try store.lock(id)
        defer { FS.close(lock) }
        let record = try store.load(id)
        guard status(record) == .paused else { throw RuntimeError("container not paused") }
        try cgroup(of: record).thaw()
    }

    /// `ps`: host pids of every process in the container's cgroup.
    public func processes(id: String) throws(RuntimeError) -> [pid_t] {
        let record = try store.load(id)
        guard status(record) != .stopped else { throw RuntimeError("container not running") }
        let cgroup = cgroup(of: record)
        if cgroup.paths.isEmpty { return processesSharingPidNamespace(with: record.pid) }
        return cgroup.processes().sorted()
    }

    /// Without a cgroup (rootless), the container's processes are those in its init's pid namespace.
    private func processesSharingPidNamespace(with pid: pid_t) -> [pid_t] {
        guard let target = try? FS.stat("/proc/\(pid)/ns/pid") else { return [] }
        return ((try? FS.list(path: "/proc")) ?? []).compactMap { pid_t($0) }.filter { candidate in
            guard let st = try? FS.stat("/proc/\(candidate)/ns/pid") else { return false }
            return st.st_ino == target.st_ino && st.st_dev == target.st_dev
        }.sorted()
    }

    /// `update`: writes new limits into the container's cgroup and keeps them in its saved config.
    /// Only the fields given change; device rules are left as created (runc does not update them).
    public func update(id: String, resources: Resources) throws(RuntimeError) {
        let lock = try store.lock(id)
        defer { FS.close(lock) }
        let record = try store.load(id)
        guard status(record) != .stopped else { throw RuntimeError("container not running") }
        var spec = try store.loadConfig(id)
        var changes = resources
        changes.devices = nil
        let cgroup = cgroup(of: record)
        try cgroup.apply(changes, updatingDevices: false)
        var merged = spec.linux?.resources ?? Resources()
        merged.merge(changes)
        if spec.linux == nil { spec.linux = Linux() }
        spec.linux?.resources = merged
        try store.saveConfig(id, spec.encoded())
    }
}

extension Resources {
    /// Fields set in `other` replace ours, one limit at a time.
    mutating func merge(_ other: Resources) {
        if let memory = other.memory {
            var current = self.memory ?? MemoryLimits()
            if let value = memory.limit { current.limit = value }
            if let value = memory.reservation { current.reservation = value }
            if let value = memory.swap { current.swap = value }
            if let value = memory.swappiness { current.swappiness = value }
            if let value = memory.disableOOMKiller { current.disableOOMKiller = value }
            self.memory = current
        }
        if let cpu = other.cpu {
            var current = self.cpu ?? CPULimits()
            if let value = cpu.shares { current.shares = value }
            if let value = cpu.quota { current.quota = value }
            if let value = cpu.period { current.period = value }
            if let value = cpu.burst { current.burst = value }
            if let value = cpu.realtimeRuntime { current.realtimeRuntime = value }
            if let value = cpu.realtimePeriod { current.realtimePeriod = value }
            if let value = cpu.cpus { current.cpus = value }
            if let value = cpu.mems { current.mems = value }
            if let value = cpu.idle { current.idle = value }
            self.cpu = current
        }
        if let pids = other.pids { self.pids = pids }
        if let blockIO = other.blockIO { self.blockIO = blockIO }
        if let hugepages = other.hugepageLimits { self.hugepageLimits = hugepages }
        if let network = other.network { self.network = network }
        if let unified = other.unified { self.unified = (self.unified ?? [:]).merging(unified) { $1 } }
    }
}
