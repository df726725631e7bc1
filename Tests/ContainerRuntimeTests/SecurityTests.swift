import Foundation
import OCI
import TestSupport
import Testing

/// Regression tests for the security invariants in DESIGN.md, each inside a real container.
@Suite(.enabled(if: Env.canRunContainers, "needs root, busybox-static and a built berth-runtime"))
struct SecurityTests {
    /// A bind source handed over as a detached mount tree (`/proc/self/fd/3`, as berth build hands
    /// its RUN binds over after resolving them inside their root): the runtime attaches that tree, so
    /// the name it was made from can be swapped for a symlink to the host's /etc meanwhile and the
    /// container still sees what was checked. A mount by path would follow the swapped name.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func aHandedOverBindTreeIsMountedNotItsName() throws {
        let bundle = try TestBundle(args: ["/bin/cat", "/data/checked"])
        let source = bundle.directory + "/source"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try "what was checked\n".write(toFile: source + "/checked", atomically: false, encoding: .utf8)
        bundle.spec.mounts = (bundle.spec.mounts ?? []) + [Mount(destination: "/data", type: "bind", source: "/proc/self/fd/3", options: ["rbind", "ro"])]
        try bundle.write()
        // Clone the tree, then swap the name for a link to the host's /etc, then run with fd 3.
        let script = """
            import ctypes, os, subprocess, sys
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            OPEN_TREE_CLONE, AT_RECURSIVE, AT_FDCWD = 1, 0x8000, -100
            fd = libc.syscall(428, AT_FDCWD, sys.argv[1].encode(), OPEN_TREE_CLONE | AT_RECURSIVE)
            if fd < 0: sys.exit("open_tree: %d" % ctypes.get_errno())
            os.rename(sys.argv[1], sys.argv[1] + ".moved")
            os.symlink("/etc", sys.argv[1])
            os.dup2(fd, 3)
            r = subprocess.run(sys.argv[2:], pass_fds=[3], capture_output=True)
            sys.stdout.write(r.stdout.decode()); sys.stderr.write(r.stderr.decode()); sys.exit(r.returncode)
            """
        let id = Env.uniqueID("tree")
        let out = try sh(["/usr/bin/python3", "-c", script, source, Env.berth, "--root", bundle.directory + "/state", "run", "--bundle", bundle.path, id])
        _ = try? sh([Env.berth, "--root", bundle.directory + "/state", "delete", "-f", id])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout == "what was checked\n", "the container saw: \(out.stdout) \(out.stderr)")
        // The control: the same mount by the name, which now leads to the host's /etc.
        bundle.spec.mounts = (bundle.spec.mounts ?? []).filter { $0.destination != "/data" }
            + [Mount(destination: "/data", type: "bind", source: source, options: ["rbind", "ro"])]
        bundle.spec.process?.args = ["/bin/ls", "/data"]
        try bundle.write()
        let byName = try RuntimeCLI.berth(bundle).run(Env.uniqueID("name"), bundle: bundle)
        #expect(byName.stdout.contains("passwd"), "\(byName.stdout) \(byName.stderr)")
    }

    /// A local user pre-creates tmpcopyup's old fixed scratch name (the init is pid 1 in its pid
    /// namespace, so it was always /tmp/.berth-copyup-1) as a symlink to a file of theirs: the
    /// container must still start with the image's content, and the file must stay as it was.
    /// (With the fixed name the bind followed the link and failed: any local user could stop every
    /// tmpcopyup container, or aim the runtime's mount at a path of their choosing.)
    @Test func tmpcopyupIgnoresAPlantedScratchPath() throws {
        let fixed = "/tmp/.berth-copyup-1"
        // Another run's leftover or a real attacker: the test cannot plant over it.
        try #require(!FileManager.default.fileExists(atPath: fixed) && (try? FileManager.default.destinationOfSymbolicLink(atPath: fixed)) == nil)
        let bundle = try TestBundle()
        let planted = bundle.directory + "/attacker-file"
        try "attacker\n".write(toFile: planted, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: fixed, withDestinationPath: planted)
        defer { try? FileManager.default.removeItem(atPath: fixed) }
        try FileManager.default.createDirectory(atPath: bundle.rootfs + "/data", withIntermediateDirectories: true)
        try "image\n".write(toFile: bundle.rootfs + "/data/file", atomically: true, encoding: .utf8)
        bundle.spec.mounts?.append(Mount(destination: "/data", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup"]))
        try bundle.shell("cat /data/file")
        let result = try RuntimeCLI.berth(bundle).run(Env.uniqueID("copyup"), bundle: bundle)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "image\n")
        #expect(try String(contentsOfFile: planted, encoding: .utf8) == "attacker\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: fixed) == planted)
    }

    /// An image whose directories are absolute symlinks to host paths: a mount destination and a
    /// device path through them must land inside the rootfs, never on the host (CVE-2021-30465 class).
    @Test func symlinkedMountAndDevicePathsStayInsideTheRootfs() throws {
        let bundle = try TestBundle()
        let hostTarget = bundle.directory + "/host-target"
        try FileManager.default.createDirectory(atPath: hostTarget, withIntermediateDirectories: true)
        // Absolute links and ../ escapes both point at the host directory.
        try FileManager.default.createSymbolicLink(atPath: bundle.rootfs + "/escape", withDestinationPath: hostTarget)
        try FileManager.default.createSymbolicLink(atPath: bundle.rootfs + "/climb", withDestinationPath: "../../../../../../../.." + hostTarget)
        bundle.spec.mounts = (bundle.spec.mounts ?? []) + [
            Mount(destination: "/escape/mnt", type: "tmpfs", source: "tmpfs", options: ["size=1m"]),
            Mount(destination: "/climb/mnt2", type: "tmpfs", source: "tmpfs", options: ["size=1m"]),
        ]
        bundle.spec.linux?.devices = [Device(type: "c", path: "/escape/evilnull", major: 1, minor: 3, fileMode: 0o666)]
        try bundle.shell("grep -c ' /.*mnt' /proc/self/mounts; ls /escape")
        let result = try RuntimeCLI.berth(bundle).run(Env.uniqueID("sym"), bundle: bundle)
        #expect(result.status == 0, "\(result.stderr)")
        let hostEntries = try FileManager.default.contentsOfDirectory(atPath: hostTarget)
        #expect(hostEntries.isEmpty, "nothing may be created on the host: \(hostEntries)")
        // Inside the rootfs the links resolved against its root: /host-target/... within it.
        #expect(FileManager.default.fileExists(atPath: bundle.rootfs + hostTarget + "/evilnull"))
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mounts.contains(hostTarget), "no mount on the host's directory")
    }

    /// No descriptor of the runtime or of its caller reaches the container, and the cwd is the
    /// configured one inside the root (CVE-2024-21626); --preserve-fds passes exactly what it names.
    @Test func noHostDescriptorReachesTheContainer() throws {
        let bundle = try TestBundle()
        bundle.spec.process?.cwd = "/tmp"
        try bundle.shell("ls /proc/self/fd | tr '\\n' ' '; echo; readlink /proc/self/cwd")
        // The test process holds descriptors without close-on-exec; the runtime must not pass them on.
        let leaked = open("/dev/null", O_RDONLY)
        defer { close(leaked) }
        let result = try RuntimeCLI.berth(bundle).run(Env.uniqueID("fds"), bundle: bundle)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        // 0-2 and the one ls opens to read the directory.
        #expect(lines.first == "0 1 2 3 ")
        #expect(lines.last == "/tmp")
    }

    @Test func preservedDescriptorsArePassedOn() throws {
        let bundle = try TestBundle()
        try bundle.shell("readlink /proc/self/fd/3; cat <&3")
        let file = bundle.directory + "/passed"
        try "passed-content".write(toFile: file, atomically: true, encoding: .utf8)
        let id = Env.uniqueID("pfd")
        // fd 3 of berth-runtime is the file: the shell opens it for the child.
        let result = try sh(["/bin/sh", "-c", "exec 3<\(file); exec \(Env.berth) --root \(bundle.directory)/state run --preserve-fds 1 --bundle \(bundle.path) \(id)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("passed-content"))
    }

    /// While a container is created but not started its init is the runtime binary; another
    /// container that sees it (shared pid namespace) must not be able to open /proc/PID/exe (CVE-2019-5736).
    @Test func runtimeBinaryIsUnreachableThroughProcExe() throws {
        let victim = try TestBundle(args: ["/bin/true"])
        let withoutPidNamespace = (victim.spec.linux?.namespaces ?? []).filter { $0.type != .pid }
        victim.spec.linux?.namespaces = withoutPidNamespace
        try victim.write()
        let berth = RuntimeCLI.berth(victim)
        let id = Env.uniqueID("exe")
        #expect(try berth("create", "--bundle", victim.path, id).status == 0)
        defer { _ = try? berth("delete", "-f", id) }
        let pid = try #require(try berth.state(id)?["pid"] as? Int)

        let attacker = try TestBundle()
        attacker.spec.linux?.namespaces = withoutPidNamespace
        attacker.spec.mounts = attacker.spec.mounts?.map { mount in
            // The host's /proc, to see the victim's init as the attacker would in a shared pid namespace.
            mount.destination == "/proc" ? Mount(destination: "/proc", type: "bind", source: "/proc", options: ["rbind"]) : mount
        }
        attacker.spec.linux?.maskedPaths = []
        attacker.spec.linux?.readonlyPaths = []
        // A started container's process is an ordinary program: its exe opens, which shows the attacker's
        // view works and that the denial below comes from the runtime's protection.
        let control = try TestBundle(args: ["/bin/sleep", "100"])
        control.spec.linux?.namespaces = withoutPidNamespace
        try control.write()
        let controlID = Env.uniqueID("ctl")
        #expect(try RuntimeCLI.berth(control)("run", "-d", "--bundle", control.path, controlID).status == 0)
        defer { _ = try? RuntimeCLI.berth(control)("delete", "-f", controlID) }
        let controlPid = try #require(try RuntimeCLI.berth(control).state(controlID)?["pid"] as? Int)

        try attacker.shell("""
            ( exec 3</proc/\(controlPid)/exe ) 2>/dev/null && echo control-opened || echo control-denied
            ( exec 3</proc/\(pid)/exe ) 2>/dev/null && echo opened-exe || echo denied
            ( echo x >>/proc/\(pid)/exe ) 2>/dev/null && echo wrote-exe || echo write-denied
            """)
        let result = try RuntimeCLI.berth(attacker).run(Env.uniqueID("atk"), bundle: attacker)
        #expect(result.stdout == "control-opened\ndenied\nwrite-denied\n", "stdout: \(result.stdout) stderr: \(result.stderr)")
    }

    /// Masking binds a verified /dev/null even when the image's /dev/null is a symlink to a file
    /// the attacker wants writable (CVE-2025-31133).
    @Test func maskedPathsHoldWhenDevNullIsASymlink() throws {
        let bundle = try TestBundle()
        // No /dev tmpfs: the container keeps the image's /dev, where null is a link to a host-sensitive file.
        bundle.spec.mounts = bundle.spec.mounts?.filter { !$0.destination.hasPrefix("/dev") }
        try FileManager.default.createSymbolicLink(atPath: bundle.rootfs + "/dev/null", withDestinationPath: "/proc/sys/kernel/core_pattern")
        bundle.spec.linux?.maskedPaths = ["/proc/timer_list", "/proc/kcore", "/proc/acpi"]
        try bundle.shell("""
            stat -L -c '%F %t:%T' /proc/timer_list
            wc -c < /proc/timer_list
            ls /proc/acpi | wc -l
            """)
        let result = try RuntimeCLI.berth(bundle).run(Env.uniqueID("mask"), bundle: bundle)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "character special file 1:3\n0\n0\n")
    }

    /// sysctl writes go through a procfs the container cannot reach: a bind mount the config puts over
    /// the sysctl's file inside the container's /proc does not catch the write (CVE-2025-52881).
    @Test func procWritesCannotBeRedirected() throws {
        let bundle = try TestBundle(args: ["/bin/sleep", "100"])
        let decoy = bundle.directory + "/decoy"
        try "untouched\n".write(toFile: decoy, atomically: true, encoding: .utf8)
        bundle.spec.mounts?.append(Mount(destination: "/proc/sys/net/ipv4/ip_forward", type: "bind", source: decoy,
                                         options: ["bind"]))
        bundle.spec.linux?.sysctl = ["net.ipv4.ip_forward": "1"]
        bundle.spec.process?.oomScoreAdj = 123
        try bundle.write()
        let berth = RuntimeCLI.berth(bundle)
        let id = try berth.launch(bundle, prefix: "procw", started: true)
        defer { _ = try? berth("delete", "-f", id) }
        let pid = try #require(try berth.state(id)?["pid"] as? Int)
        #expect(try String(contentsOfFile: decoy, encoding: .utf8) == "untouched\n")
        // The real sysctl of the container's network namespace took the value.
        let real = try sh(["/usr/bin/nsenter", "--net=/proc/\(pid)/ns/net", "/bin/cat", "/proc/sys/net/ipv4/ip_forward"])
        #expect(real.stdout == "1\n", "\(real.stderr)")
        #expect(try String(contentsOfFile: "/proc/\(pid)/oom_score_adj", encoding: .utf8) == "123\n")
    }

    /// A malformed config.json is refused with the JSON path of the bad field and leaves existing
    /// containers untouched.
    @Test(arguments: [
        (#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","user":{"uid":"zero","gid":0},"args":["sh"]}}"#, "process.user.uid"),
        (#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"]},"linux":{"namespaces":[{"type":"mount"},{"type":"bogus"}]}}"#, "linux.namespaces[1].type"),
        (#"{"ociVersion":"2.0.0","root":{"path":"rootfs"}}"#, "ociVersion"),
        (#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"relative","user":{"uid":0,"gid":0},"args":["sh"]}}"#, "process.cwd"),
        (#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"#, "not valid JSON"),
    ])
    func badConfigIsRefusedWithItsPath(_ config: String, _ expected: String) throws {
        let keep = try TestBundle.sleeping()
        let berth = RuntimeCLI.berth(keep)
        let kept = try berth.launch(keep, prefix: "keep")
        defer { _ = try? berth("delete", "-f", kept) }

        let bad = try TestBundle()
        try config.write(toFile: bad.path + "/config.json", atomically: true, encoding: .utf8)
        let id = Env.uniqueID("bad")
        let log = bad.directory + "/log.json"
        let result = try sh([Env.berth, "--root", berth.root, "--log", log, "--log-format", "json", "create", "--bundle", bad.path, id])
        #expect(result.status == 1)
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        // containerd reads the msg of the last error line of the JSON log.
        let lastLine = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last ?? ""
        let entry = try #require(try JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any])
        #expect(entry["level"] as? String == "error")
        #expect((entry["msg"] as? String)?.contains(expected) == true)
        #expect(try berth("state", id).status != 0)
        #expect(try berth.state(kept)?["status"] as? String == "created")
    }
}
