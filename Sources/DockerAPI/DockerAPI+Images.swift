import ContainerRuntime
import ContainerSpec
import DockerModel
import Engine
import GoCompat
import HTTPServer
import ImageStore
import LinuxSys
import NIOHTTP1
import OCI
import Registry
import Synchronization

extension DockerAPI {
    /// The image endpoints, and the build ones (DockerAPI+Build.swift).
    static var imageRoutes: [Route] {
        [
            imageRoute(.GET, "images/json") { api, call in try api.listImages(call) },
            imageRoute(.POST, "images/create") { api, call in try api.createImage(call) },
            imageRoute(.POST, "images/load") { api, call in try api.loadImages(call) },
            imageRoute(.GET, "images/get") { api, call in try api.saveImages(call, names: call.request.parameters("names")) },
            imageRoute(.POST, "images/prune") { api, call in try api.pruneImages(call) },
            imageRoute(.GET, "images/{name*}/json") { api, call in
                let store = api.engine.images
                try call.writer.json(ImageInspect(try store.load(try store.resolve(call.parameter("name"))), store: store))
            },
            imageRoute(.GET, "images/{name*}/history") { api, call in
                let store = api.engine.images
                let image = try store.load(try store.resolve(call.parameter("name")))
                try call.writer.json(ImageHistoryItem.items(image, sizes: try store.layerSizes()))
            },
            imageRoute(.GET, "images/{name*}/get") { api, call in try api.saveImages(call, names: [call.parameter("name")]) },
            imageRoute(.POST, "images/{name*}/push") { api, call in try api.push(call) },
            imageRoute(.POST, "images/{name*}/tag") { api, call in try api.tag(call) },
            imageRoute(.DELETE, "images/{name*}") { api, call in try api.removeImage(call) },
        ] + buildRoutes
    }

    /// A route whose services' errors (image store, registry, filters) answer with their kind's status.
    static func imageRoute(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping @Sendable (DockerAPI, APICall) throws -> Void) -> Route {
        Route(method, pattern) { api, call in
            do { try handler(api, call) } catch { throw apiError(error) }
        }
    }

    // MARK: - List

    /// `GET /images/json`: every image (there are no intermediate ones to hide), newest first,
    /// filtered; with a `reference` filter only the matching names are shown, as dockerd does.
    func listImages(_ call: APICall) throws {
        let store = engine.images
        var filters = try ImageFilters(try QueryFilters.parse(call.query("filters")))
        try filters.resolve(store)
        let sharedSize = try call.flag("shared-size")
        let records = try store.images()
        var images: [Digest: ImageStore.Image] = [:]
        for record in records { images[record.id] = try? store.load(record) }
        // Layers used by more than one image, for SharedSize.
        var users: [Digest: Int] = [:]
        if sharedSize {
            for image in images.values { for diffID in Set(image.config.rootfs.diffIDs) { users[diffID, default: 0] += 1 } }
        }
        let sizes = sharedSize ? try store.layerSizes() : [:]
        var summaries: [ImageSummary] = []
        for record in records {
            let labels = images[record.id]?.config.config?.labels
            let rows = ImageRow.rows(for: record, noTrunc: true, now: 0)
            let accepted = rows.filter { filters.accepts($0, labels: labels ?? [:]) }
            guard !accepted.isEmpty else { continue }
            var summary = ImageSummary(record, labels: labels)
            if !filters.references.isEmpty {
                let names = Set(accepted.filter { $0.tag != "<none>" }.map { "\($0.repository):\($0.tag)" })
                summary.repoTags = summary.repoTags.filter { names.contains($0) }
                let repositories = Set(accepted.map(\.repository))
                summary.repoDigests = summary.repoDigests.filter { repositories.contains(String($0.split(separator: "@")[0])) }
            }
            if sharedSize, let image = images[record.id] {
                summary.sharedSize = Set(image.config.rootfs.diffIDs).filter { users[$0, default: 0] > 1 }.reduce(0) { $0 + (sizes[$1] ?? 0) }
            }
            summaries.append(summary)
        }
        summaries.sort { $0.created > $1.created }
        try call.writer.json(summaries)
    }

    // MARK: - Pull and import

    /// `POST /images/create`: a pull (`fromImage`, `tag`, `platform`, credentials in
    /// `X-Registry-Auth`) or an import (`fromSrc=-`: the body is a root filesystem tarball).
    func createImage(_ call: APICall) throws {
        let fromImage = call.query("fromImage") ?? ""
        let platform = try Self.platform(call.query("platform"))
        guard !fromImage.isEmpty else {
            let source = call.query("fromSrc") ?? ""
            guard !source.isEmpty else { throw EngineError.invalid("fromImage or fromSrc is required") }
            return try importImage(call, source: source, platform: platform)
        }
        let tag = call.query("tag") ?? ""
        var name = fromImage
        if !tag.isEmpty { name += (tag.hasPrefix("sha256:") ? "@" : ":") + tag }
        let reference = try Self.reference(name)
        // No tag anywhere: every tag of the repository, as dockerd does (the CLI sends one).
        let lastComponent = fromImage.split(separator: "/").last ?? ""
        let allTags = tag.isEmpty && !fromImage.contains("@") && !lastComponent.contains(":")
        let credentials = try RegistryAuth.header(call.request, strict: false)
        let client = Self.registryClient(credentials.map { [reference.registry: $0] } ?? [:])
        let stream = MessageStream(call.writer)
        let store = engine.images
        try stream.run {
            var references = [reference]
            if allTags { references = try await client.tags(reference).sorted().map { reference.with(tag: $0) } }
            var downloaded = false
            for one in references {
                downloaded = try await Self.pullReporting(one, store: store, client: client, platform: platform, stream: stream) || downloaded
            }
            let shown = allTags ? reference.familiarName : reference.familiar
            stream.send(.status(downloaded ? "Status: Downloaded newer image for \(shown)" : "Status: Image is up to date for \(shown)"))
        }
    }

    /// Pulls one reference with dockerd's messages (`latest: Pulling from …`, the layers' states,
    /// `Digest: …`); returns whether the reference names a new image now.
    static func pullReporting(_ reference: ImageReference, store: ImageStore, client: RegistryClient, platform: Platform,
                              stream: MessageStream) async throws -> Bool {
        let reporter = PullReporter(stream: stream)
        let result = try await store.pull(reference, client: client, platform: platform) { event in reporter.handle(event) }
        stream.send(.status("Digest: \(result.repoDigest)"))
        return result.downloaded
    }

    static func registryClient(_ credentials: [String: Credentials]) -> RegistryClient {
        RegistryClient(credentials: nil, given: credentials, userAgent: "berth/\(berthVersion) (berth serve)")
    }

    static func reference(_ text: String) throws(EngineError) -> ImageReference {
        do { return try ImageReference(parsing: text) } catch { throw .invalid(error.message) }
    }

    static func platform(_ text: String?) throws(EngineError) -> Platform {
        guard let text, !text.isEmpty else { return .current }
        do { return try Platform(parsing: text) } catch { throw .invalid(error.message) }
    }

    /// `fromSrc=-`: the body is the tarball (plain, gzip or zstd); `repo`/`tag` name the image,
    /// `changes` are Dockerfile instructions, `message` the history comment.
    func importImage(_ call: APICall, source: String, platform: Platform) throws {
        guard source == "-" else {
            throw EngineError.invalid("importing from a URL is not supported: send the tarball as the body (fromSrc=-)")
        }
        var name: ImageReference?
        if let repo = call.query("repo"), !repo.isEmpty {
            let tag = call.query("tag") ?? ""
            name = try Self.reference(tag.isEmpty ? repo : repo + ":" + tag)
        }
        let target = name
        let changes = call.request.parameters("changes")
        let message = call.query("message").flatMap { $0.isEmpty ? nil : $0 }
        let reader = BodyReader(call.request.body)
        let stream = MessageStream(call.writer)
        let store = engine.images
        let request = call.request
        try stream.runBlocking {
            defer { request.body.drain() }
            let id = try store.importRootfs(read: reader.read, source: "-", changes: changes, message: message,
                                            platform: platform, tag: target)
            stream.send(.status(id.description))
        }
    }

    // MARK: - Push, tag, remove

    /// `POST /images/{name}/push?tag=`: the image's layers, config and manifest to its registry,
    /// with dockerd's messages, ending with the digest line and the `aux` result.
    func push(_ call: APICall) throws {
        let name = call.parameter("name")
        let tag = call.query("tag") ?? ""
        let store = engine.images
        let bare = try Self.reference(name)
        let targets: [ImageReference]
        if !tag.isEmpty {
            targets = [bare.with(tag: tag)]
        } else if name.contains("@") || (name.split(separator: "/").last ?? "").contains(":") {
            targets = [bare]
        } else {
            // No tag: every tag of the repository (as dockerd pushes them).
            targets = try store.images().flatMap(\.tags).compactMap { try? ImageReference(parsing: $0) }
                .filter { $0.name == bare.name }.sorted { $0.description < $1.description }
        }
        for target in targets where (try? store.resolve(target.description)) == nil {
            throw EngineError.notFound("An image does not exist locally with the tag: \(target.familiar)")
        }
        if targets.isEmpty { throw EngineError.notFound("An image does not exist locally with the tag: \(bare.familiarName)") }
        // Without the header, the AuthConfig may be the body (the API's older form; docker-py sends `null`).
        var credentials = try RegistryAuth.header(call.request, strict: true)
        if credentials == nil, case let body = try call.jsonBody(limit: 64 << 10), case .object = body {
            credentials = (try? GoJSON.decode(AuthConfig.self, from: body))?.credentials
        }
        let client = Self.registryClient(credentials.map { [bare.registry: $0] } ?? [:])
        let stream = MessageStream(call.writer)
        try stream.run {
            stream.send(.status("The push refers to repository [\(bare.name)]"))
            for target in targets {
                let result = try await store.push(target.description, to: target, client: client) { event in
                    switch event {
                    case .preparing(let digest): stream.send(.layer("Preparing", id: digest.shortID))
                    case .pushed(let digest): stream.send(.layer("Pushed", id: digest.shortID))
                    case .existed(let digest): stream.send(.layer("Layer already exists", id: digest.shortID))
                    case .mounted(let digest, let from): stream.send(.layer("Mounted from \(from)", id: digest.shortID))
                    }
                }
                let tag = target.tag ?? result.digest.description
                stream.send(.status("\(tag): digest: \(result.digest) size: \(result.size)"))
                stream.send(JSONMessage(progress: .init(current: 0, total: 0),
                                        aux: .pushed(tag: tag, digest: result.digest.description, size: result.size)))
            }
        }
    }

    /// `POST /images/{name}/tag?repo=&tag=`: 201 with no body.
    func tag(_ call: APICall) throws {
        let repo = call.query("repo") ?? ""
        guard !repo.isEmpty else { throw EngineError.invalid("repository name must have at least one component") }
        let tag = call.query("tag") ?? ""
        let target = try Self.reference(tag.isEmpty ? repo : repo + ":" + tag)
        try engine.images.tag(call.parameter("name"), as: target)
        call.writer.send(status: .created)
    }

    /// `DELETE /images/{name}?force=&noprune=`: what was untagged and deleted, in order.
    func removeImage(_ call: APICall) throws {
        let force = try call.flag("force")
        _ = try call.flag("noprune")
        let events = try engine.images.remove(call.parameter("name"), force: force, inUse: try engine.imageUses())
        try call.writer.json(events.map { event -> ImageDeleteItem in
            switch event {
            case .untagged(let name): .untagged(name)
            case .deleted(let id): .deleted(id.description)
            }
        })
    }

    /// `POST /images/prune?filters=`: dangling images (every unused one with `dangling=false`),
    /// narrowed by `until` and `label`/`label!`.
    func pruneImages(_ call: APICall) throws {
        let store = engine.images
        let filters = try ImageFilters(try QueryFilters.parse(call.query("filters")), forPrune: true)
        let all = filters.dangling == false
        let inUse = Set(try engine.imageUses().keys)
        let records = try store.images()
        var selected = Set<Digest>()
        for record in records where all || record.tags.isEmpty {
            let labels = filters.needsLabels ? (try? store.load(record))?.config.config?.labels ?? [:] : [:]
            if filters.accepts(record, labels: labels) { selected.insert(record.id) }
        }
        let (removed, reclaimed) = try store.prune(all: all, inUse: inUse) { selected.contains($0.id) }
        var items: [ImageDeleteItem] = []
        for id in removed {
            if let record = records.first(where: { $0.id == id }) {
                for name in familiarNames(record.tags) + familiarNames(record.repoDigests) { items.append(.untagged(name)) }
            }
            items.append(.deleted(id.description))
        }
        try call.writer.json(ImagePruneReport(deleted: items, spaceReclaimed: reclaimed))
    }

    // MARK: - Save and load

    /// `GET /images/get?names=…` and `GET /images/{name}/get`: a `docker save` archive, streamed.
    /// The names are resolved first, so a missing image is a 404 rather than a broken archive.
    func saveImages(_ call: APICall, names: [String]) throws {
        let store = engine.images
        guard !names.isEmpty else { throw EngineError.invalid("no images named: give one or more names") }
        for name in names { _ = try store.resolve(name) }
        let writer = call.writer
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        struct ClientGone: Error {}
        do {
            try store.save(names, format: .dockerArchive) { chunk in
                if !writer.hasStarted { writer.startStream(headers: [("Content-Type", "application/x-tar")]) }
                buffer.append(contentsOf: chunk)
                if buffer.count >= 1 << 20 {
                    guard writer.write(buffer) else { throw ClientGone() }
                    buffer.removeAll(keepingCapacity: true)
                }
            }
        } catch is ClientGone {
            return
        }
        if !writer.hasStarted { writer.startStream(headers: [("Content-Type", "application/x-tar")]) }
        writer.write(buffer)
        writer.finish()
    }

    /// `POST /images/load?quiet=`: the archive streams from the body into the store; the answer
    /// is JSON messages (`{"stream":"Loaded image: busybox:latest\n"}`), errors included.
    func loadImages(_ call: APICall) throws {
        _ = try call.flag("quiet", default: true)
        let reader = BodyReader(call.request.body)
        let stream = MessageStream(call.writer, headFirst: true)
        let store = engine.images
        let request = call.request
        try stream.runBlocking {
            defer { request.body.drain() }
            let result = try store.loadArchive(read: reader.read)
            for tag in result.tags { stream.stream("Loaded image: \(tag.familiar)\n") }
            for id in result.untagged { stream.stream("Loaded image ID: \(id)\n") }
        }
    }
}

/// Pull events as dockerd's messages: `Pulling fs layer`, `Downloading` with its numbers,
/// `Verifying Checksum`, `Download complete`, `Extracting`, `Pull complete`, `Already exists`.
/// Layers unpack as they download, so `Extracting` comes once, whole, before `Pull complete`.
final class PullReporter: Sendable {
    let stream: MessageStream
    private let sizes = Mutex<[Digest: Int64]>([:])

    init(stream: MessageStream) { self.stream = stream }

    func handle(_ event: PullEvent) {
        switch event {
        case .resolved(let reference, _):
            let tagOrDigest = reference.digest?.description ?? reference.tag ?? "latest"
            stream.send(.status("Pulling from \(reference.repository)", id: tagOrDigest))
        case .layerExists(let digest):
            stream.send(.layer("Already exists", id: digest.shortID))
        case .layerWaiting(let digest, let size):
            sizes.withLock { $0[digest] = size }
            stream.send(.layer("Pulling fs layer", id: digest.shortID))
        case .layerProgress(let digest, let bytes, let size):
            stream.send(.layer("Downloading", id: digest.shortID, current: bytes, total: size))
        case .layerDownloaded(let digest):
            stream.send(.layer("Verifying Checksum", id: digest.shortID))
            stream.send(.layer("Download complete", id: digest.shortID))
        case .layerDone(let digest):
            let size = sizes.withLock { $0[digest] } ?? 0
            if size > 0 { stream.send(.layer("Extracting", id: digest.shortID, current: size, total: size)) }
            stream.send(.layer("Pull complete", id: digest.shortID))
        }
    }
}
