import Foundation
import TestSupport
import Testing

/// `exec`, `attach` and `top` on real containers, compared with Podman where it runs.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct ExecTests {
    /// A running busybox container named `name`, in Berth and (when it runs here) in Podman.
    static func sleeper(_ berth: BerthEngine, _ name: String = "box", _ extra: [String] = [],
                        command: [String] = ["sleep", "600"]) throws -> String {
        try berth.run(["run", "-d", "--name", name] + extra + ["busybox:test"] + command)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The command's own status, 126 when it cannot be executed, 127 when it is not there; the
    /// same statuses and output as `podman exec`.
    @Test(arguments: [
        ([String](["true"]), Int32(0)),
        (["sh", "-c", "echo out; echo err >&2; exit 3"], Int32(3)),
        (["nosuch"], Int32(127)),
        (["/etc/passwd"], Int32(126)),
        (["/tmp"], Int32(126)),
        (["sh", "-c", "kill -9 $$"], Int32(137)),
    ] as [([String], Int32)])
    func exitStatusAndOutputMatchPodman(command: [String], expected: Int32) throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try Self.sleeper(berth)
        let ours = try berth.callAnyway(["exec", "box"] + command)
        #expect(ours.status == expected, "berth: \(ours.stderr)")
        if expected == 3 {
            #expect(ours.stdout == "out\n")
            #expect(ours.stderr == "err\n")
        }
        if expected == 126 || expected == 127 {
            #expect(ours.stderr.hasPrefix("OCI runtime exec failed: exec failed: unable to start container process: "), "\(ours.stderr)")
            #expect(ours.stderr.contains(command[0]), "the error names the command: \(ours.stderr)")
        }
        // The container is untouched by a failed exec.
        #expect(try berth.inspect("box", "{{.State.Status}}") == "running")
        guard EngineEnv.hasPodman else { return }
        let podman = try PodmanPeer()
        defer { podman.remove() }
        try #require(try podman.run(["-d", "--name", "box", "busybox:test", "sleep", "600"]).status == 0)
        let theirs = try podman.callAnyway(["exec", "box"] + command)
        #expect(ours.status == theirs.status, "podman: \(theirs.stderr)")
        if expected < 126 { #expect(ours.stdout == theirs.stdout) }
    }

    /// The container's environment, user and working directory, changed by -e, --env-file, -u
    /// (a name from the image's /etc/passwd) and -w; compared with Podman.
    @Test func environmentUserAndWorkingDirectory() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let runFlags = ["-e", "FROMRUN=yes", "-e", "SHARED=run", "-w", "/tmp"]
        _ = try Self.sleeper(berth, "box", runFlags)
        let envFile = berth.base + "/env"
        try "FROMFILE=file\n# comment\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        let show = ["sh", "-c", "echo $FROMRUN $SHARED $FROMFILE $EXTRA; pwd; id -u; id -g; echo $HOME; echo $TERM"]
        let plain = try berth.run(["exec", "box"] + show)
        #expect(plain == "yes run\n/tmp\n0\n0\n/root\n\n")
        let changed = ["-e", "SHARED=exec", "--env-file", envFile, "-e", "EXTRA=x y", "-u", "nobody", "-w", "/proc"]
        let ours = try berth.run(["exec"] + changed + ["box"] + show)
        #expect(ours == "yes exec file x y\n/proc\n65534\n65534\n/nonexistent\n\n")
        // uid:gid as numbers, not in the files.
        #expect(try berth.call("exec", "-u", "1234:5678", "box", "id") == "uid=1234 gid=5678 groups=5678\n")
        // A name that is not there is refused, and nothing runs.
        let unknown = try berth.callAnyway(["exec", "-u", "nosuchuser", "box", "true"])
        #expect(unknown.status == 126, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("unable to find user nosuchuser"), "\(unknown.stderr)")
        guard EngineEnv.hasPodman else { return }
        let podman = try PodmanPeer()
        defer { podman.remove() }
        try #require(try podman.run(["-d", "--name", "box"] + runFlags + ["busybox:test", "sleep", "600"]).status == 0)
        let theirs = try podman.callAnyway(["exec"] + changed + ["box"] + show)
        // Podman puts TERM=xterm in every container's environment; Docker (and Berth) only with -t.
        #expect(ours == theirs.stdout.replacingOccurrences(of: "\nxterm\n", with: "\n\n"), "podman: \(theirs.stderr)")
    }

    /// The process runs in the container: its files, its pid namespace (pid 1 is the container's
    /// command), its hostname, its cgroup.
    @Test func seesTheContainersFilesystemAndPidNamespace() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let id = try Self.sleeper(berth, "box", command: ["sh", "-c", "echo marker > /tmp/m; exec sleep 600"])
        #expect(try berth.call("exec", "box", "cat", "/tmp/m") == "marker\n")
        let ps = try berth.call("exec", "box", "ps", "-o", "pid,args")
        let rows = ps.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(rows.contains(["1", "sleep 600"]), "\(ps)")
        // Only the container's processes: its init and the ps itself.
        #expect(rows.count == 3, "\(ps)")
        #expect(try berth.call("exec", "box", "hostname") == String(id.prefix(12)) + "\n")
        // A file the exec writes is the container's.
        try berth.call("exec", "box", "sh", "-c", "echo from-exec > /tmp/written")
        let rootfs = berth.root + "/containers/\(id)/rootfs/tmp/written"
        #expect((try? String(contentsOfFile: rootfs, encoding: .utf8)) == "from-exec\n")
    }

    /// -i: our stdin reaches the process and its end ends the process's input; without -i the
    /// process's stdin is empty.
    @Test func stdinOnlyWithDashI() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try Self.sleeper(berth)
        let upper = try berth.callAnyway(["exec", "-i", "box", "sh", "-c", "tr a-z A-Z; echo done"], stdin: "hello\nworld\n")
        #expect(upper.status == 0, "\(upper.stderr)")
        #expect(upper.stdout == "HELLO\nWORLD\ndone\n")
        #expect(try berth.call("exec", "box", "sh", "-c", "cat; echo end", stdin: "ignored\n") == "end\n")
        // -it from something that is not a terminal: Docker's refusal.
        let notTTY = try berth.callAnyway(["exec", "-it", "box", "true"], stdin: "")
        #expect(notTTY.status == 1)
        #expect(notTTY.stderr == "the input device is not a TTY\n")
    }

    /// -t: the process gets a pty of the container's devpts, TERM=xterm, our window size, and our
    /// keystrokes with -i.
    @Test func terminalWithDashT() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try Self.sleeper(berth)
        let prefix = "exec \(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot)"
        let environment = ["SHELL": "/bin/sh", "PATH": "/usr/bin:/bin", "TERM": "xterm"]
        let shown = try sh(["/usr/bin/script", "-qefc", "stty rows 31 cols 97; \(prefix) exec -t box sh -c 'tty; echo $TERM; stty size; exit 4'", "/dev/null"],
                           stdin: "", environment: environment)
        #expect(shown.status == 4, "\(shown.stdout)\(shown.stderr)")
        #expect(shown.stdout.contains("/dev/pts/"), "\(shown.stdout.debugDescription)")
        #expect(shown.stdout.contains("xterm"))
        #expect(shown.stdout.contains("31 97"), "\(shown.stdout.debugDescription)")
        // -it: what we type reaches the shell through the pty.
        let typed = try sh(["/usr/bin/script", "-qefc", "\(prefix) exec -it box sh", "/dev/null"],
                           stdin: "echo typed-$((6*7))\nexit 5\n", environment: environment)
        #expect(typed.status == 5, "\(typed.stdout)\(typed.stderr)")
        #expect(typed.stdout.contains("typed-42"), "\(typed.stdout.debugDescription)")
    }

    /// The exec'd process is cloned by a single-threaded process (berth-runtime), never by the CLI,
    /// whose commands run on the Swift concurrency pool: BERTH_TEST_CLONE_AUDIT makes the process
    /// that clones record its pid and its thread count.
    @Test(arguments: [[], ["-d"], ["-t"]] as [[String]])
    func execClonesOnlyFromASingleThreadedProcess(flags: [String]) throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try Self.sleeper(berth)
        let audit = berth.base + "/clone-audit"
        let cliPid = berth.base + "/cli-pid"
        // The shell execs the CLI: $$ is its pid.
        let command = "echo $$ > \(cliPid); exec \(berth.binary) --root \(berth.root) --runroot \(berth.runRoot) exec \(flags.joined(separator: " ")) box true"
        let result = try sh(["/bin/sh", "-c", command],
                            environment: ProcessInfo.processInfo.environment.merging(["BERTH_TEST_CLONE_AUDIT": audit]) { $1 })
        #expect(result.status == 0, "\(result.stderr)")
        let cli = try String(contentsOfFile: cliPid, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let lines = try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n")
        try #require(lines.count == 1, "\(lines)")
        let fields = Dictionary(uniqueKeysWithValues: lines[0].split(separator: " ").map {
            let pair = $0.split(separator: "=", maxSplits: 1)
            return (String(pair[0]), String(pair.count > 1 ? pair[1] : ""))
        })
        #expect(fields["threads"] == "1", "\(lines[0])")
        #expect(fields["pid"] != nil && fields["pid"] != cli, "the CLI (\(cli)) cloned: \(lines[0])")
    }

    /// -d returns at once with 0 and leaves the process running in the container (top shows it).
    @Test func detachedExecKeepsRunning() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try Self.sleeper(berth)
        let started = try berth.callAnyway(["exec", "-d", "box", "sleep", "1234"])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(started.stdout == "" && started.stderr == "")
        let top = try berth.call("top", "box")
        #expect(top.contains("sleep 1234"), "\(top)")
        #expect(try berth.call("exec", "box", "ps", "-o", "args").contains("sleep 1234"))
        // A detached command that cannot start still fails with Docker's status.
        let missing = try berth.callAnyway(["exec", "-d", "box", "nosuch"])
        #expect(missing.status == 127, "\(missing.stderr)")
    }

    /// Without -t, a signal to the CLI reaches the process.
    @Test func signalsAreForwarded() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try Self.sleeper(berth)
        let out = berth.base + "/out"
        let script = """
            \(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) exec box sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.1; done' > \(out) &
            pid=$!
            for i in $(seq 1 100); do grep -q ready \(out) 2>/dev/null && break; sleep 0.05; done
            kill -TERM $pid
            wait $pid
            echo status=$?
            """
        let result = try sh(["/bin/sh", "-c", script])
        #expect(result.stdout == "status=7\n", "\(result.stdout)\(result.stderr)")
        #expect((try? String(contentsOfFile: out, encoding: .utf8)) == "ready\ngot-term\n")
    }

    /// exec in a stopped, a created or a missing container fails cleanly with Docker's words and status 1.
    @Test func execOnAStoppedContainerFails() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let id = try Self.sleeper(berth, "done", command: ["true"])
        #expect(try berth.call("wait", "done") == "0\n")
        let stopped = try berth.callAnyway(["exec", "done", "echo", "hi"])
        #expect(stopped.status == 1)
        #expect(stopped.stdout == "")
        #expect(stopped.stderr == "Error response from daemon: container \(id) is not running\n")
        let created = try berth.call("create", "--name", "fresh", "busybox:test").trimmingCharacters(in: .whitespacesAndNewlines)
        let notStarted = try berth.callAnyway(["exec", "fresh", "true"])
        #expect(notStarted.status == 1)
        #expect(notStarted.stderr == "Error response from daemon: container \(created) is not running\n")
        let missing = try berth.callAnyway(["exec", "nosuch", "true"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "Error response from daemon: No such container: nosuch\n")
        for command in ["attach", "top"] {
            let refused = try berth.callAnyway([command, "done"])
            #expect(refused.status == 1, "\(command)")
            #expect(!refused.stderr.isEmpty, "\(command)")
        }
        #expect(try berth.callAnyway(["attach", "done"]).stderr == "You cannot attach to a stopped container, start it first\n")
        #expect(try berth.callAnyway(["top", "done"]).stderr == "Error response from daemon: container \(id) is not running\n")
    }

    /// attach gets the running container's output from then on (stdout and stderr apart) and ends
    /// with its exit status.
    @Test func attachReceivesOutputAndExitStatus() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try Self.sleeper(berth, "talker", command: ["sh", "-c", "echo before; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo hello; echo bye >&2; exit 3"])
        let berthCall = "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot)"
        let script = """
            \(berthCall) attach talker > \(berth.base)/out 2> \(berth.base)/err &
            pid=$!
            sleep 1
            \(berthCall) exec talker touch /tmp/go
            wait $pid
            echo status=$?
            """
        let result = try sh(["/bin/sh", "-c", script])
        #expect(result.stdout == "status=3\n", "\(result.stdout)\(result.stderr)")
        #expect((try? String(contentsOfFile: berth.base + "/out", encoding: .utf8)) == "hello\n")
        #expect((try? String(contentsOfFile: berth.base + "/err", encoding: .utf8)) == "bye\n")
        #expect(try berth.inspect("talker", "{{.State.Status}} {{.State.ExitCode}}") == "exited 3")
    }

    /// attach -i feeds a container started with -i; --no-stdin does not.
    @Test func attachForwardsStdin() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try Self.sleeper(berth, "reader", ["-i"], command: ["sh", "-c", "read line; echo got:$line; exit 2"])
        let attached = try berth.callAnyway(["attach", "reader"], stdin: "hello\n")
        #expect(attached.status == 2, "\(attached.stderr)")
        #expect(attached.stdout == "got:hello\n")
    }

    /// Without a terminal, attach passes its signals to the container (--sig-proxy, on by default);
    /// with --sig-proxy=false the signal ends only attach.
    @Test func attachProxiesSignals() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let trap = ["sh", "-c", "trap 'echo got-term; exit 9' TERM; while true; do sleep 0.1; done"]
        _ = try Self.sleeper(berth, "proxied", command: trap)
        _ = try Self.sleeper(berth, "unproxied", command: trap)
        let berthCall = "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot)"
        let script = """
            \(berthCall) attach proxied > \(berth.base)/out & p=$!
            \(berthCall) attach --sig-proxy=false unproxied & q=$!
            sleep 1
            kill -TERM $p $q
            wait $p; echo proxied=$?
            wait $q; echo unproxied=$?
            """
        let result = try sh(["/bin/sh", "-c", script])
        #expect(result.stdout == "proxied=9\nunproxied=143\n", "\(result.stdout)\(result.stderr)")
        #expect((try? String(contentsOfFile: berth.base + "/out", encoding: .utf8)) == "got-term\n")
        #expect(try berth.inspect("unproxied", "{{.State.Status}}") == "running")
    }

    /// With a terminal, ctrl-p ctrl-q (or --detach-keys) leaves the container running and ends attach with 0.
    @Test func attachDetachesWithTheDetachKeys() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try Self.sleeper(berth, "shell", ["-it"], command: ["sh"])
        let berthCall = "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot)"
        let environment = ["SHELL": "/bin/sh", "PATH": "/usr/bin:/bin", "TERM": "xterm"]
        // The keys come after attach has put the terminal in raw mode (else the tty eats ctrl-q as XON).
        let detached = try sh(["/bin/sh", "-c", "(sleep 1; printf 'echo in-$((2*3))\\r'; sleep 0.5; printf '\\020\\021'; sleep 2) | /usr/bin/script -qefc '\(berthCall) attach shell' /dev/null"],
                              environment: environment)
        #expect(detached.status == 0, "\(detached.stdout.debugDescription)\(detached.stderr)")
        #expect(detached.stdout.contains("in-6"), "\(detached.stdout.debugDescription)")
        #expect(try berth.inspect("shell", "{{.State.Status}}") == "running")
        let custom = try sh(["/bin/sh", "-c", "(sleep 1; printf 'x'; sleep 2) | /usr/bin/script -qefc '\(berthCall) attach --detach-keys x shell' /dev/null"],
                            environment: environment)
        #expect(custom.status == 0, "\(custom.stdout.debugDescription)\(custom.stderr)")
        #expect(try berth.inspect("shell", "{{.State.Status}}") == "running")
        // The shell still reads its terminal: exit ends it, and attach with the status.
        let ended = try sh(["/bin/sh", "-c", "(sleep 1; printf 'exit 6\\r'; sleep 2) | /usr/bin/script -qefc '\(berthCall) attach shell' /dev/null"],
                           environment: environment)
        #expect(ended.status == 6, "\(ended.stdout.debugDescription)\(ended.stderr)")
    }

    /// `run -it` detaches with ctrl-p ctrl-q (or --detach-keys) as Docker's: exit 0, the container
    /// goes on; with --rm it is removed once it ends. `run --sig-proxy=false` passes no signal on.
    @Test func runDetachesWithTheDetachKeysAndSigProxy() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let berthCall = "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot)"
        let environment = ["SHELL": "/bin/sh", "PATH": "/usr/bin:/bin", "TERM": "xterm"]
        let detached = try sh(["/bin/sh", "-c", "(sleep 1.5; printf 'echo in-$((2*3))\\r'; sleep 0.5; printf '\\020\\021'; sleep 2) | /usr/bin/script -qefc '\(berthCall) run -it --name fg --network none busybox:test sh' /dev/null"],
                              environment: environment)
        #expect(detached.status == 0, "\(detached.stdout.debugDescription)\(detached.stderr)")
        #expect(detached.stdout.contains("in-6"), "\(detached.stdout.debugDescription)")
        #expect(try berth.inspect("fg", "{{.State.Status}}") == "running")
        let custom = try sh(["/bin/sh", "-c", "(sleep 1.5; printf '\\030'; sleep 2) | /usr/bin/script -qefc '\(berthCall) run -it --rm --detach-keys ctrl-x --name gone --network none busybox:test sh' /dev/null"],
                            environment: environment)
        #expect(custom.status == 0, "\(custom.stdout.debugDescription)\(custom.stderr)")
        #expect(try berth.inspect("gone", "{{.State.Status}}") == "running")
        try berth.call("stop", "-t", "1", "gone")
        var removed = false
        for _ in 0..<100 where !removed {
            removed = try berth.callAnyway(["inspect", "gone"]).status != 0
            if !removed { usleep(50_000) }
        }
        #expect(removed, "a detached --rm container is removed when it ends")
        let bad = try berth.callAnyway(["run", "--detach-keys", "ctrl-", "--name", "never", "busybox:test", "true"])
        #expect(bad.status == 125 && bad.stderr.contains("Invalid detach keys"), "\(bad.stderr)")
        #expect(try berth.callAnyway(["inspect", "never"]).status != 0, "nothing is made for a bad flag")
        // Without -t the CLI passes SIGTERM on unless --sig-proxy=false.
        let script = """
            \(berthCall) run --name unproxied --sig-proxy=false --network none busybox:test sh -c 'trap "echo got-term; exit 9" TERM; while :; do sleep 0.1; done' & q=$!
            sleep 1.5
            kill -TERM $q
            wait $q; echo unproxied=$?
            """
        let result = try sh(["/bin/sh", "-c", script])
        #expect(result.stdout == "unproxied=143\n", "\(result.stdout)\(result.stderr)")
        #expect(try berth.inspect("unproxied", "{{.State.Status}}") == "running")
    }

    /// Docker's exec events: exec_create and exec_start with the command, exec_die with the
    /// status, one execID for the three; `--filter event=exec_start` matches them by their prefix.
    @Test func execRecordsItsEvents() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try Self.sleeper(berth, "box")
        let since = EventsTests.stamp()
        #expect(try berth.callAnyway(["exec", "box", "sh", "-c", "exit 3"]).status == 3)
        #expect(try berth.callAnyway(["exec", "box", "nosuchcommand"]).status == 127)
        let until = EventsTests.stamp(1)
        let out = try berth.call("events", "--since", since, "--until", until, "--filter", "container=box",
                                 "--format", "{{.Action}}|{{.Actor.Attributes.exitCode}}|{{.Actor.Attributes.execID}}")
        let rows = out.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        try #require(rows.count == 6, "\(out)")
        #expect(rows.map { $0[0] } == ["exec_create: sh -c exit 3", "exec_start: sh -c exit 3", "exec_die",
                                       "exec_create: nosuchcommand", "exec_start: nosuchcommand", "exec_die"], "\(out)")
        #expect(rows[2][1] == "3" && rows[5][1] == "127", "\(out)")
        #expect(Set(rows[0..<3].map { $0[2] }).count == 1 && rows[0][2].count == 64 && rows[0][2] != rows[3][2], "\(out)")
        let started = try berth.call("events", "--since", since, "--until", until, "--filter", "event=exec_start", "--format", "{{.Action}}")
        #expect(started == "exec_start: sh -c exit 3\nexec_start: nosuchcommand\n", "\(started)")
    }

    /// top: ps's header and the container's processes, none of the host's; ps options pass through.
    @Test func topListsOnlyTheContainersProcesses() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try Self.sleeper(berth, "box", command: ["sleep", "600"])
        let pid = try berth.inspect("box", "{{.State.Pid}}")
        let top = try berth.call("top", "box")
        let lines = top.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(top)")
        let header = lines.first?.split(separator: " ").map(String.init) ?? []
        #expect(header == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"], "\(top)")
        // Docker's columns: at least 20 wide, 3 spaces of padding.
        #expect(lines.first?.hasPrefix("UID                 PID") == true, "\(top)")
        let row = lines.last?.split(separator: " ", omittingEmptySubsequences: true).map(String.init) ?? []
        #expect(row.count >= 9 && row[0] == "root" && row[1] == pid && row.suffix(2) == ["sleep", "600"], "\(top)")
        // ps options pass through; processes started by exec show up too.
        try berth.call("exec", "-d", "box", "sleep", "777")
        let custom = try berth.call("top", "box", "-o", "pid,comm")
        let customLines = custom.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(customLines.first == ["PID", "COMMAND"], "\(custom)")
        #expect(customLines.dropFirst().map { $0.last ?? "" }.sorted() == ["sleep", "sleep"], "\(custom)")
        #expect(customLines.dropFirst().allSatisfy { $0.first != "1" && $0.first != String(getpid()) }, "\(custom)")
        // Renaming the PID column is refused, as Docker refuses it; thread listings keep their rows.
        let renamed = try berth.callAnyway(["top", "box", "-o", "comm=PID"])
        #expect(renamed.status == 1)
        #expect(renamed.stderr == "Error response from daemon: specifying \"comm=PID\" is not allowed\n", "\(renamed.stderr)")
        let threads = try berth.call("top", "box", "m", "-o", "pid,lwp,comm")
        #expect(threads.split(separator: "\n").count == 5, "\(threads)")
    }
}

extension ExecTests {
    /// From inside the container: `exec` hands berth-runtime a status pipe, the process as a memfd
    /// and (with -t) a console socket. None of them may reach the exec'd process (it could forge
    /// the start report the engine reads, or hold the engine's pipe): it has 0, 1 and 2 only.
    @Test(arguments: [[String](), ["-i"], ["-t"], ["-d"]])
    func execHandsTheProcessNoEngineDescriptors(flags: [String]) throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try Self.sleeper(berth)
        // ls lists its own descriptors (exec'd by sh, so nothing of the shell's stays open); the
        // one it opened on /proc/self/fd to read it is left out.
        let listing = "exec ls -l /proc/self/fd"
        var out: String
        if flags == ["-d"] {
            try berth.call("exec", "-d", "box", "sh", "-c", listing + " > /tmp/fds")
            out = ""
            for _ in 0..<50 where out.isEmpty {
                usleep(100_000)
                out = (try? berth.call("exec", "box", "cat", "/tmp/fds")) ?? ""
            }
        } else {
            out = try berth.run(["exec"] + flags + ["box", "sh", "-c", listing])
        }
        let entries = out.replacingOccurrences(of: "\r", with: "").split(separator: "\n").compactMap { line -> (String, String)? in
            let words = line.split(separator: " ").map(String.init)
            guard let arrow = words.firstIndex(of: "->"), arrow > 0, arrow + 1 < words.count else { return nil }
            return (words[arrow - 1], words[arrow + 1])
        }
        let fds = entries.filter { !($0.1.hasPrefix("/proc/") && $0.1.hasSuffix("/fd")) }.map(\.0)
        #expect(fds == ["0", "1", "2"], "exec \(flags): \(out)")
        #expect(!out.contains("memfd") && !out.contains("socket:"), "exec \(flags): \(out)")
    }
}

extension BerthEngine {
    /// `call` with the arguments as one array; fails the test on a non-zero status.
    @discardableResult
    func run(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try callAnyway(arguments)
        try #require(result.status == 0, "berth \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)\(result.stdout)", sourceLocation: sourceLocation)
        return result.stdout
    }
}
