import Glibc
import LinuxSys
import OCI

/// A container's cgroup: one directory in each mounted hierarchy (v1 controllers, and the v2
/// unified tree where it is mounted). Limits are written to whichever hierarchy holds the controller.
struct Cgroup: Sendable {
    var hierarchies: [CgroupHierarchy]
    /// The container's directory in each hierarchy, in the same order.
    var paths: [String]

    /// Where the container's cgroup lives. An absolute `cgroupsPath` is taken from each hierarchy's
    /// root; a relative one (and the default, the container id) from the caller's own cgroup on v1 and
    /// from its parent on v2, where a cgroup holding processes cannot have controllers enabled below it.
    init(cgroupsPath: String?, id: String, hierarchies: [CgroupHierarchy] = CgroupHierarchy.discover()) throws(RuntimeError) {
        let requested = (cgroupsPath?.isEmpty ?? true) ? id : cgroupsPath!
        if requested.contains(":") && !requested.hasPrefix("/") {
            throw RuntimeError("cgroupsPath \"\(requested)\" is in systemd's slice:prefix:name form, which needs --systemd-cgroup")
        }
        self.hierarchies = hierarchies
        self.paths = hierarchies.map { hierarchy in
            let relative: String
            if requested.hasPrefix("/") {
                relative = requested
            } else {
                var base = hierarchy.ownPath
                if hierarchy.isV2 && base != "/" {
                    base = String(base.split(separator: "/").dropLast().joined(separator: "/"))
                    base = "/" + base
                }
                relative = base + "/" + requested
            }
            return FS.clean(hierarchy.mountPoint + "/" + relative)
        }
    }

    init(hierarchies: [CgroupHierarchy], paths: [String]) {
        self.hierarchies = hierarchies
        self.paths = paths
    }

    /// The directory where `controller` is managed, with whether it is a v2 hierarchy.
    func directory(for controller: String) -> (path: String, isV2: Bool)? {
        // A controller bound to v1 wins: on hybrid hosts the v2 tree only holds what v1 does not.
        if let index = hierarchies.firstIndex(where: { !$0.isV2 && $0.controllers.contains(controller) }) {
            return (paths[index], false)
        }
        if let index = hierarchies.firstIndex(where: { $0.isV2 && $0.controllers.contains(controller) }) {
            return (paths[index], true)
        }
        return nil
    }

    /// The v2 controllers a container needs enabled: all of them on a pure v2 host; on a hybrid host
    /// only those its limits write to in the v2 tree.
    func v2Controllers(for resources: Resources?) -> Set<String> {
        if CgroupHierarchy.isUnifiedOnly(hierarchies) {
            return ["cpu", "cpuset", "io", "memory", "pids", "hugetlb", "rdma", "misc"]
        }
        var needed = Set<String>()
        if !(resources?.hugepageLimits ?? []).isEmpty { needed.insert("hugetlb") }
        for key in (resources?.unified ?? [:]).keys {
            if let prefix = key.split(separator: ".").first { needed.insert(String(prefix)) }
        }
        return needed
    }

    /// Whether this process may make the container's directories (false for an ordinary user
    /// without delegated cgroups).
    var isCreatable: Bool {
        paths.allSatisfy { path in
            var parent = path
            while !FS.exists(parent) {
                guard let slash = parent.lastIndex(of: "/"), slash != parent.startIndex else { return false }
                parent = String(parent[..<slash])
            }
            return access(parent, W_OK) == 0
        }
    }

    var unifiedPath: String? {
        hierarchies.firstIndex(where: \.isV2).map { paths[$0] }
    }

    /// Creates the directories (and what v1 cpuset and v2 controllers need before a process joins).
    /// On v2, `controllers` are enabled down the path; on a hybrid host only the ones the limits use,
    /// so the host's layout is changed no more than needed.
    func create(controllers needed: Set<String>) throws(RuntimeError) {
        for (hierarchy, path) in zip(hierarchies, paths) {
            let relative = path.dropFirst(hierarchy.mountPoint.count).split(separator: "/")
            var current = hierarchy.mountPoint
            for component in relative {
                let parent = current
                current += "/" + component
                if hierarchy.isV2 { enableControllers(needed, in: parent) }
                if Glibc.mkdir(current, 0o755) != 0 && errno != EEXIST {
                    throw SysError("mkdir", current).context("create cgroup")
                }
                if !hierarchy.isV2 && hierarchy.controllers.contains("cpuset") {
                    try inheritCpuset(parent: parent, child: current)
                }
            }
        }
    }

    /// v2 lets a child use a controller only once its parent lists it in cgroup.subtree_control.
    private func enableControllers(_ needed: Set<String>, in directory: String) {
        guard let available = try? FS.readText(directory + "/cgroup.controllers") else { return }
        let enabled = Set(((try? FS.readText(directory + "/cgroup.subtree_control")) ?? "").split(whereSeparator: \.isWhitespace).map(String.init))
        for controller in available.split(whereSeparator: \.isWhitespace).map(String.init)
            where !enabled.contains(controller) && needed.contains(controller) {
            // Refused when the parent holds processes itself; the limits that need it then fail by name.
            try? FS.writeFile(directory + "/cgroup.subtree_control", "+" + controller)
        }
    }

    /// A new v1 cpuset starts empty and refuses tasks until it is given cpus and mems.
    private func inheritCpuset(parent: String, child: String) throws(RuntimeError) {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let current = (try? FS.readText(child + "/" + file))?.trimmed ?? ""
            if current.isEmpty {
                let inherited = (try? FS.readText(parent + "/" + file))?.trimmed ?? ""
                do { try FS.writeFile(child + "/" + file, inherited) } catch { throw error.context("initialise cpuset") }
            }
        }
    }

    /// Moves a process into every hierarchy's directory.
    func join(_ pid: pid_t) throws(RuntimeError) {
        for path in paths {
            do { try FS.writeFile(path + "/cgroup.procs", "\(pid)") } catch { throw error.context("join cgroup") }
        }
    }

    /// Processes in the container's cgroup (any hierarchy holds them all).
    func processes() -> [pid_t] {
        for path in paths {
            if let text = try? FS.readText(path + "/cgroup.procs") {
                return text.split(separator: "\n").compactMap { pid_t($0) }
            }
        }
        return []
    }

    var isFrozen: Bool {
        if let freezer = directory(for: "freezer"), !freezer.isV2 {
            return (try? FS.readText(freezer.path + "/freezer.state"))?.trimmed == "FROZEN"
        }
        if let unified = unifiedPath {
            return (try? FS.readText(unified + "/cgroup.freeze"))?.trimmed == "1"
        }
        return false
    }

    /// Removes the container's directories; waits briefly for exiting processes to leave them.
    func destroy() {
        for path in paths.reversed() {
            removeTree(path)
        }
    }

    private func removeTree(_ path: String) {
        if rmdir(path) == 0 || errno == ENOENT { return }
        // Sub-cgroups a container made for itself go first.
        if errno == EBUSY || errno == ENOTEMPTY {
            for name in (try? FS.list(path: path)) ?? [] {
                if let st = try? FS.lstat(path + "/" + name), FS.isDirectory(st) { removeTree(path + "/" + name) }
            }
        }
        for _ in 0..<200 {
            if rmdir(path) == 0 || errno == ENOENT { return }
            if errno != EBUSY { return }
            usleep(5000)
        }
    }
}

extension String {
    var trimmed: String {
        var view = Substring(self)
        while let last = view.last, last.isWhitespace { view.removeLast() }
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        return String(view)
    }
}
