import ContainerSpec
import Engine
import Glibc
import HTTPServer
import LinuxSys
import OCI

extension DockerAPI {
    static var commitRoutes: [Route] {
        [
            Route(.POST, "commit") { api, call in try api.commit(call) },
            Route(.GET, "containers/{id}/changes") { api, call in
                let changes = try api.engine.changes(try api.engine.container(call.parameter("id")))
                // Go's nil slice when nothing changed.
                if changes.isEmpty { call.writer.jsonText("null") } else { try call.writer.json(changes) }
            },
            Route(.GET, "containers/{id}/export") { api, call in try api.export(call) },
        ]
    }

    /// `POST /commit?container=&repo=&tag=&author=&comment=&pause=&changes=`: the container as a
    /// new image (the body, when given, is the config to start from); 201 `{"Id":"sha256:…"}`.
    func commit(_ call: APICall) throws {
        let container = try engine.container(call.query("container") ?? "")
        var reference: ImageReference?
        if let repo = call.query("repo"), !repo.isEmpty {
            let tag = call.query("tag").flatMap { $0.isEmpty ? nil : $0 }
            do { reference = try ImageReference(parsing: tag.map { repo + ":" + $0 } ?? repo) } catch {
                throw EngineError.invalid("invalid reference format: \(error)")
            }
        }
        let body = try call.bodyBytes()
        var config: ContainerConfig?
        if !body.isEmpty, body.contains(where: { $0 != 32 && $0 != 10 && $0 != 13 && $0 != 9 }), Array(body) != Array("null".utf8) {
            do { config = try JSONTreeDecoder.decode(ContainerConfig.self, from: body) } catch {
                throw EngineError.invalid("invalid JSON: \(error)")
            }
        }
        let options = Engine.CommitOptions(
            reference: reference, author: call.query("author").flatMap { $0.isEmpty ? nil : $0 },
            comment: call.query("comment").flatMap { $0.isEmpty ? nil : $0 },
            changes: call.request.parameters("changes").filter { !$0.isEmpty },
            pause: try call.flag("pause", default: true), config: config)
        let id = try engine.commit(container, options)
        call.writer.send(status: .created, headers: [("Content-Type", "application/json")],
                         body: Array(("{\"Id\":" + "\"\(id)\"" + "}\n").utf8))
    }

    /// `GET /containers/{id}/export`: the container's filesystem as a tar stream. The engine
    /// writes into a pipe on a thread of its own; this one passes the pipe on to the client.
    func export(_ call: APICall) throws {
        let container = try engine.container(call.parameter("id"))
        let pipe: Pipe
        do { pipe = try FS.pipe(flags: O_CLOEXEC) } catch { throw EngineError.system("export: pipe", error) }
        let writeEnd = ExportPipeEnd(fd: pipe.write.take())
        let readFD = pipe.read.take()
        defer { FS.close(readFD) }
        let failure = ExportOutcome()
        let engine = self.engine
        guard Threads.detach({
            do { try engine.export(container, to: writeEnd.fd) } catch { failure.set(error) }
            writeEnd.close()
        }) else {
            writeEnd.close()
            throw EngineError.unavailable("export: no thread to be had")
        }
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        var started = false
        while true {
            let count = (try? buffer.withUnsafeMutableBytes { try FS.readSome(readFD, into: $0) }) ?? 0
            if count == 0 { break }
            if !started {
                call.writer.startStream(headers: [("Content-Type", "application/x-tar")])
                started = true
            }
            guard call.writer.write(Array(buffer[..<count])) else { break }
        }
        if !started {
            if let error = failure.error { throw error }
            call.writer.startStream(headers: [("Content-Type", "application/x-tar")])
        }
    }
}

/// The pipe's writing end, closed once by whichever side finishes first.
private final class ExportPipeEnd: @unchecked Sendable {
    let fd: Int32
    private var closed = false
    private let lock = ConditionLock()
    init(fd: Int32) { self.fd = fd }
    func close() {
        lock.withLock {
            if !closed { FS.close(fd) }
            closed = true
        }
    }
}

/// What the export thread ended with.
private final class ExportOutcome: @unchecked Sendable {
    private let lock = ConditionLock()
    private var stored: (any Error)?
    func set(_ error: any Error) { lock.withLock { stored = error } }
    var error: (any Error)? { lock.withLock { stored } }
}
