import Foundation
import TestSupport
import Testing

/// Bad input and clients that go away: a clear 4xx, nothing half-made, and the server serves on.
@Suite(.enabled(if: APIEnv.ready), .serialized)
struct DisconnectTests {
    /// A client that hangs up in the middle of a pull: the server stops downloading (the registry
    /// sees its connection close), keeps no partial layer and no image, and answers the next call.
    @Test func aPullWhoseClientHangsUpIsCancelledAndLeavesNothing() throws {
        let port = 20_000 + Int.random(in: 0..<20_000)
        let errors = APIEnv.scratch("reg") + "/stderr"
        let registry = try spawn(["/usr/bin/python3", packageRoot + "/Tests/Scripts/api/stalling-registry.py", "\(port)"],
                                 stdout: "/dev/null", stderr: errors)
        defer {
            kill(registry, SIGKILL)
            var status: Int32 = 0
            waitpid(registry, &status, 0)
        }
        let server = try APIServer(loadBusybox: false)
        defer { server.stop() }
        var up = false
        for _ in 0..<100 where !up {
            up = (try? sh(["/usr/bin/curl", "-sf", "http://127.0.0.1:\(port)/v2/"]))?.status == 0
            if !up { usleep(100_000) }
        }
        try #require(up, "the stalling registry did not start")

        let pull = try server.curl(["-s", "--max-time", "3", "-X", "POST", "http://d/images/create?fromImage=127.0.0.1:\(port)/slow/img&tag=latest"])
        #expect(pull.status == 28, "curl gave up after 3 s (its timeout), not earlier: \(pull.stdout)")
        #expect(pull.stdout.contains("\"Downloading\""), "the layer was underway: \(pull.stdout)")
        var cancelled = false
        for _ in 0..<100 where !cancelled {
            cancelled = ((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "").contains("LAYER CLIENT GONE")
            if !cancelled { usleep(100_000) }
        }
        #expect(cancelled, "the server still downloads for a client that is gone")
        #expect(try server.curl(["-s", "http://d/_ping"]).stdout == "OK")
        let images = try server.curl(["-s", "http://d/images/json"]).stdout
        #expect(images.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(images)")
        for ingest in ["/blobs/ingest", "/snapshots/ingest"] {
            let left = (try? FileManager.default.contentsOfDirectory(atPath: server.root + ingest)) ?? []
            #expect(left.isEmpty, "\(ingest) keeps \(left)")
        }
    }

    /// Create with a body of the wrong types, cut short or not an object: 400 with Go's message and
    /// no container; unknown fields are ignored, as dockerd's decoder does.
    @Test func createRefusesWrongTypesAndKeepsNothing() throws {
        let server = try APIServer()
        defer { server.stop() }
        let bad: [(String, String)] = [
            (#"{"Image":"busybox:test","Tty":"yes"}"#, "cannot unmarshal string into Go struct field CreateRequest.Tty of type bool"),
            (#"{"Image":"busybox:test","HostConfig":{"Memory":"lots"}}"#, "cannot unmarshal string into Go struct field"),
            (#"{"Image":"busybox:test""#, "unexpected EOF"),
            ("[1]", "cannot unmarshal array into Go value of type container.CreateRequest"),
            (#"{"Image":"busybox:test","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"99999"}]}}}"#, "invalid port specification: \\\"99999\\\""),
        ]
        for (body, message) in bad {
            let answer = try server.request("POST", "/containers/create", json: body)
            #expect(answer.status == 400, "\(body): \(answer.body)")
            #expect(answer.body.contains(message), "\(body): \(answer.body)")
        }
        #expect(try server.berth(["ps", "-aq"]).stdout.isEmpty)
        let unknown = try server.request("POST", "/containers/create", json: #"{"Image":"busybox:test","Bogus":1,"HostConfig":{"Nope":[1]}}"#)
        #expect(unknown.status == 201, "\(unknown.body)")
        #expect(try server.berth(["ps", "-aq"]).stdout.split(separator: "\n").count == 1)
    }
}
