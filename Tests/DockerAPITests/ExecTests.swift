import Foundation
import TestSupport
import Testing

/// `docker exec` against `berth serve`: create, hijacked start (stdcopy frames without a terminal,
/// raw with one), stdin with its half-close, detached starts, inspect.
@Suite(.enabled(if: APIEnv.ready), .serialized)
struct ExecTests {
    /// Output on the right stream, the command's status, Docker's 126/127 for a command that
    /// cannot start, 1 for a container that does not run.
    @Test func outputAndExitStatus() throws {
        let server = try APIServer()
        defer { server.stop() }
        try server.sleeper("box")
        let ran = try server.docker(["exec", "box", "sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(ran.status == 3)
        #expect(ran.stdout == "out\n")
        #expect(ran.stderr == "err\n")
        let env = try server.docker(["exec", "-e", "A=b c", "-u", "nobody", "-w", "/tmp", "box", "sh", "-c", "echo $A; id -u; pwd"])
        #expect(env.stdout == "b c\n65534\n/tmp\n", "\(env.stderr)")
        let missing = try server.docker(["exec", "box", "nosuch"])
        #expect(missing.status == 127)
        #expect((missing.stdout + missing.stderr).contains("exec: \"nosuch\": executable file not found"), "\(missing.stdout)\(missing.stderr)")
        #expect(try server.docker(["exec", "box", "/etc/passwd"]).status == 126)

        try server.berthOK("stop", "-t", "0", "box")
        let stopped = try server.docker(["exec", "box", "true"])
        #expect(stopped.status == 1)
        #expect(stopped.stderr.contains("is not running"), "\(stopped.stderr)")
    }

    /// `-i`: the client's stdin reaches the process, and its end (the CLI's half-close) is the
    /// process's end of input, so `cat` ends.
    @Test func stdinAndItsEnd() throws {
        let server = try APIServer()
        defer { server.stop() }
        try server.sleeper("box")
        let piped = try server.shell("echo hi | \(APIEnv.docker) exec -i box cat")
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdout == "hi\n")
        let counted = try server.docker(["exec", "-i", "box", "wc", "-c"], stdin: String(repeating: "x", count: 300_000))
        #expect(counted.stdout.trimmingCharacters(in: .whitespaces) == "300000\n", "\(counted.stderr)")
        // Without -i the process's stdin is empty.
        #expect(try server.docker(["exec", "box", "cat"], stdin: "ignored").stdout == "")
    }

    /// `-it` through a pty: the process has a terminal of the size the CLI reports, and its
    /// status comes back.
    @Test func terminal() throws {
        let server = try APIServer()
        defer { server.stop() }
        try server.sleeper("box")
        let command = "stty rows 33 cols 101; \(APIEnv.docker) exec -it box sh -c 'tty; stty size; exit 5'"
        let out = try server.shell("script -qec \"\(command)\" /dev/null")
        #expect(out.status == 5, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("/dev/pts/"), "\(out.stdout)")
        #expect(out.stdout.contains("33 101"), "\(out.stdout)")
    }

    /// `-d`: started, the client answered at once, the process runs on; inspect shows it ended
    /// with its status.
    @Test func detachedAndInspected() throws {
        let server = try APIServer()
        defer { server.stop() }
        let id = try server.sleeper("box")
        let detached = try server.docker(["exec", "-d", "box", "sh", "-c", "sleep 1; echo done > /tmp/marker"])
        #expect(detached.status == 0 && detached.stdout.isEmpty, "\(detached.stderr)")
        var marker = ""
        for _ in 0..<50 where marker.isEmpty {
            usleep(100_000)
            marker = (try? server.berth(["exec", "box", "cat", "/tmp/marker"]).stdout) ?? ""
        }
        #expect(marker == "done\n")

        let created = try server.request("POST", "/containers/box/exec", json: #"{"Cmd":["sh","-c","exit 7"],"AttachStdout":true,"DetachKeys":"ctrl-p,ctrl-q","User":"nobody"}"#)
        #expect(created.status == 201)
        let execID = try #require(try server.object(created.body)["Id"] as? String)
        #expect(created.body == "{\"Id\":\"\(execID)\"}\n")
        let before = try server.request("GET", "/exec/\(execID)/json")
        #expect(before.body == "{\"ID\":\"\(execID)\",\"Running\":false,\"ExitCode\":null,\"ProcessConfig\":{\"tty\":false,\"entrypoint\":\"sh\",\"arguments\":[\"-c\",\"exit 7\"],\"privileged\":false,\"user\":\"nobody\"},\"OpenStdin\":false,\"OpenStderr\":false,\"OpenStdout\":true,\"CanRemove\":false,\"ContainerID\":\"\(id)\",\"DetachKeys\":\"EBE=\",\"Pid\":0}\n")
        let started = try server.request("POST", "/exec/\(execID)/start", json: #"{"Detach":true}"#)
        #expect(started.status == 200 && started.body.isEmpty)
        var after: [String: Any] = [:]
        for _ in 0..<50 where after["ExitCode"] as? Int == nil {
            usleep(100_000)
            after = try server.object(try server.request("GET", "/exec/\(execID)/json").body)
        }
        #expect(after["ExitCode"] as? Int == 7)
        #expect(after["Running"] as? Bool == false)
        #expect((after["Pid"] as? Int ?? 0) > 0)
        let twice = try server.request("POST", "/exec/\(execID)/start", json: #"{"Detach":true}"#)
        #expect(twice.status == 409)
        #expect(twice.body.contains("has already run"))
        #expect(try server.request("GET", "/exec/nosuch/json").status == 404)
        #expect(try server.request("POST", "/containers/box/exec", json: #"{"Cmd":[]}"#).status == 400)
    }

    /// The exec'd process holds none of the server's descriptors: only its stdio (and the one
    /// `ls` opens to list), plain, with -i and with -t.
    @Test(arguments: [[String](), ["-i"], ["-t"]])
    func noDescriptorsLeakIntoTheProcess(flags: [String]) throws {
        let server = try APIServer()
        defer { server.stop() }
        try server.sleeper("box")
        let listed = try server.docker(["exec"] + flags + ["box", "ls", "/proc/self/fd"], stdin: "")
        let fds = listed.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        #expect(fds == ["0", "1", "2", "3"], "\(listed.stdout)\(listed.stderr)")
    }
}
