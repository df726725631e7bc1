import CLinuxSys
import Glibc
import LinuxSys

/// Tells when the kernel runs out of memory in a container's memory cgroup, as runc's OOM
/// notifier does: on cgroup v1 an eventfd registered for memory.oom_control through
/// cgroup.event_control (signalled on every OOM, whether the killer then acts or is disabled);
/// on v2 an inotify watch of memory.events, whose oom_kill count is compared. A poll loop waits
/// for `fd`; `check()` then says how many OOMs there were since the last look.
public final class OOMWatch {
    /// Readable when something happened (poll it for POLLIN).
    public let fd: Int32
    /// v1: the open memory.oom_control the eventfd is registered for (closed with the watch).
    let controlFD: Int32
    /// v2: memory.events, and its oom_kill count at the last look.
    let eventsPath: String?
    var kills: UInt64

    init(fd: Int32, controlFD: Int32, eventsPath: String?, kills: UInt64) {
        self.fd = fd
        self.controlFD = controlFD
        self.eventsPath = eventsPath
        self.kills = kills
    }

    /// Reads what woke the poll: the number of OOMs since the last call (0: a v2 change of
    /// another counter).
    public func check() -> Int {
        guard let eventsPath else {
            var value: UInt64 = 0
            let n = withUnsafeMutableBytes(of: &value) { Glibc.read(fd, $0.baseAddress, 8) }
            return n == 8 ? Int(clamping: value) : 0
        }
        _ = berth_drain_fd(fd)
        let now = Cgroup.keyedValues(eventsPath)["oom_kill"] ?? kills
        defer { kills = now }
        return now > kills ? Int(clamping: now - kills) : 0
    }

    deinit {
        FS.close(fd)
        if controlFD >= 0 { FS.close(controlFD) }
    }
}

extension Cgroup {
    /// A watch of this cgroup's OOMs; nil where the memory controller is not there to watch.
    func oomWatch() -> OOMWatch? {
        guard let memory = directory(for: "memory") else { return nil }
        if memory.isV2 {
            let events = memory.path + "/memory.events"
            let fd = berth_inotify_modify(events)
            guard fd >= 0 else { return nil }
            return OOMWatch(fd: fd, controlFD: -1, eventsPath: events, kills: Self.keyedValues(events)["oom_kill"] ?? 0)
        }
        guard let control = try? FS.open(memory.path + "/memory.oom_control", O_RDONLY | O_CLOEXEC) else { return nil }
        let fd = berth_eventfd()
        guard fd >= 0 else {
            FS.close(control)
            return nil
        }
        // "<eventfd> <fd of memory.oom_control>" registers the notification.
        guard let register = try? FS.open(memory.path + "/cgroup.event_control", O_WRONLY | O_CLOEXEC) else {
            FS.close(fd)
            FS.close(control)
            return nil
        }
        defer { FS.close(register) }
        guard (try? FS.write(register, Array("\(fd) \(control)".utf8))) != nil else {
            FS.close(fd)
            FS.close(control)
            return nil
        }
        return OOMWatch(fd: fd, controlFD: control, eventsPath: nil, kills: 0)
    }

    /// `key value` lines of a cgroup file.
    static func keyedValues(_ path: String) -> [String: UInt64] {
        guard let text = try? FS.readText(path) else { return [:] }
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }
}

extension OCIRuntime {
    /// Watches a created or running container's memory cgroup for OOMs (see `OOMWatch`).
    public func oomWatch(id: String) -> OOMWatch? {
        guard let record = try? store.load(id) else { return nil }
        return cgroup(of: record).oomWatch()
    }
}
