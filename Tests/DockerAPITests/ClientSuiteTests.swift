import Foundation
import TestSupport
import Testing

/// The real clients' suites (Tests/Scripts/api: the docker CLI 28, docker-py 7.1, Compose v2 and
/// docker-compose 1.29), known good against Debian's dockerd, run against `berth serve`. A check
/// that fails is a failure of this test unless Tests/Scripts/api/known-gaps.txt names it (each
/// with why); a gap that closes is reported so the list only shrinks.
@Suite(.serialized, .enabled(if: APIEnv.ready && FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry")))
struct ClientSuiteTests {
    @Test func realClientsAgainstBerthServe() throws {
        let server = try APIServer(tags: ["busybox:test", "busybox:latest"])
        defer { server.stop() }
        let script = APIEnv.packageRoot + "/Tests/Scripts/api/run-all.sh"
        var environment = ProcessInfo.processInfo.environment
        environment["API_TEST_BASE"] = server.base + "/clients"
        let run = try sh(["/usr/bin/timeout", "1200", "/bin/bash", script, "unix://" + server.socket], environment: environment)
        let gaps = try knownGaps()

        var client = ""
        var failures: [String] = []
        var passes: [String: Int] = [:]
        for line in run.stdout.split(separator: "\n").map(String.init) {
            if line.hasPrefix("=== ") { client = String(line.dropFirst(4).prefix { $0 != ":" }) }
            if line.hasPrefix("PASS: ") { passes[client, default: 0] += 1 }
            if line.hasPrefix("FAIL: ") { failures.append(client + ": " + line.dropFirst(6)) }
        }
        // Each client ran (a suite that could not start passes nothing).
        #expect(passes["cli", default: 0] >= 140, "docker CLI: \(passes["cli", default: 0]) checks passed\n\(run.stdout.suffix(3000))")
        #expect(passes["py", default: 0] >= 20, "docker-py: \(passes["py", default: 0]) tests passed\n\(run.stdout.suffix(3000))")
        #expect(passes["compose", default: 0] >= 30, "compose: \(passes["compose", default: 0]) checks passed\n\(run.stdout.suffix(3000))")
        let unexpected = failures.filter { !gaps.contains($0) }
        #expect(unexpected.isEmpty, "failures not in known-gaps.txt:\n\(unexpected.joined(separator: "\n"))\n\nserver log:\n\(server.serverLog.suffix(4000))")
        let closed = gaps.subtracting(failures)
        if !closed.isEmpty { print("known gaps that now pass (remove them from known-gaps.txt):\n" + closed.sorted().joined(separator: "\n")) }
    }

    /// `client: check name` lines; `#` comments say why.
    func knownGaps() throws -> Set<String> {
        let text = try String(contentsOfFile: APIEnv.packageRoot + "/Tests/Scripts/api/known-gaps.txt", encoding: .utf8)
        return Set(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") })
    }
}
