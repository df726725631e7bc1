import GoCompat
import LinuxSys
import OCI

// MARK: limits, devices, security

extension RunOptions.Parse {
    /// Docker's `--ulimit` names (go-units); `as` is left out as Docker leaves it out.
    public static let ulimitNames: Set<String> = [
        "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss",
        "rtprio", "rttime", "sigpending", "stack",
    ]

    /// `--ulimit nofile=1024[:2048]`; -1 means unlimited.
    public static func ulimit(_ text: String) throws(EngineError) -> Ulimit {
        let (name, values) = cut(text, "=")
        guard let values else { throw .invalid("invalid ulimit argument: \(text)") }
        guard ulimitNames.contains(name) else { throw .invalid("invalid ulimit type: \(name)") }
        let parts = values.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else {
            throw .invalid("too many limit value arguments - \(values), can only have up to two, `soft[:hard]`")
        }
        let hard = parts.count == 2 ? try integer(parts[1]) : nil
        let soft = try integer(parts[0])
        if let hard, hard != -1 {
            if soft == -1 {
                throw .invalid("ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: \(hard)")
            }
            if soft > hard { throw .invalid("ulimit soft limit must be less than or equal to hard limit: \(soft) > \(hard)") }
        }
        return Ulimit(name: name, soft: soft, hard: hard ?? soft)
    }

    /// `--device /dev/host[:/dev/ctr][:rwm]`.
    public static func device(_ text: String) throws(EngineError) -> DeviceRequest {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 3, !parts[0].isEmpty else { throw .invalid("bad format for path: \(text)") }
        var containerPath = parts[0]
        var permissions = "rwm"
        if parts.count == 2 {
            if validDeviceMode(parts[1]) { permissions = parts[1] } else { containerPath = parts[1] }
        } else if parts.count == 3 {
            guard validDeviceMode(parts[2]) else { throw .invalid("bad mode specified: \(parts[2])") }
            containerPath = parts[1]
            permissions = parts[2]
        }
        // Docker checks the container side; a relative host side would be looked up from the
        // engine's directory, which is never what was meant.
        for path in [containerPath, parts[0]] where !path.hasPrefix("/") {
            throw .invalid("\(path) is not an absolute path")
        }
        return DeviceRequest(hostPath: FS.clean(parts[0]), containerPath: FS.clean(containerPath), permissions: permissions)
    }

    static func validDeviceMode(_ mode: String) -> Bool {
        !mode.isEmpty && mode.count <= 3 && Set(mode).count == mode.count && mode.allSatisfy { "rwm".contains($0) }
    }

    /// `--cap-add`/`--cap-drop`: `net_admin`, `CAP_NET_ADMIN` → `CAP_NET_ADMIN`; `ALL` stays `ALL`.
    public static func capability(_ text: String) throws(EngineError) -> String {
        var name = text.trimmingASCIISpaces().uppercased()
        if name == "ALL" { return name }
        if !name.hasPrefix("CAP_") { name = "CAP_" + name }
        guard Capability.names.contains(name) else { throw .invalid("unknown capability: \(goQuote(name))") }
        return name
    }

    /// `--sysctl KEY=VALUE`, limited to the namespaced keys Docker allows.
    public static func sysctl(_ text: String) throws(EngineError) -> (key: String, value: String) {
        let (key, value) = cut(text, "=")
        let allowed: Set<String> = [
            "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
            "kernel.shmmni", "kernel.shm_rmid_forced",
        ]
        guard let value, !key.isEmpty, allowed.contains(key) || key.hasPrefix("net.") || key.hasPrefix("fs.mqueue.") else {
            throw .invalid("sysctl '\(text)' is not allowed")
        }
        return (key, value)
    }
}

// MARK: --gpus

extension RunOptions.Parse {
    /// `--gpus all|N|driver=…,count=…,device=…,capabilities=…,options=…` with Docker's CLI checks;
    /// returns the request's driver and capabilities (what the refusal names).
    public static func gpus(_ text: String) throws(EngineError) -> (driver: String, capabilities: [String]) {
        var driver = ""
        var capabilities = ["gpu"]
        var seen = Set<String>()
        func count(_ value: String) throws(EngineError) {
            if value == "all" { return }
            guard Int(value) != nil else {
                throw .invalid("invalid count (\(value)): value must be either \"all\" or an integer: invalid syntax")
            }
        }
        // A CSV record, as Docker reads it: `"capabilities=compute,utility"` quoted keeps its comma.
        for field in try csvFields(text) {
            let (key, value) = cut(field, "=")
            guard seen.insert(key).inserted else { throw .invalid("gpu request key '\(key)' can be specified only once") }
            guard let value else {
                seen.insert("count")
                try count(key)
                continue
            }
            switch key {
            case "driver": driver = value
            case "count": try count(value)
            case "device", "options": break
            case "capabilities": capabilities = value.split(separator: ",").map(String.init) + ["gpu"]
            default: throw .invalid("unexpected key '\(key)' in '\(field)'")
            }
        }
        return (driver, capabilities)
    }
}

extension RunOptions {
    /// `--gpus`: Berth has no device driver for GPUs, so any request is refused (Docker's words
    /// where no driver offers the capabilities).
    public func checkGPUs() throws(EngineError) {
        guard let gpus else { return }
        let request = try Parse.gpus(gpus)
        throw .invalid("could not select device driver \(goQuote(request.driver)) with capabilities: [[\(request.capabilities.joined(separator: " "))]]",
                       reportedByDaemon: true)
    }

    /// One `--ulimit`: a later one of the same name replaces the earlier one; Docker keeps them in a
    /// map and sends them sorted by name.
    public mutating func setUlimit(_ limit: Ulimit) {
        ulimits.removeAll { $0.name == limit.name }
        ulimits.append(limit)
        ulimits.sort { $0.name < $1.name }
    }

    /// One `--security-opt`: `seccomp=unconfined|builtin|PATH`, `no-new-privileges[=|:true|false]`,
    /// `label=…`, `apparmor=…`, `systempaths=unconfined` (the last three kept for inspect).
    public mutating func applySecurityOption(_ text: String) throws(EngineError) {
        if text == "no-new-privileges" {
            noNewPrivileges = true
            securityOpt.append(text)
            return
        }
        var (key, value) = Parse.cut(text, "=")
        if value == nil { (key, value) = Parse.cut(text, ":") }
        guard let value, !value.isEmpty else { throw .invalid("Invalid --security-opt: \(goQuote(text))") }
        switch key {
        case "seccomp":
            switch value {
            case "unconfined": seccomp = .unconfined
            case "builtin": seccomp = .builtin
            default: seccomp = .profile(path: value)
            }
        case "no-new-privileges":
            guard let flag = goBool(value) else { throw .invalid("invalid --security-opt 2: \(goQuote(text))") }
            noNewPrivileges = flag
            securityOpt.append(text)
        case "systempaths":
            guard value == "unconfined" else { throw .invalid("invalid --security-opt 2: \(goQuote(text))") }
            securityOpt.append(text)
        case "writable-cgroups":
            guard goBool(value) != nil else { throw .invalid("invalid --security-opt 2: \(goQuote(text))") }
            securityOpt.append(text)
        case "label", "apparmor", "mask", "unmask", "proc-opts":
            securityOpt.append(text)
        default:
            throw .invalid("invalid --security-opt 2: \(goQuote(text))")
        }
    }
}
