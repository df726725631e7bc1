import Foundation
import OCI
import TestSupport
import Testing

/// What the container's process sees, through berth-runtime and through runc on the same bundle.
@Suite(.enabled(if: Env.hasRunc, "needs root, busybox-static, runc and a built berth-runtime"))
struct IsolationTests {
    /// Runs the bundle under both runtimes and returns both outputs, each required to succeed.
    func both(_ bundle: TestBundle) throws -> (berth: String, runc: String) {
        let berth = try RuntimeCLI.berth(bundle).run(Env.uniqueID("d"), bundle: bundle)
        let runc = try RuntimeCLI.runc(bundle).run(Env.uniqueID("d"), bundle: bundle)
        #expect(berth.status == 0, "berth: \(berth.stderr)")
        #expect(runc.status == 0, "runc: \(runc.stderr)")
        return (berth.stdout, runc.stdout)
    }

    /// Issue 15 (1a): no mount namespace in the list is valid: the container shares the host's mount
    /// namespace with the rootfs as its root (chroot, as runc); masked or read-only paths then are
    /// refused by both. No mounts in the bundle: runc would leave them on the host.
    @Test(arguments: ["berth", "runc"])
    func noMountNamespaceSharesTheHosts(_ name: String) throws {
        if name == "runc" {
            // runc makes the host's "/" rslave here (and binds the rootfs onto itself, which the
            // bundle's deinit unmounts): run it only where "/" is not shared, so the host stays as found.
            let mountinfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
            let rootLine = mountinfo.split(separator: "\n").first { $0.split(separator: " ").dropFirst(4).first == "/" }
            try #require(!(rootLine?.contains("shared:") ?? true), "the host's / is shared: runc would change it")
        }
        let bundle = try TestBundle(args: ["/bin/sleep", "100"])
        // runc binds the rootfs onto itself and mounts /proc there in the host's namespace, and leaves both.
        defer { _ = try? sh(["/bin/umount", "-R", "-l", bundle.rootfs]) }
        let withoutMount = (bundle.spec.linux?.namespaces ?? []).filter { $0.type != .mount }
        bundle.spec.linux?.namespaces = withoutMount
        // Only /proc: runc cannot start without it (it closes fds through /proc/self/fd).
        bundle.spec.mounts = [Mount(destination: "/proc", type: "proc", source: "proc")]
        bundle.spec.linux?.maskedPaths = ["/proc/kcore"]
        try bundle.write()
        let runtime = RuntimeCLI.named(name, bundle)
        let refused = try runtime("run", "--bundle", bundle.path, Env.uniqueID("nomnt"))
        #expect(refused.status != 0, "masking without a mount namespace was accepted")

        bundle.spec.linux?.maskedPaths = []
        bundle.spec.linux?.readonlyPaths = []
        try bundle.write()
        let id = try runtime.launch(bundle, prefix: "nomnt", started: true)
        defer { _ = try? runtime("delete", "-f", id) }
        let pid = try #require(try runtime.state(id)?["pid"] as? Int)
        let fm = FileManager.default
        #expect(try fm.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/mnt") == fm.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt"))
        #expect(try fm.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root") == resolvedPath(bundle.rootfs))
        // Berth mounts nothing into the host's namespace (runc does, and leaves it there).
        if name == "berth" {
            // An exec'd process enters the init's root, not the host's "/" (issue 15).
            let marker = "nomnt-\(UInt32.random(in: 0...UInt32.max))"
            try marker.write(toFile: bundle.rootfs + "/marker", atomically: false, encoding: .utf8)
            let inside = try runtime("exec", id, "/bin/sh", "-c", "cat /marker; echo; pwd")
            #expect(inside.stdout == marker + "\n/\n", "exec without a mount namespace: \(inside.stdout) \(inside.stderr)")
            #expect(!((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").contains(bundle.rootfs))
        }
    }

    /// Issue 15 (1c): `rootfsPropagation` shared or slave on a bundle whose parent mount is shared
    /// (pivot_root refused that with EINVAL): both runtimes start it, and "/" inside has the same kind
    /// of propagation (none: runc 1.1 leaves the new root private).
    @Test(arguments: ["shared", "slave", "rshared"])
    func rootfsPropagationOnASharedParent(_ propagation: String) throws {
        let bundle = try TestBundle()
        // The bundle directory as a shared mount of its own; TestBundle's deinit unmounts it.
        #expect(try sh(["/bin/mount", "--bind", bundle.path, bundle.path]).status == 0)
        // Everything under it too: a runtime that fails here may have propagated its mounts into it.
        defer { _ = try? sh(["/bin/umount", "-R", "-l", bundle.path]) }
        #expect(try sh(["/bin/mount", "--make-shared", bundle.path]).status == 0)
        bundle.spec.linux?.rootfsPropagation = propagation
        // The kind of propagation of "/": shared, master (slave) or private.
        try bundle.shell("""
            grep -E '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / ' /proc/self/mountinfo | grep -o -E ' (shared|master):' | tr -d ' :' | tr '\\n' ' '; echo started
            """)
        let (berth, runc) = try both(bundle)
        #expect(berth.hasSuffix("started\n"))
        #expect(berth == runc)
    }

    /// Issue 15 (1b): `hostname` with a uts namespace joined by path is valid and names that
    /// namespace, as in runc; with no uts entry at all both refuse.
    @Test func hostnameInAJoinedUTSNamespace() throws {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        holder.arguments = ["--uts", "/bin/sleep", "100"]
        try holder.run()
        defer { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() }
        let nsPath = "/proc/\(holder.processIdentifier)/ns/uts"
        let hostUTS = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/uts")
        for _ in 0..<100 where (try? FileManager.default.destinationOfSymbolicLink(atPath: nsPath)) == hostUTS { usleep(20_000) }
        let bundle = try TestBundle()
        let withoutUTS = (bundle.spec.linux?.namespaces ?? []).filter { $0.type != .uts }
        bundle.spec.linux?.namespaces = withoutUTS + [Namespace(type: .uts, path: nsPath)]
        bundle.spec.hostname = "joined-uts"
        try bundle.shell("hostname; readlink /proc/self/ns/uts")
        let expected = "joined-uts\n" + (try FileManager.default.destinationOfSymbolicLink(atPath: nsPath)) + "\n"
        let (berth, runc) = try both(bundle)
        #expect(berth == expected)
        #expect(runc == expected)

        bundle.spec.linux?.namespaces = withoutUTS
        try bundle.write()
        let refusedBerth = try RuntimeCLI.berth(bundle).run(Env.uniqueID("d"), bundle: bundle)
        let refusedRunc = try RuntimeCLI.runc(bundle).run(Env.uniqueID("d"), bundle: bundle)
        #expect(refusedBerth.status != 0 && refusedBerth.stderr.contains("hostname"), "\(refusedBerth.stderr)")
        #expect(refusedRunc.status != 0)
    }

    /// Issue 20: the config CRI-O writes for every pod container: the pod's hostname while joining the
    /// pod's uts, ipc and network namespaces by path, with a pid and mount namespace of its own. It
    /// starts, and the name is the joined namespace's, as in runc.
    @Test func crioPodContainerConfig() throws {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        holder.arguments = ["--uts", "--ipc", "--net", "/bin/sleep", "100"]
        try holder.run()
        defer { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() }
        let pod = "/proc/\(holder.processIdentifier)/ns/"
        let hostUTS = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/uts")
        for _ in 0..<100 where (try? FileManager.default.destinationOfSymbolicLink(atPath: pod + "uts")) == hostUTS { usleep(20_000) }
        let bundle = try TestBundle()
        bundle.spec.linux?.namespaces = [Namespace(type: .pid), Namespace(type: .mount), Namespace(type: .ipc, path: pod + "ipc"),
                                         Namespace(type: .uts, path: pod + "uts"), Namespace(type: .network, path: pod + "net")]
        bundle.spec.hostname = "crio-pod"
        try bundle.shell("hostname; for n in uts ipc net; do readlink /proc/self/ns/$n; done; echo $$")
        var expected = "crio-pod\n"
        for kind in ["uts", "ipc", "net"] { expected += try FileManager.default.destinationOfSymbolicLink(atPath: pod + kind) + "\n" }
        expected += "1\n"
        let (berth, runc) = try both(bundle)
        #expect(berth == expected)
        #expect(runc == expected)
    }

    @Test func identityCapabilitiesLimitsAndEnvironmentMatchRunc() throws {
        let bundle = try TestBundle()
        bundle.spec.hostname = "difftest"
        bundle.spec.process?.user = User(uid: 1000, gid: 1000, additionalGids: [10, 20])
        bundle.spec.process?.cwd = "/tmp"
        bundle.spec.process?.env = ["PATH=/bin", "FOO=bar baz", "TERM=dumb"]
        bundle.spec.process?.capabilities = Capabilities(
            bounding: ["CAP_CHOWN", "CAP_NET_RAW", "CAP_KILL", "CAP_SETUID"],
            effective: ["CAP_CHOWN", "CAP_KILL"],
            inheritable: ["CAP_CHOWN"],
            permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
            ambient: ["CAP_CHOWN"])
        bundle.spec.process?.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 512),
                                        Rlimit(type: "RLIMIT_NPROC", hard: 300, soft: 200)]
        bundle.spec.process?.noNewPrivileges = true
        try bundle.shell("""
            id; hostname; pwd; env | sort
            grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs|Seccomp)' /proc/self/status
            grep -E 'open files|processes' /proc/self/limits
            readlink /proc/self/ns/uts >/dev/null && echo ns-ok
            """)
        let (berth, runc) = try both(bundle)
        #expect(berth == runc)
        #expect(berth.contains("uid=1000 gid=1000 groups=10,20"))
        #expect(berth.contains("CapAmb:\t0000000000000001"))
        #expect(berth.contains("HOME=/"))
    }

    @Test func rootUserSeesTheSameCapabilitiesAsInRunc() throws {
        let bundle = try TestBundle()
        try bundle.shell("grep -E '^Cap' /proc/self/status; id")
        let (berth, runc) = try both(bundle)
        #expect(berth == runc)
    }

    @Test func mountTableMatchesRunc() throws {
        let bundle = try TestBundle()
        let hostDir = bundle.directory + "/shared"
        try FileManager.default.createDirectory(atPath: hostDir, withIntermediateDirectories: true)
        try "from host".write(toFile: hostDir + "/file", atomically: true, encoding: .utf8)
        bundle.spec.mounts = (bundle.spec.mounts ?? []) + [
            Mount(destination: "/data", type: "bind", source: hostDir, options: ["rbind", "ro", "nosuid"]),
            Mount(destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["size=1m", "mode=1777", "noexec"]),
        ]
        bundle.spec.root?.readonly = true
        try bundle.shell("""
            cut -d' ' -f2,3 /proc/self/mounts | sort
            cat /data/file; echo
            touch /data/x 2>/dev/null && echo data-writable || echo data-readonly
            touch /x 2>/dev/null && echo root-writable || echo root-readonly
            touch /scratch/x && echo scratch-writable
            grep ' /data ' /proc/self/mounts | grep -o 'ro,nosuid' || true
            """)
        let (berth, runc) = try both(bundle)
        // Masked files are binds of /dev/null: runc binds the container's (tmpfs), berth the host's.
        func normalise(_ text: String) -> String {
            text.split(separator: "\n").map { $0.replacingOccurrences(of: " devtmpfs", with: " tmpfs") }.joined(separator: "\n")
        }
        #expect(normalise(berth) == normalise(runc))
        #expect(berth.contains("from host"))
        #expect(berth.contains("data-readonly") && berth.contains("root-readonly") && berth.contains("scratch-writable"))
    }

    @Test func cgroupLimitsAreWhatTheContainerSees() throws {
        let bundle = try TestBundle()
        bundle.spec.linux?.resources = Resources(
            devices: [DeviceRule(allow: false, access: "rwm")],
            memory: MemoryLimits(limit: 64 << 20),
            cpu: CPULimits(shares: 512, quota: 50_000, period: 100_000, cpus: "0"),
            pids: PidsLimit(limit: 64))
        try bundle.shell("""
            cd /sys/fs/cgroup
            if [ -f cgroup.controllers ]; then
              cat memory.max pids.max cpu.max cpu.weight cpuset.cpus
            else
              cat memory/memory.limit_in_bytes pids/pids.max cpu/cpu.shares cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpuset/cpuset.cpus
            fi
            cat /proc/self/cgroup | grep -c . >/dev/null
            """)
        let (berth, runc) = try both(bundle)
        #expect(berth == runc)
        #expect(berth.contains("67108864") || berth.contains("64"))
    }

    @Test func deviceRulesBlockWhatTheyDeny() throws {
        let bundle = try TestBundle()
        let caps = ["CAP_MKNOD", "CAP_KILL"]
        bundle.spec.process?.capabilities = Capabilities(bounding: caps, effective: caps, permitted: caps)
        try bundle.shell("""
            head -c 1 /dev/zero | wc -c
            rm -f /tmp/disk; mknod /tmp/disk b 8 0 && echo mknod-ok
            head -c 1 /tmp/disk 2>&1 >/dev/null | grep -o 'Operation not permitted' || echo opened
            """)
        let (berth, runc) = try both(bundle)
        #expect(berth == runc)
        #expect(berth.contains("Operation not permitted"))
    }

    @Test func userNamespaceMapsIDs() throws {
        let bundle = try TestBundle()
        bundle.spec.linux?.namespaces?.append(Namespace(type: .user))
        bundle.spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 200_000, size: 65536)]
        bundle.spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 200_000, size: 65536)]
        try bundle.shell("id; cat /proc/self/uid_map /proc/self/gid_map | tr -s ' '; head -c 1 /dev/null && echo devnull-ok")
        let (berth, runc) = try both(bundle)
        #expect(berth == runc)
        #expect(berth.contains("uid=0(root) gid=0"))
        #expect(berth.contains(" 0 200000 65536"))
    }

    @Test func joinsANamespaceByPath() throws {
        let first = try TestBundle.sleeping()
        let berth = RuntimeCLI.berth(first)
        let id = try berth.launch(first, prefix: "netns", started: true)
        defer { _ = try? berth("delete", "-f", id) }
        let pid = try #require(try berth.state(id)?["pid"] as? Int)
        let netns = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")

        let second = try TestBundle()
        let namespaces = second.spec.linux?.namespaces ?? []
        second.spec.linux?.namespaces = namespaces.map {
            $0.type == .network ? Namespace(type: .network, path: "/proc/\(pid)/ns/net") : $0
        }
        try second.shell("readlink /proc/self/ns/net")
        let (joined, runc) = try both(second)
        #expect(joined.trimmingCharacters(in: .whitespacesAndNewlines) == netns)
        #expect(joined == runc)
    }

    @Test func sysctlAndHostnameApplyInsideOnly() throws {
        let bundle = try TestBundle()
        bundle.spec.hostname = "inside"
        bundle.spec.domainname = "example.test"
        bundle.spec.linux?.sysctl = ["net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"]
        try bundle.shell("hostname; cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni /proc/sys/kernel/domainname")
        let (berth, runc) = try both(bundle)
        // runc 1.1 ignores `domainname`; everything before it must match.
        #expect(berth.split(separator: "\n").dropLast() == runc.split(separator: "\n").dropLast())
        #expect(berth == "inside\n1\n1234\nexample.test\n")
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, 255)
        #expect(String(cString: host) != "inside")
    }
}

/// The path with symlinks resolved (NSTemporaryDirectory may be reached through one).
func resolvedPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}
