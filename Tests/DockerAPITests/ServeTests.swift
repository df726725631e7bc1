import Foundation
import TestSupport
import Testing

/// `berth serve` itself: who may connect, the protocol's edges, state shared with the CLI, and
/// staying responsive while calls block.
@Suite(.serialized, .enabled(if: APIEnv.ready))
struct ServeTests {
    /// A local user who is not root (nor in the group given) cannot reach the API: that would be
    /// root on the host. Performs the connection as `nobody`.
    @Test func socketIsRootOnlyUnlessAGroupIsGiven() throws {
        let server = try APIServer()
        defer { server.stop() }
        var info = stat()
        #expect(stat(server.socket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(info.st_uid == 0)
        let asNobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "/usr/bin/curl", "-s", "--unix-socket", server.socket, "http://d/_ping"]
        let refused = try sh(asNobody)
        #expect(refused.status == 7, "nobody reached a root-only socket: \(refused.stdout)")
        #expect(try server.curl(["-s", "http://d/_ping"]).stdout == "OK")
        server.terminate()
        #expect(!FileManager.default.fileExists(atPath: server.socket))

        // With --group: 0660 and that group; a member gets in, someone outside it still does not.
        try server.start(["--group", "65534"])
        #expect(stat(server.socket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660)
        #expect(info.st_gid == 65534)
        let member = try sh(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             "/usr/bin/curl", "-s", "--unix-socket", server.socket, "http://d/_ping"])
        #expect(member.stdout == "OK")
        let outsider = try sh(["/usr/bin/setpriv", "--reuid=12345", "--regid=12345", "--clear-groups",
                               "/usr/bin/curl", "-s", "--unix-socket", server.socket, "http://d/_ping"])
        #expect(outsider.status == 7)
    }

    @Test func pingVersionsAndErrors() throws {
        let server = try APIServer()
        defer { server.stop() }
        for method in ["GET", "HEAD"] {
            let ping = try server.curl(["-s", "-i", "-X", method, "http://d/_ping"] + (method == "HEAD" ? ["-I"] : []))
            let head = ping.stdout.lowercased()
            #expect(head.hasPrefix("http/1.1 200 ok"))
            for header in ["api-version: 1.51", "ostype: linux", "builder-version: 1", "docker-experimental: false"] {
                #expect(head.contains(header), "\(method) /_ping lacks \(header): \(ping.stdout)")
            }
        }
        let version = try server.curl(["-s", "http://d/v1.24/version"]).stdout
        #expect(version.contains(#""ApiVersion":"1.51""#))
        #expect(version.contains(#""MinAPIVersion":"1.24""#))
        // Every version in the range answers; outside it, Docker's 400 with its words.
        #expect(try server.curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://d/v1.51/containers/json"]).stdout == "200")
        let old = try server.curl(["-s", "-w", " %{http_code}", "http://d/v1.12/version"]).stdout
        #expect(old == #"{"message":"client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"}"# + "\n 400")
        let missing = try server.curl(["-s", "-w", " %{http_code}", "http://d/v1.41/nosuch"]).stdout
        #expect(missing == #"{"message":"page not found"}"# + "\n 404")
        let noContainer = try server.curl(["-s", "-w", " %{http_code}", "http://d/containers/nosuch/json"]).stdout
        #expect(noContainer == #"{"message":"No such container: nosuch"}"# + "\n 404")
        // The docker CLI's own view of the server.
        #expect(try server.dockerOK("version", "--format", "{{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}}") == "1.51 1.24 linux\n")
    }

    /// Start of a running container and stop of a stopped one are 304; kill of a stopped one 409.
    @Test func startAndStopAnswerNotModified() throws {
        let server = try APIServer()
        defer { server.stop() }
        let id = try #require(server.berth(["run", "-d", "busybox:test", "sleep", "1000"]).stdout.split(separator: "\n").first.map(String.init))
        func status(_ method: String, _ path: String) throws -> String {
            try server.curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method, "http://d" + path]).stdout
        }
        #expect(try status("POST", "/containers/\(id)/start") == "304")
        #expect(try status("POST", "/containers/\(id)/stop?t=1") == "204")
        #expect(try status("POST", "/containers/\(id)/stop") == "304")
        #expect(try status("POST", "/containers/\(id)/kill") == "409")
        #expect(try status("POST", "/containers/\(id)/start") == "204")
        #expect(try status("POST", "/containers/\(id)/kill?signal=NOSUCH") == "400")
        #expect(try status("POST", "/containers/\(id)/kill") == "204")
    }

    /// One engine, two front ends: what the CLI makes the API sees and the other way round;
    /// containers outlive the server, and a restarted server finds everything.
    @Test func stateIsSharedWithTheCLIAndOutlivesTheServer() throws {
        let server = try APIServer()
        defer { server.stop() }
        try #require(server.berth(["create", "--name", "made-by-cli", "busybox:test", "sleep", "1000"]).status == 0)
        #expect(try server.dockerOK("ps", "-a", "--format", "{{.Names}} {{.State}}").contains("made-by-cli created"))
        try server.dockerOK("start", "made-by-cli")
        #expect(try server.berth(["ps", "--format", "{{.Names}} {{.State}}"]).stdout.contains("made-by-cli running"))

        // SIGTERM: a clean exit, pid file and socket gone, the container still running.
        let pid = try String(contentsOfFile: server.pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int32(pid) == server.pid)
        #expect(server.terminate() == 0)
        #expect(!FileManager.default.fileExists(atPath: server.pidFile))
        #expect(!FileManager.default.fileExists(atPath: server.socket))
        #expect(try server.berth(["inspect", "-f", "{{.State.Status}}", "made-by-cli"]).stdout == "running\n")

        try server.start()
        #expect(try server.dockerOK("inspect", "-f", "{{.State.Running}}", "made-by-cli") == "true\n")
        try server.dockerOK("rm", "-f", "made-by-cli")
        #expect(try server.berth(["ps", "-aq"]).stdout.isEmpty)
    }

    /// The supervisors the server starts are its children: each that ends (its container ended or
    /// was removed) is reaped, never left a zombie holding a pid for as long as the server runs (it
    /// was: one per container ever run).
    @Test func endedSupervisorsLeaveNoZombies() throws {
        let server = try APIServer()
        defer { server.stop() }
        func zombies() -> Int {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.filter { entry in
                guard Int32(entry) != nil, let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { return false }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                return fields.count > 1 && fields[0] == "Z" && Int32(fields[1]) == server.pid
            }.count
        }
        for _ in 0..<3 { try server.dockerOK("run", "--rm", "busybox:test", "true") }
        try server.dockerOK("run", "-d", "--name", "brief", "busybox:test", "true")
        try server.dockerOK("run", "-d", "--name", "long", "busybox:test", "sleep", "600")
        try server.dockerOK("rm", "-f", "long")
        _ = try server.docker(["wait", "brief"])
        var left = zombies()
        for _ in 0..<50 where left > 0 {
            usleep(100_000)
            left = zombies()
        }
        #expect(left == 0, "\(left) supervisors left as zombies of berth serve")
        try server.dockerOK("rm", "brief")
    }

    /// Calls that block (wait, events, logs -f) hold a thread each, never the server: twenty
    /// waiters, and `_ping` and `docker ps` still answer at once; all twenty get the exit status.
    @Test func blockingCallsDoNotBlockOthers() throws {
        let server = try APIServer()
        defer { server.stop() }
        try #require(server.berth(["run", "-d", "--name", "sleeper", "busybox:test", "sleep", "1000"]).status == 0)
        var waiters: [Process] = []
        let outputs = (0..<20).map { _ in Pipe() }
        for index in 0..<20 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = ["-s", "--unix-socket", server.socket, "-X", "POST", "http://d/containers/sleeper/wait"]
            process.standardOutput = outputs[index]
            try process.run()
            waiters.append(process)
        }
        usleep(300_000)
        let start = Date()
        #expect(try server.curl(["-s", "http://d/_ping"]).stdout == "OK")
        #expect(try server.dockerOK("ps", "--format", "{{.Names}}") == "sleeper\n")
        #expect(Date().timeIntervalSince(start) < 2)
        let allWaiting = waiters.allSatisfy { $0.isRunning }
        #expect(allWaiting)
        try server.dockerOK("kill", "sleeper")
        for (index, process) in waiters.enumerated() {
            process.waitUntilExit()
            let body = String(decoding: outputs[index].fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(body == #"{"Error":null,"StatusCode":137}"# + "\n")
        }
    }

    /// Attach is a hijack: exactly `101 UPGRADED`, stdcopy frames without a terminal, and the
    /// client's half-close is the end of the container's stdin (so `cat` ends and the stream closes).
    @Test func attachUpgradesAndHonoursHalfClose() throws {
        let server = try APIServer()
        defer { server.stop() }
        try #require(server.berth(["create", "-i", "--name", "cat", "busybox:test", "cat"]).status == 0)
        let script = """
        import socket, sys, subprocess
        s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(sys.argv[1])
        s.sendall(b"POST /v1.51/containers/cat/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\\r\\nHost: d\\r\\nConnection: Upgrade\\r\\nUpgrade: tcp\\r\\nContent-Length: 0\\r\\n\\r\\n")
        head = b""
        while b"\\r\\n\\r\\n" not in head:
            head += s.recv(1)
        print(head.split(b"\\r\\n")[0].decode())
        print("multiplexed" if b"application/vnd.docker.multiplexed-stream" in head else "raw")
        # Started through the API, as `docker start -ai` does: this client is the one whose
        # stdin ends the container's (StdinOnce).
        subprocess.run(["curl", "-sf", "--unix-socket", sys.argv[1], "-X", "POST", "http://d/containers/cat/start"], check=True)
        s.sendall(b"hello\\n")
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk: break
            data += chunk
        print(repr(data))
        """
        let result = try sh(["/usr/bin/python3", "-c", script, server.socket, APIEnv.berth, server.root, server.runRoot])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "HTTP/1.1 101 UPGRADED\nmultiplexed\n" + #"b'\x01\x00\x00\x00\x00\x00\x00\x06hello\n'"# + "\n",
                "\(result.stdout)\(result.stderr)\n\(server.serverLog)")
        // cat saw the end of its input and exited 0.
        #expect(try server.berth(["wait", "cat"]).stdout == "0\n")
    }

    /// Bad requests get a 4xx with a message and the server keeps serving: malformed HTTP, a
    /// malformed or oversized JSON body, a client vanishing in the middle of an attach.
    @Test func badInputGetsAClearErrorAndTheServerKeepsServing() throws {
        let server = try APIServer()
        defer { server.stop() }
        let script = """
        import socket, sys
        def exchange(raw):
            s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                c = s.recv(65536)
                if not c: break
                data += c
            return data.split(b"\\r\\n")[0].decode() + " " + data.split(b"\\r\\n\\r\\n", 1)[-1].decode().strip()
        print(exchange(b"GARBAGE\\r\\n\\r\\n"))
        print(exchange(b"POST /networks/create HTTP/1.1\\r\\nHost: d\\r\\nContent-Type: application/json\\r\\nContent-Length: 7\\r\\n\\r\\n{nope:1"))
        big = b"[" + b"1," * (3 << 20) + b"1]"
        print(exchange(b"POST /auth HTTP/1.1\\r\\nHost: d\\r\\nContent-Type: application/json\\r\\nContent-Length: " + str(len(big)).encode() + b"\\r\\n\\r\\n" + big))
        # A client that asks to attach and vanishes.
        s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
        s.sendall(b"POST /containers/sleeper/attach?stream=1&stdout=1 HTTP/1.1\\r\\nHost: d\\r\\nConnection: Upgrade\\r\\nUpgrade: tcp\\r\\n\\r\\n")
        s.recv(10); s.close()
        """
        try #require(server.berth(["run", "-d", "--name", "sleeper", "busybox:test", "sleep", "1000"]).status == 0)
        let result = try sh(["/usr/bin/python3", "-c", script, server.socket])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 3, "\(result.stdout)\(result.stderr)")
        #expect(lines[0] == #"HTTP/1.1 400 Bad Request {"message":"malformed HTTP request"}"#)
        #expect(lines[1].hasPrefix(#"HTTP/1.1 400 Bad Request {"message":"invalid JSON: "#))
        #expect(lines[2] == #"HTTP/1.1 400 Bad Request {"message":"request body too large: more than 4194304 bytes"}"#)
        #expect(try server.curl(["-s", "http://d/_ping"]).stdout == "OK")
        #expect(try server.dockerOK("inspect", "-f", "{{.State.Running}}", "sleeper") == "true\n")
    }
}
