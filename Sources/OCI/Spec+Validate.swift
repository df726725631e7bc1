extension Spec {
    /// Checks what the decoder cannot: versions, absolute paths, known names, consistent namespaces.
    /// The first problem found is thrown with its JSON path.
    public func validate() throws(SpecError) {
        guard ociVersion.hasPrefix("1.") else {
            throw SpecError(path: "ociVersion", reason: "unsupported version \"\(ociVersion)\" (this runtime runs 1.x)")
        }
        guard let root, !root.path.isEmpty else {
            throw SpecError(path: "root.path", reason: "required field is missing")
        }
        if let process { try process.validate() }
        for (index, mount) in (mounts ?? []).enumerated() where mount.destination.isEmpty {
            throw SpecError(path: "mounts[\(index)].destination", reason: "must not be empty")
        }
        if let hooks { try hooks.validate() }
        if let linux { try linux.validate(hostname: hostname, domainname: domainname) }
        else if hostname != nil {
            throw SpecError(path: "hostname", reason: "setting the hostname needs a new uts namespace")
        }
    }
}

extension Process {
    func validate() throws(SpecError) {
        guard let args, !args.isEmpty else {
            throw SpecError(path: "process.args", reason: "must name the program to run")
        }
        guard cwd.hasPrefix("/") else {
            throw SpecError(path: "process.cwd", reason: "must be an absolute path, got \"\(cwd)\"")
        }
        if let capabilities {
            let sets: [(String, [String]?)] = [
                ("bounding", capabilities.bounding), ("effective", capabilities.effective),
                ("inheritable", capabilities.inheritable), ("permitted", capabilities.permitted),
                ("ambient", capabilities.ambient),
            ]
            for (set, names) in sets {
                for (index, name) in (names ?? []).enumerated() where Capability.number(name) == nil {
                    throw SpecError(path: "process.capabilities.\(set)[\(index)]", reason: "unknown capability \"\(name)\"")
                }
            }
        }
        for (index, limit) in (rlimits ?? []).enumerated() {
            guard RlimitName.numbers[limit.type] != nil else {
                throw SpecError(path: "process.rlimits[\(index)].type", reason: "unknown rlimit \"\(limit.type)\"")
            }
            guard limit.soft <= limit.hard else {
                throw SpecError(path: "process.rlimits[\(index)]", reason: "soft limit \(limit.soft) is above hard limit \(limit.hard)")
            }
        }
        if let score = oomScoreAdj, !(-1000...1000).contains(score) {
            throw SpecError(path: "process.oomScoreAdj", reason: "must be between -1000 and 1000, got \(score)")
        }
    }
}

extension Hooks {
    func validate() throws(SpecError) {
        let all: [(String, [Hook]?)] = [
            ("prestart", prestart), ("createRuntime", createRuntime), ("createContainer", createContainer),
            ("startContainer", startContainer), ("poststart", poststart), ("poststop", poststop),
        ]
        for (name, hooks) in all {
            for (index, hook) in (hooks ?? []).enumerated() {
                guard hook.path.hasPrefix("/") else {
                    throw SpecError(path: "hooks.\(name)[\(index)].path", reason: "must be an absolute path, got \"\(hook.path)\"")
                }
                if let timeout = hook.timeout, timeout <= 0 {
                    throw SpecError(path: "hooks.\(name)[\(index)].timeout", reason: "must be greater than zero")
                }
            }
        }
    }
}

extension Linux {
    func validate(hostname: String?, domainname: String?) throws(SpecError) {
        var seen = Set<NamespaceType>()
        for (index, namespace) in (namespaces ?? []).enumerated() {
            guard seen.insert(namespace.type).inserted else {
                throw SpecError(path: "linux.namespaces[\(index)].type", reason: "namespace \"\(namespace.type.rawValue)\" is listed twice")
            }
            if let path = namespace.path, !path.hasPrefix("/") {
                throw SpecError(path: "linux.namespaces[\(index)].path", reason: "must be an absolute path, got \"\(path)\"")
            }
        }
        let newUser = (namespaces ?? []).contains { $0.type == .user && $0.path == nil }
        if newUser && (uidMappings ?? []).isEmpty != (gidMappings ?? []).isEmpty {
            throw SpecError(path: (uidMappings ?? []).isEmpty ? "linux.uidMappings" : "linux.gidMappings",
                            reason: "a user namespace needs both uid and gid mappings")
        }
        if !newUser && !(uidMappings ?? []).isEmpty {
            throw SpecError(path: "linux.uidMappings", reason: "mappings are given but no new user namespace is requested")
        }
        // A uts namespace joined by path is the container's own too (runc refuses only when the list
        // has no uts entry at all: the name would change the host's).
        let ownUTS = (namespaces ?? []).contains { $0.type == .uts }
        if hostname != nil && !(hostname ?? "").isEmpty && !ownUTS {
            throw SpecError(path: "hostname", reason: "setting the hostname needs a uts namespace (new or joined by path)")
        }
        if domainname != nil && !(domainname ?? "").isEmpty && !ownUTS {
            throw SpecError(path: "domainname", reason: "setting the domainname needs a uts namespace (new or joined by path)")
        }
        let propagations = ["", "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable"]
        if let rootfsPropagation, !propagations.contains(rootfsPropagation) {
            throw SpecError(path: "linux.rootfsPropagation", reason: "unknown propagation \"\(rootfsPropagation)\"")
        }
        for (index, device) in (devices ?? []).enumerated() {
            guard ["c", "b", "u", "p"].contains(device.type) else {
                throw SpecError(path: "linux.devices[\(index)].type", reason: "must be one of c, b, u, p; got \"\(device.type)\"")
            }
            guard device.path.hasPrefix("/") else {
                throw SpecError(path: "linux.devices[\(index)].path", reason: "must be an absolute path, got \"\(device.path)\"")
            }
            if device.type != "p" && (device.major == nil || device.minor == nil) {
                throw SpecError(path: "linux.devices[\(index)]", reason: "a \(device.type) device needs major and minor numbers")
            }
        }
        let namespaceTypes = Set((namespaces ?? []).map(\.type))
        for key in (sysctl ?? [:]).keys.sorted() {
            if let needed = Linux.namespaceOwning(sysctl: key), !namespaceTypes.contains(needed) {
                throw SpecError(path: "linux.sysctl.\(key)", reason: "sysctl needs a \(needed.rawValue) namespace of its own")
            }
            if Linux.namespaceOwning(sysctl: key) == nil {
                throw SpecError(path: "linux.sysctl.\(key)", reason: "sysctl is not namespaced and would change the host")
            }
        }
        for (index, rule) in (resources?.devices ?? []).enumerated() {
            if let type = rule.type, !["a", "c", "b"].contains(type) {
                throw SpecError(path: "linux.resources.devices[\(index)].type", reason: "must be one of a, c, b; got \"\(type)\"")
            }
            if let access = rule.access, access.contains(where: { !"rwm".contains($0) }) {
                throw SpecError(path: "linux.resources.devices[\(index)].access", reason: "must be letters of \"rwm\", got \"\(access)\"")
            }
        }
    }

    /// Which namespace isolates a sysctl, or nil if it is global to the host (the same rule runc applies).
    public static func namespaceOwning(sysctl key: String) -> NamespaceType? {
        let ipc = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                   "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]
        if ipc.contains(key) || key.hasPrefix("fs.mqueue.") { return .ipc }
        if key.hasPrefix("net.") { return .network }
        if key == "kernel.hostname" || key == "kernel.domainname" { return .uts }
        return nil
    }
}
