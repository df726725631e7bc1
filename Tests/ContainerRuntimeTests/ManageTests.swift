import Foundation
import OCI
import TestSupport
import Testing

/// pause/resume, ps, update and events on running containers, against runc on the same bundle.
@Suite(.enabled(if: Env.canRunContainers, "needs root, busybox-static and a built berth-runtime"))
struct ManageTests {
    /// The container's directory for a v1 (or v2) controller, found from its init's /proc/PID/cgroup.
    func cgroupDirectory(pid: Int, controller: String) throws -> String {
        let lines = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8).split(separator: "\n")
        for line in lines {
            let parts = line.split(separator: ":", maxSplits: 2).map(String.init)
            if parts.count == 3, parts[1].split(separator: ",").contains(Substring(controller)) {
                return "/sys/fs/cgroup/\(controller)" + parts[2]
            }
        }
        throw POSIXError(.ENOENT)
    }

    @Test(arguments: ["berth", "runc"])
    func pauseFreezesAndResumeThaws(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle.sleeping()
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "pause", started: true)
        defer { _ = try? runtime("delete", "-f", id) }
        let pid = try #require(try runtime.state(id)?["pid"] as? Int)
        #expect(try runtime("pause", id).status == 0)
        #expect(try runtime.state(id)?["status"] as? String == "paused")
        let freezer = try cgroupDirectory(pid: pid, controller: "freezer")
        #expect(try String(contentsOfFile: freezer + "/freezer.state", encoding: .utf8) == "FROZEN\n")
        #expect(try runtime("resume", id).status == 0)
        #expect(try runtime.state(id)?["status"] as? String == "running")
        #expect(try runtime("resume", id).status != 0, "resume of a running container fails")
        // A paused container can still be killed.
        #expect(try runtime("pause", id).status == 0)
        #expect(try runtime("delete", "--force", id).status == 0)
        #expect(try runtime("state", id).status != 0)
    }

    @Test(arguments: ["berth", "runc"])
    func psListsTheContainersProcesses(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle.sleeping()
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "ps", started: true)
        defer { _ = try? runtime("delete", "-f", id) }
        let pid = try #require(try runtime.state(id)?["pid"] as? Int)
        let json = try runtime("ps", "--format", "json", id)
        #expect(json.status == 0, "\(json.stderr)")
        #expect(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Int] == [pid])
        let table = try runtime("ps", id)
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.count == 2, "\(table.stdout)")
        #expect(lines.first?.contains("PID") == true)
        #expect(lines.last?.contains("sleep 100") == true)
        let custom = try runtime("ps", id, "-o", "pid,comm")
        #expect(custom.stdout.split(separator: "\n").last?.split(separator: " ").map(String.init) == ["\(pid)", "sleep"])
    }

    @Test(arguments: ["berth", "runc"])
    func updateChangesLimits(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle.sleeping()
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "upd", started: true)
        defer { _ = try? runtime("delete", "-f", id) }
        let pid = try #require(try runtime.state(id)?["pid"] as? Int)
        let flags = try runtime("update", "--memory", "64m", "--pids-limit", "20", "--cpu-quota", "50000", "--cpu-period", "100000", id)
        #expect(flags.status == 0, "\(flags.stderr)")
        let memory = try cgroupDirectory(pid: pid, controller: "memory")
        #expect(try String(contentsOfFile: memory + "/memory.limit_in_bytes", encoding: .utf8) == "67108864\n")
        let pids = try cgroupDirectory(pid: pid, controller: "pids")
        #expect(try String(contentsOfFile: pids + "/pids.max", encoding: .utf8) == "20\n")
        let cpu = try cgroupDirectory(pid: pid, controller: "cpu")
        #expect(try String(contentsOfFile: cpu + "/cpu.cfs_quota_us", encoding: .utf8) == "50000\n")

        let json = #"{"memory": {"limit": 33554432}, "pids": {"limit": 30}}"#
        let fromStdin = try runtime("update", "--resources", "-", id, stdin: json)
        #expect(fromStdin.status == 0, "\(fromStdin.stderr)")
        #expect(try String(contentsOfFile: memory + "/memory.limit_in_bytes", encoding: .utf8) == "33554432\n")
        #expect(try String(contentsOfFile: pids + "/pids.max", encoding: .utf8) == "30\n")
        // The limit holds inside: more processes than pids.max cannot start.
        let inside = try runtime("exec", id, "cat", "/sys/fs/cgroup/pids/pids.max")
        #expect(inside.stdout == "30\n")

        let bad = try runtime("update", "--memory", "lots", id)
        #expect(bad.status != 0)
    }

    /// Engines send 0 for "not set" (Docker's config has blockIO.weight 0 and cpu.shares 0; its update
    /// sends memory.limit 0 when only the CPU changes). runc reads zeroes that way; so must we.
    @Test(arguments: ["berth", "runc"])
    func zeroesMeanNotSet(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle(args: ["/bin/sleep", "100"])
        bundle.spec.linux?.resources = try decodeJSON(Resources.self, Array(
            #"{"memory":{"disableOOMKiller":false,"kernel":0},"cpu":{"shares":0,"quota":0,"period":0},"blockIO":{"weight":0},"pids":{"limit":0}}"#.utf8))
        try bundle.write()
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "zero", started: true)
        defer { _ = try? runtime("delete", "-f", id) }
        let pid = try #require(try runtime.state(id)?["pid"] as? Int)
        #expect(try runtime("update", "--memory", "64m", id).status == 0)
        let cpuOnly = #"{"memory":{"limit":0,"reservation":0,"kernel":0},"cpu":{"shares":0,"quota":50000,"period":100000},"blockIO":{"weight":0}}"#
        let updated = try runtime("update", "--resources", "-", id, stdin: cpuOnly)
        #expect(updated.status == 0, "\(updated.stderr)")
        let memory = try cgroupDirectory(pid: pid, controller: "memory")
        #expect(try String(contentsOfFile: memory + "/memory.limit_in_bytes", encoding: .utf8) == "67108864\n")
        let cpu = try cgroupDirectory(pid: pid, controller: "cpu")
        #expect(try String(contentsOfFile: cpu + "/cpu.cfs_quota_us", encoding: .utf8) == "50000\n")
        let pids = try cgroupDirectory(pid: pid, controller: "pids")
        #expect(try String(contentsOfFile: pids + "/pids.max", encoding: .utf8) == "max\n")
    }

    @Test(arguments: ["berth", "runc"])
    func eventsStatsReportUsage(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle.sleeping()
        bundle.spec.linux?.resources = Resources(memory: MemoryLimits(limit: 100 << 20), pids: PidsLimit(limit: 50))
        try bundle.write()
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "stats", started: true)
        defer { _ = try? runtime("delete", "-f", id) }
        let result = try runtime("events", "--stats", id)
        #expect(result.status == 0, "\(result.stderr)")
        let event = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(event["type"] as? String == "stats")
        #expect(event["id"] as? String == id)
        let data = try #require(event["data"] as? [String: Any])
        let pids = try #require(data["pids"] as? [String: Any])
        #expect((pids["current"] as? Int ?? 0) >= 1)
        #expect(pids["limit"] as? Int == 50)
        let memory = try #require(data["memory"] as? [String: Any])
        let usage = try #require(memory["usage"] as? [String: Any])
        #expect(usage["limit"] as? Int == 100 << 20)
        #expect((usage["usage"] as? Int ?? 0) > 0)
        let cpu = try #require(data["cpu"] as? [String: Any])
        #expect(((cpu["usage"] as? [String: Any])?["total"] as? Int ?? 0) > 0)
    }

    /// An OOM kill inside the container shows up as an `oom` event while `events` follows it.
    @Test(arguments: ["berth", "runc"])
    func eventsReportOOM(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle(args: ["/bin/sh", "-c", "sleep 1; dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 100"])
        bundle.spec.linux?.resources = Resources(memory: MemoryLimits(limit: 16 << 20, swap: 16 << 20))
        try bundle.write()
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "oom", started: true)
        defer { _ = try? runtime("delete", "-f", id) }
        let events = try sh(["/usr/bin/timeout", "4", runtime.binary, "--root", runtime.root, "events", "--interval", "1s", id])
        let types = events.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["type"] as? String
        }
        #expect(types.contains("oom"), "\(events.stdout.prefix(300)) \(events.stderr)")
        #expect(types.contains("stats"))
    }
}

/// checkpoint/restore: CRIU 3.17 cannot run on this kernel (`criu check` fails on the vDSO), and
/// berth-runtime says so, with CRIU's reason, instead of leaving a broken image behind.
@Suite(.enabled(if: Env.canRunContainers && Env.has("criu"), "needs root, criu and a built berth-runtime"))
struct CheckpointTests {
    @Test func checkpointReportsWhyCRIUCannotRun() throws {
        let criuWorks = try sh(["/usr/sbin/criu", "check"]).status == 0
        let bundle = try TestBundle.sleeping()
        let berth = RuntimeCLI.berth(bundle)
        let id = try berth.launch(bundle, prefix: "ckpt", started: true)
        defer { _ = try? berth("delete", "-f", id) }
        let result = try berth("checkpoint", "--image-path", bundle.directory + "/image", id)
        #expect(result.status == 1)
        if criuWorks {
            #expect(result.stderr.contains("not implemented"), "\(result.stderr)")
        } else {
            #expect(result.stderr.contains("CRIU cannot checkpoint on this kernel: Error"), "\(result.stderr)")
        }
        #expect(try berth.state(id)?["status"] as? String == "running", "the container is left as it was")
        let missing = try berth("checkpoint", "no-such-container")
        #expect(missing.stderr.contains("container does not exist"))
    }
}
