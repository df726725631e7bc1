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
    /// Parsed as bytes: this runs on every create, and generic String splitting costs more here than
    /// everything else a create does in user space.
    static func discover() -> [CgroupHierarchy] {
        guard let mountinfo = try? FS.readFile("/proc/self/mountinfo") else { return [] }
        let own = ownCgroups()
        var found: [CgroupHierarchy] = []
        var seenMounts: [String] = []
        let known: Set<String> = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "blkio",
                                  "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc"]
        for line in mountinfo.split(separator: 0x0a) {
            // Fields: id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            let fields = line.split(separator: 0x20)
            guard fields.count >= 10, let dash = fields.firstIndex(where: { $0.count == 1 && $0.first == 0x2d }),
                  dash + 3 < fields.count else { continue }
            let fstype = fields[dash + 1]
            let isV2 = fstype.elementsEqual("cgroup2".utf8)
            guard isV2 || fstype.elementsEqual("cgroup".utf8) else { continue }
            // Bind mounts of a subtree (nested containers) and repeats of a hierarchy are skipped.
            guard fields[3].count == 1 && fields[3].first == 0x2f else { continue }
            let mountPoint = unescape(String(decoding: fields[4], as: UTF8.self))
            guard !seenMounts.contains(mountPoint) else { continue }
            if isV2 {
                let controllers = ((try? FS.readText(mountPoint + "/cgroup.controllers")) ?? "")
                    .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
                seenMounts.append(mountPoint)
                found.append(CgroupHierarchy(mountPoint: mountPoint, isV2: true, controllers: controllers,
                                             ownPath: own["0"] ?? "/"))
            } else {
                let options = fields[dash + 3].split(separator: 0x2c).map { String(decoding: $0, as: UTF8.self) }
                let controllers = options.filter { known.contains($0) || $0.hasPrefix("name=") }
                guard !controllers.isEmpty else { continue }
                seenMounts.append(mountPoint)
                found.append(CgroupHierarchy(mountPoint: mountPoint, isV2: false, controllers: controllers,
                                             ownPath: own[controllers.sorted().joined(separator: ",")] ?? "/"))
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
