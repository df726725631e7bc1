import Glibc
import LinuxSys
import OCI

/// One line of `events`: `{"type":"stats"|"oom","id":…,"data":…}` as runc prints them.
public struct RuntimeEvent: Encodable, Sendable {
    public var type: String
    public var id: String
    public var data: ContainerStats?

    public init(type: String, id: String, data: ContainerStats? = nil) {
        self.type = type
        self.id = id
        self.data = data
    }
}

extension OCIRuntime {
    /// Resource usage of a created, running or paused container.
    public func stats(id: String) throws(RuntimeError) -> ContainerStats {
        let record = try store.load(id)
        guard status(record) != .stopped else { throw RuntimeError("container not running") }
        return cgroup(of: record).stats()
    }

    /// `events`: a stats event every `intervalMilliseconds` and an oom event whenever the kernel's
    /// OOM killer acts in the container, until it stops.
    public func events(id: String, intervalMilliseconds: Int64, emit: (RuntimeEvent) -> Void) throws(RuntimeError) {
        let record = try store.load(id)
        guard status(record) != .stopped else { throw RuntimeError("container not running") }
        let cgroup = cgroup(of: record)
        var oomKills = cgroup.oomKills()
        var nextStats = Clock.monotonicMilliseconds()
        while isAlive(record) {
            let kills = cgroup.oomKills()
            if kills > oomKills { emit(RuntimeEvent(type: "oom", id: id, data: nil)) }
            oomKills = kills
            let now = Clock.monotonicMilliseconds()
            if now >= nextStats {
                emit(RuntimeEvent(type: "stats", id: id, data: cgroup.stats()))
                nextStats = now + max(intervalMilliseconds, 1)
            }
            // OOM is checked more often than stats are printed, so it is reported promptly.
            usleep(UInt32(min(100, max(1, nextStats - now))) * 1000)
        }
    }
}

/// Go's duration syntax (`5s`, `100ms`, `1m30s`, `1.5h`), as `events --interval` takes it.
public enum GoDuration {
    public static func milliseconds(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ns", 1e-6), ("us", 1e-3), ("µs", 1e-3), ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return 0 }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix(while: { $0.isNumber || $0 == "." })
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.filter({ rest.hasPrefix($0.0) }).max(by: { $0.0.count < $1.0.count }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return Int64(total)
    }
}
