import ContainerRuntime
import ContainerSpec
import DockerModel
import Engine
import HTTPServer
import LinuxSys
import Supervisor

extension DockerAPI {
    static var containerRoutes: [Route] {
        [
            Route(.GET, "containers/json") { api, call in try api.listContainers(call) },
            Route(.POST, "containers/create") { api, call in try api.create(call) },
            Route(.POST, "containers/{id}/update") { api, call in
                let container = try api.engine.container(call.parameter("id"))
                let request = try ContainerUpdateRequest(body: try call.bodyBytes())
                try api.engine.update(container, try request.resourceUpdate())
                let warnings = request.warnings(host: .current)
                try call.writer.json(UpdateResponse(warnings: warnings.isEmpty ? nil : warnings))
            },
            Route(.GET, "containers/{id}/json") { api, call in
                let container = try api.engine.container(call.parameter("id"))
                var inspect = ContainerInspect(container, engine: api.engine, sizes: try call.flag("size"))
                let execIDs = api.execs.ids(container: container.id)
                inspect.execIDs = execIDs.isEmpty ? nil : execIDs
                try call.writer.json(inspect)
            },
            Route(.POST, "containers/{id}/start") { api, call in try api.start(call) },
            Route(.POST, "containers/{id}/stop") { api, call in
                let container = try api.engine.container(call.parameter("id"))
                let state = api.engine.status(container)
                guard state.isRunning || state.status == .restarting else {
                    call.writer.send(status: .notModified)
                    return
                }
                try api.engine.stop(container, timeout: try call.integer("t"))
                call.writer.send(status: .noContent)
            },
            Route(.POST, "containers/{id}/restart") { api, call in
                let container = try api.engine.container(call.parameter("id"))
                if api.engine.status(container).isRunning { try api.engine.stop(container, timeout: try call.integer("t")) }
                try api.startContainer(container)
                call.writer.send(status: .noContent)
            },
            Route(.POST, "containers/{id}/kill") { api, call in
                let container = try api.engine.container(call.parameter("id"))
                let name = call.query("signal").flatMap { $0.isEmpty ? nil : $0 } ?? "KILL"
                guard let signal = Signals.parse(name) else { throw EngineError.invalid("Invalid signal: \(name)") }
                guard api.engine.status(container).isRunning else {
                    throw EngineError.conflict("Cannot kill container: \(call.parameter("id")): Container \(container.id) is not running")
                }
                try api.engine.kill(container, signal: signal)
                call.writer.send(status: .noContent)
            },
            Route(.POST, "containers/{id}/pause") { api, call in
                try api.engine.pause(try api.engine.container(call.parameter("id")))
                call.writer.send(status: .noContent)
            },
            Route(.POST, "containers/{id}/unpause") { api, call in
                try api.engine.unpause(try api.engine.container(call.parameter("id")))
                call.writer.send(status: .noContent)
            },
            Route(.POST, "containers/{id}/rename") { api, call in
                let container = try api.engine.container(call.parameter("id"))
                try api.engine.rename(container, to: call.query("name") ?? "")
                call.writer.send(status: .noContent)
            },
            Route(.DELETE, "containers/{id}") { api, call in
                let container = try api.engine.container(call.parameter("id"))
                try api.engine.remove(container, force: try call.flag("force"), volumes: try call.flag("v"))
                api.exitCodes.noteRemoval()
                call.writer.send(status: .noContent)
            },
            Route(.GET, "containers/{id}/top") { api, call in
                let container = try api.engine.container(call.parameter("id"))
                let arguments = (call.query("ps_args") ?? "").split(separator: " ").map(String.init)
                let table = try api.engine.top(container, psArgs: arguments.isEmpty ? ["-ef"] : arguments)
                try call.writer.json(TopResponse(titles: table.titles, processes: table.processes))
            },
            Route(.POST, "containers/prune") { api, call in
                let filters = try QueryFilters.parse(call.query("filters"))
                var deleted: [String] = []
                var reclaimed: Int64 = 0
                var selection: ContainerFilters
                do { selection = try ContainerFilters(filters, allowUntil: true) } catch let error as FilterError { throw EngineError.invalid(error.message) }
                for container in try api.engine.all() {
                    let state = api.engine.status(container)
                    guard !state.isRunning, state.status != .restarting, selection.accepts(container, state, engine: api.engine) else { continue }
                    let size = api.engine.sizes(container).writable
                    do {
                        try api.engine.remove(container, force: false, volumes: false)
                        deleted.append(container.id)
                        reclaimed += size
                    } catch {}
                }
                try call.writer.json(PruneResponse(key: "ContainersDeleted", deleted: deleted, reclaimed: reclaimed))
            },
        ]
    }

    /// `GET /containers/json`: running containers (all with `all`), newest first, filtered.
    func listContainers(_ call: APICall) throws {
        var filters: ContainerFilters
        do {
            filters = try ContainerFilters(try QueryFilters.parse(call.query("filters")))
            try filters.resolve(engine)
        } catch let error as FilterError {
            throw EngineError.invalid(error.message)
        }
        let limit = try call.integer("limit") ?? -1
        let showAll = try call.flag("all") || limit > 0
        let size = try call.flag("size")
        var listed: [ContainerSummary] = []
        for container in try engine.all() {
            let state = engine.status(container)
            guard showAll || state.isRunning || state.status == .restarting else { continue }
            guard filters.accepts(container, state, engine: engine) else { continue }
            listed.append(ContainerSummary(container, engine: engine, size: size))
            if limit > 0 && listed.count == limit { break }
        }
        try call.writer.json(listed)
    }

    /// `POST /containers/create?name=&platform=`: the body as the RunOptions `berth create` would
    /// build, the container recorded, its extra networks connected; 201 with its ID. A missing
    /// image is a 404 (the docker CLI then pulls and asks again).
    func create(_ call: APICall) throws {
        let request = try ContainerCreateRequest(body: try call.bodyBytes(), name: call.query("name"), platform: call.query("platform"))
        let create = try request.runOptions(hostCPUs: RunOptions.hostCPUs())
        guard !create.image.isEmpty else { throw EngineError.invalid("No image was specified") }
        let made: Result<Container, EngineError>
        do { made = .success(try engine.create(image: create.image, options: create.options)) } catch { made = .failure(error) }
        guard case .success(let container) = made else {
            guard case .failure(let error) = made, error.kind == .notFound else { _ = try made.get(); return }
            let image = create.image
            let lastPart = image.split(separator: "/").last ?? ""
            let named = image.contains("@") || lastPart.contains(":") ? image : image + ":latest"
            throw EngineError.notFound("No such image: \(named)")
        }
        for extra in create.moreNetworks {
            do {
                try engine.connect(container, to: try engine.network(extra.network), aliases: extra.aliases, ipv4: extra.ipv4)
            } catch {
                try? engine.remove(container, force: true)
                throw error
            }
        }
        let warnings = create.warnings + SpecBuilder.warnings(create.options, host: .current)
        try call.writer.json(CreateResponse(id: container.id, warnings: warnings), status: .created)
    }

    /// `POST /containers/{id}/start`: 304 when it already runs. A client attached before the
    /// start (as `docker run` attaches, then starts) gets the supervisor's first connection, so
    /// it misses none of the output.
    func start(_ call: APICall) throws {
        let container = try engine.container(call.parameter("id"))
        let state = engine.status(container)
        if state.isRunning || state.status == .restarting {
            call.writer.send(status: .notModified)
            return
        }
        try startContainer(container)
        call.writer.send(status: .noContent)
    }

    func startContainer(_ container: Container) throws {
        let waiting = attaches.take(container.id)
        do {
            let started = try engine.start(container, attach: waiting != nil)
            if let waiting {
                if let fd = started.attachFD { waiting.deliver(.connected(fd)) } else { waiting.deliver(.failed) }
            }
        } catch {
            waiting?.deliver(.failed)
            // The engine removed a --rm container that could not start; `docker run --rm` waits
            // for that removal before it reports the error.
            if container.options.autoRemove { exitCodes.noteRemoval() }
            throw error.error
        }
    }
}

/// `GET /containers/{id}/top`.
struct TopResponse: Encodable {
    var titles: [String]
    var processes: [[String]]
    enum CodingKeys: String, CodingKey { case titles = "Titles", processes = "Processes" }
}

/// The prune endpoints' answer: `{"ContainersDeleted":[…],"SpaceReclaimed":N}` (the key varies).
struct PruneResponse: Encodable {
    var key: String
    var deleted: [String]
    var reclaimed: Int64

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ text: String) { stringValue = text }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        // Go's nil slice: null when nothing was deleted.
        if deleted.isEmpty { try c.encodeNil(forKey: Key(key)) } else { try c.encode(deleted, forKey: Key(key)) }
        try c.encode(reclaimed, forKey: Key("SpaceReclaimed"))
    }
}

/// `POST /containers/{id}/update`'s answer: null when nothing to warn of, as dockerd.
struct UpdateResponse: Encodable {
    var warnings: [String]?
    enum CodingKeys: String, CodingKey { case warnings = "Warnings" }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(warnings, forKey: .warnings)
    }
}

/// `POST /containers/create`'s answer.
struct CreateResponse: Encodable {
    var id: String
    var warnings: [String]
    enum CodingKeys: String, CodingKey { case id = "Id", warnings = "Warnings" }
}
