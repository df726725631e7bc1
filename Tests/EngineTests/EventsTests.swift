import Foundation
import TestSupport
import Testing

/// `berth events`: the events file written by the engine and the supervisors, read back with
/// Docker's bounds, filters and formats.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct EventsTests {
    struct Message: Decodable {
        struct Actor: Decodable {
            var ID: String
            var Attributes: [String: String]
        }
        var status: String
        var id: String
        var from: String
        var `Type`: String
        var Action: String
        var Actor: Actor
        var scope: String
        var time: Int64
        var timeNano: Int64
    }

    /// Now as Unix seconds with nine fraction digits, a form `--since`/`--until` take.
    static func stamp(_ offset: Double = 0) -> String {
        String(format: "%.9f", Date().timeIntervalSince1970 + offset)
    }

    static func messages(_ berth: BerthEngine, _ arguments: [String]) throws -> [Message] {
        // Container events only: a run on the default network also logs its network connect/disconnect.
        let out = try berth.callAnyway(["events", "--format", "{{json .}}", "--filter", "type=container"] + arguments)
        try #require(out.status == 0, "\(out.stderr)")
        return try out.stdout.split(separator: "\n").map { try JSONDecoder().decode(Message.self, from: Data($0.utf8)) }
    }

    @Test func runRecordsCreateAttachStartDieDestroyInOrder() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let since = Self.stamp()
        let run = try berth.callAnyway(["run", "--rm", "--name", "ev", "--label", "team=blue", "busybox:test", "sh", "-c", "exit 3"])
        #expect(run.status == 3)
        let events = try Self.messages(berth, ["--since", since, "--until", Self.stamp(1)])
        #expect(events.map(\.Action) == ["create", "attach", "start", "die", "destroy"])
        let id = try #require(events.first?.Actor.ID)
        #expect(id.count == 64)
        for event in events {
            #expect(event.Type == "container" && event.scope == "local")
            #expect(event.status == event.Action && event.id == id && event.Actor.ID == id && event.from == "busybox:test")
            #expect(event.Actor.Attributes["name"] == "ev" && event.Actor.Attributes["image"] == "busybox:test")
            #expect(event.Actor.Attributes["team"] == "blue")
            #expect(event.time == event.timeNano / 1_000_000_000)
        }
        #expect(events.map(\.timeNano) == events.map(\.timeNano).sorted())
        #expect(events[3].Actor.Attributes["exitCode"] == "3")

        // Docker's default line: time (nine digits), type, action, id, sorted attributes.
        let plain = try berth.call("events", "--since", since, "--until", Self.stamp(1), "--filter", "event=die")
        let pattern = #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container die [0-9a-f]{64} \(execDuration=\d+, exitCode=3, image=busybox:test, name=ev, team=blue\)\n$"#
        #expect(plain.range(of: pattern, options: .regularExpression) != nil, "\(plain)")
    }

    @Test func stopAndKillAndRenameAndRestart() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let since = Self.stamp()
        try berth.call("run", "-d", "--name", "st", "busybox:test", "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done")
        try berth.call("stop", "-t", "5", "st")
        try berth.call("rename", "st", "st2")
        try berth.call("start", "st2")
        try berth.call("kill", "st2")
        try berth.call("wait", "st2")
        try berth.call("rm", "-f", "st2")
        let events = try Self.messages(berth, ["--since", since, "--until", Self.stamp(1)])
        try #require(events.map(\.Action) == ["create", "start", "kill", "die", "stop", "rename", "start", "kill", "die", "destroy"],
                     "\(events.map(\.Action))")
        #expect(events[2].Actor.Attributes["signal"] == "15")
        #expect(events[3].Actor.Attributes["exitCode"] == "0")
        #expect(events[8].Actor.Attributes["exitCode"] == "137")
        #expect(events[5].Actor.Attributes["name"] == "st2" && events[5].Actor.Attributes["oldName"] == "/st")
        #expect(events[7].Actor.Attributes["signal"] == "9")
        #expect(events.last?.Actor.Attributes["name"] == "st2")
    }

    @Test func sinceAndUntilBound() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let t0 = Self.stamp()
        try berth.call("create", "--name", "first", "busybox:test", "true")
        usleep(300_000)
        let t1 = Self.stamp()
        usleep(300_000)
        try berth.call("create", "--name", "second", "busybox:test", "true")
        let t2 = Self.stamp()
        func names(_ arguments: String...) throws -> [String] {
            try Self.messages(berth, arguments).map { $0.Actor.Attributes["name"] ?? "" }
        }
        #expect(try names("--since", t0, "--until", t2) == ["first", "second"])
        #expect(try names("--since", t1, "--until", t2) == ["second"])
        #expect(try names("--until", t1) == ["first"])
        #expect(try names("--since", t0, "--until", t1) == ["first"])
        // RFC 3339 and durations back from now, as Docker takes them.
        #expect(try names("--since", "1m", "--until", t2) == ["first", "second"])
        #expect(try names("--since", "2000-01-01T00:00:00Z", "--until", t1) == ["first"])
        let bad = try berth.callAnyway(["events", "--since", "yesterday"])
        #expect(bad.status != 0 && bad.stderr.contains("yesterday"))
    }

    @Test func filtersAndTemplates() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let since = Self.stamp()
        try berth.call("run", "--name", "web1", "--label", "tier=web", "busybox:test", "true")
        #expect(try berth.callAnyway(["run", "--name", "db1", "--label", "tier=db", "busybox:test", "sh", "-c", "exit 1"]).status == 1)
        let until = Self.stamp(1)
        func lines(_ arguments: String...) throws -> String {
            let out = try berth.callAnyway(["events", "--since", since, "--until", until] + arguments)
            try #require(out.status == 0, "\(out.stderr)")
            return out.stdout
        }
        let format = "{{.Actor.Attributes.name}} {{.Action}}"
        #expect(try lines("--filter", "container=web1", "--format", format) == "web1 create\nweb1 attach\nweb1 start\nweb1 die\n")
        #expect(try lines("--filter", "event=die", "--format", "{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}") == "web1 0\ndb1 1\n")
        #expect(try lines("--filter", "event=die", "--filter", "event=create", "--format", format) == "web1 create\nweb1 die\ndb1 create\ndb1 die\n")
        #expect(try lines("--filter", "label=tier=db", "--filter", "event=start", "--format", format) == "db1 start\n")
        #expect(try lines("--filter", "label=tier", "--filter", "event=start", "--format", format) == "web1 start\ndb1 start\n")
        #expect(try lines("--filter", "image=busybox:test", "--filter", "event=start", "--format", format) == "web1 start\ndb1 start\n")
        #expect(try lines("--filter", "image=busybox", "--filter", "event=start", "--format", format) == "web1 start\ndb1 start\n")
        #expect(try lines("--filter", "image=other", "--format", format) == "")
        #expect(try lines("--filter", "type=image", "--format", format) == "")
        #expect(try lines("--filter", "type=container", "--filter", "container=db1", "--filter", "event=destroy", "--format", format) == "")
        // The id filter takes a prefix of the ID.
        let id = try berth.call("inspect", "--format", "{{.Id}}", "db1").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try lines("--filter", "container=\(id.prefix(12))", "--filter", "event=die", "--format", "{{.ID}} {{.Status}} {{.From}} {{.Type}} {{.Scope}}")
                == "\(id) die busybox:test container local\n")
        // `--format json` is `{{json .}}`.
        #expect(try lines("--format", "json") == lines("--format", "{{json .}}"))
        let bad = try berth.callAnyway(["events", "--filter", "colour=red", "--until", until])
        #expect(bad.status == 1 && bad.stderr.contains("invalid filter 'colour'"), "\(bad.stderr)")
    }

    /// Without --until it follows, as `docker events` does: a container started later is seen.
    @Test func followSeesNewEvents() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "--name", "before", "busybox:test", "true")
        let out = EngineEnv.scratch("f") + "/events"
        let events = "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) events --filter event=start --format '{{.Actor.Attributes.name}}'"
        let script = """
            timeout 4 \(events) > \(out) 2>&1 &
            sleep 1
            \(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) run --name after busybox:test true
            wait
            """
        let result = try sh(["/bin/sh", "-c", script])
        #expect(result.status == 0, "\(result.stderr)")
        // Only new events: the one before it started is not replayed.
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "after\n")
        // An --until in the future streams new events until then, and ends.
        let until = Self.stamp(4)
        let started = Date()
        let script2 = """
            \(events) --until \(until) > \(out) 2>&1 &
            sleep 1
            \(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) run --name later busybox:test true
            wait
            """
        #expect(try sh(["/bin/sh", "-c", script2]).status == 0)
        #expect(Date().timeIntervalSince(started) < 8)
        // With --until (and no --since) the recorded events are replayed first, as Docker does.
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "before\nafter\nlater\n")
    }

    /// Volume and network events as Docker's: volume create, mount (container, destination,
    /// read/write), destroy; network create, connect and disconnect (container), destroy; without
    /// the deprecated status/id/from; `--filter type=|volume=|network=`.
    @Test func volumeAndNetworkEvents() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let since = Self.stamp()
        try berth.call("volume", "create", "evvol")
        let bridged = FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")
        if bridged { try berth.call("network", "create", "evnet") }
        let id = try berth.call("run", "-d", "-v", "evvol:/data:ro", "-v", "implicitvol:/more", "--network", bridged ? "evnet" : "none",
                                "busybox:test", "true").trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try berth.call("wait", id)
        try berth.call("rm", id)
        try berth.call("volume", "rm", "evvol", "implicitvol")
        if bridged { try berth.call("network", "rm", "evnet") }
        let until = Self.stamp(1)
        func lines(_ arguments: String...) throws -> [String] {
            try berth.call(["events", "--since", since, "--until", until] + arguments).split(separator: "\n").map(String.init)
        }
        let volumes = try lines("--filter", "type=volume", "--format", "{{.Actor.ID}} {{.Action}} {{.Actor.Attributes.driver}} {{.Actor.Attributes.destination}} {{index .Actor.Attributes \"read/write\"}}")
        #expect(volumes.sorted() == ["evvol create local <no value> <no value>", "evvol destroy local <no value> <no value>",
                                     "evvol mount local /data false", "implicitvol create local <no value> <no value>",
                                     "implicitvol destroy local <no value> <no value>", "implicitvol mount local /more true"], "\(volumes)")
        #expect(try lines("--filter", "volume=evvol", "--format", "{{.Action}}") == ["create", "mount", "destroy"])
        let json = try lines("--filter", "volume=evvol", "--format", "{{json .}}")
        #expect(json.first?.hasPrefix("{\"Type\":\"volume\",\"Action\":\"create\",\"Actor\":{\"ID\":\"evvol\"") == true, "\(json)")
        guard bridged else { return }
        let networks = try lines("--filter", "network=evnet", "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}} {{.Actor.Attributes.container}}")
        #expect(networks == ["network create evnet bridge <no value>", "network connect evnet bridge \(id)",
                             "network disconnect evnet bridge \(id)", "network destroy evnet bridge <no value>"], "\(networks)")
    }
}
