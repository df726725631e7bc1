import ContainerSpec
import DockerModel
import Engine
import Glibc
import GoCompat
import HTTPServer
import LinuxSys
import Supervisor
import Synchronization

extension DockerAPI {
    static var execRoutes: [Route] {
        [
            Route(.POST, "containers/{id}/exec") { api, call in try api.createExec(call) },
            Route(.POST, "exec/{id}/start") { api, call in try api.startExec(call) },
            Route(.GET, "exec/{id}/json") { api, call in
                try call.writer.json(try api.execInstance(call.parameter("id")).inspect)
            },
            Route(.POST, "exec/{id}/resize") { api, call in
                let instance = try api.execInstance(call.parameter("id"))
                let rows = try call.integer("h") ?? 0, columns = try call.integer("w") ?? 0
                // A client resizes as soon as it has sent the start: wait for it, as dockerd does.
                guard let session = instance.runningSession(waiting: 10) else {
                    throw EngineError.conflict("Exec \(instance.id) is not running")
                }
                session.resize(rows: rows, columns: columns)
                call.writer.send(status: .ok)
            },
        ]
    }

    func execInstance(_ id: String) throws(EngineError) -> ExecInstance {
        guard let instance = execs.get(id) else { throw .notFound("No such exec instance: \(id)") }
        return instance
    }

    /// `POST /containers/{id}/exec` (`ExecOptions`): 201 `{"Id"}`; 409 when the container does
    /// not run. Nothing runs until the start.
    func createExec(_ call: APICall) throws {
        let body = try ExecCreateRequest(body: try call.bodyBytes())
        let request = try body.execRequest()
        var detachKeys: [UInt8] = []
        if let text = body.detachKeys, !text.isEmpty {
            guard let keys = DetachKeyMatcher.parse(text) else { throw EngineError.invalid("Invalid detach keys (\(text)) provided") }
            detachKeys = keys
        }
        let container = try engine.container(call.parameter("id"))
        let id: String
        do { id = try engine.createExec(container, request) } catch { throw EngineError(error.kind, error.message) }
        execs.add(ExecInstance(id: id, containerID: container.id, request: request, attachStdin: request.interactive,
                               attachStdout: body.attachStdout ?? false, attachStderr: body.attachStderr ?? false,
                               detachKeys: detachKeys))
        call.writer.jsonText("{\"Id\":\"\(id)\"}", status: .created)
    }

    /// `POST /exec/{id}/start` (`ExecStartOptions`): detached, 200 once the process runs;
    /// otherwise the connection is hijacked (101 with `Upgrade: tcp`) before the process starts,
    /// its output goes to the client as stdcopy frames (raw with a terminal, as the start's Tty
    /// says), the client's bytes to its stdin, the client's half-close is the end of its stdin,
    /// and the connection closes once the process has ended and its exit code is recorded.
    func startExec(_ call: APICall) throws {
        let body = try ExecStartRequest(body: try call.bodyBytes())
        let instance = try execInstance(call.parameter("id"))
        let detach = body.detach ?? false
        let rawStream = body.tty ?? false
        var request = instance.request
        if let size = body.consoleSize?.rowsAndColumns { request.consoleSize = size }
        let container = try engine.container(instance.containerID)
        let state = engine.status(container)
        guard state.isRunning else { throw EngineError.conflict("container \(container.id) is not running") }
        try instance.claimStart()

        if detach {
            let null: FileDescriptor
            do { null = try FS.openOwned("/dev/null", O_RDWR) } catch {
                instance.finished(126)
                throw EngineError.system("exec: open /dev/null", error)
            }
            let session: ExecSession
            do { session = try engine.startExec(container, request, id: instance.id, stdio: ExecDescriptors(stdin: nil, stdout: null.raw, stderr: null.raw)) } catch {
                instance.finished(error.exitCode)
                throw EngineError(error.kind, error.message)
            }
            instance.started(session)
            Threads.detach {
                // Nobody reads a detached exec's terminal: drained, so the process never blocks on it.
                if session.master.raw >= 0 { Self.relay(from: session.master.raw) { _ in true } }
                instance.finished(session.wait())
            }
            call.writer.send(status: .ok)
            return
        }

        let contentType = rawStream || !call.atLeast("1.42") ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream"
        guard let client = call.writer.hijack(upgrade: Self.wantsUpgrade(call.request), headers: [("Content-Type", contentType)]) else {
            instance.finished(126)
            return
        }
        defer { client.close() }
        // Frames without a terminal at every version: 1.42 only changed the content type.
        let framed = !rawStream
        func send(_ stream: AttachStream, _ bytes: [UInt8]) -> Bool {
            client.write(framed ? AttachFrame.encode(stream, bytes) : bytes)
        }
        if request.tty {
            relayTerminal(container, request, instance, client, send: send)
        } else {
            relayPipes(container, request, instance, client, send: send)
        }
    }

    /// A failed start inside a hijacked stream: dockerd writes the error on the stream's stdout.
    private func reportStartFailure(_ error: ExecError, _ instance: ExecInstance, send: (AttachStream, [UInt8]) -> Bool) {
        _ = send(.stdout, Array((error.message + "\r\n").utf8))
        instance.finished(error.exitCode)
    }

    /// Without a terminal: three pipes. The stdin pipe's write end goes to a thread that copies the
    /// client's bytes and closes it at the client's half-close; stdout and stderr are read here.
    private func relayPipes(_ container: Container, _ request: ExecRequest, _ instance: ExecInstance, _ client: HijackedStream,
                            send: (AttachStream, [UInt8]) -> Bool) {
        let session: ExecSession
        let input: SharedDescriptor?
        let output: SharedDescriptor, errors: SharedDescriptor
        do {
            let inPipe = try FS.pipe(), outPipe = try FS.pipe(), errPipe = try FS.pipe()
            do {
                session = try engine.startExec(container, request, id: instance.id,
                                               stdio: ExecDescriptors(stdin: instance.attachStdin ? inPipe.read.raw : nil,
                                                                      stdout: outPipe.write.raw, stderr: errPipe.write.raw))
            } catch {
                reportStartFailure(error, instance, send: send)
                return
            }
            // The process's ends are its own now; ours close here, so its exit ends our reads.
            if instance.attachStdin { input = SharedDescriptor(inPipe.write) } else { input = nil }
            output = SharedDescriptor(outPipe.read)
            errors = SharedDescriptor(errPipe.read)
        } catch {
            reportStartFailure(ExecError(.internal, "exec: create pipes: \(error)", exitCode: 126, reportedByDaemon: true), instance, send: send)
            return
        }
        instance.started(session)
        if let input {
            Threads.detach {
                while let bytes = client.read() {
                    guard (try? FS.write(input.raw, bytes)) != nil else { break }
                }
                input.close()
            }
        }
        var streams: [(fd: SharedDescriptor, kind: AttachStream, wanted: Bool)] = [
            (output, .stdout, instance.attachStdout), (errors, .stderr, instance.attachStderr),
        ]
        var clientGone = false
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        while !streams.isEmpty {
            guard case .ready(let events)? = try? Poll.wait(streams.map { Poll.Request($0.fd.raw) }, timeoutMilliseconds: -1) else { break }
            var finished: [Int] = []
            for (index, event) in events.enumerated() where !event.isEmpty {
                let stream = streams[index]
                let count = (try? buffer.withUnsafeMutableBytes { raw throws(SysError) in try FS.readSome(stream.fd.raw, into: raw) }) ?? 0
                if count == 0 {
                    finished.append(index)
                } else if stream.wanted && !clientGone {
                    // A client that left stops the relay, not the process: its output is drained.
                    clientGone = !send(stream.kind, Array(buffer[0..<count]))
                }
            }
            for index in finished.reversed() { streams.remove(at: index) }
        }
        output.close()
        errors.close()
        instance.finished(session.wait())
    }

    /// With a terminal: the pty's master, raw both ways; the client's half-close leaves it open
    /// (a terminal has no end of input but the keys it is sent).
    private func relayTerminal(_ container: Container, _ request: ExecRequest, _ instance: ExecInstance, _ client: HijackedStream,
                               send: (AttachStream, [UInt8]) -> Bool) {
        let session: ExecSession
        do { session = try engine.startExec(container, request, id: instance.id, stdio: ExecDescriptors(stdin: nil, stdout: -1, stderr: -1)) } catch {
            reportStartFailure(error, instance, send: send)
            return
        }
        instance.started(session)
        if instance.attachStdin {
            Threads.detach {
                while let bytes = client.read() {
                    guard (try? FS.write(session.master.raw, bytes)) != nil else { break }
                }
            }
        }
        var clientGone = false
        Self.relay(from: session.master.raw) { bytes in
            if !clientGone && instance.attachStdout { clientGone = !send(.stdout, bytes) }
            return true
        }
        instance.finished(session.wait())
    }

    /// Reads `fd` to its end (a pty master's EIO once every process has closed its terminal),
    /// handing each piece to `body`.
    static func relay(from fd: Int32, _ body: ([UInt8]) -> Bool) {
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        while true {
            guard let count = try? buffer.withUnsafeMutableBytes({ raw throws(SysError) in try FS.readSome(fd, into: raw) }), count > 0 else { return }
            guard body(Array(buffer[0..<count])) else { return }
        }
    }
}

extension ExecInstance {
    /// `GET /exec/{id}/json`.
    var inspect: ExecInspect {
        let (running, exitCode, pid) = state
        let command = request.command
        return ExecInspect(
            id: id, running: running, exitCode: exitCode.map(Int.init),
            processConfig: .init(privileged: request.privileged, user: request.user ?? "", tty: request.tty,
                                 entrypoint: command.first ?? "", arguments: Array(command.dropFirst())),
            openStdin: attachStdin, openStderr: attachStderr, openStdout: attachStdout, canRemove: false,
            containerID: containerID, detachKeys: GoBase64.encode(detachKeys), pid: Int(pid))
    }
}

/// A descriptor that threads of one request share: closed once, by `close()` or with the last reference.
final class SharedDescriptor: Sendable {
    private let fd: Mutex<Int32>

    init(_ descriptor: consuming FileDescriptor) {
        fd = Mutex(descriptor.take())
    }

    deinit { close() }

    var raw: Int32 { fd.withLock { $0 } }

    func close() {
        fd.withLock { fd in
            FS.close(fd)
            fd = -1
        }
    }
}
