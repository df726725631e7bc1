import Foundation
import TestSupport
import Testing

/// Config.StdinOnce, as dockerd 20.10 keeps it (pinned with Tests/Scripts/api/dockerd-peer.sh): a
/// container created with it (docker-py's `containers.create(stdin_open=True)`, `docker create -i`)
/// has its stdin closed when an attached client's stdin ends, even when that client attached after
/// the start; without it, the end of the client's stdin ends only that attach and the container
/// goes on.
@Suite(.serialized, .enabled(if: APIEnv.ready))
struct AttachStdinOnceTests {
    /// Creates `name` through the API (docker-py's body: OpenStdin, and StdinOnce as asked), starts
    /// it, attaches, writes a line and half-closes; prints the frames as (stream, bytes) pairs.
    static let script = """
    import json, socket, subprocess, sys
    sock, name, once = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    def call(method, path, body=None):
        args = ["curl", "-sf", "--unix-socket", sock, "-X", method, "http://d" + path]
        if body is not None:
            args += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
        return subprocess.run(args, check=True, capture_output=True).stdout
    call("POST", "/v1.41/containers/create?name=" + name, {
        "Image": "busybox:test", "Cmd": ["sh", "-c", "cat; echo bye >&2"], "OpenStdin": True, "StdinOnce": once,
        "AttachStdin": once, "AttachStdout": once, "AttachStderr": once, "Tty": False})
    call("POST", "/v1.41/containers/" + name + "/start")
    s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sock)
    s.sendall(("POST /v1.41/containers/" + name + "/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\\r\\n"
               "Host: d\\r\\nConnection: Upgrade\\r\\nUpgrade: tcp\\r\\n\\r\\n").encode())
    head = b""
    while b"\\r\\n\\r\\n" not in head:
        head += s.recv(1)
    s.sendall(b"hello\\n")
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk: break
        data += chunk
    frames = []
    while len(data) >= 8:
        size = int.from_bytes(data[4:8], "big")
        frames.append((data[0], data[8:8 + size]))
        data = data[8 + size:]
    print(frames)
    """

    func attach(_ server: APIServer, _ name: String, stdinOnce: Bool) throws -> String {
        let result = try sh(["/usr/bin/python3", "-c", Self.script, server.socket, name, stdinOnce ? "1" : "0"])
        #expect(result.status == 0, "\(result.stderr)\n\(server.serverLog)")
        return result.stdout
    }

    @Test func stdinOnceClosesTheContainersStdinForALaterAttach() throws {
        let server = try APIServer()
        defer { server.stop() }
        #expect(try attach(server, "once", stdinOnce: true) == "[(1, b'hello\\n'), (2, b'bye\\n')]\n")
        #expect(try server.berth(["wait", "once"]).stdout == "0\n", "cat saw the end of its input")
        #expect(try server.dockerOK("inspect", "-f", "{{.Config.OpenStdin}} {{.Config.StdinOnce}}", "once") == "true true\n")
    }

    @Test func withoutStdinOnceTheAttachEndsAndTheContainerGoesOn() throws {
        let server = try APIServer()
        defer { server.stop() }
        // The attach ends at once (cat's echo of the line may or may not make it first); cat goes on.
        let frames = try attach(server, "kept", stdinOnce: false)
        #expect(!frames.contains("bye"), "\(frames)")
        usleep(500_000)
        #expect(try server.dockerOK("inspect", "-f", "{{.State.Running}} {{.Config.StdinOnce}}", "kept") == "true false\n")
    }

    /// `docker create -i` sets StdinOnce (the CLI attaches stdin unless `-d`); `docker run -di` does not.
    @Test func cliCreateInteractiveIsStdinOnce() throws {
        let server = try APIServer()
        defer { server.stop() }
        try server.dockerOK("create", "-i", "--name", "ci", "busybox:test", "cat")
        try server.dockerOK("run", "-di", "--name", "di", "busybox:test", "cat")
        #expect(try server.dockerOK("inspect", "-f", "{{.Config.StdinOnce}}", "ci", "di") == "true\nfalse\n")
        #expect(try server.berth(["inspect", "-f", "{{.Config.StdinOnce}}", "ci", "di"]).stdout == "true\nfalse\n")
        // A pipe into `docker run -i` still ends the container when it ends.
        #expect(try server.dockerOK("run", "-i", "--rm", "busybox:test", "cat", stdin: "piped\n") == "piped\n")
        #expect(try server.berth(["run", "-i", "--rm", "busybox:test", "cat"], stdin: "piped\n").stdout == "piped\n")
    }
}
