import CLinuxSys
import Glibc
import LinuxSys
import OCI

nonisolated(unsafe) private var forwardedSignalTarget: pid_t = 0

extension OCIRuntime {
    /// `run`: create and start; in the foreground, wait for the container, pass on the signals this
    /// process receives, delete it, and return its exit status (128 + signal when it was killed).
    public func run(id: String, options: CreateOptions, detach: Bool, subreaper: Bool = true) throws(RuntimeError) -> Int32 {
        if !detach && subreaper {
            // Orphans of the container come to us, so they are reaped and the wait below sees the end.
            _ = berth_prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        }
        let record = try createRecord(id: id, options: options)
        let pid = record.pid
        do {
            let lock = try store.lock(id)
            defer { FS.close(lock) }
            try start(record)
        } catch {
            try? delete(id: id, force: true)
            throw error
        }
        if detach { return 0 }

        forwardedSignalTarget = pid
        let forwarded: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGWINCH]
        for signal in forwarded {
            Glibc.signal(signal) { received in _ = Glibc.kill(forwardedSignalTarget, received) }
        }
        var exit = ProcessSys.Exit.exited(255)
        while true {
            var status: Int32 = 0
            let reaped = waitpid(-1, &status, 0)
            if reaped == pid { exit = ProcessSys.decode(status: status); break }
            if reaped < 0 && errno == ECHILD { break }
        }
        for signal in forwarded { Glibc.signal(signal, SIG_DFL) }
        // The init is reaped; what is left in its cgroup goes with it, as delete --force would do.
        if let lock = try? store.lock(id) {
            finish(record)
            FS.close(lock)
        }
        return exit.shellStatus
    }

    /// `features`: what this build supports, in the runtime-spec features document.
    public static func features() -> Features {
        let hierarchies = CgroupHierarchy.discover()
        return Features(
            ociVersionMin: Spec.minimumVersion,
            ociVersionMax: Spec.currentVersion,
            hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
            mountOptions: MountOptions.known,
            linux: LinuxFeatures(
                namespaces: NamespaceType.allCases.map(\.rawValue).sorted(),
                capabilities: Capability.names,
                cgroup: CgroupFeatures(v1: hierarchies.contains { !$0.isV2 } || hierarchies.isEmpty,
                                       v2: true, systemd: false, systemdUser: false, rdma: false),
                seccomp: SeccompFeatures(enabled: false),
                apparmor: EnabledFeature(enabled: false),
                selinux: EnabledFeature(enabled: false),
                intelRdt: EnabledFeature(enabled: false),
                mountExtensions: MountExtensions(idmap: EnabledFeature(enabled: false))),
            annotations: ["org.berth.runtime.version": berthVersion])
    }
}

public let berthVersion = "0.1.0"
