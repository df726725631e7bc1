import Foundation
import TestSupport
import Testing

/// The `run`/`create` flags a Docker user's first day reaches for: --cidfile, -a, --platform,
/// --log-driver, --mac-address, --oom-kill-disable, --gpus, and `-it` without a terminal.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct RunFlagExtraTests {
    @Test func cidfile() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let dir = EngineEnv.scratch("cid")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/cid"
        let id = try berth.call("run", "-d", "--cidfile", path, "busybox:test", "sleep", "300").trimmingCharacters(in: .whitespacesAndNewlines)
        // The ID alone, no newline, as Docker writes it.
        #expect(try String(contentsOfFile: path, encoding: .utf8) == id)
        #expect(try berth.inspect(id, "{{.HostConfig.ContainerIDFile}}") == path)
        let again = try berth.callAnyway(["run", "-d", "--cidfile", path, "busybox:test", "true"])
        #expect(again.status == 125)
        #expect(again.stderr == "berth: container ID file found, make sure the other container isn't running or delete \(path)\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == id)
        // A create that fails leaves no file behind.
        let failed = try berth.callAnyway(["create", "--cidfile", dir + "/other", "--link", "nosuch", "busybox:test"])
        #expect(failed.status == 125 && !FileManager.default.fileExists(atPath: dir + "/other"))
    }

    @Test func attachChoosesTheStreams() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let script = ["sh", "-c", "echo out; echo err >&2"]
        let out = try berth.callAnyway(["run", "--rm", "-a", "stdout"] + ["busybox:test"] + script)
        #expect(out.status == 0 && out.stdout == "out\n" && out.stderr == "")
        let err = try berth.callAnyway(["run", "--rm", "-a", "STDERR"] + ["busybox:test"] + script)
        #expect(err.status == 0 && err.stdout == "" && err.stderr == "err\n")
        // Both streams are still logged.
        try berth.call(["run", "--name", "logged", "-a", "stdout", "busybox:test"] + script)
        let logs = try berth.callAnyway(["logs", "logged"])
        #expect(logs.stdout == "out\n" && logs.stderr == "err\n")
        #expect(try berth.inspect("logged", "{{.Config.AttachStdin}} {{.Config.AttachStdout}} {{.Config.AttachStderr}}") == "false true false")
        let detached = try berth.callAnyway(["run", "-d", "-a", "stdout", "busybox:test", "true"])
        #expect(detached.status == 1 && detached.stderr == "conflicting options: cannot specify both --attach and --detach\n")
        let bad = try berth.callAnyway(["run", "-a", "bogus", "busybox:test", "true"])
        #expect(bad.status == 125 && bad.stderr.contains("valid streams are STDIN, STDOUT and STDERR"))
    }

    /// Inspect's Config.AttachStdin/AttachStdout/AttachStderr, OpenStdin, StdinOnce and Tty for
    /// `create` and `run` flag lines: what the docker CLI 28 and dockerd 20.10 show for the same.
    @Test func attachFieldsAsDockerShowsThem() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        for (index, line) in AttachFields.observed.enumerated() {
            let made = try berth.callAnyway(line.flags + ["--name", "attach\(index)", "busybox:test", "true"])
            #expect(made.status == 0, "\(line.flags): \(made.stderr)")
            #expect(try berth.inspect("attach\(index)", AttachFields.template) == line.shown, "\(line.flags)")
        }
    }

    @Test func interactiveTerminalNeedsATerminal() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        // stdin is /dev/null here: Docker's CLI refuses before it makes anything.
        let refused = try berth.callAnyway(["run", "-it", "--name", "never", "busybox:test", "true"])
        #expect(refused.status == 1 && refused.stderr == "the input device is not a TTY\n")
        #expect(try berth.call("ps", "-aq") == "")
        // Without -i (or with -d) there is no terminal to read: it runs.
        #expect(try berth.callAnyway(["run", "--rm", "-t", "busybox:test", "true"]).status == 0)
        #expect(try berth.callAnyway(["run", "-d", "-it", "busybox:test", "true"]).status == 0)
    }

    @Test func platform() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let arch = try berth.inspect("busybox:test", "{{.Architecture}}")
        #expect(try berth.callAnyway(["run", "--rm", "--platform", "linux/\(arch)", "busybox:test", "true"]).status == 0)
        #expect(try berth.callAnyway(["run", "--rm", "--platform", "linux", "busybox:test", "true"]).status == 0)
        let other = arch == "arm64" ? "amd64" : "arm64"
        let refused = try berth.callAnyway(["run", "--rm", "--pull", "never", "--platform", "linux/\(other)", "busybox:test", "true"])
        #expect(refused.status == 125)
        #expect(refused.stderr == "berth: Error response from daemon: image with reference busybox:test was found but does not match the specified platform: wanted linux/\(other), actual: linux/\(arch)\n")
        let bad = try berth.callAnyway(["create", "--platform", "bogus", "busybox:test"])
        #expect(bad.status == 125 && bad.stderr.contains("error parsing specified platform: \"bogus\""))
    }

    @Test func logDrivers() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "--name", "quiet", "--log-driver", "none", "busybox:test", "echo", "hi")
        let none = try berth.callAnyway(["logs", "quiet"])
        #expect(none.status == 1 && none.stderr == "Error response from daemon: configured logging driver does not support reading\n")
        #expect(try berth.inspect("quiet", "{{json .HostConfig.LogConfig}}") == #"{"Type":"none","Config":{}}"#)
        try berth.call("run", "--name", "kept", "--log-driver", "local", "--log-opt", "max-size=1m", "--log-opt", "compress=false",
                       "busybox:test", "echo", "hi")
        #expect(try berth.call("logs", "kept") == "hi\n")
        #expect(try berth.inspect("kept", "{{.HostConfig.LogConfig.Type}}") == "local")
        for (flags, message) in [
            (["--log-driver", "syslog"], "berth: Error response from daemon: failed to initialize logging driver: the syslog logging driver is not supported by berth (json-file, local and none are)\n"),
            (["--log-driver", "bogus"], "berth: Error response from daemon: error looking up logging plugin bogus: plugin \"bogus\" not found\n"),
            (["--log-driver", "none", "--log-opt", "max-size=1m"], "berth: invalid logging opts for driver none\n"),
            (["--log-driver", "local", "--log-opt", "tag=x"], "berth: Error response from daemon: unknown log opt 'tag' for log driver local\n"),
        ] {
            let refused = try berth.callAnyway(["create"] + flags + ["busybox:test"])
            #expect(refused.status == 125 && refused.stderr == message, "\(flags): \(refused.stderr)")
        }
    }

    @Test func macAddress() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let out = try berth.call("run", "--rm", "--mac-address", "02:42:AC:11:00:99", "busybox:test", "cat", "/sys/class/net/eth0/address")
        #expect(out == "02:42:ac:11:00:99\n")
        try berth.call("run", "-d", "--name", "mac", "--mac-address", "02:42:ac:11:00:98", "busybox:test", "sleep", "300")
        #expect(try berth.inspect("mac", "{{.NetworkSettings.MacAddress}}") == "02:42:ac:11:00:98")
        let bad = try berth.callAnyway(["create", "--mac-address", "bogus", "busybox:test"])
        #expect(bad.status == 125 && bad.stderr == "berth: bogus is not a valid mac address\n")
        let host = try berth.callAnyway(["create", "--network", "host", "--mac-address", "02:42:ac:11:00:99", "busybox:test"])
        #expect(host.status == 125 && host.stderr == "berth: Error response from daemon: conflicting options: mac-address and the network mode\n")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/memory.oom_control"), "cgroup v1 memory controller"))
    func oomKillDisable() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let out = try berth.callAnyway(["run", "--rm", "--oom-kill-disable", "busybox:test", "head", "-1", "/sys/fs/cgroup/memory/memory.oom_control"])
        #expect(out.status == 0 && out.stdout == "oom_kill_disable 1\n")
        #expect(out.stderr == "WARNING: OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.\n")
        let limited = try berth.callAnyway(["run", "--rm", "-m", "64m", "--oom-kill-disable", "busybox:test", "head", "-1", "/sys/fs/cgroup/memory/memory.oom_control"])
        #expect(limited.stdout == "oom_kill_disable 1\n" && limited.stderr == "")
        #expect(try berth.call("run", "--rm", "busybox:test", "head", "-1", "/sys/fs/cgroup/memory/memory.oom_control") == "oom_kill_disable 0\n")
    }

    @Test func gpusRefused() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let refused = try berth.callAnyway(["run", "--rm", "--gpus", "all", "busybox:test", "true"])
        #expect(refused.status == 125 && refused.stderr == "berth: Error response from daemon: could not select device driver \"\" with capabilities: [[gpu]]\n")
        #expect(try berth.call("ps", "-aq") == "")
    }
}
