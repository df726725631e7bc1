import Foundation
import TestSupport
import Testing

/// The kernel's OOM killer in a container: Docker's `oom` event as it happens, State.OOMKilled,
/// and the `die` that follows with the killed process's 137.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct OOMEventTests {
    static func actions(_ berth: BerthEngine, since: String, container: String) throws -> [(action: String, exitCode: String?)] {
        let out = try berth.call("events", "--since", since, "--until", EventsTests.stamp(1), "--filter", "container=" + container,
                                 "--filter", "type=container", "--format", "{{.Action}} {{index .Actor.Attributes \"exitCode\"}}")
        return out.split(separator: "\n").map { line in
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 && parts[1] != "<no value>" ? parts[1] : nil)
        }
    }

    @Test func oomKilledProcess() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let since = EventsTests.stamp()
        // `tail` keeps what it reads: more than the limit allows.
        let run = try berth.callAnyway(["run", "--name", "hog", "-m", "8m", "--memory-swap", "8m", "busybox:test",
                                        "sh", "-c", "head -c 200m /dev/zero | tail"])
        #expect(run.status == 137, "\(run.stderr)")
        #expect(try berth.inspect("hog", "{{.State.OOMKilled}} {{.State.ExitCode}} {{.State.Status}}") == "true 137 exited")
        let events = try Self.actions(berth, since: since, container: "hog")
        let names = events.map(\.action)
        // One or more oom (one per notification, as Docker), all between start and die.
        let firstOOM = try #require(names.firstIndex(of: "oom"), "\(names)")
        let die = try #require(names.firstIndex(of: "die"), "\(names)")
        #expect(names.firstIndex(of: "start").map { $0 < firstOOM } == true)
        #expect(firstOOM < die && !names[(die + 1)...].contains("oom"), "\(names)")
        #expect(events[die].exitCode == "137")

        // A run the killer spares is not OOMKilled and has no oom event.
        try berth.call("run", "--name", "fine", "-m", "64m", "busybox:test", "true")
        #expect(try berth.inspect("fine", "{{.State.OOMKilled}}") == "false")
        let quiet = try Self.actions(berth, since: since, container: "fine").map(\.action)
        #expect(!quiet.contains("oom"), "\(quiet)")
    }

    @Test func oomOfAChildOnly() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let since = EventsTests.stamp()
        // The killer takes the pipeline's reader; the shell goes on and exits 0, as in Docker. The
        // reader makes itself the killer's first choice (raising one's own score needs no privilege),
        // so that the kernel's choice under a loaded machine does not decide what is tested here.
        let run = try berth.callAnyway(["run", "--name", "survivor", "-m", "8m", "--memory-swap", "8m", "busybox:test", "sh", "-c",
                                        "head -c 200m /dev/zero | sh -c 'echo 1000 >/proc/self/oom_score_adj && exec tail'; echo survived"])
        #expect(run.status == 0 && run.stdout == "survived\n", "status \(run.status), stdout \(run.stdout), stderr \(run.stderr)")
        #expect(try berth.inspect("survivor", "{{.State.OOMKilled}} {{.State.ExitCode}}") == "true 0")
        #expect(try Self.actions(berth, since: since, container: "survivor").map(\.action).contains("oom"))
    }
}
