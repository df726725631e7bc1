import Foundation
import TestSupport
import Testing

/// `docker run --rm` against `berth serve`: the container is gone when the CLI returns, and its
/// files, moved into the trash, are deleted on the server's own thread soon after.
@Suite(.enabled(if: APIEnv.ready), .serialized)
struct RemovalTests {
    @Test func runRemoveLeavesNothingBehind() throws {
        let server = try APIServer()
        defer { server.stop() }
        let run = try server.docker(["run", "--rm", "--name", "many", "busybox:test", "sh", "-c",
                                     "mkdir /many && for i in $(seq 2000); do echo $i > /many/$i; done; echo made"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "made\n")
        #expect(try server.berth(["ps", "-aq"]).stdout.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: server.root + "/containers").isEmpty)
        var left: [String] = []
        for _ in 0..<100 {
            left = (try? FileManager.default.contentsOfDirectory(atPath: server.root + "/trash")) ?? []
            if left.isEmpty { break }
            usleep(100_000)
        }
        #expect(left.isEmpty, "still in the trash after 10 s: \(left)")
    }
}
