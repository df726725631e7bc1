import Glibc
import LinuxSys

/// One mounted cgroup hierarchy on the host: a v1 hierarchy with its controllers, or the v2
/// unified one. These machines run the hybrid layout (v1 controllers plus a cgroup2 mount that
/// holds only hugetlb); pure v1 and pure v2 hosts are the same code with fewer entries.
struct CgroupHierarchy: Equatable, Sendable {
    var mountPoint: String
    var isV2: Bool
    /// Controllers bound to this hierarchy (`memory`, `cpu`, ... or `name=systemd` for named v1 ones).
    var controllers: [String]
    /// This process's cgroup in the hierarchy, from /proc/self/cgroup.
    var ownPath: String

    /// Reads the mounted hierarchies from /proc/self/mountinfo and /proc/self/cgroup.
    static func discover() -> [CgroupHierarchy] {
        guard let mountinfo = try? FS.readText("/proc/self/mountinfo") else { return [] }
        let own = ownCgroups()
        var found: [CgroupHierarchy] = []
        var seenMounts = Set<String>()
        for line in mountinfo.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " ")
            let tail = halves[1].split(separator: " ")
            guard fields.count >= 5, tail.count >= 3 else { continue }
            let mountPoint = unescape(String(fields[4]))
            let root = String(fields[3])
            // Bind mounts of a subtree (nested containers) and repeats of a hierarchy are skipped.
            guard root == "/", !seenMounts.contains(mountPoint) else { continue }
            switch tail[0] {
            case "cgroup2":
                let controllers = ((try? FS.readText(mountPoint + "/cgroup.controllers")) ?? "")
                    .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
                seenMounts.insert(mountPoint)
                found.append(CgroupHierarchy(mountPoint: mountPoint, isV2: true, controllers: controllers,
                                             ownPath: own["0"] ?? "/"))
            case "cgroup":
                let options = tail[2].split(separator: ",").map(String.init)
                let known = Set(["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "blkio",
                                 "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc"])
                let controllers = options.filter { known.contains($0) || $0.hasPrefix("name=") }
                guard !controllers.isEmpty else { continue }
                let key = controllers.sorted().joined(separator: ",")
                seenMounts.insert(mountPoint)
                found.append(CgroupHierarchy(mountPoint: mountPoint, isV2: false, controllers: controllers,
                                             ownPath: own[key] ?? "/"))
            default:
                continue
            }
        }
        return found
    }

    /// /proc/self/cgroup as a map from the sorted controller list ("0" for v2) to the path.
    static func ownCgroups() -> [String: String] {
        var result: [String: String] = [:]
        for line in ((try? FS.readText("/proc/self/cgroup")) ?? "").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].isEmpty {
                result["0"] = String(parts[2])
            } else {
                result[parts[1].split(separator: ",").map(String.init).sorted().joined(separator: ",")] = String(parts[2])
            }
        }
        return result
    }

    /// mountinfo escapes spaces and a few other bytes as octal (`\040`).
    static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == 0x5c, utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True when the host is pure cgroup v2 (the unified hierarchy is mounted at /sys/fs/cgroup).
    static func isUnifiedOnly(_ hierarchies: [CgroupHierarchy]) -> Bool {
        hierarchies.count == 1 && hierarchies[0].isV2
    }
}
