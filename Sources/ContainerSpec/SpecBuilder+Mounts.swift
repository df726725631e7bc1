import LinuxSys
import OCI

extension SpecBuilder {
    /// Docker 20.10's default mounts, in its order and with its options (as its config.json has them).
    static func defaultMounts(shmSize: Int64) -> [Mount] {
        [
            Mount(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
            Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["ro", "nosuid", "noexec", "nodev"]),
            Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
                  options: ["nosuid", "noexec", "nodev", "mode=1777", "size=\(shmSize)"]),
        ]
    }

    /// The order Docker writes the files it manages.
    static let etcFileOrder = ["/etc/resolv.conf", "/etc/hostname", "/etc/hosts"]
    static let propagationModes = ["private", "rprivate", "shared", "rshared", "slave", "rslave"]

    /// Targets of every volume the container gets: `-v name:/x`, `-v /x`, and the image's VOLUMEs
    /// that no user mount covers (Docker makes those anonymous volumes).
    public static func volumeTargets(_ input: SpecInput, config: ContainerConfig) -> [String] {
        let requests = input.options.mounts
        var targets = requests.filter { $0.kind == .volume }.map { FS.clean($0.target) }
        let covered = Set(requests.map { FS.clean($0.target) })
        for path in (config.volumes ?? [:]).keys.sorted() {
            let clean = FS.clean(path)
            if clean.hasPrefix("/"), !covered.contains(clean), !targets.contains(clean) { targets.append(clean) }
        }
        return targets
    }

    /// All mounts in Docker's order: its defaults (minus any a user mount replaces), the init, then the
    /// user's mounts, volumes, tmpfs and the /etc files sorted parents first. Returns the rootfs
    /// propagation a shared or slave bind needs.
    static func mounts(_ input: SpecInput, config: ContainerConfig) throws(EngineError) -> ([Mount], String?) {
        let options = input.options
        var user: [Mount] = []
        var seen = Set<String>()
        var rootPropagation: String?

        for request in options.mounts {
            let target = try validatedTarget(request.target, kind: request.kind)
            guard seen.insert(target).inserted else { throw .invalid("Duplicate mount point: \(target)") }
            switch request.kind {
            case .bind:
                guard let source = request.source, source.hasPrefix("/") else {
                    throw .invalid("invalid mount config for type \"bind\": invalid mount path: '\(request.source ?? "")' mount path must be absolute")
                }
                let propagation = request.options.last { propagationModes.contains($0) } ?? "rprivate"
                switch propagation {
                case "shared", "rshared": rootPropagation = "shared"
                case "slave", "rslave": if rootPropagation == nil { rootPropagation = "rslave" }
                default: break
                }
                let recursive = !request.options.contains("bind-nonrecursive")
                user.append(Mount(destination: target, type: "bind", source: FS.clean(source),
                                  options: [recursive ? "rbind" : "bind"] + readOnlyOptions(request.readOnly, recursive: recursive)
                                      + [propagation]))
            case .volume:
                guard let source = input.volumeSources[target] ?? input.volumeSources[request.target] else {
                    throw .system("mount volume at \(target): the engine gave no host directory for it")
                }
                user.append(Mount(destination: target, type: "bind", source: source,
                                  options: ["rbind"] + readOnlyOptions(request.readOnly, recursive: true)))
            case .tmpfs:
                let data = request.options + (request.readOnly ? ["ro"] : [])
                let merged = try mergeTmpfsOptions(["noexec", "nosuid", "nodev", "rprivate"] + data)
                user.append(Mount(destination: target, type: "tmpfs", source: "tmpfs", options: merged))
            }
        }
        // The image's VOLUMEs nobody mounted over become anonymous volumes.
        for path in (config.volumes ?? [:]).keys.sorted() {
            let target = FS.clean(path)
            guard target.hasPrefix("/"), !seen.contains(target) else { continue }
            guard let source = input.volumeSources[target] ?? input.volumeSources[path] else {
                throw .system("mount volume at \(target): the engine gave no host directory for it")
            }
            seen.insert(target)
            user.append(Mount(destination: target, type: "bind", source: source, options: ["rbind"]))
        }
        // The files the engine manages, unless the user mounted their own; read-only with --read-only.
        let etcKeys = etcFileOrder.filter { input.etcFiles[$0] != nil }
            + input.etcFiles.keys.filter { !etcFileOrder.contains($0) }.sorted()
        for key in etcKeys {
            guard let source = input.etcFiles[key] else { continue }
            let target = FS.clean(key)
            guard target.hasPrefix("/"), !seen.contains(target) else { continue }
            seen.insert(target)
            user.append(Mount(destination: target, type: "bind", source: source,
                              options: ["rbind"] + (options.readOnlyRootfs ? ["ro"] : []) + ["rprivate"]))
        }
        user = sortedParentsFirst(user)

        var result: [Mount] = []
        let userDev = seen.contains("/dev")
        for var mount in defaultMounts(shmSize: options.shmSize ?? defaultShmSize) {
            if seen.contains(mount.destination) { continue }
            if userDev && mount.destination.hasPrefix("/dev/") { continue }
            if mount.destination == "/dev/shm" {
                // `--ipc none` has none; a shareable, joined or host IPC namespace has the one it shares.
                if options.ipcMode == NamespaceMode.none { continue }
                if let shared = input.shmSource {
                    mount = Mount(destination: "/dev/shm", type: "bind", source: shared, options: ["rbind", "nosuid", "noexec", "nodev"])
                }
            }
            result.append(mount)
        }
        if options.initProcess {
            guard let initBinary = input.initBinary else {
                throw .system("--init: no init binary (docker-init) found on this host")
            }
            if !seen.contains(initPath) {
                result.append(Mount(destination: initPath, type: "bind", source: initBinary, options: ["bind", "ro"]))
            }
        }
        if options.readOnlyRootfs {
            // Docker makes every mount it adds read-only too, except the pseudo filesystems a process needs.
            for index in result.indices where !["/proc", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev"].contains(result[index].destination) {
                if !(result[index].options ?? []).contains("ro") { result[index].options = (result[index].options ?? []) + ["ro"] }
            }
        }
        if options.privileged {
            for index in result.indices where result[index].destination == "/sys" || result[index].type == "cgroup" {
                result[index].options = result[index].options?.filter { $0 != "ro" }
            }
        }
        for (key, value) in options.securityOptionValues {
            switch key {
            case "writable-cgroups" where goBool(value) == true:
                for index in result.indices where result[index].type == "cgroup" || result[index].type == "cgroup2" {
                    result[index].options = result[index].options?.filter { $0 != "ro" }
                }
            case "proc-opts":
                // Podman's: more options for /proc (hidepid=2, …).
                for index in result.indices where result[index].destination == "/proc" {
                    result[index].options = (result[index].options ?? []) + value.split(separator: ",").map(String.init)
                }
            default: break
            }
        }
        return (result + user, rootPropagation)
    }

    /// `ro` alone remounts only the top of an rbind: a submount under the source would stay
    /// writable, so a recursive read-only bind also asks for `rro` (as Docker 25 does).
    static func readOnlyOptions(_ readOnly: Bool, recursive: Bool) -> [String] {
        guard readOnly else { return [] }
        return recursive ? ["ro", "rro"] : ["ro"]
    }

    static func validatedTarget(_ target: String, kind: MountRequest.Kind) throws(EngineError) -> String {
        guard target.hasPrefix("/") else {
            throw .invalid("invalid mount config for type \"\(kind.rawValue)\": invalid mount path: '\(target)' mount path must be absolute")
        }
        let clean = FS.clean(target)
        guard clean != "/" else {
            throw .invalid("invalid mount config for type \"\(kind.rawValue)\": invalid specification: destination can't be '/'")
        }
        return clean
    }

    /// Stable sort by depth, so a parent is mounted before anything under it (Docker sorts by the
    /// number of path components).
    static func sortedParentsFirst(_ mounts: [Mount]) -> [Mount] {
        mounts.enumerated().sorted { a, b in
            let da = a.element.destination.split(separator: "/").count
            let db = b.element.destination.split(separator: "/").count
            return da != db ? da < db : a.offset < b.offset
        }.map(\.element)
    }

    /// Flags that set or clear the same mount bit collide: the last one given wins.
    static let tmpfsFlagGroups: [String: String] = [
        "ro": "rdonly", "rw": "rdonly", "suid": "nosuid", "nosuid": "nosuid", "dev": "nodev", "nodev": "nodev",
        "exec": "noexec", "noexec": "noexec", "sync": "sync", "async": "sync", "dirsync": "dirsync",
        "remount": "remount", "mand": "mand", "nomand": "mand", "atime": "noatime", "noatime": "noatime",
        "diratime": "nodiratime", "nodiratime": "nodiratime", "relatime": "relatime", "norelatime": "relatime",
        "strictatime": "strictatime", "nostrictatime": "strictatime", "iversion": "iversion", "noiversion": "iversion",
        "private": "propagation", "rprivate": "propagation", "shared": "propagation", "rshared": "propagation",
        "slave": "propagation", "rslave": "propagation", "unbindable": "propagation", "runbindable": "propagation",
    ]
    static let tmpfsDataKeys: Set<String> = ["size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"]

    /// Docker's MergeTmpfsOptions: the defaults first, the user's after; for each flag group and each
    /// data key only the last one stays, in the order of the last occurrences.
    static func mergeTmpfsOptions(_ options: [String]) throws(EngineError) -> [String] {
        var seenKeys = Set<String>()
        var merged: [String] = []
        for option in options.reversed() {
            if option == "defaults" || option.isEmpty { continue }
            let key: String
            if let group = tmpfsFlagGroups[option] {
                key = "flag:" + group
            } else {
                let parts = option.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, tmpfsDataKeys.contains(String(parts[0])) else {
                    throw .invalid("Invalid tmpfs option \(option)")
                }
                key = "data:" + parts[0]
            }
            if seenKeys.insert(key).inserted { merged.insert(option, at: 0) }
        }
        return merged
    }
}
