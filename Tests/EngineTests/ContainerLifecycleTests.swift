import Foundation
import TestSupport
import Testing

/// `berth run` and friends on real containers, compared with Podman running the same image.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct ContainerLifecycleTests {
    /// Same command, same image: the same exit status and output as Podman (Docker's statuses:
    /// the process's own, 126 not executable, 127 not found, 128 + signal).
    @Test(arguments: [
        ([String](["true"]), Int32(0)),
        (["sh", "-c", "echo out; echo err >&2; exit 3"], Int32(3)),
        (["nosuch"], Int32(127)),
        (["/etc/passwd"], Int32(126)),
        (["sh", "-c", "sleep 60 & kill -9 $!; wait $!"], Int32(137)),
        (["sh", "-c", "echo $HOME; id -u; id -g; pwd; cat /etc/hostname | tr -d '\\n' | wc -c; ls /"], Int32(0)),
    ] as [([String], Int32)])
    func exitStatusAndOutputMatchPodman(command: [String], expected: Int32) throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let ours = try berth.callAnyway(["run", "--rm", "busybox:test"] + command)
        #expect(ours.status == expected, "berth: \(ours.stderr)")
        if expected < 126 {
            #expect(ours.stderr == (command.joined(separator: " ").contains("err >&2") ? "err\n" : ""))
        } else if expected < 128 {
            #expect(ours.stderr.contains(command[0]), "the error names the command: \(ours.stderr)")
        }
        // --rm leaves nothing behind.
        #expect(try berth.call("ps", "-aq") == "")
        #expect(berth.mounts.isEmpty, "left mounted: \(berth.mounts)")
        guard EngineEnv.hasPodman else { return }
        let podman = try PodmanPeer()
        defer { podman.remove() }
        let theirs = try podman.run(["--rm", "busybox:test"] + command)
        #expect(ours.status == theirs.status, "podman: \(theirs.stderr)")
        if expected < 126 { #expect(ours.stdout == theirs.stdout) }
    }

    @Test func environmentAndWorkingDirectoryAndStdin() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let out = try berth.call("run", "--rm", "-e", "GREETING=hi there", "-w", "/tmp/new/dir", "busybox:test",
                                 "sh", "-c", "echo \"$GREETING\"; pwd; echo $PATH")
        #expect(out == "hi there\n/tmp/new/dir\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n")
        // -i: our stdin reaches the container, and its end is the container's end of input.
        let cat = try berth.callAnyway(["run", "--rm", "-i", "busybox:test", "sh", "-c", "tr a-z A-Z; echo done"], stdin: "hello\nworld\n")
        #expect(cat.status == 0, "\(cat.stderr)")
        #expect(cat.stdout == "HELLO\nWORLD\ndone\n")
        // Without -i the container's stdin is empty.
        let closed = try berth.call("run", "--rm", "busybox:test", "sh", "-c", "cat; echo end", stdin: "ignored\n")
        #expect(closed == "end\n")
    }

    @Test func terminalWithDashT() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let command = "exec \(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) run --rm -t busybox:test sh -c 'tty; echo $TERM; stty size'"
        let result = try sh(["/usr/bin/script", "-qefc", command, "/dev/null"], stdin: "",
                            environment: ["SHELL": "/bin/sh", "PATH": "/usr/bin:/bin", "TERM": "xterm", "LINES": "30", "COLUMNS": "100"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("/dev/pts/0"), "\(result.stdout.debugDescription)")
        #expect(result.stdout.contains("xterm"))
    }

    /// -d, ps, inspect, stop, start, rm, with Docker's statuses; compared with Podman where it shows.
    @Test func detachedLifecycle() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let id = try berth.call("run", "-d", "--name", "sleeper", "busybox:test", "sleep", "600").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64)
        #expect(try berth.call("ps", "--format", "{{.Names}} {{.State}}") == "sleeper running\n")
        #expect(try berth.inspect("sleeper", "{{.State.Status}} {{.State.Running}} {{.Id}}") == "running true \(id)")
        let pid = Int32(try berth.inspect("sleeper", "{{.State.Pid}}")) ?? 0
        #expect(pid > 0 && kill(pid, 0) == 0)
        // A second container with the same name is refused, and the first is untouched.
        let clash = try berth.callAnyway(["run", "-d", "--name", "sleeper", "busybox:test", "true"])
        #expect(clash.status == 125)
        #expect(clash.stderr.contains("is already in use"), "\(clash.stderr)")
        // rm of a running container needs -f.
        let refused = try berth.callAnyway(["rm", "sleeper"])
        #expect(refused.status != 0 && refused.stderr.contains("Stop the container before attempting removal or force remove"))
        // sleep as pid 1 ignores SIGTERM: stop falls back to SIGKILL after -t.
        #expect(try berth.call("stop", "-t", "1", "sleeper") == "sleeper\n")
        #expect(try berth.inspect("sleeper", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}") == "exited 137 false")
        #expect(try berth.call("ps", "-q") == "")
        #expect(try berth.call("ps", "-a", "--format", "{{.Status}}").hasPrefix("Exited (137)"))
        #expect(berth.mounts.isEmpty, "a stopped container keeps nothing mounted: \(berth.mounts)")
        // start brings it back with the same ID.
        #expect(try berth.call("start", "sleeper") == "sleeper\n")
        #expect(try berth.inspect(id, "{{.State.Status}}") == "running")
        try berth.call("kill", "sleeper")
        #expect(try berth.call("wait", "sleeper") == "137\n")
        try berth.call("rename", "sleeper", "renamed")
        try berth.call("rm", "renamed")
        #expect(try berth.call("ps", "-aq") == "")
        #expect(!FileManager.default.fileExists(atPath: berth.root + "/containers/\(id)"))

        if EngineEnv.hasPodman {
            let podman = try PodmanPeer()
            defer { podman.remove() }
            try #require(try podman.run(["-d", "--name", "sleeper", "busybox:test", "sleep", "600"]).status == 0)
            _ = try podman.callAnyway(["stop", "-t", "1", "sleeper"])
            let theirs = try podman.callAnyway(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}", "sleeper"])
            #expect(theirs.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "exited 137 false")
        }
    }

    @Test func restartPolicies() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let marks = berth.base + "/marks"
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        func runs() -> Int {
            ((try? String(contentsOfFile: marks + "/runs", encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        try berth.call("run", "-d", "--name", "flaky", "--restart", "on-failure:2", "-v", "\(marks):/marks", "busybox:test",
                       "sh", "-c", "echo run >> /marks/runs; exit 1")
        #expect(try waitFor { try berth.inspect("flaky", "{{.State.Status}} {{.RestartCount}}") == "exited 2" && runs() == 3 })
        #expect(try berth.inspect("flaky", "{{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}") == "1 on-failure 2")
        // A start by a person resets the count, as Docker's restart manager: two more retries, and
        // the count is 2 again (Docker 20.10: the same). `restart` likewise.
        try berth.call("start", "flaky")
        #expect(try waitFor { try berth.inspect("flaky", "{{.State.Status}} {{.RestartCount}}") == "exited 2" && runs() == 6 }, "\(runs()) runs")
        try berth.call("restart", "flaky")
        #expect(try waitFor { try berth.inspect("flaky", "{{.State.Status}} {{.RestartCount}}") == "exited 2" && runs() == 9 }, "\(runs()) runs")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(runs() == 9)
        // on-failure does not restart a success.
        try berth.call("run", "-d", "--name", "fine", "--restart", "on-failure", "busybox:test", "true")
        #expect(try waitFor { try berth.inspect("fine", "{{.State.Status}}") == "exited" })
        #expect(try berth.inspect("fine", "{{.RestartCount}}") == "0")
        // always restarts after each exit, until stopped; stop wins.
        try berth.call("run", "-d", "--name", "always", "--restart", "always", "busybox:test", "sh", "-c", "sleep 0.2")
        #expect(try waitFor { (Int(try berth.inspect("always", "{{.RestartCount}}")) ?? 0) >= 2 })
        try berth.call("stop", "-t", "1", "always")
        let count = try berth.inspect("always", "{{.RestartCount}}")
        Thread.sleep(forTimeInterval: 1)
        #expect(try berth.inspect("always", "{{.State.Status}} {{.RestartCount}}") == "exited \(count)")
    }

    /// The supervisor carries out `stop`: a CLI killed with -9 just after asking does not leave a
    /// container whose init ignores SIGTERM running; it still gets SIGKILL once -t has passed, and
    /// the events are Docker's (kill 15, kill 9, die, stop).
    @Test func stopOutlivesAKilledCLI() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "-d", "--name", "stubborn", "busybox:test", "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done")
        let since = EventsTests.stamp()
        let started = Date()
        _ = try sh(["/bin/bash", "-c", "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) stop -t 2 stubborn >/dev/null 2>&1 & pid=$!; sleep 0.3; kill -9 $pid; wait $pid 2>/dev/null; true"])
        #expect(try berth.inspect("stubborn", "{{.State.Status}}") == "running", "SIGTERM is ignored and -t 2 has not passed")
        #expect(try waitFor(seconds: 4) { try berth.inspect("stubborn", "{{.State.Status}} {{.State.ExitCode}}") == "exited 137" })
        #expect(Date().timeIntervalSince(started) >= 1.9)
        let events = try EventsTests.messages(berth, ["--since", since, "--until", EventsTests.stamp(1)])
        #expect(events.map { $0.Action + ($0.Actor.Attributes["signal"].map { " " + $0 } ?? "") } == ["kill 15", "kill 9", "die", "stop"])
        // Not restarted, and it starts again.
        #expect(try berth.call("start", "stubborn") == "stubborn\n")
        try berth.call("rm", "-f", "stubborn")
    }

    /// The stop signal and timeout of `create` (--stop-signal, --stop-timeout) and of the image
    /// (STOPSIGNAL); `stop -t` wins over --stop-timeout, and a negative one waits as long as it takes.
    @Test func stopSignalAndTimeoutFromCreateAndImage() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let marks = berth.base + "/marks"
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        try berth.call("run", "-d", "--name", "usr1", "--stop-signal", "SIGUSR1", "--stop-timeout", "1", "-v", "\(marks):/marks",
                       "busybox:test", "sh", "-c", "trap 'echo usr1 > /marks/got; exit 3' USR1; while :; do sleep 0.1; done")
        var started = Date()
        #expect(try berth.call("stop", "usr1") == "usr1\n")
        #expect(Date().timeIntervalSince(started) < 0.9, "the trap ended it, not the SIGKILL after 1 s")
        #expect(try berth.inspect("usr1", "{{.State.Status}} {{.State.ExitCode}}") == "exited 3")
        #expect((try? String(contentsOfFile: marks + "/got", encoding: .utf8)) == "usr1\n")

        try berth.call("run", "-d", "--name", "slow", "--stop-timeout", "0", "busybox:test",
                       "sh", "-c", "trap 'sleep 1; exit 4' TERM; while :; do sleep 0.1; done")
        started = Date()
        try berth.call("stop", "-t", "-1", "slow")
        #expect(Date().timeIntervalSince(started) >= 0.9)
        #expect(try berth.inspect("slow", "{{.State.Status}} {{.State.ExitCode}}") == "exited 4")

        let context = berth.base + "/ctx"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        try """
            FROM busybox:test
            STOPSIGNAL SIGUSR2
            CMD ["sh", "-c", "trap 'exit 7' USR2; while :; do sleep 0.1; done"]
            """.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let built = try berth.callAnyway(["build", "-t", "stopper:1", context])
        try #require(built.status == 0, "\(built.stderr)")
        try berth.call("run", "-d", "--name", "img", "stopper:1")
        #expect(try berth.inspect("img", "{{.Config.StopSignal}}") == "SIGUSR2")
        #expect(try berth.call("stop", "-t", "5", "img") == "img\n")
        #expect(try berth.inspect("img", "{{.State.Status}} {{.State.ExitCode}}") == "exited 7")
    }

    /// kill -9 of a supervisor, and of the CLI at moments during `run`: `ps` and `rm -f` still work
    /// and leave no mount, cgroup or runtime state behind.
    @Test func crashSafety() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let id = try berth.call("run", "-d", "busybox:test", "sleep", "600").trimmingCharacters(in: .whitespacesAndNewlines)
        let state = try String(contentsOfFile: berth.root + "/containers/\(id)/state.json", encoding: .utf8)
        let supervisor = try #require(state.firstMatch(of: /"supervisorPid":(\d+)/).map { Int32($0.1) ?? 0 })
        #expect(kill(supervisor, SIGKILL) == 0)
        Thread.sleep(forTimeInterval: 0.2)
        // The container outlives its supervisor and is still reported as running.
        #expect(try berth.inspect(id, "{{.State.Status}}") == "running")
        // Without its supervisor `stop` is done by the CLI, SIGKILL after -t included.
        #expect(try berth.call("stop", "-t", "1", id) == id + "\n")
        #expect(try berth.inspect(id, "{{.State.Status}}") == "exited")
        try berth.call("rm", "-f", id)
        // And rm -f of one whose supervisor was killed.
        let second = try berth.call("run", "-d", "busybox:test", "sleep", "600").trimmingCharacters(in: .whitespacesAndNewlines)
        let secondState = try String(contentsOfFile: berth.root + "/containers/\(second)/state.json", encoding: .utf8)
        let secondSupervisor = try #require(secondState.firstMatch(of: /"supervisorPid":(\d+)/).map { Int32($0.1) ?? 0 })
        #expect(kill(secondSupervisor, SIGKILL) == 0)
        Thread.sleep(forTimeInterval: 0.2)
        try berth.call("rm", "-f", second)
        #expect(try berth.call("ps", "-aq") == "")
        #expect(berth.mounts.isEmpty, "\(berth.mounts)")
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/berth/\(id)"))
        #expect(runtimeStates(berth).isEmpty)

        // The CLI killed at several moments of `run`.
        for delay in ["0.01", "0.05", "0.1", "0.2", "0.4"] {
            _ = try sh(["/bin/bash", "-c", "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) run busybox:test sleep 600 >/dev/null 2>&1 & pid=$!; sleep \(delay); kill -9 $pid; wait $pid 2>/dev/null; true"])
        }
        let listed = try berth.call("ps", "-aq", "--no-trunc").split(separator: "\n").map(String.init)
        if !listed.isEmpty { try berth.callAnyway(["rm", "-f"] + listed) }
        #expect(try berth.call("ps", "-aq") == "")
        #expect(berth.mounts.isEmpty, "\(berth.mounts)")
        #expect(runtimeStates(berth).isEmpty)
        // And the engine still runs containers.
        #expect(try berth.call("run", "--rm", "busybox:test", "echo", "alive") == "alive\n")
    }

    /// 100 `run -d` at once: every one running, none lost, names unique.
    @Test func hundredDetachedAtOnce() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let script = "for i in $(seq 1 100); do \(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) run -d --name c$i busybox:test sleep 600 >/dev/null 2>>\(berth.base)/errors & done; wait"
        let started = Date()
        _ = try sh(["/bin/bash", "-c", script])
        let elapsed = Date().timeIntervalSince(started)
        let errors = (try? String(contentsOfFile: berth.base + "/errors", encoding: .utf8)) ?? ""
        #expect(errors.isEmpty, "\(errors)")
        let running = try berth.call("ps", "--format", "{{.Names}} {{.State}}").split(separator: "\n")
        #expect(running.count == 100, "\(running.count) running after \(elapsed) s")
        #expect(Set(running).count == 100 && running.allSatisfy { $0.hasSuffix(" running") })
        print("100 detached containers running after \(String(format: "%.1f", elapsed)) s")
    }

    /// Docker's json-file log: stdout and stderr apart, --tail, -t, -f until the container ends,
    /// and rotation by --log-opt.
    @Test func logs() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "-d", "--name", "talker", "busybox:test", "sh", "-c", "echo one; echo two >&2; sleep 1; echo three")
        let followed = try berth.callAnyway(["logs", "-f", "talker"])
        #expect(followed.status == 0)
        #expect(followed.stdout == "one\nthree\n")
        #expect(followed.stderr == "two\n")
        #expect(try berth.call("logs", "--tail", "1", "talker") == "three\n")
        let stamped = try berth.call("logs", "-t", "--tail", "1", "talker")
        #expect(stamped.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z three\n/) != nil, "\(stamped)")
        let raw = try String(contentsOfFile: try berth.inspect("talker", "{{.LogPath}}"), encoding: .utf8)
        #expect(raw.hasPrefix("{\"log\":\"one\\n\",\"stream\":\"stdout\",\"time\":\""), "\(raw)")

        try berth.call("run", "-d", "--name", "chatty", "--log-opt", "max-size=2k", "--log-opt", "max-file=2", "busybox:test",
                       "sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done")
        #expect(try berth.call("wait", "chatty") == "0\n")
        let logPath = try berth.inspect("chatty", "{{.LogPath}}")
        #expect(FileManager.default.fileExists(atPath: logPath + ".1"))
        #expect(!FileManager.default.fileExists(atPath: logPath + ".2"))
        let size = (try FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int) ?? 0
        #expect(size <= 2048)
        let kept = try berth.call("logs", "chatty").split(separator: "\n")
        #expect(kept.last == "line299")
        #expect(kept.count < 300 && kept.count > 20)
    }

    /// Bad input gets a clear error and Docker's status, and what existed before is untouched.
    @Test func badInputIsRefusedAndChangesNothing() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let keeper = try berth.call("run", "-d", "--name", "keeper", "busybox:test", "sleep", "600").trimmingCharacters(in: .whitespacesAndNewlines)
        let images = try berth.call("images", "-q")
        let refusals: [([String], String)] = [
            (["run", "-m", "1x", "busybox:test", "true"], "--memory"),
            (["run", "--name", "bad name!", "busybox:test", "true"], "Invalid container name"),
            (["run", "--pull", "never", "nosuch/image:1", "true"], "No such image"),
            (["run", "--entrypoint", "", "busybox:test"], "No command specified"),
            (["run", "--name", "keeper", "busybox:test", "true"], "already in use"),
        ]
        for (arguments, message) in refusals {
            let result = try berth.callAnyway(arguments)
            #expect(result.status == 125, "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let missing = try berth.callAnyway(["stop", "nosuch"])
        #expect(missing.status == 1 && missing.stderr.contains("No such container: nosuch"))
        let badSignal = try berth.callAnyway(["kill", "-s", "NOPE", "keeper"])
        #expect(badSignal.status != 0 && badSignal.stderr.contains("invalid signal: NOPE"))
        // A supervisor that cannot be started: the error names it, nothing stays mounted, and the
        // container stays as Docker leaves one whose start failed: created, removable.
        let noSupervisor = try sh([EngineEnv.berth, "--root", berth.root, "--runroot", berth.runRoot, "run", "--name", "orphan",
                                   "busybox:test", "true"], environment: ["BERTH_SUPERVISOR": "/nonexistent/berth-supervisor", "PATH": "/usr/bin:/bin"])
        #expect(noSupervisor.status == 125)
        #expect(noSupervisor.stderr.contains("/nonexistent/berth-supervisor"), "\(noSupervisor.stderr)")
        #expect(try berth.inspect("orphan", "{{.State.Status}}") == "created")
        try berth.call("rm", "orphan")
        #expect(berth.mounts.filter { !$0.contains("/containers/\(keeper)/") && !$0.hasSuffix("/netns/\(keeper)") }.isEmpty, "\(berth.mounts)")
        #expect(try berth.call("ps", "-a", "--format", "{{.Names}} {{.State}}") == "keeper running\n")
        #expect(try berth.call("images", "-q") == images)
    }

    /// create, start -a, restart, ps filters and container prune.
    @Test func createStartRestartFiltersAndPrune() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("create", "--name", "once", "busybox:test", "echo", "hi")
        #expect(try berth.call("ps", "-a", "--format", "{{.Names}} {{.Status}}") == "once Created\n")
        let attached = try berth.callAnyway(["start", "-a", "once"])
        #expect(attached.status == 0 && attached.stdout == "hi\n", "\(attached.stderr)")
        try berth.call("run", "-d", "--name", "web", "--label", "role=web", "busybox:test", "sleep", "600")
        let firstPid = try berth.inspect("web", "{{.State.Pid}}")
        #expect(try berth.call("restart", "-t", "1", "web") == "web\n")
        #expect(try berth.inspect("web", "{{.State.Status}}") == "running")
        #expect(try berth.inspect("web", "{{.State.Pid}}") != firstPid)
        #expect(try berth.call("ps", "--filter", "label=role=web", "--format", "{{.Names}}") == "web\n")
        #expect(try berth.call("ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}") == "once\n")
        #expect(try berth.call("ps", "-a", "--filter", "exited=0", "--format", "{{.Names}}") == "once\n")
        #expect(try berth.call("ps", "-a", "--filter", "name=we", "--format", "{{.Names}}") == "web\n")
        let bad = try berth.callAnyway(["ps", "--filter", "status=sleepy"])
        #expect(bad.status != 0 && bad.stderr.contains("status=sleepy"))
        let pruned = try berth.call("container", "prune", "-f")
        #expect(pruned.hasPrefix("Deleted Containers:\n"), "\(pruned)")
        #expect(try berth.call("ps", "-a", "--format", "{{.Names}}") == "web\n")
    }

    @Test func detachedAutoRemove() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "-d", "--rm", "busybox:test", "true")
        #expect(try waitFor { try berth.call("ps", "-aq") == "" })
        #expect(try waitFor { berth.mounts.isEmpty })
    }
}

/// Polls `condition` every 50 ms for up to `seconds`.
func waitFor(seconds: Double = 15, _ condition: () throws -> Bool) throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return try condition()
}

/// Containers the runtime still keeps state for (its hidden seccomp cache is not one).
func runtimeStates(_ berth: BerthEngine) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: berth.runRoot + "/runtime")) ?? []).filter { !$0.hasPrefix(".") }
}
