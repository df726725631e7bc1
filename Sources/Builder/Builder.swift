import ContainerSpec
import Dockerfile
import Glibc
import ImageStore
import LinuxSys
import OCI
import Synchronization

/// `berth build`: runs a Dockerfile's stages one instruction at a time. Config instructions change
/// the stage's image config; RUN runs in a container whose root is an overlay of the stage's
/// layers, and its upper directory becomes the next layer; COPY and ADD write a layer directly.
/// Each step has a cache key (see `BuildCache`); a hit prints CACHED and reuses the layer.
public final class Builder {
    let images: ImageStore
    /// The engine's scratch directories: the cache lives under `root`, step workspaces under `runRoot`.
    let root: String
    let runRoot: String
    let networks: any BuildNetworks
    var options: BuildOptions
    let cache: BuildCache
    let progress: any BuildReporter
    let context: BuildContext
    var results: [Int: StageResult] = [:]
    var currentPlan: BuildPlan?
    /// Steps are numbered as they begin, from the stages' threads.
    let stepNumbers = Mutex(0)
    /// The legacy builder's numbering: each stage's FROM ordinal, and the steps in all.
    var stageOrdinals: [Int: Int] = [:]
    var totalSteps = 0

    /// The state of a stage between instructions.
    struct StageResult {
        var layers: [CommittedLayer]
        var config: ImageConfigState
        var architecture: String
        var os: String
        var variant: String?
        var history: [HistoryEntry]
        var key: String
        var created: String
    }

    /// `reporter`: where progress goes (BuildKit's plain text on stderr when not given).
    public init(images: ImageStore, root: String, runRoot: String, networks: any BuildNetworks, options: BuildOptions,
                reporter: (any BuildReporter)? = nil) throws(BuildError) {
        self.images = images
        self.root = root
        self.runRoot = runRoot
        self.networks = networks
        self.options = options
        cache = BuildCache(root: root)
        progress = reporter ?? PlainBuildProgress(quiet: options.quiet)
        context = try BuildContext(root: options.contextDirectory, ignore: BuildContext.ignoreFile(in: options.contextDirectory))
    }

    /// The files `ADD https://…` sources were fetched into (URL → path).
    public func setDownloads(_ downloads: [String: String]) { options.downloads = downloads }

    /// The Dockerfile's text and the name errors give it.
    func dockerfile() throws(BuildError) -> (text: String, name: String) {
        if let text = options.dockerfileText { return (text, "Dockerfile") }
        let path = options.dockerfilePath ?? options.contextDirectory + "/Dockerfile"
        do { return (try FS.readText(path), path.split(separator: "/").last.map(String.init) ?? path) } catch {
            throw BuildError("failed to read dockerfile: open \(path): \(error.reason)")
        }
    }

    /// The parsed plan, before anything runs (so the CLI can pull the images it names first).
    public func plan() throws(BuildError) -> BuildPlan {
        let (text, name) = try dockerfile()
        do {
            let file = try Dockerfile(parsing: text, fileName: name)
            let target = dockerfilePlatform(os: options.platform.os, architecture: options.platform.architecture,
                                            variant: options.platform.variant)
            return try BuildPlan(file, buildArgs: options.buildArgs, target: options.target, targetPlatform: target)
        } catch {
            throw BuildError("failed to solve: \(error)")
        }
    }

    /// Builds the target stage and stores the image; returns its ID.
    public func build(_ plan: BuildPlan) throws(BuildError) -> Digest {
        let started = MonotonicClock.seconds()
        currentPlan = plan
        totalSteps = 0
        for index in plan.required {
            stageOrdinals[index] = totalSteps + 1
            totalSteps += 1 + plan.stages[index].instructions.count
        }
        // In waves: every stage whose dependencies are built runs now, side by side when there
        // are several (each on a thread of its own: the steps wait on their containers).
        var pending = plan.required
        while !pending.isEmpty {
            let ready = pending.filter { index in plan.stages[index].dependencies.allSatisfy { results[$0] != nil } }
            guard !ready.isEmpty else { throw BuildError("stages \(pending) wait on each other") }
            pending.removeAll { ready.contains($0) }
            if ready.count == 1 || progress.sequentialStages {
                for index in ready { results[index] = try buildStage(plan.stages[index], plan: plan) }
                continue
            }
            let outcomes = StageOutcomes()
            runConcurrently(ready.map { index in
                { outcomes.set(index, Result { try self.buildStage(plan.stages[index], plan: plan) }) }
            })
            for index in ready {
                switch outcomes.get(index) {
                case .success(let result): results[index] = result
                case .failure(let error): throw (error as? BuildError) ?? BuildError("\(error)")
                case nil: throw BuildError("stage \(index) did not finish")
                }
            }
        }
        guard var final = results[plan.target] else { throw BuildError("target stage was not built") }
        for (key, value) in options.labels { final.config.labels[key] = value }
        if !plan.unusedBuildArgs.isEmpty {
            progress.note("[Warning] One or more build-args [\(plan.unusedBuildArgs.joined(separator: " "))] were not consumed")
        }
        let step = beginStep(.export, title: "exporting to image", source: "", ordinal: nil)
        let config = ImageConfiguration(
            architecture: final.architecture, os: final.os, config: Self.containerConfig(final.config),
            rootfs: RootFS(diffIDs: final.layers.map(\.diffID)), history: final.history, created: final.created)
        var withVariant = config
        withVariant.variant = final.variant
        withVariant.author = final.config.author
        let id: Digest
        do { id = try images.storeBuiltImage(config: withVariant, layers: final.layers, tags: options.tags) } catch {
            throw BuildError("store the image", error)
        }
        progress.exported(step, image: id.description, tags: options.tags.map(\.description), seconds: MonotonicClock.seconds() - started)
        return id
    }

    func beginStep(_ kind: BuildStep.Kind, title: String, source: String, ordinal: Int?) -> BuildStep {
        let number = stepNumbers.withLock { next in
            next += 1
            return next
        }
        let step = BuildStep(number: number, kind: kind, title: title, source: source, ordinal: ordinal, total: totalSteps)
        progress.began(step)
        return step
    }

    // MARK: - Stages

    func buildStage(_ stage: Stage, plan: BuildPlan) throws(BuildError) -> StageResult {
        var result: StageResult
        var onBuild: [String] = []
        let total = stage.instructions.count + 1
        let label = stage.name ?? "stage-\(stage.index)"
        let firstOrdinal = stageOrdinals[stage.index] ?? 1
        let fromStep = beginStep(.from, title: "[\(label) 1/\(total)] FROM \(stage.baseName)", source: stage.fromLine.source,
                                 ordinal: firstOrdinal)
        let baseResult: String
        switch stage.base {
        case .scratch:
            result = StageResult(layers: [], config: ImageConfigState(), architecture: options.platform.architecture,
                                 os: options.platform.os, variant: options.platform.variant, history: [], key: sha256Hex("scratch"),
                                 created: Timestamp.now())
            baseResult = ""
        case .stage(let index):
            guard let base = results[index] else { throw BuildError("stage \(index) was not built before stage \(stage.index)") }
            result = base
            result.config.resetStageFlags()
            // Triggers fire on FROM stage as on FROM image, and are not passed on.
            onBuild = base.config.onBuild
            result.config.onBuild = []
            baseResult = base.key
        case .image(let name):
            let base = try self.image(name)
            result = try Self.start(from: base, store: images)
            onBuild = base.config.config?.onBuild ?? []
            baseResult = base.id.description
        }
        progress.finished(fromStep, seconds: 0, result: baseResult)
        // Docker records the default PATH in the config when the base has none.
        if !result.config.env.contains(where: { $0.hasPrefix("PATH=") }) {
            result.config.env.insert("PATH=" + Self.defaultPath, at: 0)
        }
        var scope = plan.scope(baseEnv: result.config.env)
        result.config.env = scope.configEnv
        // The base image's ONBUILD triggers run first, as if written right after FROM.
        var lines: [InstructionLine] = []
        for trigger in onBuild {
            do {
                let parsed = try Dockerfile(parsing: "FROM scratch\n" + trigger, fileName: "ONBUILD")
                lines.append(contentsOf: parsed.instructions.dropFirst())
            } catch {
                throw BuildError("failed to process ONBUILD trigger \(trigger): \(error)")
            }
        }
        let triggers = lines.count
        lines.append(contentsOf: stage.instructions)
        for (position, line) in lines.enumerated() {
            let ordinal = position < triggers ? nil : firstOrdinal + 1 + position - triggers
            let step = beginStep(.instruction, title: "[\(label) \(position + 2)/\(lines.count + 1)] \(line.source)",
                                 source: line.source, ordinal: ordinal)
            let began = MonotonicClock.seconds()
            let instruction: Instruction
            do { instruction = try line.expanded(with: scope.expander, file: line.line > 0 ? fileName(plan) : "ONBUILD") } catch {
                throw BuildError("failed to solve: \(error)")
            }
            do {
                let before = result
                let currentScope = scope
                switch instruction {
                case .run(let run):
                    let description = try runDescription(run, result: before, scope: currentScope)
                    try layerStep(&result, step: step, description: description,
                                  createdBy: "RUN " + commandText(run, shell: before.config.shell) + " # buildkit") {
                        try self.run(run, result: before, scope: currentScope, step: step)
                    }
                case .copy(let copy), .add(let copy):
                    var isAdd = false
                    if case .add = instruction { isAdd = true }
                    let sources = try copySources(copy, isAdd: isAdd)
                    let description = try copyDescription(copy, isAdd: isAdd, sources: sources, result: before)
                    try layerStep(&result, step: step, description: description,
                                  createdBy: "\(isAdd ? "ADD" : "COPY") \(copyText(copy)) # buildkit") {
                        try self.copy(copy, isAdd: isAdd, sources: sources, result: before)
                    }
                case .onbuild(let expression, _):
                    try result.config.apply(instruction, scope: &scope)
                    configStep(&result, step: step, createdBy: "ONBUILD " + expression)
                case .workdir, .volume:
                    // Both create their directories when the image lacks them (Docker's legacy
                    // builder: owned by root), as a layer of their own.
                    try result.config.apply(instruction, scope: &scope)
                    let after = result
                    let missing = try missingDirectories(instruction, result: after)
                    if missing.isEmpty {
                        configStep(&result, step: step, createdBy: line.source)
                    } else {
                        try layerStep(&result, step: step, description: "MKDIR\0" + missing.joined(separator: "\0"), createdBy: line.source) {
                            try self.makeDirectories(missing, layers: after.layers)
                        }
                    }
                default:
                    try result.config.apply(instruction, scope: &scope)
                    configStep(&result, step: step, createdBy: line.source)
                }
            } catch let error as DockerfileError {
                throw BuildError("failed to solve: \(error.located(file: fileName(plan), line: line.line, instruction: line.keyword))")
            } catch let error as BuildError {
                throw error.prefixed("\(fileName(plan)):\(line.line) \(line.keyword.uppercased()): ")
            } catch {
                throw BuildError("\(fileName(plan)):\(line.line) \(line.keyword.uppercased()): \(error)")
            }
            progress.finished(step, seconds: MonotonicClock.seconds() - began, result: result.key)
        }
        return result
    }

    func fileName(_ plan: BuildPlan) -> String {
        options.dockerfileText != nil ? "Dockerfile" : (options.dockerfilePath ?? "Dockerfile").split(separator: "/").last.map(String.init) ?? "Dockerfile"
    }

    /// A step that makes a layer: looked up by key, else `work` makes the layer and it is cached.
    func layerStep(_ result: inout StageResult, step: BuildStep, description: String, createdBy: String,
                   work: () throws -> CommittedLayer) throws {
        let key = sha256Hex(result.key + "\n" + description)
        let entry: BuildCache.Entry
        if !options.noCache, let hit = cache.lookup(key, in: images) {
            progress.cached(step, layer: true)
            entry = hit
        } else {
            entry = BuildCache.Entry(layer: try work(), created: Timestamp.now())
            cache.store(key, entry)
        }
        guard let layer = entry.layer else { throw BuildError("cache entry \(key) has no layer") }
        result.layers.append(layer)
        result.history.append(HistoryEntry(created: entry.created, createdBy: createdBy, comment: "buildkit.dockerfile.v0"))
        result.key = key
        result.created = entry.created
    }

    /// A step that changes only the config: it still moves the key (later steps depend on it).
    func configStep(_ result: inout StageResult, step: BuildStep, createdBy: String) {
        let key = sha256Hex(result.key + "\n" + createdBy + "\n" + configFingerprint(result.config))
        let entry: BuildCache.Entry
        if !options.noCache, let hit = cache.lookup(key, in: images) {
            progress.cached(step, layer: false)
            entry = hit
        } else {
            entry = BuildCache.Entry(layer: nil, created: Timestamp.now())
            cache.store(key, entry)
        }
        result.history.append(HistoryEntry(created: entry.created, createdBy: createdBy, comment: "buildkit.dockerfile.v0", emptyLayer: true))
        result.key = key
        result.created = entry.created
    }

    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The directories a WORKDIR or VOLUME names that the stage's root does not have yet.
    func missingDirectories(_ instruction: Instruction, result: StageResult) throws -> [String] {
        var paths: [String] = []
        switch instruction {
        case .workdir: if !result.config.workingDir.isEmpty { paths = [result.config.workingDir] }
        case .volume(let volumes): paths = volumes.map { $0.hasPrefix("/") ? $0 : resolveWorkdir($0, current: result.config.workingDir) }
        default: break
        }
        paths = paths.map { FS.clean($0) }.filter { $0 != "/" }
        guard !paths.isEmpty else { return [] }
        let workspace = try BuildWorkspace(runRoot: runRoot)
        defer { workspace.remove() }
        let view = try workspace.mountReadOnly(result.layers.map { images.snapshots.path($0.diffID) })
        var missing: [String] = []
        for path in paths {
            let resolved = try resolveInView(view, path)
            if (try? FS.stat(view + resolved)).map(FS.isDirectory) != true { missing.append(path) }
        }
        return missing
    }

    /// A layer with just these directories (and their parents as the image has them).
    func makeDirectories(_ paths: [String], layers: [CommittedLayer]) throws -> CommittedLayer {
        try writeLayer(over: layers) { writer, view, _ in
            for path in paths { _ = try writer.directory(try resolveInView(view, path), owner: (0, 0)) }
        }
    }

    func configFingerprint(_ config: ImageConfigState) -> String {
        let converted = Self.containerConfig(config)
        return (try? JSONTreeEncoder.encode(converted)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    // MARK: - Images and configs

    func image(_ name: String) throws(BuildError) -> ImageStore.Image {
        do { return try images.load(try images.resolve(name)) } catch {
            throw BuildError("failed to solve: \(name): not found in the image store (pull it first): \(error)")
        }
    }

    static func start(from image: ImageStore.Image, store: ImageStore) throws(BuildError) -> StageResult {
        var config = ImageConfigState()
        if let c = image.config.config {
            config.env = c.env ?? []
            config.labels = c.labels ?? [:]
            config.cmd = c.cmd
            config.entrypoint = c.entrypoint
            config.workingDir = c.workingDir ?? ""
            config.user = c.user ?? ""
            config.exposedPorts = Set((c.exposedPorts ?? [:]).keys)
            config.volumes = Set((c.volumes ?? [:]).keys)
            config.stopSignal = c.stopSignal
            if let shell = c.shell, !shell.isEmpty { config.shell = shell }
            if let h = c.healthcheck, let test = h.test {
                var check = Healthcheck(test: test)
                check.interval = h.interval ?? 0
                check.timeout = h.timeout ?? 0
                check.startPeriod = h.startPeriod ?? 0
                check.startInterval = h.startInterval ?? 0
                check.retries = h.retries ?? 0
                config.healthcheck = check
            }
            // OnBuild triggers are run by this build, not inherited (Docker clears them).
        }
        config.author = image.config.author
        let layers: [CommittedLayer]
        do { layers = try store.committedLayers(image) } catch { throw BuildError("layers of \(image.id.shortID)", error) }
        return StageResult(layers: layers, config: config, architecture: image.config.architecture, os: image.config.os,
                           variant: image.config.variant, history: image.config.history ?? [], key: sha256Hex("image " + image.id.description),
                           created: image.config.created ?? Timestamp.now())
    }

    /// The config instructions' state as the image config records it.
    static func containerConfig(_ state: ImageConfigState) -> ContainerConfig {
        var config = ContainerConfig()
        config.env = state.env.isEmpty ? nil : state.env
        config.labels = state.labels.isEmpty ? nil : state.labels
        config.cmd = state.cmd
        config.entrypoint = state.entrypoint
        config.workingDir = state.workingDir.isEmpty ? nil : state.workingDir
        config.user = state.user.isEmpty ? nil : state.user
        if !state.exposedPorts.isEmpty {
            config.exposedPorts = Dictionary(uniqueKeysWithValues: state.exposedPorts.map { ($0, EmptyObject()) })
        }
        if !state.volumes.isEmpty {
            config.volumes = Dictionary(uniqueKeysWithValues: state.volumes.map { ($0, EmptyObject()) })
        }
        config.stopSignal = state.stopSignal
        config.onBuild = state.onBuild.isEmpty ? nil : state.onBuild
        if state.shell != ["/bin/sh", "-c"] { config.shell = state.shell }
        if let check = state.healthcheck {
            var health = HealthConfig()
            health.test = check.test
            if check.interval != 0 { health.interval = check.interval }
            if check.timeout != 0 { health.timeout = check.timeout }
            if check.startPeriod != 0 { health.startPeriod = check.startPeriod }
            if check.startInterval != 0 { health.startInterval = check.startInterval }
            if check.retries != 0 { health.retries = check.retries }
            config.healthcheck = health
        }
        return config
    }

    /// `builder prune`: the build cache and cache mounts; the layers only they used go with the
    /// next image prune.
    public static func prune(root: String) -> Int64 {
        BuildCache(root: root).prune()
    }
}

extension ImageConfigState {
    /// A stage built FROM another stage starts a new stage: CMD set there no longer counts as set here.
    mutating func resetStageFlags() {
        let copy = self
        self = ImageConfigState()
        env = copy.env; labels = copy.labels; cmd = copy.cmd; entrypoint = copy.entrypoint
        workingDir = copy.workingDir; user = copy.user; exposedPorts = copy.exposedPorts; volumes = copy.volumes
        healthcheck = copy.healthcheck; stopSignal = copy.stopSignal; shell = copy.shell; onBuild = copy.onBuild
        author = copy.author
    }
}
