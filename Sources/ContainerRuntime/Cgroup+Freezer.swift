import Glibc
import LinuxSys

/// Freezing a container's processes (pause/resume): the v1 freezer controller, or cgroup.freeze on v2.
/// Both are asynchronous in the kernel, so each waits until the state has really changed.
extension Cgroup {
    func freeze() throws(RuntimeError) {
        if paths.isEmpty { throw RuntimeError("freeze container: it has no cgroup (created without root and without delegated cgroups)") }
        if let freezer = directory(for: "freezer"), !freezer.isV2 {
            let file = freezer.path + "/freezer.state"
            for attempt in 0..<1000 {
                // Writing again nudges tasks that were forking while the first write went through.
                if attempt % 10 == 0 {
                    do { try FS.writeFile(file, "FROZEN") } catch { throw error.context("freeze container") }
                }
                if (try? FS.readText(file))?.trimmed == "FROZEN" { return }
                usleep(1000)
            }
            try? thaw()
            throw RuntimeError("freeze container: \(file) did not reach FROZEN within a second")
        }
        guard let unified = unifiedPath else { throw RuntimeError("freeze container: no freezer cgroup on this host") }
        do { try FS.writeFile(unified + "/cgroup.freeze", "1") } catch { throw error.context("freeze container") }
        for _ in 0..<1000 {
            if v2EventValue("frozen", in: unified) == 1 { return }
            usleep(1000)
        }
        try? thaw()
        throw RuntimeError("freeze container: \(unified) did not report frozen within a second")
    }

    func thaw() throws(RuntimeError) {
        let file: String
        let value: String
        if let freezer = directory(for: "freezer"), !freezer.isV2 {
            (file, value) = (freezer.path + "/freezer.state", "THAWED")
        } else if let unified = unifiedPath {
            (file, value) = (unified + "/cgroup.freeze", "0")
        } else {
            throw RuntimeError("resume container: no freezer cgroup on this host")
        }
        do { try FS.writeFile(file, value) } catch { throw error.context("resume container") }
    }

    /// A `key value` line of a v2 flat-keyed file such as cgroup.events or memory.events.
    func v2EventValue(_ key: String, in directory: String, file: String = "cgroup.events") -> UInt64? {
        guard let text = try? FS.readText(directory + "/" + file) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == key { return UInt64(fields[1]) }
        }
        return nil
    }
}
