import ContainerSpec
import DockerModel
import Engine
import Glibc
import HTTPServer
import LinuxSys
import Supervisor

extension DockerAPI {
    static var streamRoutes: [Route] {
        [
            Route(.POST, "containers/{id}/attach") { api, call in try api.attach(call) },
            Route(.GET, "containers/{id}/attach/ws") { api, call in try api.attach(call, websocket: true) },
            Route(.POST, "containers/{id}/wait") { api, call in try api.wait(call) },
            Route(.GET, "containers/{id}/logs") { api, call in try api.logs(call) },
            Route(.POST, "containers/{id}/resize") { api, call in
                let container = try api.engine.container(call.parameter("id"))
                guard api.engine.status(container).isRunning else {
                    throw EngineError.conflict("Container \(container.id) is not running")
                }
                let rows = try call.integer("h") ?? 0, columns = try call.integer("w") ?? 0
                // The resize goes to the supervisor as an attach frame on a connection of its own.
                let fd = try api.engine.attach(container)
                let connection = AttachConnection(fd: FileDescriptor(adopting: fd))
                connection.send(.resize, AttachFrame.sizePayload(rows: rows, columns: columns))
                call.writer.send(status: .ok)
            },
        ]
    }

    /// Whether the client asked to take the connection over (`Connection: Upgrade`, `Upgrade: tcp`).
    static func wantsUpgrade(_ request: HTTPServerRequest) -> Bool {
        let connection = request.headers[canonicalForm: "Connection"].map { $0.lowercased() }
        return connection.contains("upgrade") && request.header("Upgrade") != nil
    }

    /// `POST /containers/{id}/attach`: hijacks the connection; the container's output as stdcopy
    /// frames (raw with a terminal), the client's bytes to its stdin, the client's half-close as
    /// the end of stdin. Before the container starts, waits for the start to hand it the
    /// supervisor's first connection. `websocket` (`GET …/attach/ws`): the same over a WebSocket,
    /// as dockerd serves it: output never multiplexed, one message per write, binary (text before
    /// API 1.28); the client's close frame is the end of its input.
    func attach(_ call: APICall, websocket: Bool = false) throws {
        let container = try engine.container(call.parameter("id"))
        let tty = container.options.tty
        let wantStdin = try call.flag("stdin"), wantStdout = try call.flag("stdout"), wantStderr = try call.flag("stderr")
        let stream = try call.flag("stream"), withLogs = try call.flag("logs")
        var state = engine.status(container)
        if state.status == .paused { throw EngineError.conflict("You cannot attach to a paused container, unpause it first") }
        if state.status == .restarting { throw EngineError.conflict("You cannot attach to a restarting container, wait until it is running") }
        // Registered before the upgrade answer, so a start that follows it at once finds us.
        var pending: PendingAttach?
        // Docker lets a client attach to a stopped container too and waits for its next start
        // (`docker start -a` attaches first).
        if stream && !state.isRunning {
            let waiting = PendingAttach()
            attaches.add(waiting, for: container.id)
            pending = waiting
        }
        defer { if let pending { attaches.remove(pending, for: container.id) } }
        let contentType = tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream"
        let taken: (any ConnectionStream)? = websocket
            ? call.writer.upgradeToWebSocket(call.request, textMessages: !call.atLeast("1.28"))
            : call.writer.hijack(upgrade: Self.wantsUpgrade(call.request), headers: [("Content-Type", contentType)])
        guard let client = taken else { return }
        defer { client.close() }
        func frame(_ stream: AttachStream, _ bytes: [UInt8]) -> [UInt8] {
            tty || websocket ? bytes : AttachFrame.encode(stream, bytes)
        }
        if withLogs {
            do {
                try LogReader.read(path: engine.logPath(container.id)) { entry in
                    guard entry.stream == .stderr ? wantStderr : wantStdout else { return }
                    guard client.write(frame(entry.stream == .stderr ? .stderr : .stdout, entry.bytes)) else { throw ClientGone() }
                }
            } catch { return }
        }
        guard stream else { return }
        var fd: Int32?
        var launcher = false
        if let pending {
            while fd == nil {
                switch pending.wait(seconds: 0.5) {
                case .connected(let connected):
                    fd = connected
                    launcher = true
                case .failed: return
                case nil:
                    if client.clientGone { return }
                    state = engine.status(container)
                    // Started by someone else (the CLI): connect as any later client would.
                    if state.isRunning { fd = try? engine.attach(container) }
                }
            }
        } else if state.isRunning {
            fd = try? engine.attach(container)
        }
        guard let fd else { return }
        // The start's first connection is the launcher's: when the exit reaches it, the supervisor
        // leaves `--rm`'s removal to it (as to `berth run`), so it is ours to do.
        let supervisor = AttachConnection(fd: FileDescriptor(adopting: fd))
        if wantStdin && container.options.interactive {
            // The end of the client's input closes the container's stdin for the run that was
            // started for this client, and for any attach to a StdinOnce container without a tty
            // (dockerd's CloseStdin); otherwise, as dockerd, it ends this attach only.
            let closesStdin = launcher || (container.options.closesStdinAfterAttach && !tty)
            Threads.detach {
                while let bytes = client.read() { supervisor.send(.stdin, bytes) }
                if client.inputFailed { return }
                if closesStdin { supervisor.send(.closeStdin, []) } else { supervisor.shutdown() }
            }
        }
        var reader = AttachFrameReader()
        while let bytes = supervisor.receive() {
            reader.append(bytes)
            while let next = reader.next() {
                guard case .success(let (kind, payload)) = next else { return }
                switch kind {
                case .stdout where wantStdout, .stderr where wantStderr:
                    guard client.write(frame(kind, payload)) else { return }
                case .exit:
                    exitCodes.record(container.id, AttachFrame.decodeInt32(payload[...]))
                    if launcher && container.options.autoRemove {
                        client.close()
                        try? engine.remove(container, force: true, volumes: true)
                        exitCodes.noteRemoval()
                    }
                    return
                default:
                    break
                }
            }
        }
    }

    /// `POST /containers/{id}/wait?condition=not-running|next-exit|removed`: the head at once,
    /// the body when the condition holds.
    func wait(_ call: APICall) throws {
        let container = try engine.container(call.parameter("id"))
        let condition = call.query("condition").flatMap { $0.isEmpty ? nil : $0 } ?? "not-running"
        guard ["not-running", "next-exit", "removed"].contains(condition) else {
            throw EngineError.invalid("invalid condition: \"\(condition)\"")
        }
        let writer = call.writer
        writer.startStream(headers: [("Content-Type", "application/json")])
        let initial = engine.status(container)
        var status: Int32 = 0
        var sawRunning = initial.isRunning || initial.status == .restarting
        while !writer.clientGone {
            // Polled: the CLI or a supervisor changes the state too; exits and removals through
            // this server wake it at once.
            let seen = exitCodes.seen
            let exists = (try? engine.container(container.id)) != nil
            let current = engine.status(container)
            let running = current.isRunning || current.status == .restarting || current.state.supervisorAlive
            if running { sawRunning = true }
            // Once removed (`--rm`), its state is gone with it: the exit status is its last `die` event's.
            status = exists ? current.state.exitCode : exitCodes.code(container.id) ?? lastExitCode(container.id) ?? status
            switch condition {
            case "removed":
                if !exists { break }
                exitCodes.sleep(after: seen, seconds: 0.02)
                continue
            case "next-exit":
                if !exists || (sawRunning && !running && current.state.finishedAt != initial.state.finishedAt) { break }
                if !exists { break }
                exitCodes.sleep(after: seen, seconds: 0.02)
                continue
            default:
                if !exists || !running { break }
                exitCodes.sleep(after: seen, seconds: 0.02)
                continue
            }
            writer.write(Array("{\"Error\":null,\"StatusCode\":\(status)}\n".utf8))
            return
        }
    }

    /// The exit code the container's last `die` event recorded.
    func lastExitCode(_ id: String) -> Int32? {
        var code: Int32?
        for event in EventLog.read(engine.eventsPath) where event.actor.id == id && event.action == "die" {
            code = event.actor.attributes["exitCode"].flatMap { Int32($0) }
        }
        return code
    }

    /// `GET /containers/{id}/logs`: the json-file log as stdcopy frames (raw with a terminal).
    func logs(_ call: APICall) throws {
        let container = try engine.container(call.parameter("id"))
        let wantStdout = try call.flag("stdout"), wantStderr = try call.flag("stderr")
        guard wantStdout || wantStderr else { throw EngineError.invalid("Bad parameters: you must choose at least one stream") }
        var options = LogReadOptions(follow: try call.flag("follow"))
        let now = LogTimestamp.now()
        do {
            if let since = call.query("since"), !since.isEmpty, since != "0" { options.since = try LogTimestamp.parse(userInput: since, now: now) }
            if let until = call.query("until"), !until.isEmpty, until != "0" { options.until = try LogTimestamp.parse(userInput: until, now: now) }
        } catch {
            throw EngineError.invalid("\(error)")
        }
        if let tail = call.query("tail"), !tail.isEmpty, tail != "all" {
            guard let count = Int(tail) else { throw EngineError.invalid("invalid value for \"tail\": \(tail)") }
            options.tail = count < 0 ? nil : count
        }
        let timestamps = try call.flag("timestamps")
        let tty = container.options.tty
        let writer = call.writer
        writer.startStream(headers: [("Content-Type", tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream")])
        let path = engine.logPath(container.id)
        guard FS.exists(path) else { return }
        let engine = self.engine
        do {
            try LogReader.read(path: path, options: options, isRunning: {
                if writer.clientGone { return false }
                let status = engine.status(container)
                return status.isRunning || status.status == .restarting
            }) { entry in
                guard entry.stream == .stderr ? wantStderr : wantStdout else { return }
                let bytes = LogReader.format(entry, timestamps: timestamps)
                let out = tty ? bytes : AttachFrame.encode(entry.stream == .stderr ? .stderr : .stdout, bytes)
                guard writer.write(out) else { throw ClientGone() }
            }
        } catch {}
    }
}

struct ClientGone: Error {}

/// Our end of a supervisor's attach socket, shared by the thread that sends stdin and the one
/// that reads output; closed when the last of them lets go.
final class AttachConnection: Sendable {
    let fd: FileDescriptor

    init(fd: consuming FileDescriptor) { self.fd = fd }

    func send(_ stream: AttachStream, _ payload: [UInt8]) {
        _ = try? FS.write(fd.raw, AttachFrame.encode(stream, payload))
    }

    /// Ends the conversation: the reading side sees its end at once.
    func shutdown() { _ = Glibc.shutdown(fd.raw, Int32(SHUT_RDWR)) }

    /// The next bytes from the supervisor; nil at its end.
    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let count = (try? buffer.withUnsafeMutableBytes { try FS.readSome(fd.raw, into: $0) }) ?? 0
        guard count > 0 else { return nil }
        return Array(buffer[..<count])
    }
}
