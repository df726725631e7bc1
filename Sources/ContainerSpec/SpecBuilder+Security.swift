import CLinuxSys
import Glibc
import LinuxSys
import OCI

extension SpecBuilder {
    /// Docker's 14 default capabilities, in Docker's order.
    public static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ]

    /// Docker 28's masked paths (none with --privileged): /proc/interrupts and powercap (RAPL energy
    /// counters, a side channel) too.
    public static let maskedPaths = [
        "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ]

    /// `--security-opt apparmor=NAME` as the OCI process.apparmorProfile (the runtime refuses it
    /// clearly where AppArmor is off, rather than running unconfined); `unconfined` asks for none.
    static func appArmorProfile(_ options: RunOptions) -> String? {
        let names = options.securityOpt.compactMap { opt -> String? in
            for prefix in ["apparmor=", "apparmor:"] where opt.hasPrefix(prefix) { return String(opt.dropFirst(prefix.count)) }
            return nil
        }
        guard let name = names.last, !name.isEmpty, name != "unconfined" else { return nil }
        return name
    }

    /// Docker's read-only paths (none with --privileged).
    public static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// `--cap-add`/`--cap-drop`/`--privileged` applied to the defaults as Docker does: privileged or
    /// `--cap-add ALL` gives every capability the kernel knows (minus the drops), `--cap-drop ALL`
    /// keeps only the adds; names are case-insensitive with or without CAP_.
    static func effectiveCapabilities(_ options: RunOptions, host: HostInfo) throws(EngineError) -> [String] {
        if options.privileged { return host.allCapabilities }
        if options.capAdd.isEmpty && options.capDrop.isEmpty { return defaultCapabilities }
        let adds = try normalizeCapabilities(options.capAdd)
        let drops = try normalizeCapabilities(options.capDrop)
        var result: [String]
        if adds.contains("ALL") {
            result = host.allCapabilities.filter { !drops.contains($0) }
        } else if drops.contains("ALL") {
            result = adds
        } else {
            result = defaultCapabilities.filter { !drops.contains($0) }
            for cap in adds where !result.contains(cap) { result.append(cap) }
        }
        return result
    }

    static func normalizeCapabilities(_ names: [String]) throws(EngineError) -> [String] {
        var result: [String] = []
        for raw in names {
            let upper = raw.uppercased()
            let name = upper == "ALL" || upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
            guard name == "ALL" || Capability.names.contains(name) else {
                throw .invalid("unknown capability: \"\(name)\"")
            }
            if !result.contains(name) { result.append(name) }
        }
        return result
    }

    /// Root gets the list as bounding, effective and permitted; any other user only the bounding set,
    /// as execve would leave it (Docker since 20.10.14, CVE-2022-24769). No inheritable, no ambient.
    public static func capabilitySets(_ caps: [String], uid: UInt32) -> Capabilities {
        if uid == 0 { return Capabilities(bounding: caps, effective: caps, permitted: caps) }
        return Capabilities(bounding: caps)
    }

    // MARK: - Devices

    /// Docker's default device cgroup rules: deny all, allow the standard character devices and
    /// ptys, deny /dev/rtc (10:229). The runtime creates null, zero, full, random, urandom and tty.
    public static let defaultDeviceRules: [DeviceRule] = [
        DeviceRule(allow: false, access: "rwm"),
        DeviceRule(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),
        DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
        DeviceRule(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),
        DeviceRule(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),
        DeviceRule(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),
        DeviceRule(allow: true, type: "c", major: 5, minor: 1, access: "rwm"),
        DeviceRule(allow: false, type: "c", major: 10, minor: 229, access: "rwm"),
    ]

    /// The device nodes to create and the cgroup rules: `--device` nodes with their permissions, or
    /// with --privileged every host device and access to all.
    static func deviceSetup(_ options: RunOptions) throws(EngineError) -> ([Device]?, [DeviceRule]) {
        var devices: [Device] = []
        var rules = defaultDeviceRules
        if options.privileged {
            devices = hostDevices("/dev", containerPath: "/dev")
            for request in options.devices where request.hostPath != request.containerPath {
                devices += try devicesFrom(request.hostPath, containerPath: request.containerPath)
            }
            rules = [DeviceRule(allow: true, access: "rwm")]
        } else {
            for request in options.devices {
                guard request.containerPath.hasPrefix("/") else {
                    throw .invalid("\(request.containerPath) is not an absolute path")
                }
                let permissions = request.permissions.isEmpty ? "rwm" : request.permissions
                guard permissions.allSatisfy({ "rwm".contains($0) }) else {
                    throw .invalid("invalid device cgroup permissions \"\(permissions)\" for \(request.hostPath)")
                }
                let found = try devicesFrom(request.hostPath, containerPath: request.containerPath)
                devices += found
                rules += found.map { DeviceRule(allow: true, type: $0.type, major: $0.major, minor: $0.minor, access: permissions) }
            }
        }
        return (devices.isEmpty ? nil : devices, rules)
    }

    /// A device node, or every node under a directory (Docker's `--device /dev/dir`).
    static func devicesFrom(_ hostPath: String, containerPath: String) throws(EngineError) -> [Device] {
        let st: stat
        do { st = try FS.stat(hostPath) } catch {
            throw .invalid("error gathering device information while adding custom device \"\(hostPath)\": \(error.reason)")
        }
        if FS.isDirectory(st) {
            let found = hostDevices(hostPath, containerPath: containerPath)
            guard !found.isEmpty else {
                throw .invalid("error gathering device information while adding custom device \"\(hostPath)\": no devices found")
            }
            return found
        }
        guard let device = device(st, path: containerPath) else {
            throw .invalid("error gathering device information while adding custom device \"\(hostPath)\": not a device node")
        }
        return [device]
    }

    static func device(_ st: stat, path: String) -> Device? {
        let type: String
        switch st.st_mode & S_IFMT {
        case S_IFCHR: type = "c"
        case S_IFBLK: type = "b"
        case S_IFIFO: type = "p"
        default: return nil
        }
        return Device(type: type, path: path, major: Int64(berth_major(st.st_rdev)), minor: Int64(berth_minor(st.st_rdev)),
                      fileMode: UInt32(st.st_mode & 0o777), uid: st.st_uid, gid: st.st_gid)
    }

    /// Every device node under a host directory, skipping what a container gets its own of
    /// (pts, shm, mqueue, fd, console) and symlinks, as Docker's host-device walk does.
    static func hostDevices(_ directory: String, containerPath: String) -> [Device] {
        guard let names = try? FS.list(path: directory) else { return [] }
        var result: [Device] = []
        for name in names.sorted() {
            let path = directory + "/" + name
            guard let st = try? FS.lstat(path) else { continue }
            if FS.isDirectory(st) {
                if ["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"].contains(name) { continue }
                result += hostDevices(path, containerPath: containerPath + "/" + name)
                continue
            }
            if name == "console" { continue }
            if let device = device(st, path: containerPath + "/" + name) { result.append(device) }
        }
        return result
    }
}

extension SpecBuilder {
    /// The masked and read-only paths after `--security-opt systempaths=unconfined` (Docker: none
    /// of either) and Podman's `mask=PATH:PATH` (more masked) and `unmask=PATH:PATH|ALL` (fewer).
    static func systemPaths(_ options: RunOptions) -> (masked: [String], readOnly: [String]) {
        var masked = maskedPaths
        var readOnly = readonlyPaths
        for (key, value) in options.securityOptionValues {
            switch key {
            case "systempaths" where value == "unconfined":
                masked = []
                readOnly = []
            case "mask":
                for path in value.split(separator: ":").map(String.init) where !masked.contains(path) { masked.append(path) }
            case "unmask":
                let paths = Set(value.split(separator: ":").map(String.init))
                if paths.contains("ALL") {
                    masked = []
                    readOnly = []
                } else {
                    masked.removeAll { paths.contains($0) }
                    readOnly.removeAll { paths.contains($0) }
                }
            default: break
            }
        }
        return (masked, readOnly)
    }
}

extension RunOptions {
    /// `--security-opt KEY=VALUE` pairs kept in `securityOpt`, in the order given.
    var securityOptionValues: [(key: String, value: String)] {
        securityOpt.compactMap { text in
            let (key, value) = Parse.cut(text, "=")
            return value.map { (key, $0) }
        }
    }
}
