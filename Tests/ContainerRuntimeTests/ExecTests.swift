import Foundation
import OCI
import TestSupport
import Testing

/// `exec`: a second process in a running container, compared with runc on the same bundle.
@Suite(.enabled(if: Env.canRunContainers, "needs root, busybox-static and a built berth-runtime"))
struct ExecTests {
    @Test(arguments: ["berth", "runc"])
    func statusOutputAndFlagsMatchRunc(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle.sleeping()
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "exec", started: true)
        defer { _ = try? runtime("delete", "-f", id) }

        let three = try runtime("exec", id, "sh", "-c", "echo out; echo err >&2; exit 3")
        #expect(three.status == 3)
        #expect(three.stdout == "out\n")
        #expect(three.stderr.contains("err"))

        let flags = try runtime("exec", "--user", "1000:1001", "--additional-gids", "7", "--env", "FOO=bar",
                                "--cwd", "/tmp", id, "sh", "-c", "id -u; id -g; id -G; echo $FOO; pwd")
        #expect(flags.status == 0, "\(flags.stderr)")
        #expect(flags.stdout == "1000\n1001\n1001 7\nbar\n/tmp\n")

        let missing = try runtime("exec", id, "no-such-program")
        #expect(missing.status == 255)
        #expect(missing.stderr.contains("exec failed"))
        #expect(missing.stderr.contains("executable file not found in $PATH"))

        let killed = try runtime("exec", id, "sh", "-c", "kill -9 $$")
        #expect(killed.status == 137)
    }

    /// The process is in every namespace and the cgroup of the init, with the init's capabilities.
    @Test(arguments: ["berth", "runc"])
    func joinsTheInitsNamespacesAndCgroup(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle(args: ["/bin/sleep", "100"])
        bundle.spec.hostname = "exec-host"
        try bundle.write()
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "execns", started: true)
        defer { _ = try? runtime("delete", "-f", id) }
        let pid = try #require(try runtime.state(id)?["pid"] as? Int)

        let script = "for n in ipc mnt net pid uts cgroup; do readlink /proc/self/ns/$n; done; hostname; "
            + "grep -E '^Cap(Eff|Bnd)' /proc/self/status; cat /proc/self/cgroup | sort"
        let inside = try runtime("exec", id, "sh", "-c", script)
        #expect(inside.status == 0, "\(inside.stderr)")
        var expected = ""
        for ns in ["ipc", "mnt", "net", "pid", "uts", "cgroup"] {
            expected += (try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(ns)")) + "\n"
        }
        expected += "exec-host\n"
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        expected += status.split(separator: "\n").filter { $0.hasPrefix("CapEff") || $0.hasPrefix("CapBnd") }.joined(separator: "\n") + "\n"
        #expect(inside.stdout.hasPrefix(expected), "\(inside.stdout)")
        // The init's cgroup, as seen from inside its cgroup namespace.
        let initCgroups = try runtime("exec", id, "cat", "/proc/1/cgroup")
        let sorted = initCgroups.stdout.split(separator: "\n").sorted().joined(separator: "\n") + "\n"
        #expect(inside.stdout.hasSuffix(sorted))
    }

    @Test(arguments: ["berth", "runc"])
    func processFileDetachAndPidFile(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle.sleeping()
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "execp", started: true)
        defer { _ = try? runtime("delete", "-f", id) }

        var process = OCI.Process(args: ["/bin/sh", "-c", "echo from-file $X; id -u"], env: ["X=1", "PATH=/bin"], cwd: "/")
        process.user = User(uid: 65534, gid: 65534)
        let file = bundle.directory + "/process.json"
        try Data(encodePretty(process)).write(to: URL(fileURLWithPath: file))
        let fromFile = try runtime("exec", "--process", file, id)
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(fromFile.stdout == "from-file 1\n65534\n")

        let pidFile = bundle.directory + "/exec.pid"
        let detached = try runtime("exec", "--detach", "--pid-file", pidFile, id, "sleep", "50")
        #expect(detached.status == 0, "\(detached.stderr)")
        let pid = try #require(Int(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // runc writes the pid file before its init has exec'd (comm is still "runc:[2:INIT]" for a
        // moment under load): the process must become sleep, soon.
        var comm = ""
        for _ in 0..<100 {
            comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
            if comm == "sleep\n" { break }
            usleep(20_000)
        }
        #expect(comm == "sleep\n")
        let ps = try runtime("ps", "--format", "json", id)
        let pids = try #require(try JSONSerialization.jsonObject(with: Data(ps.stdout.utf8)) as? [Int])
        #expect(pids.contains(pid))
        #expect(pids.count == 2)
    }

    @Test(arguments: ["berth", "runc"])
    func refusesPausedAndStoppedContainers(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle.sleeping()
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "execpz", started: true)
        defer { _ = try? runtime("delete", "-f", id) }
        #expect(try runtime("pause", id).status == 0)
        let paused = try runtime("exec", id, "true")
        #expect(paused.status == 255)
        #expect(paused.stderr.contains("paused"))
        #expect(try runtime("resume", id).status == 0)
        #expect(try runtime("kill", id, "KILL").status == 0)
        try waitUntil { try runtime.state(id)?["status"] as? String == "stopped" }
        let stopped = try runtime("exec", id, "true")
        #expect(stopped.status == 255)
        #expect(stopped.stderr.contains("stopped"))
    }

    /// Nothing of the runtime reaches the exec'd process: only fds 0-2 (and ls's own directory fd).
    @Test func noRuntimeDescriptorsLeakIntoExec() throws {
        let bundle = try TestBundle.sleeping()
        let berth = RuntimeCLI.berth(bundle)
        let id = try berth.launch(bundle, prefix: "execfd", started: true)
        defer { _ = try? berth("delete", "-f", id) }
        let fds = try berth("exec", id, "ls", "/proc/self/fd")
        #expect(fds.status == 0, "\(fds.stderr)")
        #expect(fds.stdout.split(separator: "\n").sorted() == ["0", "1", "2", "3"])
        // And the exec'd process cannot open the runtime binary through /proc/<pid>/exe of a sibling.
        let exe = try berth("exec", id, "sh", "-c", "readlink /proc/1/exe; readlink /proc/self/exe")
        #expect(!exe.stdout.contains("berth-runtime"))
    }

    /// A container with CAP_SYS_ADMIN covers its /proc/sys/kernel/cap_last_cap with a file saying 0;
    /// an exec'd process must still get exactly the spec's bounding set (the runtime asks the kernel,
    /// not the container's /proc), the same set the init has.
    @Test func execIgnoresAFakeCapLastCap() throws {
        let bundle = try TestBundle(args: ["/bin/sleep", "100"])
        try "0\n".write(toFile: bundle.rootfs + "/fakecap", atomically: true, encoding: .utf8)
        let caps = ["CAP_SYS_ADMIN", "CAP_KILL", "CAP_CHOWN"]
        bundle.spec.process?.capabilities = Capabilities(bounding: caps, effective: caps, permitted: caps)
        try bundle.shell("mount --bind /fakecap /proc/sys/kernel/cap_last_cap && exec sleep 100")
        let berth = RuntimeCLI.berth(bundle)
        let id = try berth.launch(bundle, prefix: "execcap", started: true)
        defer { _ = try? berth("delete", "-f", id) }
        let pid = try #require(try berth.state(id)?["pid"] as? Int)
        var faked = ""
        for _ in 0..<100 {
            faked = try berth("exec", id, "cat", "/proc/sys/kernel/cap_last_cap").stdout
            if faked == "0\n" { break }
            usleep(50_000)
        }
        #expect(faked == "0\n", "the attack's fake file is in place")
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let initBounding = status.split(separator: "\n").first { $0.hasPrefix("CapBnd") }.map(String.init)
        let inside = try berth("exec", id, "grep", "^CapBnd", "/proc/self/status")
        #expect(inside.status == 0, "\(inside.stderr)")
        #expect(inside.stdout == (initBounding ?? "none") + "\n", "exec: \(inside.stdout) init: \(initBounding ?? "")")
    }

    @Test func execInAUserNamespaceContainer() throws {
        let bundle = try TestBundle(args: ["/bin/sleep", "100"])
        bundle.spec.linux?.namespaces?.append(Namespace(type: .user))
        bundle.spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 100_000, size: 65536)]
        bundle.spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 100_000, size: 65536)]
        try bundle.write()
        _ = try sh(["/bin/chown", "-R", "100000:100000", bundle.rootfs])
        let berth = RuntimeCLI.berth(bundle)
        let id = try berth.launch(bundle, prefix: "execus", started: true)
        defer { _ = try? berth("delete", "-f", id) }
        let maps = try berth("exec", id, "cat", "/proc/self/uid_map")
        #expect(maps.status == 0, "\(maps.stderr)")
        #expect(maps.stdout.split(separator: " ", omittingEmptySubsequences: true).map(String.init).prefix(3) == ["0", "100000", "65536\n"])
    }

    /// Berth's --status-fd: one JSON line saying the process started (its pid), or why it could not,
    /// with the kind Engine maps to Docker's 127 and 126; the failure then goes nowhere else (the
    /// caller prints it), and the status is runc's 255.
    @Test func statusFDReportsTheStartOrATypedFailure() throws {
        let bundle = try TestBundle.sleeping()
        let berth = RuntimeCLI.berth(bundle)
        let id = try berth.launch(bundle, prefix: "execstatus", started: true)
        defer { _ = try? berth("delete", "-f", id) }
        func report(_ command: [String]) throws -> (Output, [String: Any]) {
            let file = bundle.directory + "/status"
            let quoted = command.map { "'\($0)'" }.joined(separator: " ")
            let output = try sh(["/bin/sh", "-c", "exec '\(Env.berth)' --root '\(berth.root)' exec --status-fd 3 \(id) \(quoted) 3>'\(file)'"])
            let text = try String(contentsOfFile: file, encoding: .utf8)
            #expect(text.hasSuffix("\n") && text.filter { $0 == "\n" }.count == 1, "\(text)")
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
            return (output, object)
        }
        let started = try report(["sh", "-c", "exit 3"])
        #expect(started.0.status == 3)
        #expect((started.1["pid"] as? Int ?? 0) > 0 && started.1["error"] == nil, "\(started.1)")
        for (command, kind) in [(["nosuch"], "executableNotFound"), (["/nonexistent"], "executableNotFound"),
                                (["/etc/passwd"], "executableNotRunnable"), (["/tmp"], "executableNotRunnable")] {
            let (output, object) = try report(command)
            #expect(output.status == 255)
            #expect(output.stderr == "", "\(output.stderr)")
            #expect(object["kind"] as? String == kind, "\(command): \(object)")
            #expect((object["error"] as? String ?? "").hasPrefix("unable to start container process: exec: \"\(command[0])\""), "\(object)")
        }
    }

    /// The clone audit (BERTH_TEST_CLONE_AUDIT): berth-runtime exec clones the process from itself,
    /// single-threaded.
    @Test func runtimeExecClonesSingleThreaded() throws {
        let bundle = try TestBundle.sleeping()
        let berth = RuntimeCLI.berth(bundle)
        let id = try berth.launch(bundle, prefix: "execaudit", started: true)
        defer { _ = try? berth("delete", "-f", id) }
        let audit = bundle.directory + "/clone-audit"
        let pidFile = bundle.directory + "/runtime-pid"
        let result = try sh(["/bin/sh", "-c", "echo $$ > '\(pidFile)'; exec '\(Env.berth)' --root '\(berth.root)' exec \(id) true"],
                            environment: ProcessInfo.processInfo.environment.merging(["BERTH_TEST_CLONE_AUDIT": audit]) { $1 })
        #expect(result.status == 0, "\(result.stderr)")
        let runtimePid = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try String(contentsOfFile: audit, encoding: .utf8) == "pid=\(runtimePid) threads=1\n")
    }
}

