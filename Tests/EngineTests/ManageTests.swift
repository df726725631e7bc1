import Foundation
import TestSupport
import Testing

/// pause/unpause, update and stats on real containers.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct ManageTests {
    static let counter = ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; usleep 20000; done"]

    func read(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func cgroup(_ controller: String, _ id: String, _ file: String) -> String {
        read("/sys/fs/cgroup/\(controller)/berth/\(id)/\(file)")
    }

    @Test func pauseStopsProgressAndUnpauseResumes() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let started = try berth.callAnyway(["run", "-d", "--name", "counter", "busybox:test"] + Self.counter)
        try #require(started.status == 0, "\(started.stderr)")
        let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let count = berth.root + "/containers/\(id)/rootfs/tmp/count"
        usleep(300_000)
        #expect(try berth.call("pause", "counter") == "counter\n")
        #expect(cgroup("freezer", id, "freezer.state") == "FROZEN")
        let frozen = read(count)
        usleep(400_000)
        #expect(read(count) == frozen, "the counter advanced while paused")
        #expect(try berth.inspect("counter", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}") == "paused true true")
        #expect(try berth.call("ps", "--format", "{{.Status}}").contains("(Paused)"))
        #expect(try berth.call("ps", "--filter", "status=paused", "-q") == String(id.prefix(12)) + "\n")

        let again = try berth.callAnyway(["pause", "counter"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("Container \(id) is already paused"), "\(again.stderr)")

        #expect(try berth.call("container", "unpause", "counter") == "counter\n")
        #expect(cgroup("freezer", id, "freezer.state") == "THAWED")
        // The counter rewrites its file (truncate, write): a read can see it empty, and a loaded
        // machine takes its time; so poll for a larger number, up to 5 s.
        var resumed = 0
        for _ in 0..<100 where resumed <= Int(frozen) ?? 0 {
            resumed = Int(read(count)) ?? 0
            if resumed <= Int(frozen) ?? 0 { usleep(50_000) }
        }
        #expect(resumed > Int(frozen) ?? 0, "the counter did not resume")
        #expect(try berth.inspect("counter", "{{.State.Status}} {{.State.Paused}}") == "running false")

        let notPaused = try berth.callAnyway(["unpause", "counter"])
        #expect(notPaused.status == 1)
        #expect(notPaused.stderr == "Error response from daemon: Container \(id) is not paused\n")

        // Docker thaws a paused container to stop it.
        try berth.call("pause", "counter")
        try berth.call("stop", "-t", "1", "counter")
        #expect(try berth.inspect("counter", "{{.State.Status}} {{.State.Paused}}") == "exited false")
    }

    @Test func killOfPausedContainerEndsIt() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "-d", "--name", "killme", "busybox:test", "sleep", "300")
        try berth.call("pause", "killme")
        try berth.call("kill", "killme")
        #expect(try berth.call("wait", "killme") == "137\n")
    }

    @Test func pauseErrorsMatchDocker() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let id = try berth.call("create", "--name", "idle", "busybox:test", "true").trimmingCharacters(in: .whitespacesAndNewlines)
        let notRunning = try berth.callAnyway(["pause", "idle"])
        #expect(notRunning.status == 1)
        #expect(notRunning.stderr == "Error response from daemon: Container \(id) is not running\n")
        let missing = try berth.callAnyway(["unpause", "nosuch"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "Error response from daemon: No such container: nosuch\n")
        // One bad name does not stop the others, and the status is still 1.
        let mixed = try berth.callAnyway(["unpause", "nosuch", "idle"])
        #expect(mixed.status == 1)
        #expect(mixed.stdout == "")
        guard EngineEnv.hasPodman else { return }
        let podman = try PodmanPeer()
        defer { podman.remove() }
        _ = try podman.callAnyway(["create", "--name", "idle", "busybox:test", "true"])
        let theirs = try podman.callAnyway(["pause", "idle"])
        #expect(theirs.status != 0, "podman paused a created container")
    }

    @Test func updateChangesLiveCgroupInspectAndNextStart() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let id = try berth.call("run", "-d", "--name", "upd", "-m", "100m", "busybox:test", "sleep", "300")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(cgroup("memory", id, "memory.limit_in_bytes") == "104857600")
        #expect(try berth.call("update", "-m", "50m", "--pids-limit", "40", "--cpus", "0.5", "--cpu-shares", "512", "upd") == "upd\n")
        #expect(cgroup("memory", id, "memory.limit_in_bytes") == "52428800")
        #expect(cgroup("pids", id, "pids.max") == "40")
        #expect(cgroup("cpu", id, "cpu.cfs_quota_us") == "50000")
        #expect(cgroup("cpu", id, "cpu.shares") == "512")
        #expect(try berth.inspect("upd", "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}}")
            == "52428800 209715200 40 500000000 512")
        // Above the swap limit already set: Docker's conflict, nothing changed.
        let tooBig = try berth.callAnyway(["update", "-m", "300m", "upd"])
        #expect(tooBig.status == 1)
        #expect(tooBig.stderr.contains("Memory limit should be smaller than already set memoryswap limit"), "\(tooBig.stderr)")
        #expect(cgroup("memory", id, "memory.limit_in_bytes") == "52428800")
        try berth.call("update", "-m", "300m", "--memory-swap", "600m", "upd")
        #expect(cgroup("memory", id, "memory.limit_in_bytes") == "314572800")
        try berth.call("update", "--restart", "on-failure:3", "upd")
        #expect(try berth.inspect("upd", "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}") == "on-failure 3")
        // The next start keeps it.
        try berth.call("restart", "-t", "1", "upd")
        #expect(cgroup("memory", id, "memory.limit_in_bytes") == "314572800")
        #expect(cgroup("pids", id, "pids.max") == "40")
    }

    @Test func updateOfStoppedContainerIsStored() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let id = try berth.call("create", "--name", "stored", "busybox:test", "sleep", "300").trimmingCharacters(in: .whitespacesAndNewlines)
        try berth.call("update", "--memory", "64m", "--cpuset-cpus", "0", "stored")
        #expect(try berth.inspect("stored", "{{.HostConfig.Memory}} {{.HostConfig.CpusetCpus}}") == "67108864 0")
        try berth.call("start", "stored")
        #expect(cgroup("memory", id, "memory.limit_in_bytes") == "67108864")
        #expect(cgroup("cpuset", id, "cpuset.cpus") == "0")
    }

    @Test func updateRestartPolicyReachesRunningSupervisor() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "-d", "--name", "again", "busybox:test", "sh", "-c", "sleep 1; exit 3")
        try berth.call("update", "--restart", "on-failure:2", "again")
        var restarts = 0
        for _ in 0..<80 {
            restarts = Int(try berth.inspect("again", "{{.RestartCount}}")) ?? 0
            if restarts >= 1 { break }
            usleep(100_000)
        }
        #expect(restarts >= 1, "the running container did not pick up the new restart policy")
    }

    @Test func updateBadInput() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("create", "--name", "bad", "busybox:test", "true")
        let badSize = try berth.callAnyway(["update", "-m", "12x", "bad"])
        #expect(badSize.status == 125)
        #expect(badSize.stderr.hasPrefix("invalid argument \"12x\" for \"-m, --memory\" flag: invalid suffix: 'x'"), "\(badSize.stderr)")
        let noFlags = try berth.callAnyway(["update", "bad"])
        #expect(noFlags.status == 1)
        #expect(noFlags.stderr == "You must provide one or more flags when using this command.\n")
        let missing = try berth.callAnyway(["update", "-m", "50m", "nosuch"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "Error response from daemon: No such container: nosuch\n")
        let tooSmall = try berth.callAnyway(["update", "-m", "1m", "bad"])
        #expect(tooSmall.status == 1)
        #expect(tooSmall.stderr.contains("Minimum memory limit allowed is 6MB"), "\(tooSmall.stderr)")
        let policy = try berth.callAnyway(["update", "--restart", "sometimes", "bad"])
        #expect(policy.status == 125)
    }

    @Test func statsNoStreamShowsUsage() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        // No network for the busy one: its NET I/O is exactly 0B / 0B (a bridged one sees the
        // kernel's own IPv6 chatter).
        try berth.call("run", "-d", "--name", "st", "--network", "none", "-m", "100m", "busybox:test", "sh", "-c", "while true; do :; done")
        try berth.call("run", "-d", "--name", "idle", "busybox:test", "sleep", "300")
        let table = try berth.call("stats", "--no-stream")
        let lines = table.split(separator: "\n")
        #expect(lines.first?.hasPrefix("CONTAINER ID   NAME") == true, "\(table)")
        #expect(lines.first?.contains("CPU %") == true && lines.first?.contains("MEM USAGE / LIMIT") == true)
        #expect(lines.count == 3, "\(table)")
        let row = try berth.call("stats", "--no-stream", "--format", "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|{{.PIDs}}", "st")
        let fields = row.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").map(String.init)
        try #require(fields.count == 6, "\(row)")
        #expect(fields[0] == "st")
        // A busy loop: well above zero CPU, at most the machine's.
        let cpu = Double(fields[1].dropLast()) ?? -1
        #expect(cpu > 30 && cpu <= Double(ProcessInfo.processInfo.activeProcessorCount) * 100 + 5, "\(fields[1])")
        #expect(fields[2].hasSuffix(" / 100MiB"), "\(fields[2])")
        let used = fields[2].split(separator: " ").first.map(String.init) ?? ""
        #expect(used.hasSuffix("KiB") || used.hasSuffix("MiB"), "implausible usage \(used)")
        #expect(fields[4] == "0B / 0B")
        #expect(fields[5] == "1")
        let bridged = try berth.call("stats", "--no-stream", "--format", "{{.NetIO}}", "idle").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(bridged.wholeMatch(of: /[0-9.]+[kMG]?B \/ [0-9.]+[kMG]?B/) != nil, "\(bridged)")
        let json = try berth.call("stats", "--no-stream", "--format", "{{json .}}", "idle")
        #expect(json.hasPrefix("{\"BlockIO\":"), "\(json)")
        #expect(json.contains("\"Name\":\"idle\"") && json.contains("\"PIDs\":\"1\""))
        // Unlimited: the limit is the host's memory.
        let hostTotal = try berth.call("stats", "--no-stream", "--format", "{{.MemUsage}}", "idle")
        #expect(hostTotal.contains("GiB"), "\(hostTotal)")
        let missing = try berth.callAnyway(["stats", "--no-stream", "nosuch"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "Error response from daemon: No such container: nosuch\n")
        try berth.call("stop", "-t", "0", "st")
        let all = try berth.call("stats", "--no-stream", "-a", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}")
        #expect(all.contains("st 0B / 0B 0"), "\(all)")
    }
}
