import Foundation
import TestSupport
import Testing

/// kill -9 of a supervisor at random moments — while it starts the container, while the
/// container is stopped, while a restart policy waits or restarts — and of the CLI at random
/// moments of `run`: afterwards `ps`, `rm -f` and `run` work, and nothing of the killed
/// containers is left: no mount, cgroup, runtime state, network namespace or address lease.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct CrashTests {
    /// What is left on the host of this engine's containers.
    static func leftovers(_ berth: BerthEngine, ids: [String]) throws -> [String] {
        var found = berth.mounts
        for id in ids {
            let cgroups = try sh(["/bin/sh", "-c", "find /sys/fs/cgroup -maxdepth 4 -type d -name '*\(id)*' 2>/dev/null"]).stdout
            found += cgroups.split(separator: "\n").map { "cgroup " + $0 }
        }
        for dir in ["/netns", "/runtime"] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: berth.runRoot + dir)) ?? []
            found += entries.filter { !$0.hasPrefix(".") }.map { dir + "/" + $0 }
        }
        // host-local's leases of the default network (host-wide, shared with other engines): none
        // may name one of these containers.
        let leaseDirectory = "/var/lib/cni/berth"
        for network in (try? FileManager.default.contentsOfDirectory(atPath: leaseDirectory)) ?? [] {
            for lease in (try? FileManager.default.contentsOfDirectory(atPath: leaseDirectory + "/" + network)) ?? [] {
                let text = (try? String(contentsOfFile: leaseDirectory + "/" + network + "/" + lease, encoding: .utf8)) ?? ""
                if ids.contains(where: { text.contains($0) }) { found.append("lease \(network)/\(lease)") }
            }
        }
        return found
    }

    static func shell(_ berth: BerthEngine, _ script: String) throws -> Output {
        let call = "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot)"
        return try sh(["/bin/bash", "-c", "B='\(call)'; RR='\(berth.runRoot)'\n" + script])
    }

    /// Waits until `ps`/`rm -f` bring the engine back to no containers, then checks nothing is left.
    static func checkClean(_ berth: BerthEngine, _ moment: String) throws {
        let listed = try berth.call("ps", "-a", "--no-trunc", "--format", "{{.ID}}").split(separator: "\n").map(String.init)
        if !listed.isEmpty {
            let removed = try berth.callAnyway(["rm", "-f"] + listed)
            #expect(removed.status == 0, "\(moment): rm -f: \(removed.stderr)")
        }
        #expect(try berth.call("ps", "-aq") == "", "\(moment)")
        let left = try leftovers(berth, ids: listed)
        #expect(left.isEmpty, "\(moment): \(left)")
    }

    @Test func supervisorKilledAtRandomMoments() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        var generator = SystemRandomNumberGenerator()
        for round in 0..<6 {
            let delay = String(format: "%.3f", Double.random(in: 0...0.15, using: &generator))
            // While starting: the supervisor is killed as soon as it exists, plus a random delay.
            let starting = try Self.shell(berth, """
                $B run -d --name start\(round) busybox:test sleep 600 >/dev/null 2>&1 & cli=$!
                for i in $(seq 400); do sup=$(pgrep -n -f "berth-supervisor $RR/") && break; sleep 0.005; done
                sleep \(delay); kill -9 $sup; wait $cli; echo cli=$?
                """)
            #expect(starting.stdout.hasPrefix("cli="), "\(starting.stderr)")
            try Self.checkClean(berth, "start, +\(delay) s")

            // While stopping: `stop` sends the signal, the supervisor is killed during the teardown.
            try berth.call("run", "-d", "--name", "stop\(round)", "busybox:test", "sleep", "600")
            _ = try Self.shell(berth, """
                sup=$(pgrep -n -f "berth-supervisor $RR/")
                $B stop -t 1 stop\(round) >/dev/null 2>&1 & cli=$!
                sleep \(delay); kill -9 $sup; wait $cli; true
                """)
            try Self.checkClean(berth, "stop, +\(delay) s")

            // While a restart policy waits or restarts a failing command.
            try berth.call("run", "-d", "--name", "loop\(round)", "--restart", "always", "busybox:test", "sh", "-c", "sleep 0.05; exit 1")
            _ = try Self.shell(berth, "sleep \(delay); sleep 0.2; kill -9 $(pgrep -f \"berth-supervisor $RR/\"); true")
            try Self.checkClean(berth, "restart, +\(delay) s")
        }
        #expect(try berth.call("run", "--rm", "busybox:test", "echo", "alive") == "alive\n")
    }

    @Test func cliKilledAtRandomMomentsOfRun() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        var generator = SystemRandomNumberGenerator()
        var delays: [String] = []
        for _ in 0..<8 {
            let delay = String(format: "%.3f", Double.random(in: 0...0.4, using: &generator))
            delays.append(delay)
            for flags in ["", "--rm", "-d"] {
                _ = try Self.shell(berth, "$B run \(flags) busybox:test sleep 600 >/dev/null 2>&1 & cli=$!; sleep \(delay); kill -9 $cli; wait $cli 2>/dev/null; true")
            }
            // Whatever state the kill left is one `ps` reads and `rm -f` clears.
            let listed = try berth.callAnyway(["ps", "-a"])
            #expect(listed.status == 0, "after a kill at \(delay) s: \(listed.stderr)")
        }
        try Self.checkClean(berth, "CLI killed at \(delays)")
        #expect(try berth.call("run", "--rm", "busybox:test", "echo", "alive") == "alive\n")
    }
}
