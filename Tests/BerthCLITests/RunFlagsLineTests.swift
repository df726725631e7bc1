@testable import BerthCLI
import ContainerSpec
import Foundation
import Glibc
import OCI
import TestSupport
import Testing

/// Whole `docker run` flag lines through the CLI's `RunFlags` → RunOptions: the checks across flags,
/// then the peers: the real `docker` CLI (its client-side errors, with no daemon behind it) and
/// `podman create` + `inspect` (the values it stores). (The parsers of single values are
/// ContainerSpecTests' RunOptionsParseTests.)
@Suite("RunFlagsLineTests")
struct RunFlagsLineTests {
    /// The error text of a throwing call, or nil when it succeeds.
    static func failure<T>(_ body: () throws(EngineError) -> T) -> String? {
        do { _ = try body(); return nil } catch { return error.message }
    }

    // MARK: whole flag lines and their cross-flag checks

    /// A flag line parsed by the CLI's own `RunFlags` (ArgumentParser), as `berth run` parses it.
    static func arguments(_ line: [String]) -> RunFlags {
        do {
            return try RunFlags.parse(line)
        } catch {
            Issue.record("RunFlags refuses \(line): \(RunFlags.message(for: error))")
            return try! RunFlags.parse([])
        }
    }

    static let environment = ["HOME": "/root", "PATH": "/usr/bin:/bin", "FROM_CALLER": "yes"]

    static func parse(_ line: [String], hostCPUs: Int = 2) throws(EngineError) -> RunOptions {
        try arguments(line).runOptions(environment: environment, currentDirectory: "/work", hostCPUs: hostCPUs)
    }

    @Test func aFullLine() throws {
        let o = try Self.parse([
            "-d", "-i", "-t", "--name", "/web", "-e", "A=1", "-e", "FROM_CALLER", "-e", "UNSET", "-w", "/srv", "-u", "1:2",
            "--entrypoint", "", "-v", "/h:/c:ro", "--mount", "type=tmpfs,dst=/t", "--tmpfs", "/run", "--read-only",
            "-m", "64m", "--memory-swap", "-1", "--memory-reservation", "32m", "--cpus", "1.5", "-c", "512",
            "--cpuset-cpus", "0", "--pids-limit", "-1", "--ulimit", "nofile=10:20", "--ulimit", "nofile=30",
            "--shm-size", "1g", "--oom-score-adj", "-500", "--cap-add", "net_admin", "--cap-drop", "ALL",
            "--device", "/dev/fuse", "--security-opt", "seccomp=unconfined", "--security-opt", "no-new-privileges",
            "--sysctl", "net.core.somaxconn=1024", "--init", "--restart", "on-failure:5", "--health-cmd", "curl -f x",
            "--health-interval", "30s", "--health-timeout", "5s", "--health-retries", "3", "--health-start-period", "1m",
            "-h", "box", "--domainname", "example.org", "-l", "a=1", "-l", "b", "--stop-signal", "SIGINT",
            "--stop-timeout", "20", "--network", "host", "--pull", "never", "--log-opt", "max-size=10m",
            "--log-opt", "max-file=3", "--group-add", "audio",
        ])
        #expect(o.detach && o.interactive && o.tty && o.readOnlyRootfs && o.initProcess && !o.autoRemove)
        #expect(o.name == "web")
        #expect(o.env == ["A=1", "FROM_CALLER=yes"])
        #expect(o.workingDir == "/srv" && o.user == "1:2" && o.entrypoint == [""])
        #expect(o.mounts == [
            MountRequest(kind: .tmpfs, source: nil, target: "/t"),
            { var bind = MountRequest(kind: .bind, source: "/h", target: "/c", readOnly: true); bind.createsMissingSource = true; return bind }(),
            MountRequest(kind: .tmpfs, source: nil, target: "/run"),
        ])
        #expect(o.memory == 64 << 20 && o.memorySwap == -1 && o.memoryReservation == 32 << 20)
        #expect(o.nanoCPUs == 1_500_000_000 && o.cpuShares == 512 && o.cpusetCpus == "0" && o.pidsLimit == -1)
        #expect(o.ulimits == [Ulimit(name: "nofile", soft: 30, hard: 30)])
        #expect(try Self.parse(["--ulimit", "nproc=1", "--ulimit", "core=2"]).ulimits
            == [Ulimit(name: "core", soft: 2, hard: 2), Ulimit(name: "nproc", soft: 1, hard: 1)])
        #expect(o.shmSize == 1 << 30 && o.oomScoreAdj == -500)
        #expect(o.capAdd == ["CAP_NET_ADMIN"] && o.capDrop == ["ALL"])
        #expect(o.devices == [DeviceRequest(hostPath: "/dev/fuse", containerPath: "/dev/fuse")])
        #expect(o.seccomp == .unconfined && o.noNewPrivileges && o.securityOpt == ["no-new-privileges"])
        #expect(o.sysctls == ["net.core.somaxconn": "1024"])
        #expect(o.restart == .onFailure(maximumRetries: 5))
        #expect(o.health.test == ["CMD-SHELL", "curl -f x"])
        #expect(o.health.interval == 30_000_000_000 && o.health.timeout == 5_000_000_000)
        #expect(o.health.retries == 3 && o.health.startPeriod == 60_000_000_000)
        #expect(o.hostname == "box" && o.domainname == "example.org")
        #expect(o.labels == ["a": "1", "b": ""])
        #expect(o.stopSignal == "SIGINT" && o.stopTimeout == 20)
        #expect(o.network == .host && o.pull == .never)
        #expect(o.logOptions == ["max-size": "10m", "max-file": "3"])
        #expect(o.groupAdd == ["audio"])
    }

    @Test func defaults() throws {
        let o = try Self.parse([])
        #expect(o == RunOptions())
    }

    @Test func filesComeBeforeFlags() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-flags-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "A=from-file\nB=2\nFROM_CALLER\n".write(toFile: dir + "/env", atomically: true, encoding: .utf8)
        try "x=file\ny=2\nbare\n".write(toFile: dir + "/labels", atomically: true, encoding: .utf8)
        let o = try Self.parse(["-e", "A=flag", "--env-file", dir + "/env", "-l", "x=flag", "--label-file", dir + "/labels"])
        // Docker keeps both A entries, file first: the later one wins in the container.
        #expect(o.env == ["A=from-file", "B=2", "FROM_CALLER=yes", "A=flag"])
        #expect(o.labels == ["x": "flag", "y": "2"])
    }

    @Test(arguments: [
        (["-m", "64m", "--memory-swap", "32m"], "Minimum memoryswap limit should be larger than memory limit, see usage"),
        (["--memory-swap", "1g"], "You should always set the Memory limit when using Memoryswap limit, see usage"),
        (["-m", "1m"], "Minimum memory limit allowed is 6MB"),
        (["--memory-reservation", "1m"], "Minimum memory reservation allowed is 6MB"),
        (["-m", "64m", "--memory-reservation", "128m"], "Minimum memory limit can not be less than memory reservation limit, see usage"),
        (["--cpus", "1", "--cpu-period", "100000"], "Conflicting options: Nano CPUs and CPU Period cannot both be set"),
        (["--cpus", "1", "--cpu-quota", "50000"], "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
        (["--cpus", "3"], "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"),
        (["--cpu-period", "500"], "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"),
        (["--cpu-quota", "500"], "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
        (["--oom-score-adj", "1001"], "Invalid value 1001, range for oom score adj is [-1000, 1000]"),
        (["--rm", "--restart", "always"], "conflicting options: cannot specify both --restart and --rm"),
        (["--rm", "--restart", "on-failure:2"], "conflicting options: cannot specify both --restart and --rm"),
        (["--no-healthcheck", "--health-cmd", "true"], "--no-healthcheck conflicts with --health-* options"),
        (["--no-healthcheck", "--health-retries", "2"], "--no-healthcheck conflicts with --health-* options"),
        (["--health-interval", "-1s"], "--health-interval cannot be negative"),
        (["--health-retries", "-1"], "--health-retries cannot be negative"),
        (["--health-interval", "500us"], "Interval in Healthcheck cannot be less than 1ms"),
        (["--health-timeout", "1ns"], "Timeout in Healthcheck cannot be less than 1ms"),
        (["--health-start-period", "999us"], "StartPeriod in Healthcheck cannot be less than 1ms"),
        (["-m", "abc"], "invalid argument \"abc\" for \"-m, --memory\" flag: invalid size: 'abc'"),
        (["--cpus", "x"], "invalid argument \"x\" for \"--cpus\" flag: failed to parse x as a rational number"),
        (["-c", "x"], "invalid argument \"x\" for \"-c, --cpu-shares\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"),
        (["--ulimit", "as=1"], "invalid argument \"as=1\" for \"--ulimit\" flag: invalid ulimit type: as"),
        (["-e", "=x"], "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x"),
        (["-l", "=x"], "invalid argument \"=x\" for \"-l, --label\" flag: invalid label '=x': empty name"),
        (["--health-interval", "1x"], "invalid argument \"1x\" for \"--health-interval\" flag: time: unknown unit \"x\" in duration \"1x\""),
        (["--cap-add", "foo"], "invalid CapAdd: unknown capability: \"CAP_FOO\""),
        (["--cap-drop", "bar"], "invalid CapDrop: unknown capability: \"CAP_BAR\""),
        (["--name", "a"], "Invalid container name (a), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"),
        (["--name", "-x"], "Invalid container name (-x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"),
        (["-w", "rel"], "the working directory 'rel' is invalid, it needs to be an absolute path"),
        (["-v", "/a:/x", "--tmpfs", "/x"], "Duplicate mount point: /x"),
        (["--network", "host", "--network", "mynet"], "conflicting options: cannot attach both user-defined and non-user-defined network-modes"),
        (["--log-opt", "max-bytes=1"], "unknown log opt 'max-bytes' for json-file log driver"),
        (["--stop-signal", "NOPE"], "invalid signal: NOPE"),
    ])
    func crossFlagErrors(line: [String], message: String) {
        #expect(Self.failure { () throws(EngineError) in try Self.parse(line) } == message)
    }

    @Test(arguments: [
        ["-d", "--rm"], ["--rm", "--restart", "no"], ["-m", "64m", "--memory-swap", "64m"], ["-m", "64m", "--memory-swap", "-1"],
        ["--cpus", "2"], ["--cpus", "0"], ["--cpu-period", "100000", "--cpu-quota", "50000"], ["--health-interval", "0s"],
        ["--health-cmd", "true", "--health-interval", "1ms"], ["--no-healthcheck"], ["--network", "bridge"],
        ["--network", "container:db"], ["--pids-limit", "0"], ["--name", "ab"], ["--name", "/a.b-c_d"],
    ])
    func acceptedLines(line: [String]) {
        #expect(Self.failure { () throws(EngineError) in try Self.parse(line) } == nil)
    }

    @Test func errorsAreInvalidArgument() {
        do {
            _ = try Self.parse(["-m", "x"])
            Issue.record("no error")
        } catch {
            #expect(error.kind == .invalidArgument)
        }
    }
}

// MARK: peers

/// A docker client of version 23 or later (whose client-side messages the table mirrors): Debian's
/// 20.10 client words some errors differently, and CI's PATH may find it first.
let modernDocker: String? = {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/local/bin:/usr/bin"
    for candidate in path.split(separator: ":").map({ "\($0)/docker" }) where access(candidate, X_OK) == 0 {
        guard let version = try? sh([candidate, "--version"]).stdout,
              let major = version.firstMatch(of: /version (\d+)\./).flatMap({ Int($0.1) }), major >= 23 else { continue }
        return candidate
    }
    return nil
}()

/// CPUs this process may use, the bound Docker puts on `--cpus`.
func affinityCPUs() -> Int { RunOptions.hostCPUs() }

/// The real `docker` CLI, with no daemon behind it: it parses and checks its flags before it
/// connects, so its client-side errors can be compared word for word. Lines it accepts reach the
/// daemon's checks, whose texts (from moby's source) are the table's.
@Suite("RunFlagsLineTests.DockerCLI", .enabled(if: modernDocker != nil))
struct DockerCLIParityTests {
    static let cases: [([String], String?)] = [
        // Lines Docker's CLI refuses; the expected text is what the CLI prints, compared live.
        (["-m", "abc"], nil), (["-m", "1x"], nil), (["-m", "1.5.3"], nil), (["-m", "-1"], nil), (["-m", ""], nil),
        (["-m", "1kbb"], nil), (["--memory-swap", "1ib"], nil), (["--shm-size", "x"], nil), (["--memory-reservation", "1..5"], nil),
        (["--cpus", "0.0000000001"], nil), (["--cpus", "abc"], nil), (["--cpus", "1/3"], nil), (["--cpus", ""], nil), (["--cpus", "1/0"], nil),
        (["--ulimit", "nofile=1:2:3"], nil), (["--ulimit", "nofile"], nil), (["--ulimit", "as=1"], nil), (["--ulimit", "nofile=-1:5"], nil),
        (["--ulimit", "nofile=x"], nil), (["--ulimit", "nofile=2:1"], nil), (["--ulimit", "NOFILE=1"], nil),
        (["--restart", "on-failure:x"], nil), (["--restart", ":3"], nil), (["--restart", "always", "--rm"], nil),
        (["--health-interval", "1x"], nil), (["--health-timeout", "5"], nil), (["--health-interval", "-1s"], nil),
        (["--health-retries", "x"], nil), (["--health-retries", "-1"], nil), (["--no-healthcheck", "--health-retries", "2"], nil),
        (["--no-healthcheck", "--health-cmd", "true"], nil), (["--health-start-period", "-5m"], nil),
        (["--mount", "type=bind,src=/a"], nil), (["--mount", "type=bind,dst=/a,foo=bar"], nil),
        (["--mount", "type=volume,dst=/a,bind-propagation=shared"], nil), (["--mount", "dst=/a,ro=maybe"], nil),
        (["--mount", "dst=/a,readonly,xx"], nil), (["--mount", "type=tmpfs,dst=/a,tmpfs-size=x"], nil),
        (["--mount", "type=tmpfs,dst=/a,tmpfs-mode=9"], nil), (["--mount", "type=bind,src=/a\"b,dst=/c"], nil),
        (["--mount", "\"type=bind\"x,dst=/c"], nil), (["--mount", "\"abc"], nil), (["--mount", "a,\"b\"c"], nil),
        (["--mount", ","], nil), (["--mount", "type=bind,src=/a,dst=/a,volume-nocopy"], nil),
        (["-e", "=x"], nil), (["--env-file", "/nonexistent/env"], nil), (["--label-file", "/nonexistent/labels"], nil),
        (["-l", "=x"], nil), (["-l", "a b=1"], nil),
        (["--security-opt", "seccomp"], nil), (["--security-opt", "foo"], nil),
        (["--sysctl", "foo"], nil), (["--sysctl", "kernel.domainname=x"], nil), (["--pull", "foo"], nil),
        (["-c", "x"], nil), (["--pids-limit", "x"], nil), (["--stop-timeout", "x"], nil), (["--oom-score-adj", "x"], nil),
        (["--pid", "bogus"], nil), (["--pid", "container:"], nil), (["--uts", "bogus"], nil), (["--uts", "container:x"], nil),
        (["--userns", "bogus"], nil), (["--userns", "container:x"], nil), (["-a", "bogus"], nil), (["--attach", "stdin,stdout"], nil),
        (["--gpus", "bogus"], nil), (["--gpus", "count=x"], nil), (["--gpus", "1,count=2"], nil), (["--gpus", "foo=bar"], nil),
        (["--mac-address", "bogus"], nil), (["--mac-address", "02:42:ac:11:00"], nil), (["--platform", "bogus"], nil),
        (["--platform", "linux/amd64/v2/x"], nil), (["--platform", "linux/a b"], nil), (["--platform", "a b"], nil),
        (["--platform", "linux//amd64"], nil), (["--link", "a:b:c"], nil), (["--link", ""], nil),
        (["--log-driver", "none", "--log-opt", "max-size=1m"], nil),
        // Lines the CLI passes on; the daemon's answer (moby's text) is the reference.
        (["-m", "64m", "--memory-swap", "32m"], "Minimum memoryswap limit should be larger than memory limit, see usage"),
        (["--memory-swap", "1g"], "You should always set the Memory limit when using Memoryswap limit, see usage"),
        (["-m", "1m"], "Minimum memory limit allowed is 6MB"),
        (["--restart", "bogus"], "invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"),
        (["--restart", "always:3"], "invalid restart policy: maximum retry count can only be used with 'on-failure'"),
        (["--health-interval", "500us"], "Interval in Healthcheck cannot be less than 1ms"),
        (["--mount", "type=foo,dst=/a"], "invalid mount config for type \"foo\": mount type unknown"),
        (["--security-opt", "foo=bar"], "invalid --security-opt 2: \"foo=bar\""),
        (["-v", "/a:b"], "invalid volume specification: '/a:b': invalid mount config for type \"bind\": invalid mount path: 'b' mount path must be absolute"),
        (["-v", "/x:ro"], "invalid volume specification: '/x:ro'"),
        (["-v", "/a:/b:xx"], "invalid mode: xx"),
        (["-v", "foo/bar:/x"], "create foo/bar: \"foo/bar\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"),
        (["--cap-add", "foo"], "invalid CapAdd: unknown capability: \"CAP_FOO\""),
        (["--stop-signal", "FOO"], "invalid signal: FOO"),
        (["--cpus", "4096"], "Range of CPUs is from 0.01 to \(affinityCPUs()).00, as there are only \(affinityCPUs()) CPUs available"),
        (["--oom-score-adj", "2000"], "Invalid value 2000, range for oom score adj is [-1000, 1000]"),
        (["--cpus", "1", "--cpu-quota", "50000"], "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
        (["--ipc", "bogus"], "Invalid IPC mode: bogus"), (["--ipc", "container:"], "Invalid IPC mode: container:"),
        (["--uts", "host", "-h", "foo"], "conflicting options: hostname and the UTS mode"),
        (["--network", "host", "--link", "web"], "conflicting options: host type networking can't be used with links. This would result in undefined behavior"),
        (["--network", "container:web", "--link", "web"], "conflicting options: container type network can't be used with links. This would result in undefined behavior"),
        (["--network", "container:web", "--mac-address", "02:42:ac:11:00:99"], "conflicting options: mac-address and the network mode"),
        (["--gpus", "all"], "could not select device driver \"\" with capabilities: [[gpu]]"),
        (["--gpus", "driver=nvidia,\"capabilities=compute,utility\""], "could not select device driver \"nvidia\" with capabilities: [[compute utility gpu]]"),
        (["--gpus", "driver=nvidia,capabilities=compute,utility"], nil),
        (["--log-driver", "bogus"], "error looking up logging plugin bogus: plugin \"bogus\" not found"),
        (["--log-driver", "local", "--log-opt", "tag=x"], "unknown log opt 'tag' for log driver local"),
        // Lines both accept.
        (["--pid", "host", "--ipc", "shareable", "--uts", "host", "--userns", "host", "--volumes-from", "a:ro", "--link", "b:c",
          "-a", "STDOUT", "-a", "stderr", "--platform", "linux/amd64", "--log-driver", "local", "--log-opt", "max-size=1m",
          "--mac-address", "02:42:AC:11:00:99", "--oom-kill-disable", "--pid", "container:x", "--ipc", "none"], ""),
        (["-m", "64m", "--memory-swap", "-1", "--cpus", "1.5", "-e", "FROM_CALLER", "-l", "a=1", "--restart", "on-failure:3"], ""),
        (["--mount", "type=tmpfs,dst=/t,tmpfs-size=1m", "-v", "/tmp:/h:ro,z", "--tmpfs", "/run:size=1m", "--ulimit", "nofile=5:-1"], ""),
        (["--health-cmd", "true", "--health-interval", "1m30s", "--health-timeout", "500ms", "--stop-signal", "SIGRTMIN+1"], ""),
        (["-m", "1.5 GiB", "--shm-size", "64k", "--cpus", "3/2", "--security-opt", "no-new-privileges:false", "--sysctl", "net.a=1"], ""),
    ]

    @Test(arguments: cases)
    func sameAnswerAsDocker(line: [String], daemonMessage: String?) throws {
        let docker = try #require(modernDocker)
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("berth-docker-config-\(getpid())").path
        var environment = RunFlagsLineTests.environment
        environment["DOCKER_HOST"] = "unix:///nonexistent/berth-test-docker.sock"
        environment["DOCKER_CONFIG"] = config
        let result = try sh([docker, "create"] + line + ["busybox"], environment: environment)
        let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        let ours = RunFlagsLineTests.failure { () throws(EngineError) in
            try RunFlagsLineTests.arguments(line).runOptions(
                environment: RunFlagsLineTests.environment, currentDirectory: "/work", hostCPUs: affinityCPUs())
        }
        if first.contains("Cannot connect to the Docker daemon") {
            // The CLI accepted the line: the daemon's check decides.
            #expect(daemonMessage != nil, "docker's CLI accepts \(line); the table expected it to refuse")
            #expect(ours == (daemonMessage == "" ? nil : daemonMessage), "\(line)")
        } else {
            #expect(daemonMessage == nil, "docker's CLI refuses \(line): \(first)")
            let theirs = first.hasPrefix("docker: ") ? String(first.dropFirst(8)) : first
            #expect(ours == theirs, "\(line)")
        }
    }
}

/// The same flag lines through `podman create`, comparing what `podman inspect` stores with what
/// RunOptions holds. Docker is the reference where the two differ; Podman 4.3's differences, which
/// the comparison allows for: it drops more capabilities by default (CapDrop is a superset), stores
/// StopSignal as a number, fills Healthcheck.Timeout (30s) and PidsLimit (2048) when not given,
/// derives CpuPeriod/CpuQuota from --cpus, shows `--memory-swap -1` as 0, lists --mount tmpfs under
/// Tmpfs, and adds its own Env (TERM, container, HOSTNAME).
@Suite("RunFlagsLineTests.Podman", .enabled(if: executable("podman") != nil && getuid() == 0))
struct PodmanParityTests {
    static let lines: [[String]] = [
        ["-m", "64m"],
        ["-m", "1.5g", "--memory-swap", "2g", "--memory-reservation", "512m"],
        ["--cpus", "1.5", "-c", "512", "--cpuset-cpus", "0"],
        ["--cpus", "0.25", "--pids-limit", "100"],
        ["--ulimit", "core=0:0", "--ulimit", "stack=8388608:16777216"],
        ["--cap-add", "net_admin", "--cap-add", "CAP_SYS_TIME", "--cap-drop", "chown", "--cap-drop", "kill"],
        ["--restart", "on-failure:3"], ["--restart", "always"], ["--restart", "unless-stopped"], ["--restart", "no"],
        ["--health-cmd", "true", "--health-interval", "30s", "--health-retries", "4", "--health-start-period", "1m30s", "--health-timeout", "500ms"],
        ["-e", "A=1", "-e", "B=", "-e", "C=x=y", "-e", "FROM_CALLER", "--env-file", "ENVFILE"],
        ["-l", "a=1", "-l", "b", "--label-file", "LABELFILE"],
        ["--stop-signal", "SIGUSR1"], ["--stop-signal", "15"], ["--stop-signal", "kill"],
        ["--tmpfs", "/t:size=64m,mode=1777", "--mount", "type=tmpfs,dst=/m,tmpfs-size=1m"],
        ["-v", "/tmp:/h:ro", "-v", "vol1:/v", "-v", "/anon"],
        ["--mount", "type=bind,src=/tmp,dst=/b,readonly", "--mount", "type=volume,src=vol2,dst=/w"],
        ["--shm-size", "1m", "--oom-score-adj", "5", "--read-only", "--security-opt", "no-new-privileges"],
        ["-u", "1:2", "-w", "/tmp", "-h", "box", "--stop-timeout", "7", "--network", "none"],
        ["--network", "host", "--entrypoint", "/bin/echo"],
    ]

    static let signalNumbers = ["SIGUSR1": 10, "15": 15, "kill": 9]

    @Test func sameValuesAsPodman() throws {
        let podman = try #require(executable("podman"))
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("berth-podman-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let base = [podman, "--root", work + "/root", "--runroot", work + "/run", "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
        defer {
            _ = try? sh(base + ["rm", "-af"])
            _ = try? sh(base + ["system", "reset", "-f"])
            try? FileManager.default.removeItem(atPath: work)
        }
        try #require(BusyboxImage.failure == nil, "\(BusyboxImage.failure ?? "")")
        let pulled = try sh(base + ["pull", "-q", "oci:\(BusyboxImage.layout):latest"])
        try #require(pulled.status == 0, "podman pull: \(pulled.stderr)")
        let image = pulled.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try "E1=from-file\n# comment\n  E2=two words \nFROM_CALLER\n".write(toFile: work + "/env", atomically: true, encoding: .utf8)
        try "la=1\nlb\n".write(toFile: work + "/labels", atomically: true, encoding: .utf8)

        for template in Self.lines {
            let line = template.map { $0 == "ENVFILE" ? work + "/env" : $0 == "LABELFILE" ? work + "/labels" : $0 }
            // The sandbox lacks CAP_SYS_RESOURCE: podman must not try to raise these two limits.
            let full = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"] + line
            let ours = try RunFlagsLineTests.arguments(full).runOptions(
                environment: RunFlagsLineTests.environment, currentDirectory: "/", hostCPUs: affinityCPUs())
            let created = try sh(base + ["create"] + full + [image], environment: RunFlagsLineTests.environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]) { $1 })
            guard created.status == 0 else {
                Issue.record("podman create \(line): \(created.stderr)")
                continue
            }
            let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let inspected = try sh(base + ["inspect", id])
            let all = try #require(try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [[String: Any]])
            let container = try #require(all.first)
            for problem in Self.differences(ours, container) {
                Issue.record("\(line): \(problem)")
            }
            _ = try sh(base + ["rm", "-f", id])
        }
    }

    static func int(_ value: Any?) -> Int64? { (value as? NSNumber)?.int64Value }

    /// What podman stored that RunOptions does not say (allowing for Podman's known differences).
    static func differences(_ o: RunOptions, _ container: [String: Any]) -> [String] {
        var problems: [String] = []
        let host = container["HostConfig"] as? [String: Any] ?? [:]
        let config = container["Config"] as? [String: Any] ?? [:]
        func same(_ what: String, _ theirs: Any?, _ mine: Int64) {
            if int(theirs) != mine { problems.append("\(what): podman \(String(describing: theirs)), ours \(mine)") }
        }
        same("Memory", host["Memory"], o.memory ?? 0)
        if let swap = o.memorySwap, swap > 0 { same("MemorySwap", host["MemorySwap"], swap) }
        same("MemoryReservation", host["MemoryReservation"], o.memoryReservation ?? 0)
        same("NanoCpus", host["NanoCpus"], o.nanoCPUs ?? 0)
        same("CpuShares", host["CpuShares"], Int64(o.cpuShares ?? 0))
        if (host["CpusetCpus"] as? String ?? "") != (o.cpusetCpus ?? "") { problems.append("CpusetCpus \(host["CpusetCpus"] ?? "")") }
        if let pids = o.pidsLimit { same("PidsLimit", host["PidsLimit"], pids) }
        if let shm = o.shmSize { same("ShmSize", host["ShmSize"], shm) }
        if let adj = o.oomScoreAdj { same("OomScoreAdj", host["OomScoreAdj"], Int64(adj)) }

        let theirLimits = (host["Ulimits"] as? [[String: Any]] ?? []).map {
            Ulimit(name: ($0["Name"] as? String ?? "").replacingOccurrences(of: "RLIMIT_", with: "").lowercased(),
                   soft: int($0["Soft"]) ?? 0, hard: int($0["Hard"]) ?? 0)
        }
        if Set(theirLimits.map { "\($0.name)=\($0.soft):\($0.hard)" }) != Set(o.ulimits.map { "\($0.name)=\($0.soft):\($0.hard)" }) {
            problems.append("Ulimits: podman \(theirLimits), ours \(o.ulimits)")
        }
        if !o.privileged {
            let add = Set(host["CapAdd"] as? [String] ?? [])
            let drop = Set(host["CapDrop"] as? [String] ?? [])
            if add != Set(o.capAdd) { problems.append("CapAdd: podman \(add.sorted()), ours \(o.capAdd)") }
            if !drop.isSuperset(of: o.capDrop) { problems.append("CapDrop: podman \(drop.sorted()), ours \(o.capDrop)") }
        }
        let restart = host["RestartPolicy"] as? [String: Any] ?? [:]
        let name = restart["Name"] as? String ?? ""
        if (name.isEmpty ? "no" : name) != o.restart.name { problems.append("RestartPolicy.Name \(name), ours \(o.restart.name)") }
        if case .onFailure(let retries) = o.restart { same("MaximumRetryCount", restart["MaximumRetryCount"], Int64(retries ?? 0)) }
        if o.readOnlyRootfs != (host["ReadonlyRootfs"] as? Bool ?? false) { problems.append("ReadonlyRootfs") }
        if o.noNewPrivileges, !(host["SecurityOpt"] as? [String] ?? []).contains("no-new-privileges") { problems.append("SecurityOpt") }
        switch o.network {
        case .none: if host["NetworkMode"] as? String != "none" { problems.append("NetworkMode \(host["NetworkMode"] ?? "")") }
        case .host: if host["NetworkMode"] as? String != "host" { problems.append("NetworkMode \(host["NetworkMode"] ?? "")") }
        default: break
        }

        let env = Set(config["Env"] as? [String] ?? [])
        for item in o.env where !env.contains(item) { problems.append("Env lacks \(item): \(env.sorted())") }
        let labels = config["Labels"] as? [String: String] ?? [:]
        for (key, value) in o.labels where labels[key] != value { problems.append("Label \(key): podman \(labels[key] ?? "nil"), ours \(value)") }
        if let signal = o.stopSignal, int(config["StopSignal"]) != signalNumbers[signal].map(Int64.init) {
            problems.append("StopSignal: podman \(config["StopSignal"] ?? ""), ours \(signal)")
        }
        if let timeout = o.stopTimeout { same("StopTimeout", config["StopTimeout"], Int64(timeout)) }
        if let user = o.user, config["User"] as? String != user { problems.append("User \(config["User"] ?? "")") }
        if let dir = o.workingDir, config["WorkingDir"] as? String != dir { problems.append("WorkingDir \(config["WorkingDir"] ?? "")") }
        if let hostname = o.hostname, config["Hostname"] as? String != hostname { problems.append("Hostname \(config["Hostname"] ?? "")") }
        if let entrypoint = o.entrypoint {
            let theirs = (config["Entrypoint"] as? [String])?.joined(separator: " ") ?? config["Entrypoint"] as? String
            if theirs != entrypoint.joined(separator: " ") { problems.append("Entrypoint \(String(describing: theirs))") }
        }
        if let test = o.health.test {
            let check = config["Healthcheck"] as? [String: Any] ?? [:]
            if check["Test"] as? [String] != test { problems.append("Healthcheck.Test \(check["Test"] ?? "")") }
            if let v = o.health.interval { same("Healthcheck.Interval", check["Interval"], v) }
            if let v = o.health.timeout { same("Healthcheck.Timeout", check["Timeout"], v) }
            if let v = o.health.startPeriod { same("Healthcheck.StartPeriod", check["StartPeriod"], v) }
            if let v = o.health.retries { same("Healthcheck.Retries", check["Retries"], Int64(v)) }
        }

        let tmpfs = host["Tmpfs"] as? [String: String] ?? [:]
        let mounts = container["Mounts"] as? [[String: Any]] ?? []
        for mount in o.mounts {
            switch mount.kind {
            case .tmpfs:
                guard let options = tmpfs[mount.target] else { problems.append("Tmpfs lacks \(mount.target)"); continue }
                func size(_ list: [String]) -> Int64? {
                    list.first { $0.hasPrefix("size=") }.flatMap { try? RunOptions.Parse.size(String($0.dropFirst(5))) }
                }
                if size(mount.options) != size(options.split(separator: ",").map(String.init)) {
                    problems.append("Tmpfs \(mount.target): podman \(options), ours \(mount.options)")
                }
            case .bind, .volume:
                guard let theirs = mounts.first(where: { $0["Destination"] as? String == mount.target }) else {
                    problems.append("Mounts lacks \(mount.target)")
                    continue
                }
                if theirs["Type"] as? String != mount.kind.rawValue { problems.append("Mount \(mount.target) type \(theirs["Type"] ?? "")") }
                if theirs["RW"] as? Bool != !mount.readOnly { problems.append("Mount \(mount.target) RW") }
                if mount.kind == .bind, theirs["Source"] as? String != mount.source { problems.append("Mount \(mount.target) source") }
                if mount.kind == .volume, let name = mount.source, theirs["Name"] as? String != name { problems.append("Mount \(mount.target) name") }
            }
        }
        return problems
    }
}

/// A stand-in Docker daemon on a unix socket: answers `/_ping` and records the body of
/// `POST /containers/create`, which is exactly what Docker's CLI made of its flags.
final class FakeDockerDaemon: @unchecked Sendable {
    let path: String
    let listener: Int32
    private let lock = NSLock()
    private var bodies: [Data] = []

    init(path: String) throws {
        self.path = path
        unlink(path)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw POSIXError(.ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (i, byte) in bytes.enumerated() { buffer[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        Thread.detachNewThread { [self] in serve() }
    }

    /// Takes the create bodies recorded since the last call.
    func takeBodies() -> [Data] {
        lock.lock()
        defer { lock.unlock() }
        let taken = bodies
        bodies = []
        return taken
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 { return }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ connection: Int32) {
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        let separator: [UInt8] = [13, 10, 13, 10]
        func readMore() -> Bool {
            let n = read(connection, &buffer, buffer.count)
            if n <= 0 { return false }
            received += buffer[0..<n]
            return true
        }
        var headerEnd: Int?
        while headerEnd == nil {
            if let end = (0..<max(0, received.count - 3)).first(where: { Array(received[$0..<$0 + 4]) == separator }) {
                headerEnd = end + 4
            } else if !readMore() {
                return
            }
        }
        guard let headerEnd else { return }
        let head = String(decoding: received[0..<headerEnd], as: UTF8.self)
        let requestLine = head.split(separator: "\r\n").first.map(String.init) ?? ""
        let length = head.split(separator: "\r\n").compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            return parts.count == 2 && parts[0].lowercased() == "content-length" ? Int(parts[1].trimmingCharacters(in: .whitespaces)) : nil
        }.first ?? 0
        while received.count - headerEnd < length, readMore() {}
        let body = Data(received[headerEnd..<min(received.count, headerEnd + length)])
        var response: String
        if requestLine.contains("/_ping") {
            response = "HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nOstype: linux\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK"
        } else if requestLine.contains("/containers/create") {
            lock.lock()
            bodies.append(body)
            lock.unlock()
            let json = "{\"Id\":\"0123456789ab\",\"Warnings\":[]}"
            response = "HTTP/1.1 201 Created\r\nApi-Version: 1.47\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\nConnection: close\r\n\r\n\(json)"
        } else {
            let json = "{\"message\":\"not implemented by the test daemon\"}"
            response = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\nConnection: close\r\n\r\n\(json)"
        }
        _ = Array(response.utf8).withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
    }
}

/// Docker's CLI against the stand-in daemon: the create request it sends is Docker's own reading of
/// the flags (before the daemon fills defaults), compared field by field with RunOptions. The one
/// difference kept on purpose: a bare `-e KEY` that is unset is dropped here, where Docker sends
/// `KEY` and its daemon then unsets it in the container.
@Suite("RunFlagsLineTests.DockerRequest", .enabled(if: executable("docker") != nil))
struct DockerRequestParityTests {
    static let lines: [[String]] = [
        ["-m", "64m", "--memory-swap", "-1", "--memory-reservation", "32m", "--shm-size", "1g", "--oom-score-adj", "-5"],
        ["-m", "1.5 GiB", "--memory-swap", "2g", "--cpus", "1.5", "-c", "512", "--cpuset-cpus", "0-1", "--cpuset-mems", "0"],
        ["--cpu-period", "100000", "--cpu-quota", "50000", "--pids-limit", "100"],
        ["--ulimit", "nofile=1024:2048", "--ulimit", "core=-1", "--ulimit", "nproc=10"],
        ["--cap-add", "net_admin", "--cap-add", "CAP_SYS_TIME", "--cap-drop", "ALL", "--privileged"],
        ["--restart", "on-failure:3"], ["--restart", "unless-stopped"], ["--restart", "always", "--name", "ab"], ["--rm", "-i", "-t"],
        ["--health-cmd", "curl -f http://x/", "--health-interval", "1m30s", "--health-timeout", "500ms", "--health-retries", "4", "--health-start-period", "10s"],
        ["--no-healthcheck"],
        ["-e", "A=1", "-e", "B=", "-e", "C=x=y", "-e", "FROM_CALLER", "-e", "UNSET", "--env-file", "ENVFILE"],
        ["-l", "a=1", "-l", "b", "--label-file", "LABELFILE", "-l", "la=override"],
        ["--stop-signal", "SIGUSR1", "--stop-timeout", "7"],
        ["--tmpfs", "/t:size=64m,mode=1777", "--tmpfs", "/run", "--mount", "type=tmpfs,dst=/m,tmpfs-size=1m,tmpfs-mode=700"],
        ["-v", "/tmp:/h:ro,z", "-v", "vol1:/v:nocopy", "-v", "/anon", "-v", "/srv:/srv2:rshared"],
        ["--mount", "type=bind,src=/tmp,dst=/b,readonly,bind-propagation=rslave", "--mount", "type=volume,src=vol2,dst=/w,volume-nocopy"],
        ["--read-only", "--security-opt", "no-new-privileges", "--security-opt", "seccomp=unconfined", "--security-opt", "label=disable"],
        ["--sysctl", "net.core.somaxconn=1024", "--sysctl", "kernel.shmmax=1000"],
        ["-u", "1:2", "-w", "/tmp", "-h", "box", "--domainname", "example.org", "--network", "none", "--name", "web"],
        ["--network", "host", "--entrypoint", "/bin/echo", "--init", "--group-add", "audio", "--group-add", "10"],
        ["--entrypoint", "", "--network", "container:db", "--device", "/dev/fuse", "--device", "/dev/null:/dev/nil:r"],
        ["--log-opt", "max-size=10m", "--log-opt", "max-file=3", "--pull", "never"],
    ]

    @Test func sameRequestAsDocker() throws {
        let docker = try #require(executable("docker"))
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("berth-dockerd-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let daemon = try FakeDockerDaemon(path: work + "/docker.sock")
        defer { daemon.stop() }
        try "E1=from-file\n# comment\n  E2=two words \nFROM_CALLER\nA=file\n".write(toFile: work + "/env", atomically: true, encoding: .utf8)
        try "la=1\nlb\n".write(toFile: work + "/labels", atomically: true, encoding: .utf8)
        var environment = RunFlagsLineTests.environment
        environment["DOCKER_HOST"] = "unix://" + work + "/docker.sock"
        environment["DOCKER_CONFIG"] = work + "/config"

        for template in Self.lines {
            let line = template.map { $0 == "ENVFILE" ? work + "/env" : $0 == "LABELFILE" ? work + "/labels" : $0 }
            let ours = try RunFlagsLineTests.arguments(line).runOptions(
                environment: RunFlagsLineTests.environment, currentDirectory: "/", hostCPUs: affinityCPUs())
            let result = try sh([docker, "create"] + line + ["busybox"], environment: environment)
            let bodies = daemon.takeBodies()
            guard result.status == 0, let body = bodies.first else {
                Issue.record("docker create \(line): status \(result.status), \(result.stderr)")
                continue
            }
            let request = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            for problem in Self.differences(ours, request) {
                Issue.record("\(line): \(problem)")
            }
        }
    }

    static func int(_ value: Any?) -> Int64 { (value as? NSNumber)?.int64Value ?? 0 }
    static func strings(_ value: Any?) -> [String] { value as? [String] ?? [] }

    static func differences(_ o: RunOptions, _ config: [String: Any]) -> [String] {
        var problems: [String] = []
        let host = config["HostConfig"] as? [String: Any] ?? [:]
        func check(_ what: String, _ same: Bool, _ theirs: Any?) {
            if !same { problems.append("\(what): docker sent \(String(describing: theirs))") }
        }
        check("Memory", int(host["Memory"]) == o.memory ?? 0, host["Memory"])
        check("MemorySwap", int(host["MemorySwap"]) == o.memorySwap ?? 0, host["MemorySwap"])
        check("MemoryReservation", int(host["MemoryReservation"]) == o.memoryReservation ?? 0, host["MemoryReservation"])
        check("NanoCpus", int(host["NanoCpus"]) == o.nanoCPUs ?? 0, host["NanoCpus"])
        check("CpuShares", int(host["CpuShares"]) == Int64(o.cpuShares ?? 0), host["CpuShares"])
        check("CpuPeriod", int(host["CpuPeriod"]) == Int64(o.cpuPeriod ?? 0), host["CpuPeriod"])
        check("CpuQuota", int(host["CpuQuota"]) == o.cpuQuota ?? 0, host["CpuQuota"])
        check("CpusetCpus", (host["CpusetCpus"] as? String ?? "") == o.cpusetCpus ?? "", host["CpusetCpus"])
        check("CpusetMems", (host["CpusetMems"] as? String ?? "") == o.cpusetMems ?? "", host["CpusetMems"])
        check("PidsLimit", int(host["PidsLimit"]) == o.pidsLimit ?? 0, host["PidsLimit"])
        check("ShmSize", int(host["ShmSize"]) == o.shmSize ?? 0, host["ShmSize"])
        check("OomScoreAdj", int(host["OomScoreAdj"]) == Int64(o.oomScoreAdj ?? 0), host["OomScoreAdj"])
        let ulimits = (host["Ulimits"] as? [[String: Any]] ?? []).map {
            Ulimit(name: $0["Name"] as? String ?? "", soft: int($0["Soft"]), hard: int($0["Hard"]))
        }
        check("Ulimits", ulimits == o.ulimits, ulimits)
        // Docker's CLI sends capabilities as typed; its daemon normalises them as we do.
        let capAdd = strings(host["CapAdd"]).map { (try? RunOptions.Parse.capability($0)) ?? $0 }
        let capDrop = strings(host["CapDrop"]).map { (try? RunOptions.Parse.capability($0)) ?? $0 }
        check("CapAdd", capAdd == o.capAdd, host["CapAdd"])
        check("CapDrop", capDrop == o.capDrop, host["CapDrop"])
        check("Privileged", host["Privileged"] as? Bool ?? false == o.privileged, host["Privileged"])
        check("ReadonlyRootfs", host["ReadonlyRootfs"] as? Bool ?? false == o.readOnlyRootfs, host["ReadonlyRootfs"])
        check("AutoRemove", host["AutoRemove"] as? Bool ?? false == o.autoRemove, host["AutoRemove"])
        check("Init", host["Init"] as? Bool ?? false == o.initProcess, host["Init"])
        check("GroupAdd", strings(host["GroupAdd"]) == o.groupAdd, host["GroupAdd"])
        let restart = host["RestartPolicy"] as? [String: Any] ?? [:]
        var retries: Int64 = 0
        if case .onFailure(let count) = o.restart { retries = Int64(count ?? 0) }
        check("RestartPolicy", ((restart["Name"] as? String).map { $0.isEmpty ? "no" : $0 } ?? "no") == o.restart.name
            && int(restart["MaximumRetryCount"]) == retries, restart)
        let securityOpt = strings(host["SecurityOpt"])
        check("SecurityOpt", securityOpt.filter { !$0.hasPrefix("seccomp") } == o.securityOpt, securityOpt)
        let seccomp: SeccompChoice? = securityOpt.contains("seccomp=unconfined") ? .unconfined : nil
        check("seccomp", seccomp == o.seccomp, securityOpt)
        check("Sysctls", (host["Sysctls"] as? [String: String] ?? [:]) == o.sysctls, host["Sysctls"])
        let logConfig = (host["LogConfig"] as? [String: Any])?["Config"] as? [String: String] ?? [:]
        check("LogConfig", logConfig == o.logOptions, logConfig)
        let networkMode = host["NetworkMode"] as? String ?? ""
        let expectedMode: String = switch o.network {
        case .default: "default"
        case .none: "none"
        case .host: "host"
        case .named(let name): name
        case .container(let name): "container:" + name
        }
        check("NetworkMode", networkMode == expectedMode, networkMode)
        let devices = (host["Devices"] as? [[String: Any]] ?? []).map {
            DeviceRequest(hostPath: $0["PathOnHost"] as? String ?? "", containerPath: $0["PathInContainer"] as? String ?? "",
                          permissions: $0["CgroupPermissions"] as? String ?? "")
        }
        check("Devices", devices == o.devices, host["Devices"])

        // Mounts: --mount in HostConfig.Mounts, -v binds in Binds, anonymous -v in Config.Volumes, --tmpfs in Tmpfs.
        var expectedMounts: [MountRequest] = []
        for mount in host["Mounts"] as? [[String: Any]] ?? [] {
            let kind = MountRequest.Kind(rawValue: mount["Type"] as? String ?? "") ?? .bind
            var options: [String] = []
            if let propagation = (mount["BindOptions"] as? [String: Any])?["Propagation"] as? String { options.append(propagation) }
            if (mount["VolumeOptions"] as? [String: Any])?["NoCopy"] as? Bool == true { options.append("nocopy") }
            if let tmpfs = mount["TmpfsOptions"] as? [String: Any] {
                if let size = tmpfs["SizeBytes"] { options.append("size=\(int(size))") }
                if let mode = tmpfs["Mode"] { options.append("mode=0" + String(int(mode), radix: 8)) }
            }
            let source = (mount["Source"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            expectedMounts.append(MountRequest(kind: kind, source: source, target: mount["Target"] as? String ?? "",
                                               readOnly: mount["ReadOnly"] as? Bool ?? false, options: options))
        }
        for bind in strings(host["Binds"]) {
            do { expectedMounts.append(try RunOptions.Parse.volume(bind, currentDirectory: "/")) } catch {
                problems.append("Binds entry \(bind): \(error)")
            }
        }
        for target in (config["Volumes"] as? [String: Any] ?? [:]).keys.sorted() {
            expectedMounts.append(MountRequest(kind: .volume, source: nil, target: target))
        }
        for (target, options) in (host["Tmpfs"] as? [String: String] ?? [:]).sorted(by: { $0.key < $1.key }) {
            let list = options.split(separator: ",").map(String.init)
            expectedMounts.append(MountRequest(kind: .tmpfs, source: nil, target: target, readOnly: list.contains("ro"),
                                               options: list.filter { $0 != "ro" && $0 != "rw" }))
        }
        func key(_ m: MountRequest) -> String { "\(m.kind) \(m.source ?? "-") \(m.target) \(m.readOnly) \(m.options)" }
        check("mounts", Set(expectedMounts.map(key)) == Set(o.mounts.map(key)) && expectedMounts.count == o.mounts.count, expectedMounts)

        // Config.
        // Docker 28's CLI sends env-file entries first, in file order, then the -e ones in Go map
        // order (it varies from run to run), so only the entries are compared, not their order.
        let env = strings(config["Env"]).filter { $0.contains("=") }  // the one deliberate difference, above
        check("Env", env.sorted() == o.env.sorted(), config["Env"])
        check("Labels", (config["Labels"] as? [String: String] ?? [:]) == o.labels, config["Labels"])
        check("StopSignal", (config["StopSignal"] as? String).flatMap { $0.isEmpty ? nil : $0 } == o.stopSignal, config["StopSignal"])
        check("StopTimeout", (config["StopTimeout"] as? NSNumber)?.intValue == o.stopTimeout, config["StopTimeout"])
        check("Entrypoint", config["Entrypoint"] as? [String] == o.entrypoint, config["Entrypoint"])
        check("User", (config["User"] as? String ?? "") == o.user ?? "", config["User"])
        check("WorkingDir", (config["WorkingDir"] as? String ?? "") == o.workingDir ?? "", config["WorkingDir"])
        check("Hostname", (config["Hostname"] as? String ?? "") == o.hostname ?? "", config["Hostname"])
        check("Domainname", (config["Domainname"] as? String ?? "") == o.domainname ?? "", config["Domainname"])
        check("Tty", config["Tty"] as? Bool ?? false == o.tty, config["Tty"])
        check("OpenStdin", config["OpenStdin"] as? Bool ?? false == o.interactive, config["OpenStdin"])
        let health = config["Healthcheck"] as? [String: Any]
        if o.noHealthcheck {
            check("Healthcheck", strings(health?["Test"]) == ["NONE"], health)
        } else if o.health == HealthOverride() {
            check("Healthcheck", health == nil, health)
        } else {
            let test = health?["Test"] as? [String]
            check("Healthcheck", test == o.health.test && int(health?["Interval"]) == o.health.interval ?? 0
                && int(health?["Timeout"]) == o.health.timeout ?? 0 && int(health?["StartPeriod"]) == o.health.startPeriod ?? 0
                && int(health?["Retries"]) == Int64(o.health.retries ?? 0), health)
        }
        return problems
    }
}
