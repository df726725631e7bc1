import GoCompat
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
        (try? GoTime.parseDuration(text)).map { $0 / 1_000_000 }
    }
}
