import Foundation
import Testing

/// The lifecycle the runtime spec defines, driven through the berth-runtime binary and compared
/// with runc on the same bundle.
@Suite(.enabled(if: Env.canRunContainers, "needs root, busybox-static and a built berth-runtime"))
struct LifecycleTests {
    /// create -> created -> start -> running -> kill -> stopped -> delete -> gone, for berth and runc alike.
    @Test(arguments: ["berth", "runc"])
    func statusesFollowTheSpec(_ runtimeName: String) throws {
        if runtimeName == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle(args: ["/bin/sleep", "100"])
        try bundle.write()
        let runtime = runtimeName == "berth" ? RuntimeCLI.berth(bundle) : RuntimeCLI.runc(bundle)
        let id = Env.uniqueID("life")

        let created = try runtime("create", "--bundle", bundle.path, id)
        #expect(created.status == 0, "\(created.stderr)")
        let state1 = try #require(try runtime.state(id))
        #expect(state1["status"] as? String == "created")
        let pid = try #require(state1["pid"] as? Int)
        #expect(pid > 0)
        #expect(state1["bundle"] as? String == bundle.path)
        #expect(state1["id"] as? String == id)

        // Still blocked before exec: the init is the runtime, not sleep.
        let comm = try String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)
        #expect(!comm.hasPrefix("sleep"))

        #expect(try runtime("start", id).status == 0)
        #expect(try runtime.state(id)?["status"] as? String == "running")
        #expect(try runtime("start", id).status != 0, "start is only allowed from created")
        #expect(try runtime("delete", id).status != 0, "delete of a running container needs --force")

        #expect(try runtime("kill", id, "KILL").status == 0)
        try waitUntil { try runtime.state(id)?["status"] as? String == "stopped" }
        #expect(try runtime.state(id)?["pid"] as? Int == 0)
        #expect(try runtime("kill", id, "TERM").status != 0, "kill of a stopped container fails")
        #expect(try runtime("delete", id).status == 0)
        let gone = try runtime("state", id)
        #expect(gone.status != 0)
        #expect(gone.stderr.contains("container does not exist"))
    }

    @Test func createdContainerCanBeDeletedWithoutForce() throws {
        let bundle = try TestBundle.sleeping()
        let berth = RuntimeCLI.berth(bundle)
        let id = try berth.launch(bundle, prefix: "del")
        let pid = try #require(try berth.state(id)?["pid"] as? Int)
        let deleted = try berth("delete", id)
        #expect(deleted.status == 0, "\(deleted.stderr)")
        try waitUntil { !FileManager.default.fileExists(atPath: "/proc/\(pid)/stat") || (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z") == true }
    }

    @Test func forceDeleteKillsARunningContainer() throws {
        let bundle = try TestBundle.sleeping()
        let berth = RuntimeCLI.berth(bundle)
        let id = try berth.launch(bundle, prefix: "force", started: true)
        #expect(try berth.state(id)?["status"] as? String == "running")
        let deleted = try berth("delete", "--force", id)
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(try berth("state", id).status != 0)
        #expect(try berth("delete", "--force", id).status == 0, "force delete of a missing container succeeds, as in runc")
    }

    @Test func duplicateIDIsRefusedAndTheFirstSurvives() throws {
        let bundle = try TestBundle.sleeping()
        let berth = RuntimeCLI.berth(bundle)
        let id = try berth.launch(bundle, prefix: "dup")
        let second = try berth("create", "--bundle", bundle.path, id)
        #expect(second.status == 1)
        #expect(second.stderr.contains("container with id exists: \(id)"))
        #expect(try berth.state(id)?["status"] as? String == "created")
        #expect(try berth("delete", "-f", id).status == 0)
    }

    /// `run` exits with the process's status, or 128 + the signal that killed it, like runc.
    @Test(arguments: [("exit 0", Int32(0)), ("exit 3", Int32(3)), ("kill -9 $$", Int32(137)), ("kill -15 $$", Int32(143))])
    func runReturnsTheExitStatus(_ script: String, _ expected: Int32) throws {
        let bundle = try TestBundle()
        // pid 1 ignores signals it has no handler for, so the shell runs as a child of an init.
        let namespaces = bundle.spec.linux?.namespaces ?? []
        bundle.spec.linux?.namespaces = namespaces.filter { $0.type != .pid }
        try bundle.shell(script)
        let berth = try RuntimeCLI.berth(bundle).run(Env.uniqueID("exit"), bundle: bundle)
        #expect(berth.status == expected, "\(berth.stderr)")
        if Env.hasRunc {
            let runc = try RuntimeCLI.runc(bundle).run(Env.uniqueID("exit"), bundle: bundle)
            #expect(runc.status == berth.status)
        }
    }

    @Test func missingExecutableFailsCreateWithRuncsMessage() throws {
        let bundle = try TestBundle(args: ["nosuchprogram"])
        try bundle.write()
        let berth = RuntimeCLI.berth(bundle)
        let id = Env.uniqueID("noexec")
        let result = try berth("create", "--bundle", bundle.path, id)
        #expect(result.status == 1)
        #expect(result.stderr.contains("exec: \\\"nosuchprogram\\\": executable file not found in $PATH"), "\(result.stderr)")
        #expect(try berth("state", id).status != 0, "a failed create leaves no container")
        #expect(try berth("list", "-q").stdout.isEmpty)
    }

    @Test func listPrintsTableJSONAndQuiet() throws {
        let bundle = try TestBundle.sleeping()
        let berth = RuntimeCLI.berth(bundle)
        let id = try berth.launch(bundle, prefix: "list")
        defer { _ = try? berth("delete", "-f", id) }
        let table = try berth("list").stdout.split(separator: "\n")
        #expect(table.first?.hasPrefix("ID") == true)
        #expect(table.first?.contains("PID") == true && table.first?.contains("OWNER") == true)
        #expect(table.count == 2 && table[1].hasPrefix(id) && table[1].contains("created"))
        #expect(try berth("list", "-q").stdout == id + "\n")
        let json = try berth("list", "--format", "json").stdout
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(parsed.count == 1 && parsed[0]["id"] as? String == id && parsed[0]["status"] as? String == "created")
        #expect(parsed[0]["owner"] as? String == "root")
    }

    /// An interrupted create (a kill -9 before state.json was written) leaves a directory that list
    /// skips and delete removes.
    @Test func interruptedCreateIsCleanedByDelete() throws {
        let bundle = try TestBundle()
        let berth = RuntimeCLI.berth(bundle)
        let id = Env.uniqueID("torn")
        try FileManager.default.createDirectory(atPath: berth.root + "/" + id, withIntermediateDirectories: true)
        #expect(try berth("list", "-q").status == 0)
        let state = try berth("state", id)
        #expect(state.status != 0 && state.stderr.contains("not fully created"))
        #expect(try berth("delete", id).status == 0)
        #expect(!FileManager.default.fileExists(atPath: berth.root + "/" + id))
    }

    /// Issue 20: `kill --all` of a container whose init has exited signals what is left in its cgroup
    /// and succeeds, as in runc: a container without a pid namespace of its own (one in a shared-PID
    /// pod) keeps its other processes when the init exits, and containerd's shim kills them so on every
    /// task delete. A plain `kill` of it still fails ("container not running").
    @Test(arguments: ["berth", "runc"])
    func killAllReachesWhatOutlivesTheInit(_ runtimeName: String) throws {
        if runtimeName == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle()
        let namespaces = bundle.spec.linux?.namespaces?.filter { $0.type != .pid }
        bundle.spec.linux?.namespaces = namespaces
        try bundle.shell("sleep 1000 </dev/null >/dev/null 2>&1 & echo $! >/tmp/left")
        let runtime = RuntimeCLI.named(runtimeName, bundle)
        let id = Env.uniqueID("killall")
        let created = try runtime("create", "--bundle", bundle.path, id)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try runtime("start", id).status == 0)
        try waitUntil { try runtime.state(id)?["status"] as? String == "stopped" }
        let text = try String(contentsOfFile: bundle.rootfs + "/tmp/left", encoding: .utf8)
        let left = try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer {
            kill(left, SIGKILL)
            _ = try? runtime("delete", "--force", id)
        }
        #expect(kill(left, 0) == 0, "the background sleep outlives the init")

        #expect(try runtime("kill", id, "KILL").status == 1, "kill of the exited init fails")
        let all = try runtime("kill", "--all", id, "KILL")
        #expect(all.status == 0, "\(all.stderr)")
        try waitUntil { !isRunning(left) }
        #expect(try runtime("kill", "--all", id, "KILL").status == 0, "again, with nothing left in the cgroup")
        #expect(try runtime("delete", id).status == 0)
        #expect(try runtime("kill", "--all", id, "KILL").status == 1, "a container that does not exist")
    }

    /// kill -9 of the container's init: later commands see it stopped and delete cleans up its cgroup.
    @Test func killedInitLeavesTrustworthyState() throws {
        let bundle = try TestBundle.sleeping()
        let berth = RuntimeCLI.berth(bundle)
        let id = try berth.launch(bundle, prefix: "k9", started: true)
        let pid = try #require(try berth.state(id)?["pid"] as? Int)
        let cgroupLine = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
            .split(separator: "\n").first { $0.contains(":pids:") || $0.hasPrefix("0::") }
        kill(pid_t(pid), SIGKILL)
        try waitUntil { try berth.state(id)?["status"] as? String == "stopped" }
        #expect(try berth("delete", id).status == 0)
        if let cgroupLine, cgroupLine.contains(":pids:") {
            let path = "/sys/fs/cgroup/pids" + cgroupLine.split(separator: ":", maxSplits: 2)[2]
            #expect(!FileManager.default.fileExists(atPath: path), "cgroup \(path) removed on delete")
        }
    }
}

/// Whether a process is there and not a zombie.
func isRunning(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    return !stat.contains(") Z")
}

/// Polls a condition for up to five seconds.
func waitUntil(_ condition: () throws -> Bool) throws {
    for _ in 0..<500 {
        if try condition() { return }
        usleep(10_000)
    }
    Issue.record("condition not met within 5 s")
}
