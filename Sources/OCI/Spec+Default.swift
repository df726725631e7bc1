extension Spec {
    /// The config.json that `spec` writes: the same defaults runc writes, so bundles move between runtimes.
    public static func defaultSpec() -> Spec {
        let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        var process = Process(
            terminal: true, user: User(uid: 0, gid: 0), args: ["sh"],
            env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            cwd: "/",
            capabilities: Capabilities(bounding: caps, effective: caps, permitted: caps, ambient: caps),
            rlimits: [Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)],
            noNewPrivileges: true)
        process.terminal = true
        let mounts = [
            Mount(destination: "/proc", type: "proc", source: "proc"),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs",
                  options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
                  options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
                  options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/sys", type: "sysfs", source: "sysfs",
                  options: ["nosuid", "noexec", "nodev", "ro"]),
            Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                  options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
        ]
        var linux = Linux(
            namespaces: [.init(type: .pid), .init(type: .network), .init(type: .ipc), .init(type: .uts),
                         .init(type: .mount), .init(type: .cgroup)],
            resources: Resources(devices: [DeviceRule(allow: false, access: "rwm")]),
            maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                          "/proc/scsi"],
            readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"])
        linux.uidMappings = nil
        return Spec(process: process, root: Root(path: "rootfs", readonly: true), hostname: "berth",
                    mounts: mounts, linux: linux)
    }

    /// The default spec changed to run without root: a user namespace mapping the caller's ids,
    /// no network namespace or cgroup limits, and sysfs bound from the host (as runc's --rootless).
    public static func rootlessSpec(uid: UInt32, gid: UInt32) -> Spec {
        var spec = defaultSpec()
        let namespaces = (spec.linux?.namespaces ?? []).filter { $0.type != .network && $0.type != .cgroup }
        spec.linux?.namespaces = namespaces + [Namespace(type: .user)]
        spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: uid, size: 1)]
        spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: gid, size: 1)]
        spec.linux?.resources = nil
        spec.mounts = spec.mounts?.compactMap { mount in
            var mount = mount
            switch mount.destination {
            case "/sys":
                return Mount(destination: "/sys", type: "none", source: "/sys",
                             options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
            case "/dev/pts":
                mount.options = mount.options?.filter { $0 != "gid=5" }
                return mount
            default:
                return mount
            }
        }
        return spec
    }
}
