import Foundation
import TestSupport
import Testing

/// Failing commands print exactly what they printed before the services' errors became data (the
/// daemon's words added by the CLI, from the error's `reportedByDaemon`), with the same statuses.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct ErrorReportTests {
    /// Arguments, then stderr and status; `MADE` and `UP` stand for the full IDs of a created and a
    /// running container, `T` for a scratch directory.
    static let table: [([String], String, Int32)] = [
        (["start", "nosuch"], "Error response from daemon: No such container: nosuch\nError: failed to start containers: nosuch\n", 1),
        (["stop", "nosuch"], "Error response from daemon: No such container: nosuch\n", 1),
        (["rm", "nosuch"], "Error response from daemon: No such container: nosuch\n", 1),
        (["inspect", "nosuch"], "Error: No such object: nosuch\n", 1),
        // Docker 28's CLI (20.10's said "Error: No such container: nosuch").
        (["container", "inspect", "nosuch"], "Error response from daemon: No such container: nosuch\n", 1),
        (["logs", "nosuch"], "Error response from daemon: No such container: nosuch\n", 1),
        (["exec", "nosuch", "true"], "Error response from daemon: No such container: nosuch\n", 1),
        (["rename", "nosuch", "other"], "Error response from daemon: No such container: nosuch\n", 1),
        (["create", "--name", "made", "busybox:test"],
         "berth: Conflict. The container name \"/made\" is already in use by container \"MADE\". You have to remove (or rename) that container to be able to reuse that name.\n", 125),
        (["create", "--name", "bad/name", "busybox:test"],
         "berth: Invalid container name (bad/name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n", 125),
        (["run", "-m", "bad", "busybox:test", "true"], "berth: invalid argument \"bad\" for \"-m, --memory\" flag: invalid size: 'bad'\n", 125),
        (["run", "--network-alias", "x", "busybox:test", "true"],
         "berth: Error response from daemon: network-scoped alias is supported only for containers in user defined networks\n", 125),
        (["run", "--rm", "--pull", "never", "nosuchimage", "true"], "berth: Error response from daemon: No such image: nosuchimage\n", 125),
        (["rm", "up"],
         "Error response from daemon: You cannot remove a running container UP. Stop the container before attempting removal or force remove\n", 1),
        (["network", "rm", "bridge"], "Error response from daemon: bridge is a pre-defined network and cannot be removed\n", 1),
        (["network", "inspect", "nosuchnet"], "Error response from daemon: network nosuchnet not found\n", 1),
        (["volume", "rm", "vol"], "Error response from daemon: remove vol: volume is in use - [UP]\n", 1),
        (["volume", "inspect", "nosuchvol"], "Error response from daemon: get nosuchvol: no such volume\n", 1),
        (["exec", "made", "true"], "Error response from daemon: container MADE is not running\n", 1),
        (["exec", "up", "/nonexistent"],
         "OCI runtime exec failed: exec failed: unable to start container process: exec: \"/nonexistent\": stat /nonexistent: no such file or directory: unknown\n", 127),
        (["pause", "made"], "Error response from daemon: Container MADE is not running\n", 1),
        (["unpause", "up"], "Error response from daemon: Container UP is not paused\n", 1),
        (["kill", "made"], "Error response from daemon: Cannot kill container: made: Container MADE is not running\n", 1),
        (["top", "made"], "Error response from daemon: container MADE is not running\n", 1),
        (["cp", "made:/nope", "T/x"], "Error response from daemon: Could not find the file /nope in container made\n", 1),
    ]

    @Test func failingCommandsPrintDockersWordsAndStatuses() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let made = try berth.call("create", "--name", "made", "busybox:test", "true").trimmingCharacters(in: .whitespacesAndNewlines)
        let up = try berth.call("run", "-d", "--name", "up", "-v", "vol:/data", "busybox:test", "sleep", "600")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        for (arguments, stderr, status) in Self.table {
            let resolved = arguments.map { $0.replacingOccurrences(of: "T/", with: berth.base + "/") }
            let result = try berth.callAnyway(resolved)
            let expected = stderr.replacingOccurrences(of: "MADE", with: made).replacingOccurrences(of: "UP", with: up)
            #expect(result.stderr == expected, "berth \(arguments.joined(separator: " "))")
            #expect(result.status == status, "berth \(arguments.joined(separator: " ")): \(result.stderr)")
        }
    }

    /// Docker's container-name pattern needs two characters; `rename` checks it as `create` does
    /// (one validator), and the refused rename leaves the container as it was.
    @Test func renameRefusesANameDockerRefuses() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try berth.call("create", "--name", "made", "busybox:test", "true")
        for bad in ["a", ".x", "a b"] {
            let result = try berth.callAnyway(["rename", "made", bad])
            #expect(result.status != 0, "rename to \(bad)")
            #expect(result.stderr.contains("Invalid container name (\(bad))"), "\(result.stderr)")
        }
        #expect(try berth.call("ps", "-a", "--format", "{{.Names}}") == "made\n")
        _ = try berth.call("rename", "made", "ab")
        #expect(try berth.call("ps", "-a", "--format", "{{.Names}}") == "ab\n")
    }
}
