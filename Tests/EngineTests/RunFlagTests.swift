import Foundation
import TestSupport
import Testing

/// `berth run` flags end to end in real containers: the same command in the same busybox image
/// under Berth and under Podman, comparing what the container sees. Where Podman departs from
/// Docker, Berth follows Docker and the test says so.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct RunFlagTests {
    /// Docker's default capabilities (CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
    /// NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP).
    static let dockerDefaultCaps = "00000000a80425fb"
    /// Podman 4.3 leaves out NET_RAW, MKNOD and AUDIT_WRITE of Docker's set: added back for the peer.
    static let podmanToDockerCaps = ["--cap-add", "NET_RAW,MKNOD,AUDIT_WRITE"]

    /// Podman, where it runs here.
    static func peer() throws -> PodmanPeer? { EngineEnv.hasPodman ? try PodmanPeer() : nil }

    /// `field:\tvalue` lines of a /proc/<pid>/status text.
    static func statusFields(_ text: String, _ names: [String]) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, names.contains(String(parts[0])) else { continue }
            fields[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    static func runBoth(_ berth: BerthEngine, _ podman: PodmanPeer?, _ flags: [String], _ command: [String],
                        podmanFlags: [String]? = nil) throws -> (ours: Output, theirs: Output?) {
        let ours = try berth.callAnyway(["run", "--rm"] + flags + ["busybox:test"] + command)
        let theirs = try podman?.run(["--rm"] + (podmanFlags ?? flags) + ["busybox:test"] + command)
        return (ours, theirs)
    }

    // MARK: - capabilities, privileges, security options

    @Test(arguments: [
        ([String](), dockerDefaultCaps),
        (["--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN"], "00000000a80435fa"),
        (["--cap-add", "sys_ptrace", "--cap-drop", "CAP_KILL"], "00000000a80c25db"),
        (["--cap-drop", "ALL", "--cap-add", "KILL"], "0000000000000020"),
    ] as [([String], String)])
    func capabilities(flags: [String], expected: String) throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let podman = try Self.peer()
        defer { podman?.remove() }
        let dropsAll = flags.contains("ALL")
        let (ours, theirs) = try Self.runBoth(berth, podman, flags, ["cat", "/proc/self/status"],
                                               podmanFlags: (dropsAll ? [] : Self.podmanToDockerCaps) + flags)
        #expect(ours.status == 0, "\(ours.stderr)")
        let caps = Self.statusFields(ours.stdout, ["CapEff", "CapBnd"])
        #expect(caps == ["CapEff": expected, "CapBnd": expected])
        if let theirs {
            #expect(theirs.status == 0, "podman: \(theirs.stderr)")
            #expect(Self.statusFields(theirs.stdout, ["CapEff", "CapBnd"]) == caps)
        }
    }

    /// --privileged: every capability this host has, the host's devices, /sys (and its cgroups) writable.
    @Test func privileged() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let podman = try Self.peer()
        defer { podman?.remove() }
        let hostStatus = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let hostBounding = try #require(Self.statusFields(hostStatus, ["CapBnd"])["CapBnd"])
        // A device of the host that Docker's default /dev does not have.
        let hostDevice = try #require(["/dev/kmsg", "/dev/loop-control", "/dev/mem", "/dev/tty0"].first { FileManager.default.fileExists(atPath: $0) })
        let script = "grep -E '^Cap(Eff|Bnd)' /proc/self/status; ls \(hostDevice) >/dev/null 2>&1 && echo device; grep ' /sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1"
        let (ours, theirs) = try Self.runBoth(berth, podman, ["--privileged"], ["sh", "-c", script])
        #expect(ours.status == 0, "\(ours.stderr)")
        #expect(ours.stdout == "CapEff:\t\(hostBounding)\nCapBnd:\t\(hostBounding)\ndevice\nrw\n")
        if let theirs { #expect(theirs.stdout == ours.stdout, "podman: \(theirs.stderr)") }
        // Without it: none of that.
        let plain = try berth.call("run", "--rm", "busybox:test", "sh", "-c", script)
        #expect(plain == "CapEff:\t\(Self.dockerDefaultCaps)\nCapBnd:\t\(Self.dockerDefaultCaps)\nro\n")
    }

    @Test func securityOptions() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let podman = try Self.peer()
        defer { podman?.remove() }
        let names = ["NoNewPrivs", "Seccomp"]
        for (flags, expected) in [
            ([String](), ["NoNewPrivs": "0", "Seccomp": "2"]),
            (["--security-opt", "no-new-privileges"], ["NoNewPrivs": "1", "Seccomp": "2"]),
            (["--security-opt", "seccomp=unconfined"], ["NoNewPrivs": "0", "Seccomp": "0"]),
        ] {
            let (ours, theirs) = try Self.runBoth(berth, podman, flags, ["cat", "/proc/self/status"])
            #expect(ours.status == 0, "\(flags): \(ours.stderr)")
            #expect(Self.statusFields(ours.stdout, names) == expected, "\(flags)")
            if let theirs { #expect(Self.statusFields(theirs.stdout, names) == expected, "podman \(flags): \(theirs.stderr)") }
        }
    }

    /// Issue 15 item 9: the default profile is built in, so no host file can be missing; but an
    /// operator's override (`BERTH_SECCOMP_PROFILE`, as dockerd's --seccomp-profile) that is missing
    /// does not run the container unfiltered or with another profile in silence: the error names
    /// the file, and seccomp=unconfined is the one way to run without it.
    @Test func missingSeccompOverrideFailsClosed() throws {
        let missing = NSTemporaryDirectory() + "berth-no-seccomp-\(getpid())/seccomp.json"
        let berth = try BerthEngine(environment: ["BERTH_SECCOMP_PROFILE": missing])
        defer { berth.remove() }
        let refused = try berth.callAnyway(["run", "--rm", "busybox:test", "grep", "^Seccomp:", "/proc/self/status"])
        #expect(refused.status != 0, "ran unfiltered: \(refused.stdout)")
        #expect(refused.stderr.contains(missing), "\(refused.stderr)")
        let unconfined = try berth.callAnyway(["run", "--rm", "--security-opt", "seccomp=unconfined", "busybox:test",
                                               "grep", "^Seccomp:", "/proc/self/status"])
        #expect(unconfined.status == 0, "\(unconfined.stderr)")
        #expect(unconfined.stdout == "Seccomp:\t0\n")
    }

    /// Issue 15 item 12: `--security-opt apparmor=NAME` is not silently ignored: on a host without
    /// AppArmor the run is refused with a message saying so; `apparmor=unconfined` runs.
    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/sys/module/apparmor/parameters/enabled"), "AppArmor is on here"))
    func appArmorProfileRefusedWhereAppArmorIsOff() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let refused = try berth.callAnyway(["run", "--rm", "--security-opt", "apparmor=berth-test-profile", "busybox:test", "true"])
        #expect(refused.status != 0, "ran without the asked-for AppArmor profile")
        #expect(refused.stderr.contains("AppArmor is not enabled"), "\(refused.stderr)")
        #expect(refused.stderr.contains("berth-test-profile"), "\(refused.stderr)")
        let unconfined = try berth.callAnyway(["run", "--rm", "--security-opt", "apparmor=unconfined", "busybox:test", "true"])
        #expect(unconfined.status == 0, "\(unconfined.stderr)")
    }

    /// Issue 15 item 12: every path of Docker 28's masked list (with /proc/interrupts and powercap)
    /// reads empty from inside a default container.
    @Test func dockerMaskedPathsReadEmpty() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let paths = ["/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                     "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
                     "/sys/devices/virtual/powercap"]
        let script = "for p in \(paths.joined(separator: " ")); do if [ -d $p ]; then echo \"$p $(ls -A $p | wc -l)\"; "
            + "elif [ -e $p ]; then echo \"$p $(cat $p 2>/dev/null | wc -c)\"; fi; done"
        let out = try berth.callAnyway(["run", "--rm", "busybox:test", "sh", "-c", script])
        #expect(out.status == 0, "\(out.stderr)")
        let lines = out.stdout.split(separator: "\n").map(String.init)
        for line in lines { #expect(line.hasSuffix(" 0"), "not masked: \(line)") }
        #expect(lines.contains("/proc/interrupts 0"), "\(out.stdout)")
        if FileManager.default.fileExists(atPath: "/sys/devices/virtual/powercap") {
            #expect(lines.contains("/sys/devices/virtual/powercap 0"), "\(out.stdout)")
        }
    }

    // MARK: - devices, ulimits, cgroups

    @Test func deviceWithAnotherPath() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let podman = try Self.peer()
        defer { podman?.remove() }
        let script = "stat -c '%t:%T %F' /dev/myzero; head -c 4 /dev/myzero | od -An -tx1"
        let (ours, theirs) = try Self.runBoth(berth, podman, ["--device", "/dev/zero:/dev/myzero"], ["sh", "-c", script])
        #expect(ours.status == 0, "\(ours.stderr)")
        #expect(ours.stdout == "1:5 character special file\n 00 00 00 00\n")
        if let theirs { #expect(theirs.stdout == ours.stdout, "podman: \(theirs.stderr)") }
    }

    @Test func ulimitNofile() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let podman = try Self.peer()
        defer { podman?.remove() }
        let (ours, theirs) = try Self.runBoth(berth, podman, ["--ulimit", "nofile=512:1024"], ["sh", "-c", "ulimit -n; ulimit -Hn"])
        #expect(ours.status == 0, "\(ours.stderr)")
        #expect(ours.stdout == "512\n1024\n")
        if let theirs { #expect(theirs.stdout == ours.stdout, "podman: \(theirs.stderr)") }
    }

    /// The container's cgroup files as the host sees them, through /proc/<pid>/cgroup: `controller/file`
    /// in each v1 hierarchy, `file` in the unified one (all of /sys/fs/cgroup on pure v2,
    /// /sys/fs/cgroup/unified on a hybrid host, where it holds no controllers).
    static func cgroupFiles(pid: String) throws -> [String: String] {
        let v1: [String: [String]] = [
            "cpu": ["cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares"], "cpuset": ["cpuset.cpus"],
            "pids": ["pids.max"], "memory": ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"],
        ]
        let v2 = ["cpu.max", "cpu.weight", "cpuset.cpus", "pids.max", "memory.max", "memory.swap.max"]
        let pureV2 = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
        var files: [String: String] = [:]
        func read(_ path: String) -> String? {
            (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        for line in try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { continue }
            if parts[1].isEmpty {
                let base = (pureV2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified") + parts[2]
                for name in v2 { if let value = read(base + "/" + name) { files[name] = value } }
            } else {
                for controller in parts[1].split(separator: ",").map(String.init) {
                    for name in v1[controller] ?? [] {
                        if let value = read("/sys/fs/cgroup/\(parts[1])\(parts[2])/\(name)") { files[controller + "/" + name] = value }
                    }
                }
            }
        }
        return files
    }

    @Test func cpuPidsAndMemoryLimits() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let flags = ["--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0", "--pids-limit", "50", "-m", "64m", "--memory-swap", "128m"]
        try berth.call(["run", "-d", "--name", "limited"] + flags + ["busybox:test", "sleep", "600"])
        let ours = try Self.cgroupFiles(pid: try berth.inspect("limited", "{{.State.Pid}}"))
        let expected: [String: String]
        if ours["cpu/cpu.shares"] != nil {
            expected = ["cpu/cpu.cfs_quota_us": "50000", "cpu/cpu.cfs_period_us": "100000", "cpu/cpu.shares": "512",
                        "cpuset/cpuset.cpus": "0", "pids/pids.max": "50", "memory/memory.limit_in_bytes": "67108864",
                        "memory/memory.memsw.limit_in_bytes": "134217728"]
        } else {
            // v2: shares 512 is weight 1 + (512 - 2) * 9999 / 262142 (runc's and crun's conversion);
            // swap.max is the swap alone, memory-swap minus memory.
            expected = ["cpu.max": "50000 100000", "cpu.weight": "20", "cpuset.cpus": "0", "pids.max": "50",
                        "memory.max": "67108864", "memory.swap.max": "67108864"]
        }
        for (name, value) in expected {
            // Without swap accounting (swapaccount=0) the swap files are not there at all.
            if name.contains("swap") || name.contains("memsw"), ours[name] == nil { continue }
            #expect(ours[name] == value, "\(name)")
        }
        guard let podman = try Self.peer() else { return }
        defer { podman.remove() }
        let started = try podman.run(["-d", "--name", "limited"] + flags + ["busybox:test", "sleep", "600"])
        try #require(started.status == 0, "podman: \(started.stderr)")
        let pid = try podman.callAnyway(["inspect", "--format", "{{.State.Pid}}", "limited"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let theirs = try Self.cgroupFiles(pid: pid)
        for name in expected.keys { #expect(ours[name] == theirs[name], "\(name)") }
    }

    // MARK: - filesystems

    /// --tmpfs as Docker mounts it: its defaults noexec,nosuid,nodev, then the user's options.
    @Test func tmpfsOptions() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let podman = try Self.peer()
        defer { podman?.remove() }
        let script = "grep ' /scratch ' /proc/mounts; stat -c %a /scratch"
        let (ours, theirs) = try Self.runBoth(berth, podman, ["--tmpfs", "/scratch:size=1m,mode=1777"], ["sh", "-c", script])
        #expect(ours.status == 0, "\(ours.stderr)")
        #expect(ours.stdout == "tmpfs /scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k 0 0\n1777\n")
        if let theirs {
            // Podman leaves out Docker's default noexec; otherwise the same mount.
            #expect(theirs.stdout.replacingOccurrences(of: "nodev,relatime", with: "nodev,noexec,relatime") == ours.stdout,
                    "podman: \(theirs.stdout)\(theirs.stderr)")
        }
    }

    @Test func readOnlyRootfs() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let podman = try Self.peer()
        defer { podman?.remove() }
        let script = "touch /x; touch /tmp/x; echo done"
        // Podman's --read-only mounts tmpfs on /tmp, /var/tmp and /run unless told not to; Docker does not.
        let (ours, theirs) = try Self.runBoth(berth, podman, ["--read-only"], ["sh", "-c", script],
                                               podmanFlags: ["--read-only", "--read-only-tmpfs=false"])
        #expect(ours.stdout == "done\n")
        #expect(ours.stderr == "touch: /x: Read-only file system\ntouch: /tmp/x: Read-only file system\n")
        if let theirs { #expect(theirs.stderr == ours.stderr) }
        let tmp = try berth.callAnyway(["run", "--rm", "--read-only", "--tmpfs", "/tmp", "busybox:test", "sh", "-c", script])
        #expect(tmp.stderr == "touch: /x: Read-only file system\n")
        #expect(tmp.stdout == "done\n")
    }

    @Test func readOnlyBindMount() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let podman = try Self.peer()
        defer { podman?.remove() }
        let host = berth.base + "/hostdir"
        try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
        try "from the host\n".write(toFile: host + "/file", atomically: true, encoding: .utf8)
        let (ours, theirs) = try Self.runBoth(berth, podman, ["-v", host + ":/data:ro"], ["sh", "-c", "cat /data/file; touch /data/x"])
        #expect(ours.status == 1)
        #expect(ours.stdout == "from the host\n")
        #expect(ours.stderr == "touch: /data/x: Read-only file system\n")
        if let theirs { #expect(theirs.status == 1 && theirs.stdout == ours.stdout && theirs.stderr == ours.stderr) }
        #expect(!FileManager.default.fileExists(atPath: host + "/x"))
    }

    /// Docker creates a missing host directory for `-v` but refuses one for `--mount type=bind`, at
    /// create, with 125 and no container left. (Podman refuses both: "statfs …: no such file or directory".)
    @Test func missingBindSource() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let created = berth.base + "/missing/sub"
        let run = try berth.callAnyway(["run", "--rm", "-v", created + ":/x", "busybox:test", "sh", "-c", "touch /x/f && echo ok"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "ok\n")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: created, isDirectory: &isDirectory) && isDirectory.boolValue)

        let missing = berth.base + "/missing2"
        let refused = try berth.callAnyway(["run", "--rm", "--mount", "type=bind,source=\(missing),target=/x", "busybox:test", "true"])
        #expect(refused.status == 125)
        #expect(refused.stderr.contains("invalid mount config for type \"bind\": bind source path does not exist: \(missing)"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(try berth.call("ps", "-aq") == "")
        let create = try berth.callAnyway(["create", "--mount", "type=bind,source=\(missing),target=/x", "busybox:test", "true"])
        #expect(create.status == 125 && create.stdout.isEmpty)
        #expect(try berth.call("ps", "-aq") == "")
    }

    // MARK: - user, environment, working directory, entrypoint

    @Test func users() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let podman = try Self.peer()
        defer { podman?.remove() }
        for (user, expected) in [
            ("1234:5678", "uid=1234 gid=5678 groups=5678\n"),
            ("nobody", "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n"),
        ] {
            let (ours, theirs) = try Self.runBoth(berth, podman, ["-u", user], ["id"])
            #expect(ours.stdout == expected, "\(user): \(ours.stderr)")
            if let theirs {
                // Podman adds the unknown user and group to the container's /etc/passwd and /etc/group, so
                // `id` names them after their numbers; Docker leaves those files alone.
                let unnamed = theirs.stdout.replacingOccurrences(of: "(1234)", with: "").replacingOccurrences(of: "(5678)", with: "")
                #expect(unnamed == expected, "podman \(user): \(theirs.stderr)")
            }
        }
    }

    /// --env-file: comments and blank lines skipped, K=V taken as is (quotes included), a bare K
    /// from the caller's environment and left out when the caller has none.
    @Test func envFile() throws {
        let berth = try BerthEngine(environment: ["FROMHOST": "host value"])
        defer { berth.remove() }
        let file = berth.base + "/env"
        try "# a comment\nFOO=bar baz\n\n   # indented comment\nFROMHOST\nEMPTY=\nQ=\"quoted\"\nNOTSET_ANYWHERE\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let script = "echo \"FOO=[$FOO] FROMHOST=[$FROMHOST] EMPTY=[${EMPTY-unset}] Q=[$Q] NOTSET=[${NOTSET_ANYWHERE-unset}]\"; env | grep -c '#'"
        let ours = try berth.callAnyway(["run", "--rm", "--env-file", file, "busybox:test", "sh", "-c", script])
        let expected = "FOO=[bar baz] FROMHOST=[host value] EMPTY=[] Q=[\"quoted\"] NOTSET=[unset]\n0\n"
        #expect(ours.stdout == expected, "\(ours.stderr)")
        guard let podman = try Self.peer() else { return }
        defer { podman.remove() }
        var environment = ProcessInfo.processInfo.environment
        environment["FROMHOST"] = "host value"
        environment["NOTSET_ANYWHERE"] = nil
        let theirs = try sh(podman.global + ["run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                                             "--env-file", file, "busybox:test", "sh", "-c", script], environment: environment)
        #expect(theirs.stdout == expected, "podman: \(theirs.stderr)")
    }

    /// Docker creates a missing working directory (Podman refuses: `workdir "…" does not exist`).
    @Test func missingWorkingDirectoryIsCreated() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let out = try berth.call("run", "--rm", "-w", "/does/not/exist", "busybox:test", "sh", "-c", "pwd; ls -ld . | cut -c1")
        #expect(out == "/does/not/exist\nd\n")
    }

    @Test func entrypointHostnameAndLabels() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let podman = try Self.peer()
        defer { podman?.remove() }
        let flags = ["-h", "myhost", "-l", "a=b", "-l", "c=d", "--entrypoint", "sh"]
        let command = ["-c", "hostname; echo \"$0 $1\"", "one", "two"]
        let (ours, theirs) = try Self.runBoth(berth, podman, flags, command)
        #expect(ours.stdout == "myhost\none two\n", "\(ours.stderr)")
        if let theirs { #expect(theirs.stdout == ours.stdout, "podman: \(theirs.stderr)") }

        try berth.call(["create", "--name", "described"] + flags + ["--stop-signal", "SIGUSR1", "--stop-timeout", "7", "busybox:test"] + command)
        let format = "{{.Config.Hostname}} {{json .Config.Labels}} {{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Config.StopSignal}} {{.Config.StopTimeout}}"
        #expect(try berth.inspect("described", format)
            == "myhost {\"a\":\"b\",\"c\":\"d\"} [\"sh\"] [\"-c\",\"hostname; echo \\\"$0 $1\\\"\",\"one\",\"two\"] SIGUSR1 7")
        // Without the flags: no stop timeout recorded (Docker leaves StopTimeout out), no labels.
        try berth.call("create", "--name", "plain", "busybox:test")
        #expect(try berth.inspect("plain", "{{json .Config.Labels}} {{.Config.StopTimeout}}").hasPrefix("{} "))
        if let podman {
            let created = try podman.callAnyway(["create", "--name", "described"] + flags
                + ["--stop-signal", "SIGUSR1", "--stop-timeout", "7", "busybox:test"] + command)
            try #require(created.status == 0, "podman: \(created.stderr)")
            // Podman prints the stop signal as its number and the entrypoint as a string; Docker as Berth.
            let theirs = try podman.callAnyway(["inspect", "--format", "{{.Config.Hostname}} {{json .Config.Labels}} {{.Config.StopSignal}} {{.Config.StopTimeout}}", "described"])
            #expect(theirs.stdout == "myhost {\"a\":\"b\",\"c\":\"d\"} \(SIGUSR1) 7\n")
        }
    }

    // MARK: - pulling from a registry

    /// A missing image is pulled from the registry with Docker's note on stderr; `--pull always`
    /// fetches the tag again and runs what it names now.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/skopeo")))
    func pullsMissingImagesAndPullAlways() throws {
        let registryDir = EngineEnv.scratch("r")
        let script = EngineEnv.packageRoot + "/Tests/Scripts/registry/registry.sh"
        let started = try sh(["/bin/bash", script, "start", registryDir])
        try #require(started.status == 0, "registry.sh: \(started.stderr)")
        defer {
            _ = try? sh(["/bin/bash", script, "stop", registryDir])
            try? FileManager.default.removeItem(atPath: registryDir)
        }
        let address = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let reference = "\(address)/busybox:x"
        func push(_ layout: String) throws {
            let copied = try sh(["/usr/bin/skopeo", "copy", "--dest-tls-verify=false", "oci:\(layout):latest", "docker://\(reference)"])
            try #require(copied.status == 0, "skopeo copy: \(copied.stderr)")
        }
        try push(EngineEnv.busyboxLayout)

        let berth = try BerthEngine(loadBusybox: false)
        defer { berth.remove() }
        #expect(try berth.call("images", "-q") == "")
        let first = try berth.callAnyway(["run", "--rm", reference, "sh", "-c", "echo mark=$MARK"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "mark=\n")
        #expect(first.stderr.hasPrefix("Unable to find image '\(reference)' locally\n"), "\(first.stderr)")
        #expect(first.stderr.contains("x: Pulling from busybox"))
        #expect(first.stderr.contains("Status: Downloaded newer image for \(reference)"))
        // Present now: no pull.
        let second = try berth.callAnyway(["run", "--rm", reference, "true"])
        #expect(second.status == 0 && second.stderr == "", "\(second.stderr)")

        // The tag moves to another image (the same one with MARK set in its config).
        let changed = registryDir + "/changed"
        try #require(try sh(["/bin/cp", "-a", EngineEnv.busyboxLayout, changed]).status == 0)
        let configured = try sh(["/usr/bin/umoci", "config", "--image", changed + ":latest", "--config.env", "MARK=two"])
        try #require(configured.status == 0, "umoci config: \(configured.stderr)")
        try push(changed)
        // Without --pull always the local image is used as it is.
        #expect(try berth.call("run", "--rm", reference, "sh", "-c", "echo mark=$MARK") == "mark=\n")
        let always = try berth.callAnyway(["run", "--rm", "--pull", "always", reference, "sh", "-c", "echo mark=$MARK"])
        #expect(always.status == 0, "\(always.stderr)")
        #expect(always.stdout == "mark=two\n")
        #expect(!always.stderr.contains("Unable to find image"))
        #expect(always.stderr.contains("Status: Downloaded newer image for \(reference)"), "\(always.stderr)")
        // And again: the registry has nothing newer.
        let again = try berth.callAnyway(["run", "--rm", "--pull", "always", reference, "true"])
        #expect(again.status == 0)
        #expect(again.stderr.contains("Status: Image is up to date for \(reference)"), "\(again.stderr)")
    }

    // MARK: - logs

    /// `logs -f` started right after `run -d` prints every line once, in order, while the
    /// json-file log rotates under it many times, and ends when the container exits.
    @Test func logsFollowAcrossRotation() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let script = "sleep 1; i=1; while [ $i -le 2000 ]; do echo \"line $i\"; [ $((i % 100)) = 0 ] && sleep 0.05; i=$((i + 1)); done"
        let id = try berth.call("run", "-d", "--log-opt", "max-size=1k", "--log-opt", "max-file=3", "busybox:test", "sh", "-c", script)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let followed = try sh(["/usr/bin/timeout", "120", EngineEnv.berth, "--root", berth.root, "--runroot", berth.runRoot, "logs", "-f", id])
        #expect(followed.status == 0, "\(followed.stderr)")
        let expected = (1...2000).map { "line \($0)\n" }.joined()
        #expect(followed.stdout == expected, "\(followed.stdout.split(separator: "\n").count) lines")
        #expect(try berth.inspect(id, "{{.State.Status}}") == "exited")
        let logPath = try berth.inspect(id, "{{.LogPath}}")
        let directory = URL(fileURLWithPath: logPath).deletingLastPathComponent().path
        let name = URL(fileURLWithPath: logPath).lastPathComponent
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(name) })
        #expect(files == [name, name + ".1", name + ".2"], "\(files)")
    }
}
