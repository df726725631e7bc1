import Archive
import Builder
import ContainerSpec
import DockerModel
import Dockerfile
import Engine
import Glibc
import GoCompat
import HTTPServer
import ImageStore
import LinuxSys
import NIOHTTP1
import OCI
import Registry
import Synchronization

extension DockerAPI {
    static var buildRoutes: [Route] {
        [
            imageRoute(.POST, "build") { api, call in try api.build(call) },
            imageRoute(.POST, "build/prune") { api, call in
                _ = try QueryFilters.parse(call.query("filters"))
                _ = try call.flag("all")
                let reclaimed = Builder.prune(root: api.engine.root)
                try call.writer.json(PruneResponse(key: "CachesDeleted", deleted: [], reclaimed: reclaimed))
            },
        ]
    }

    /// `POST /build`: the body is the context as a tar (plain, gzip or zstd), unpacked as it
    /// streams into a directory under the engine's root; the answer is the legacy builder's JSON
    /// messages (`Step 1/4 : FROM busybox`, ` ---> 7084a461ea64`, `{"aux":{"ID":…}}`,
    /// `Successfully built …`). Query errors and a bad context are answered before any message.
    func build(_ call: APICall) throws {
        var query = try BuildQuery(call)
        let contexts = engine.root + "/build-contexts"
        BuildContextReceiver.removeStale(contexts)
        let directory = contexts + "/\(ProcessSys.currentPID)-\(String(UInt64.random(in: 1...UInt64.max), radix: 16))"
        do { try FS.mkdirAll(directory, mode: 0o700) } catch { throw EngineError.system("create the build context directory", error) }
        defer { FS.removeAll(directory) }
        try BuildContextReceiver.receive(call.request.body, into: directory)
        query.options.contextDirectory = directory
        let dockerfile = FS.clean("/" + query.dockerfile)
        query.options.dockerfilePath = directory + dockerfile
        guard FS.exists(directory + dockerfile) else {
            throw EngineError.invalid("Cannot locate specified Dockerfile: \(query.dockerfile)")
        }

        let stream = MessageStream(call.writer)
        let reporter = LegacyBuildReporter(stream: stream)
        let builder: Builder
        let plan: BuildPlan
        do {
            builder = try Builder(images: engine.images, root: engine.root, runRoot: engine.runRoot,
                                  networks: APIBuildNetworks(engine: engine), options: query.options, reporter: reporter)
            plan = try builder.plan()
        } catch {
            throw EngineError.invalid(error.message)
        }
        // Base images and COPY --from images: pulled first when missing (or always with `pull`).
        var images: [String] = []
        for index in plan.required {
            if case .image(let name) = plan.stages[index].base { images.append(name) }
            images.append(contentsOf: plan.stages[index].imageReferences)
        }
        var names: [String] = []
        for name in images where !names.contains(name) { names.append(name) }
        let unique = names
        let platform = query.options.platform
        // The builder runs on one thread at a time (the build's own), after this one hands it over.
        let run = UncheckedBox(builder)
        let store = engine.images
        let pullAlways = query.pull
        let credentials = RegistryAuth.configHeader(call.request)
        let quiet = query.options.quiet
        let tags = query.options.tags
        if quiet { stream.hold() }
        try stream.run({
            for name in unique {
                guard pullAlways || (try? store.resolve(name)) == nil else { continue }
                let reference = try Self.reference(name)
                let client = Self.registryClient(credentials)
                let downloaded = try await Self.pullReporting(reference, store: store, client: client, platform: platform,
                                                              stream: stream)
                stream.send(.status(downloaded ? "Status: Downloaded newer image for \(reference.familiar)"
                                               : "Status: Image is up to date for \(reference.familiar)"))
            }
            let id = try await Self.blocking { try run.value.build(plan) }
            if quiet {
                // The held output (the aux result with it, as dockerd buffers both) goes; the ID is the answer.
                stream.discard()
                stream.stream(id.description + "\n")
                return
            }
            stream.send(JSONMessage(aux: .imageID(id.description)))
            stream.stream("Successfully built \(id.shortID)\n")
            for tag in tags { stream.stream("Successfully tagged \(tag.familiar)\n") }
        }, failure: { error in
            // Before the error, a quiet build shows the output it held back (as dockerd does).
            if quiet { stream.release() }
            guard let error = error as? BuildError, let code = error.exitCode, let command = error.command else { return nil }
            return JSONMessage.ErrorDetail(code: code, message: "The command '\(command.joined(separator: " "))' returned a non-zero code: \(code)")
        })
    }

    /// Runs blocking work (a build, with its containers) on a thread of its own, so no thread
    /// of Swift's cooperative pool waits on it.
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let started = Threads.detach { continuation.resume(with: Result { try work() }) }
            if !started { continuation.resume(throwing: EngineError.system("start a thread for the build")) }
        }
    }
}

/// A value handed from one thread to another that never use it at the same time.
final class UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// `POST /build`'s query: Docker's parameters as the builder's options. Parameters for resources
/// the builder does not limit (memory, cpusetcpus, shmsize…) are accepted and have no effect.
struct BuildQuery {
    var options = BuildOptions(contextDirectory: "")
    var dockerfile = "Dockerfile"
    var pull = false

    init(_ call: APICall) throws(EngineError) {
        if let version = call.query("version"), version == "2" {
            throw .invalid("BuildKit is not supported by berth serve: use the legacy builder (DOCKER_BUILDKIT=0)")
        }
        if let remote = call.query("remote"), !remote.isEmpty {
            throw .invalid("remote build contexts are not supported: send the context as the request body")
        }
        if let name = call.query("dockerfile"), !name.isEmpty { dockerfile = name }
        for name in call.request.parameters("t") where !name.isEmpty {
            do { options.tags.append(try ImageReference(parsing: name)) } catch {
                throw .invalid("invalid reference format: \(error.message)")
            }
        }
        options.buildArgs = try Self.stringMap(call.query("buildargs"), name: "buildargs")
        options.labels = try Self.stringMap(call.query("labels"), name: "labels")
        if let target = call.query("target"), !target.isEmpty { options.target = target }
        options.noCache = try call.flag("nocache")
        // `pull` may be a word (older clients send "1", docker-py True/False).
        pull = try call.flag("pull")
        options.quiet = try call.flag("q")
        _ = try call.flag("rm", default: true)
        _ = try call.flag("forcerm")
        options.platform = try DockerAPI.platform(call.query("platform"))
        let mode = call.query("networkmode") ?? ""
        switch mode {
        case "", "default", "bridge": options.network = .default
        case "host":
            options.network = .host
            options.allowHostNetwork = true
        case "none": options.network = .none
        default: throw .invalid("network mode \"\(mode)\" is not supported by the builder: default, bridge, host or none")
        }
        for name in ["shmsize", "memory", "memswap", "cpushares", "cpuperiod", "cpuquota"] { _ = try call.integer(name) }
    }

    /// A JSON object of strings (`{"K":"V"}`); a null value leaves the ARG to its default.
    static func stringMap(_ text: String?, name: String) throws(EngineError) -> [String: String] {
        guard let text, !text.isEmpty else { return [:] }
        guard let value = try? JSONParser.parse(Array(text.utf8)), case .object(let members, let keys) = value else {
            throw .invalid("invalid \(name): expected a JSON object of strings")
        }
        var result: [String: String] = [:]
        for key in keys {
            switch members[key] ?? .null {
            case .string(let string): result[key] = string
            case .null: continue
            default: throw .invalid("invalid \(name): the value of \(key) must be a string")
            }
        }
        return result
    }
}

/// The legacy builder's output as JSON messages: `Step N/TOTAL : INSTRUCTION`, ` ---> Running in
/// ID` and ` ---> Removed intermediate container ID` around a RUN, ` ---> Using cache`, and
/// ` ---> ID` after each step. The build has no intermediate images: a step's ID is its cache
/// key's first 12 digits, and the last step's is the image's, so it waits for the export.
final class LegacyBuildReporter: BuildReporter, @unchecked Sendable {
    let stream: MessageStream
    private let lock = Mutex(())
    private var containers: [Int: String] = [:]
    /// The last step's ` ---> ID` line and notes written after it, until the next step begins.
    private var pendingResult: String?
    private var pendingNotes: [String] = []

    init(stream: MessageStream) { self.stream = stream }

    var sequentialStages: Bool { true }

    func began(_ step: BuildStep) {
        // The export makes the last step's ID: its line waits for `exported`.
        guard step.kind != .export else { return }
        lock.withLock { _ in flush() }
        guard let ordinal = step.ordinal else { return }
        // Two messages, as dockerd writes the line and then its end.
        stream.stream("Step \(ordinal)/\(step.total) : \(step.source)")
        stream.stream("\n")
    }

    func cached(_ step: BuildStep, layer: Bool) {
        stream.stream(" ---> Using cache\n")
    }

    func running(_ step: BuildStep, container: String) {
        lock.withLock { _ in containers[step.number] = container }
        stream.stream(" ---> Running in \(container.prefix(12))\n")
    }

    func output(_ step: BuildStep, _ line: String) {
        stream.stream(line.hasSuffix("\n") ? line : line + "\n")
    }

    func finished(_ step: BuildStep, seconds: Double, result: String) {
        lock.withLock { _ in
            if let container = containers.removeValue(forKey: step.number) {
                stream.stream(" ---> Removed intermediate container \(container.prefix(12))\n")
            }
            flush()
            pendingResult = Self.shortID(result)
        }
    }

    func exported(_ step: BuildStep, image: String, tags: [String], seconds: Double) {
        lock.withLock { _ in
            pendingResult = Self.shortID(image)
            flush()
        }
    }

    func note(_ text: String) {
        lock.withLock { _ in
            if pendingResult != nil { pendingNotes.append(text) } else { stream.stream(text + "\n") }
        }
    }

    /// Call under the lock.
    private func flush() {
        if let result = pendingResult { stream.stream(" ---> \(result)\n") }
        for note in pendingNotes { stream.stream(note + "\n") }
        pendingResult = nil
        pendingNotes = []
    }

    static func shortID(_ id: String) -> String {
        String((id.hasPrefix("sha256:") ? id.dropFirst(7) : Substring(id)).prefix(12))
    }
}

/// The engine's networks as a build's RUN steps use them.
struct APIBuildNetworks: BuildNetworks {
    let engine: Engine

    func attach(stepID id: String, hostname: String) throws(EngineError) -> BuildStepNetwork {
        let network = try engine.createBuildNetwork(id: id, hostname: hostname)
        return BuildStepNetwork(netns: network.netns, etcFiles: network.etcFiles) { engine.releaseBuildNetwork(network) }
    }
}
