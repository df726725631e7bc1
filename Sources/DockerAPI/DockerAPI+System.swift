import ContainerSpec
import DockerModel
import Engine
import GoCompat
import HTTPServer
import LinuxSys
import Supervisor

extension DockerAPI {
    static var systemRoutes: [Route] {
        [
            Route([.GET, .HEAD], "_ping") { _, call in
                call.writer.send(status: .ok, headers: [
                    ("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-cache, no-store, must-revalidate"),
                    ("Pragma", "no-cache"), ("Builder-Version", "1"),
                ], body: Array("OK".utf8))
            },
            Route(.GET, "version") { _, call in
                try call.writer.json(SystemVersion.engine())
            },
            Route(.GET, "info") { api, call in
                do { try call.writer.json(try SystemInfo(engine: api.engine)) } catch let error as EngineError { throw error } catch {
                    throw EngineError.system("info", error)
                }
            },
            Route(.GET, "system/df") { api, call in
                do { try call.writer.json(try SystemDataUsage(engine: api.engine)) } catch let error as EngineError { throw error } catch {
                    throw EngineError.system("system df", error)
                }
            },
            Route(.GET, "events") { api, call in try api.events(call) },
        ]
    }

    /// `GET /events`: the events file from `since`, then new events as they come, until `until`
    /// or until the client goes away. The head goes out at once (clients wait for it).
    func events(_ call: APICall) throws {
        let now = LogTimestamp.now()
        func nanos(_ name: String) throws(EngineError) -> Int64? {
            guard let text = call.query(name), !text.isEmpty else { return nil }
            do {
                let stamp = try LogTimestamp.parse(userInput: text, now: now)
                return stamp.seconds * 1_000_000_000 + Int64(stamp.nanoseconds)
            } catch {
                throw .invalid("invalid value for \(name): \(error)")
            }
        }
        let sinceNano = try nanos("since")
        let untilNano = try nanos("until")
        let filters: EventFilters
        do { filters = try EventFilters(try QueryFilters.parse(call.query("filters"))) } catch let error as FilterError {
            throw EngineError.invalid(error.message)
        }
        let writer = call.writer
        writer.startStream(headers: [("Content-Type", "application/json")])
        let startNano = now.seconds * 1_000_000_000 + Int64(now.nanoseconds)
        func emit(_ event: EventMessage, history: Bool) -> Bool {
            if history {
                guard sinceNano != nil || untilNano != nil else { return true }
                if let sinceNano, event.timeNano < sinceNano { return true }
            }
            if let untilNano, event.timeNano > untilNano { return true }
            guard filters.accepts(event) else { return true }
            return writer.write(Array((event.jsonLine + "\n").utf8))
        }
        let path = engine.eventsPath
        if let bytes = try? FS.readFile(path + ".1") {
            for event in EventLog.parse(bytes[...]).events { guard emit(event, history: true) else { return } }
        }
        var follower = EventFollower(path: path)
        for event in follower.poll() { guard emit(event, history: true) else { return } }
        if let untilNano, untilNano <= startNano { return }
        while !writer.clientGone {
            for event in follower.poll() { guard emit(event, history: false) else { return } }
            if let untilNano, LogTimestamp.now().nanosecondsSinceEpoch >= untilNano {
                for event in follower.poll() { guard emit(event, history: false) else { return } }
                return
            }
            ProcessSys.sleep(milliseconds: 100)
        }
    }
}

extension LogTimestamp {
    var nanosecondsSinceEpoch: Int64 { seconds * 1_000_000_000 + Int64(nanoseconds) }
}

extension APICall {
    /// The body's bytes, refused past `limit` (JSON bodies are small; uploads stream instead).
    func bodyBytes(limit: Int = 4 << 20) throws(EngineError) -> [UInt8] {
        do { return try request.body.readAll(limit: limit) } catch {
            switch error {
            case .tooLarge(let limit): throw .invalid("request body too large: more than \(limit) bytes")
            case .incomplete: throw .invalid("the client went away before sending the whole request body")
            }
        }
    }

    /// The body as a JSON value (Go's decoder rules); an empty body is `null`.
    func jsonBody(limit: Int = 4 << 20) throws(EngineError) -> JSONValue {
        let bytes: [UInt8]
        do { bytes = try request.body.readAll(limit: limit) } catch {
            switch error {
            case .tooLarge(let limit): throw .invalid("request body too large: more than \(limit) bytes")
            case .incomplete: throw .invalid("the client went away before sending the whole request body")
            }
        }
        if bytes.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }) { return .null }
        do { return try JSONParser.parse(bytes) } catch {
            throw .invalid("invalid JSON: \(error)")
        }
    }
}
