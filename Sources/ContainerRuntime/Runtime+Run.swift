import CLinuxSys
import Glibc
import LinuxSys
import OCI

extension OCIRuntime {
    /// `run`: create and start; in the foreground, wait for the container, pass on the signals this
    /// process receives, delete it, and return its exit status (128 + signal when it was killed).
    public func run(id: String, options: CreateOptions, detach: Bool, subreaper: Bool = true) throws(RuntimeError) -> Int32 {
        if !detach && subreaper {
            // Orphans of the container come to us, so they are reaped and the wait below sees the end.
            _ = berth_prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        }
        var options = options
        // In the foreground without a console socket, a terminal is relayed through this process.
        var consolePair: (ours: Int32, theirs: Int32)?
        if !detach && options.consoleSocket == nil {
            do { consolePair = try ProcessSys.socketPair(type: SOCK_STREAM) } catch { throw error.context("create console socket") }
            options.consoleSocketFD = consolePair?.theirs
        }
        defer { if let consolePair { FS.close(consolePair.ours); FS.close(consolePair.theirs) } }
        let (record, spec) = try createRecord(id: id, options: options)
        let pid = record.pid
        var master: Int32?
        do {
            if let consolePair, spec.process?.terminal == true {
                master = try Console.receiveMaster(consolePair.ours)
            }
            let lock = try store.lock(id)
            defer { FS.close(lock) }
            try start(record)
        } catch {
            try? delete(id: id, force: true)
            throw error
        }
        if detach { return 0 }

        let exit = ForegroundProcess(pid: pid, reapOrphans: subreaper).wait(relaying: master)
        if let master { FS.close(master) }
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
                seccomp: SeccompFeatures(enabled: true, actions: SeccompFilter.actions, operators: SeccompFilter.operators,
                                         archs: SeccompFilter.architectures, knownFlags: SeccompFilter.knownFlags,
                                         supportedFlags: SeccompFilter.supportedFlags),
                apparmor: EnabledFeature(enabled: false),
                selinux: EnabledFeature(enabled: false),
                intelRdt: EnabledFeature(enabled: false),
                mountExtensions: MountExtensions(idmap: EnabledFeature(enabled: true))),
            annotations: ["org.berth.runtime.version": berthVersion])
    }
}

public let berthVersion = "0.1.0"

nonisolated(unsafe) private var forwardedSignalTarget: pid_t = 0

/// A container process that `run` or `exec` waits for in the foreground: the signals we receive
/// are passed on to it, its terminal is relayed when we hold the pty master, and its status returned.
/// (Also a runtime that waits for a container process in turn: `berth exec` waits so for berth-runtime.)
public struct ForegroundProcess {
    let pid: pid_t
    /// As a subreaper we also collect the container's orphans; otherwise only our own child.
    let reapOrphans: Bool

    static let forwarded: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT]

    public init(pid: pid_t, reapOrphans: Bool) {
        self.pid = pid
        self.reapOrphans = reapOrphans
    }

    /// `input`: what the relay reads the keystrokes from (our stdin; /dev/null for none).
    /// `forwarding` runs once our signals are passed on, before the wait.
    public func wait(relaying master: Int32?, input: Int32 = 0, forwarding: () -> Void = {}) -> ProcessSys.Exit {
        forwardedSignalTarget = pid
        var signals = Self.forwarded
        if master == nil { signals.append(SIGWINCH) }
        for signal in signals {
            Glibc.signal(signal) { received in _ = Glibc.kill(forwardedSignalTarget, received) }
        }
        defer { for signal in signals { Glibc.signal(signal, SIG_DFL) } }
        forwarding()
        var exit: ProcessSys.Exit?
        if let master {
            TerminalRelay(master: master, input: input).relay {
                if exit == nil { exit = reap(blocking: false) }
                return exit != nil
            }
        }
        return exit ?? reap(blocking: true) ?? .exited(255)
    }

    /// The process's status once it has ended (nil while it runs, when not blocking).
    private func reap(blocking: Bool) -> ProcessSys.Exit? {
        while true {
            var status: Int32 = 0
            let reaped = waitpid(reapOrphans ? -1 : pid, &status, blocking ? 0 : WNOHANG)
            if reaped == pid { return ProcessSys.decode(status: status) }
            if reaped == 0 { return nil }
            if reaped < 0 {
                if errno == EINTR { continue }
                return errno == ECHILD ? .exited(255) : nil
            }
        }
    }
}
