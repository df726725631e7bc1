import Foundation
import TestSupport
import Testing

/// Health checks run by the container's supervisor, with Docker's rules: starting → healthy on the
/// first success, unhealthy after `retries` failures in a row, failures in the start period not
/// counted, a timeout recorded as -1, the last five results kept; `inspect` and `ps` show them.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct HealthTests {
    struct Health: Decodable {
        struct Probe: Decodable {
            var Start: String
            var End: String
            var ExitCode: Int
            var Output: String
        }
        var Status: String
        var FailingStreak: Int
        var Log: [Probe]
    }

    static func health(_ berth: BerthEngine, _ name: String) throws -> Health? {
        let text = try berth.inspect(name, "{{json .State.Health}}")
        guard text != "null", !text.isEmpty else { return nil }
        return try JSONDecoder().decode(Health.self, from: Data(text.utf8))
    }

    /// Polls until `done` holds (or `seconds` pass), calling `each` with every state seen.
    @discardableResult
    static func waitFor(_ berth: BerthEngine, _ name: String, seconds: Double,
                        each: (Health) -> Void = { _ in }, _ done: (Health) -> Bool) throws -> Health? {
        let deadline = Date().addingTimeInterval(seconds)
        var last: Health?
        while Date() < deadline {
            if let health = try health(berth, name) {
                each(health)
                last = health
                if done(health) { return health }
            }
            usleep(100_000)
        }
        return last
    }

    static func psStatus(_ berth: BerthEngine, _ name: String) throws -> String {
        try berth.call("ps", "--filter", "name=\(name)", "--format", "{{.Status}}").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func startingThenHealthyWithInspectShapeAndPsStatus() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "-d", "--name", "hc", "--health-cmd", "echo ok; echo err >&2", "--health-interval", "5s", "busybox:test", "sleep", "600")
        try berth.call("run", "-d", "--name", "plain", "busybox:test", "sleep", "600")
        let first = try #require(try Self.health(berth, "hc"))
        #expect(first.Status == "starting" && first.FailingStreak == 0 && first.Log.isEmpty)
        #expect(try Self.psStatus(berth, "hc").hasSuffix("(health: starting)"))
        #expect(try berth.call("ps", "--filter", "health=starting", "--format", "{{.Names}}") == "hc\n")

        let healthy = try #require(try Self.waitFor(berth, "hc", seconds: 9) { $0.Status == "healthy" })
        #expect(healthy.Status == "healthy")
        #expect(healthy.FailingStreak == 0)
        let probe = try #require(healthy.Log.first)
        #expect(probe.ExitCode == 0)
        // stdout and stderr both, as Docker collects them.
        #expect(probe.Output == "ok\nerr\n")
        #expect(probe.Start <= probe.End && probe.Start.hasPrefix("20"))
        let status = try Self.psStatus(berth, "hc")
        #expect(status.hasPrefix("Up ") && status.hasSuffix(" (healthy)"), "\(status)")
        #expect(try berth.call("ps", "--filter", "health=healthy", "--format", "{{.Names}}") == "hc\n")
        #expect(try berth.call("ps", "--filter", "health=none", "--format", "{{.Names}}") == "plain\n")
        #expect(try berth.call("ps", "--filter", "health=unhealthy", "--format", "{{.Names}}") == "")
        #expect(try berth.callAnyway(["ps", "--filter", "health=sick"]).status != 0)
        // Docker's JSON shape: exactly these members, in this order.
        let json = try berth.inspect("hc", "{{json .State.Health}}")
        #expect(json.hasPrefix("{\"Status\":\"healthy\",\"FailingStreak\":0,\"Log\":[{\"Start\":\""), "\(json)")
        let entry = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let log = try #require(entry["Log"] as? [[String: Any]])
        #expect(Set(log[0].keys) == ["Start", "End", "ExitCode", "Output"])
        // The transition is an event.
        let events = try berth.call("events", "--since", "0", "--until", "\(Int(Date().timeIntervalSince1970) + 1)",
                                    "--filter", "event=health_status", "--format", "{{.Action}} {{.Actor.Attributes.name}}")
        #expect(events == "health_status: healthy hc\n")
        // Stopped: ps shows no health any more, and the probes stop.
        try berth.call("stop", "-t", "1", "hc")
        #expect(try berth.call("ps", "-a", "--filter", "name=hc", "--format", "{{.Status}}").hasPrefix("Exited"))
    }

    @Test func unhealthyAfterExactlyRetriesFailuresAndLogKeepsFive() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "-d", "--name", "sick", "--health-cmd", "echo failing; exit 3", "--health-interval", "1s",
                       "--health-retries", "2", "busybox:test", "sleep", "600")
        var seen: [(String, Int)] = []
        let unhealthy = try Self.waitFor(berth, "sick", seconds: 6, each: { seen.append(($0.Status, $0.FailingStreak)) }) {
            $0.Status == "unhealthy"
        }
        #expect(unhealthy?.Status == "unhealthy")
        #expect(unhealthy?.FailingStreak == 2)
        #expect(unhealthy?.Log.map(\.ExitCode) == [3, 3])
        #expect(unhealthy?.Log.first?.Output == "failing\n")
        // After one failure it was still starting, with a streak of one.
        #expect(seen.contains { $0 == ("starting", 1) }, "\(seen)")
        #expect(!seen.contains { $0.0 == "unhealthy" && $0.1 < 2 }, "\(seen)")
        #expect(try Self.psStatus(berth, "sick").hasSuffix(" (unhealthy)"))
        #expect(try berth.call("ps", "--filter", "health=unhealthy", "--format", "{{.Names}}") == "sick\n")
        // The streak goes on; only the last five results are kept.
        let later = try Self.waitFor(berth, "sick", seconds: 8) { $0.FailingStreak >= 6 }
        #expect((later?.FailingStreak ?? 0) >= 6)
        #expect(later?.Log.count == 5)
    }

    @Test func startPeriodFailuresDoNotCountButSuccessEndsIt() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "-d", "--name", "slow", "--health-cmd", "exit 1", "--health-interval", "1s", "--health-retries", "1",
                       "--health-start-period", "3s", "--health-start-interval", "500ms", "busybox:test", "sleep", "600")
        var during: [Health] = []
        let start = Date()
        let end = try Self.waitFor(berth, "slow", seconds: 8, each: { if Date().timeIntervalSince(start) < 2.5 { during.append($0) } }) {
            $0.Status == "unhealthy"
        }
        // Probes ran in the start period (every 500ms), failed, and were not counted.
        #expect(during.contains { !$0.Log.isEmpty }, "no probe in the start period")
        #expect(during.allSatisfy { $0.Status == "starting" && $0.FailingStreak == 0 })
        #expect(end?.Status == "unhealthy")
        #expect(end?.FailingStreak == 1)
        #expect(Date().timeIntervalSince(start) >= 2.9)

        // A success ends the start period: the next failure counts at once.
        try berth.call("run", "-d", "--name", "flip", "--health-cmd", "test ! -f /tmp/fail", "--health-interval", "500ms",
                       "--health-retries", "1", "--health-start-period", "60s", "--health-start-interval", "500ms",
                       "busybox:test", "sh", "-c", "sleep 2; touch /tmp/fail; sleep 600")
        #expect(try Self.waitFor(berth, "flip", seconds: 5) { $0.Status == "healthy" }?.Status == "healthy")
        let flipped = try Self.waitFor(berth, "flip", seconds: 6) { $0.Status == "unhealthy" }
        #expect(flipped?.Status == "unhealthy")
        #expect(flipped?.FailingStreak == 1)
    }

    @Test func timeoutIsMinusOneWithDockersMessageAndKillsTheProbe() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "-d", "--name", "hang", "--health-cmd", "echo started; exec sleep 77", "--health-timeout", "1s",
                       "--health-interval", "1s", "--health-retries", "1", "busybox:test", "sleep", "600")
        let result = try #require(try Self.waitFor(berth, "hang", seconds: 8) { $0.Status == "unhealthy" })
        let probe = try #require(result.Log.first)
        #expect(probe.ExitCode == -1)
        #expect(probe.Output == "Health check exceeded timeout (1s): started\n")
        // The probe itself does not outlive its timeout.
        usleep(500_000)
        let probes = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { entry in
            guard Int(entry) != nil, let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return false }
            return data == Data("sleep\u{0}77\u{0}".utf8)
        }
        #expect(probes.isEmpty, "probe processes left: \(probes)")
    }

    @Test func noHealthcheckDisablesTheImages() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let image = try Self.imageWithHealthcheck(berth, test: ["CMD", "/bin/true"], interval: 1_000_000_000)
        try berth.call("run", "-d", "--name", "fromimage", image, "sleep", "600")
        try berth.call("run", "-d", "--name", "disabled", "--no-healthcheck", image, "sleep", "600")
        #expect(try berth.inspect("fromimage", "{{json .Config.Healthcheck.Test}}") == "[\"CMD\",\"/bin/true\"]")
        #expect(try Self.waitFor(berth, "fromimage", seconds: 5) { $0.Status == "healthy" }?.Status == "healthy")
        #expect(try berth.inspect("disabled", "{{json .Config.Healthcheck.Test}}") == "[\"NONE\"]")
        #expect(try Self.health(berth, "disabled") == nil)
        #expect(!(try berth.inspect("disabled", "{{json .State}}")).contains("Health"))
        let status = try Self.psStatus(berth, "disabled")
        #expect(status.hasPrefix("Up ") && !status.contains("health"), "\(status)")
        #expect(try berth.call("ps", "--filter", "health=none", "--format", "{{.Names}}") == "disabled\n")
    }

    /// A CMD whose program is missing: the exec's error, recorded as -1 as Docker does.
    @Test func missingProgramIsAnExecError() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let image = try Self.imageWithHealthcheck(berth, test: ["CMD", "/nonexistent"], interval: 1_000_000_000, retries: 1)
        try berth.call("run", "-d", "--name", "nocmd", image, "sleep", "600")
        let result = try #require(try Self.waitFor(berth, "nocmd", seconds: 5) { $0.Status == "unhealthy" })
        #expect(result.Log.first?.ExitCode == -1)
        #expect(result.Log.first?.Output.contains("/nonexistent") == true, "\(result.Log.first?.Output ?? "")")
        // The container itself is untouched.
        #expect(try berth.inspect("nocmd", "{{.State.Status}}") == "running")
    }

    /// Podman 4.3 shows the same State.Health members after a probe (`podman healthcheck run`,
    /// there being no systemd timers here).
    @Test(.enabled(if: EngineEnv.hasPodman)) func healthShapeMatchesPodman() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let podman = try PodmanPeer()
        defer { podman.remove() }
        let ran = try podman.run(["-d", "--name", "hc", "--health-cmd", "echo ok", "--health-interval", "1s", "busybox:test", "sleep", "600"])
        #expect(ran.status == 0, "\(ran.stderr)")
        _ = try podman.callAnyway(["healthcheck", "run", "hc"])
        let theirs = try podman.callAnyway(["inspect", "--format", "{{json .State.Health}}", "hc"])
        try berth.call("run", "-d", "--name", "hc", "--health-cmd", "echo ok", "--health-interval", "1s", "busybox:test", "sleep", "600")
        let ours = try #require(try Self.waitFor(berth, "hc", seconds: 5) { $0.Status == "healthy" })
        guard theirs.status == 0, let object = try? JSONSerialization.jsonObject(with: Data(theirs.stdout.utf8)) as? [String: Any] else {
            Issue.record("podman inspect: \(theirs.stderr)\(theirs.stdout)")
            return
        }
        #expect(object["Status"] as? String == ours.Status)
        #expect(object["FailingStreak"] as? Int == ours.FailingStreak)
        let log = try #require(object["Log"] as? [[String: Any]])
        #expect(Set(log.first?.keys.map { $0 } ?? []) == ["Start", "End", "ExitCode", "Output"])
        // Podman trims the output's last newline; Docker (and so berth) keeps the output as written.
        #expect(log.first?["Output"] as? String == "ok")
        #expect(ours.Log.first?.Output == "ok\n")
    }

    /// The busybox image with a Healthcheck in its config, loaded as `health:test`.
    static func imageWithHealthcheck(_ berth: BerthEngine, test: [String], interval: Int64, retries: Int = 3) throws -> String {
        let layout = EngineEnv.scratch("h") + "/layout"
        let healthcheck = try String(decoding: JSONSerialization.data(withJSONObject: ["Test": test, "Interval": interval, "Retries": retries]), as: UTF8.self)
        let script = """
            import hashlib, json, os, shutil, sys
            src, dst, hc = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
            shutil.copytree(src, dst)
            def blob(d): return os.path.join(dst, 'blobs', 'sha256', d.split(':')[1])
            def put(data):
                d = hashlib.sha256(data).hexdigest()
                open(os.path.join(dst, 'blobs', 'sha256', d), 'wb').write(data)
                return 'sha256:' + d, len(data)
            index = json.load(open(os.path.join(dst, 'index.json')))
            desc = index['manifests'][0]
            manifest = json.load(open(blob(desc['digest'])))
            config = json.load(open(blob(manifest['config']['digest'])))
            config['config']['Healthcheck'] = hc
            manifest['config']['digest'], manifest['config']['size'] = put(json.dumps(config).encode())
            desc['digest'], desc['size'] = put(json.dumps(manifest).encode())
            desc.pop('annotations', None)
            json.dump(index, open(os.path.join(dst, 'index.json'), 'w'))
            """
        let made = try sh(["/usr/bin/python3", "-c", script, EngineEnv.busyboxLayout, layout, healthcheck])
        try #require(made.status == 0, "\(made.stderr)")
        try #require(try sh(["/bin/tar", "-C", layout, "-cf", layout + ".tar", "."]).status == 0)
        let loaded = try berth.call("load", "-i", layout + ".tar")
        let imageID = try #require(loaded.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        try #require(imageID.hasPrefix("sha256:"), "\(loaded)")
        try berth.call("tag", imageID, "health:test")
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: layout).deletingLastPathComponent().path)
        return "health:test"
    }
}
