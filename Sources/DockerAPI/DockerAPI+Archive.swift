import ContainerSpec
import Engine
import GoCompat
import HTTPServer
import TextTemplate

extension DockerAPI {
    static var archiveRoutes: [Route] {
        [
            // HEAD is GET's route without the body (`docker cp` stats the path first).
            Route(.GET, "containers/{id}/archive") { api, call in try api.getArchive(call) },
            Route(.PUT, "containers/{id}/archive") { api, call in try api.putArchive(call) },
        ]
    }

    /// The `path` parameter, required.
    static func archivePath(_ call: APICall) throws(EngineError) -> String {
        guard let path = call.query("path"), !path.isEmpty else { throw .invalid("path cannot be empty") }
        return path
    }

    /// Docker's `X-Docker-Container-Path-Stat`: base64 of `{"name","size","mode","mtime","linkTarget"}`.
    static func pathStatHeader(_ stat: Engine.PathStat) -> (String, String) {
        let json = "{\"name\":\(TemplateValue.string(stat.name).json()),\"size\":\(stat.size),\"mode\":\(stat.mode)"
            + ",\"mtime\":\(TemplateValue.string(stat.mtime).json()),\"linkTarget\":\(TemplateValue.string(stat.linkTarget).json())}"
        return ("X-Docker-Container-Path-Stat", GoBase64.encode(Array(json.utf8)))
    }

    /// `HEAD`/`GET /containers/{id}/archive?path=`: the stat header, and with GET the tar of the
    /// path (as `docker cp CONTAINER:SRC -` receives it), streamed as it is read.
    func getArchive(_ call: APICall) throws {
        let container = try engine.container(call.parameter("id"))
        let path = try Self.archivePath(call)
        let stat = try engine.statPath(container, path: path)
        let header = Self.pathStatHeader(stat)
        if call.request.method == .HEAD {
            call.writer.send(status: .ok, headers: [header])
            return
        }
        let writer = call.writer
        writer.startStream(headers: [("Content-Type", "application/x-tar"), header])
        // Tar headers come 512 bytes at a time: sent in pieces of 64 KiB, not one write each.
        let pending = PendingBytes()
        try? engine.archive(container, path: path) { bytes in
            pending.bytes.append(contentsOf: bytes)
            if pending.bytes.count >= 64 << 10 {
                guard writer.write(pending.bytes) else { throw ClientGone() }
                pending.bytes.removeAll(keepingCapacity: true)
            }
        }
        writer.write(pending.bytes)
    }

    /// `PUT /containers/{id}/archive?path=&noOverwriteDirNonDir=&copyUIDGID=`: extracts the tar
    /// body into the directory `path`, resolved inside the container's root and through its
    /// volumes and binds as `cp` does (nothing lands outside the container, whatever the names
    /// and links in the archive). The archive's owners are kept; with `copyUIDGID`, the
    /// container's configured user gets the files, as with dockerd.
    func putArchive(_ call: APICall) throws {
        let container = try engine.container(call.parameter("id"))
        let path = try Self.archivePath(call)
        let noOverwrite = try call.flag("noOverwriteDirNonDir")
        let owner = try call.flag("copyUIDGID") ? try engine.configuredUserOwner(container) : nil
        let body = call.request.body
        try engine.extractArchive(container, into: path, owner: owner, noOverwriteDirNonDir: noOverwrite) {
            do { return try body.next() } catch {
                throw EngineError.invalid("the client went away before sending the whole archive")
            }
        }
        call.writer.send(status: .ok)
    }
}

/// Bytes gathered by one handler's thread before they are sent.
final class PendingBytes {
    var bytes: [UInt8] = []
}
