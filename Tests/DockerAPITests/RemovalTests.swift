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

    /// A `--rm` container that cannot start (a link to a container that does not run) is removed,
    /// as dockerd removes it: `docker run --rm` reports the error and returns instead of waiting
    /// for a removal forever. Started again, a --rm container's overlay mounts again.
    @Test func runRemoveThatCannotStartReportsAndRemoves() throws {
        let server = try APIServer()
        defer { server.stop() }
        try server.dockerOK("create", "--name", "target", "busybox:test", "sleep", "100")
        let run = try server.docker(["run", "--rm", "--link", "target:tgt", "busybox:test", "true"])
        #expect(run.status == 125, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("Cannot link to a non running container: /target AS /"), "\(run.stderr)")
        #expect(try server.berth(["ps", "-a", "--format", "{{.Names}}"]).stdout == "target\n")

        // `docker start` of a --rm container that cannot start removes it too (dockerd's rule).
        try server.dockerOK("create", "--rm", "--name", "twice", "--link", "target:tgt", "busybox:test", "echo", "ran")
        #expect(try server.docker(["start", "twice"]).status != 0)
        #expect(try server.berth(["ps", "-a", "--format", "{{.Names}}"]).stdout == "target\n")
    }
}
