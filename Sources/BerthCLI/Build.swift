import ArgumentParser
import DockerModel
import Archive
import AsyncHTTPClient
import Builder
import ContainerSpec
import Dockerfile
import Engine
import Glibc
import ImageStore
import LinuxSys
import NIOCore
import OCI

/// `build`: a Dockerfile and its context into an image (see `Builder`).
struct Build: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "Build an image from a Dockerfile")

    @Option(name: .shortAndLong, parsing: .singleValue, help: "Name and optionally a tag (name:tag); may be given more than once")
    var tag: [String] = []
    @Option(name: .shortAndLong, help: "Name of the Dockerfile (default: CONTEXT/Dockerfile; - reads it from STDIN)")
    var file: String?
    @Option(name: .customLong("build-arg"), parsing: .singleValue, help: "Set build-time variables")
    var buildArg: [String] = []
    @Option(help: "Set the target build stage to build")
    var target: String?
    @Flag(name: .customLong("no-cache"), help: "Do not use cache when building the image")
    var noCache = false
    @Flag(help: "Always attempt to pull a newer version of the base images")
    var pull = false
    @Option(parsing: .singleValue, help: "Set metadata for an image")
    var label: [String] = []
    @Flag(name: .shortAndLong, help: "Suppress the build output and print image ID on success")
    var quiet = false
    @Option(help: "Write the image ID to the file")
    var iidfile: String?
    @Option(name: .shortAndLong, help: "Output destination (type=oci|docker,dest=PATH)")
    var output: String?
    @Option(help: "Set target platform for build (os/arch[/variant])")
    var platform: String?
    @Option(help: "Type of progress output (auto, plain, quiet)")
    var progress: String = "plain"
    @Option(help: "Set the networking mode for the RUN instructions during build (default, none, host)")
    var network: String = "default"
    @Option(parsing: .singleValue, help: "Allow extra privileged entitlement (network.host)")
    var allow: [String] = []
    @Argument(help: "PATH, or - for a tar context on STDIN")
    var context: String

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        var temporaryContext: String?
        defer { if let temporaryContext { FS.removeAll(temporaryContext) } }
        var options: BuildOptions
        if context == "-" {
            guard file != "-" else { throw ValidationError("a Dockerfile on STDIN cannot go with a context on STDIN") }
            let directory = try unpackContext(runRoot: engine.runRoot)
            temporaryContext = directory
            options = BuildOptions(contextDirectory: directory)
        } else {
            let absolute = FS.absolute(context)
            guard let status = try? FS.stat(absolute), FS.isDirectory(status) else {
                throw ValidationError("unable to prepare context: path \"\(context)\" not found")
            }
            options = BuildOptions(contextDirectory: absolute)
        }
        if let file {
            if file == "-" {
                options.dockerfileText = String(decoding: try readAllStdin(), as: UTF8.self)
            } else {
                // -f is relative to the current directory, as Docker takes it; with a tar on
                // STDIN it names a file inside the tar.
                options.dockerfilePath = context == "-" && !file.hasPrefix("/")
                    ? options.contextDirectory + "/" + file : FS.absolute(file)
            }
        }
        for name in tag {
            do { options.tags.append(try ImageReference(parsing: name)) } catch {
                throw ValidationError("invalid argument \"\(name)\" for \"-t, --tag\" flag: \(error.message)")
            }
        }
        for argument in buildArg {
            if let eq = argument.firstIndex(of: "=") {
                options.buildArgs[String(argument[..<eq])] = String(argument[argument.index(after: eq)...])
            } else if let value = getenv(argument) {
                options.buildArgs[argument] = String(cString: value)
            }
        }
        for argument in label {
            let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            options.labels[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        if let platform {
            do { options.platform = try Platform(parsing: platform) } catch { throw ValidationError(error.message) }
        }
        // Docker's builder takes "bridge" for the default network.
        guard let mode = RunNetworkMode(rawValue: network == "bridge" ? "default" : network) else {
            throw ValidationError("invalid argument \"\(network)\" for \"--network\" flag: network mode must be default, none or host")
        }
        options.network = mode
        for entitlement in allow {
            guard entitlement == "network.host" else {
                throw ValidationError("invalid argument \"\(entitlement)\" for \"--allow\" flag: only network.host is supported")
            }
            options.allowHostNetwork = true
        }
        options.target = target
        options.noCache = noCache
        options.quiet = quiet || progress == "quiet"
        let destination = try output.map(parseOutput)

        let builder: Builder
        let plan: BuildPlan
        do {
            builder = try Builder(images: engine.images, root: engine.root, runRoot: engine.runRoot,
                                  networks: EngineBuildNetworks(engine: engine), options: options)
            plan = try builder.plan()
        } catch {
            printError("ERROR: \(error.message)")
            throw ExitCode(1)
        }
        // Base images and --from images first, pulled as `run` pulls them (quietly with -q).
        var images: [String] = []
        for index in plan.required {
            if case .image(let name) = plan.stages[index].base { images.append(name) }
            images.append(contentsOf: plan.stages[index].imageReferences)
        }
        for name in images where !images[..<(images.firstIndex(of: name) ?? 0)].contains(name) {
            try await ensureImage(name, policy: pull ? .always : .missing, engine: engine)
        }
        // ADD of URLs: fetched here (the builder does no HTTP), each into a file of its own.
        let downloads = runRootDownloads(engine.runRoot)
        defer { FS.removeAll(downloads) }
        var fetched: [String: String] = [:]
        for index in plan.required {
            for line in plan.stages[index].instructions {
                guard case .add(let add) = line.instruction else { continue }
                for case .path(let url) in add.sources where (url.hasPrefix("http://") || url.hasPrefix("https://")) && fetched[url] == nil {
                    fetched[url] = try await download(url, into: downloads + "/\(fetched.count)")
                }
            }
        }
        builder.setDownloads(fetched)
        let id: Digest
        do { id = try builder.build(plan) } catch {
            printError("ERROR: \(error.message)")
            throw ExitCode(1)
        }
        if let iidfile { try FS.writeFileAtomically(FS.absolute(iidfile), Array(id.description.utf8), mode: 0o644) }
        if let destination {
            let store = engine.images
            let temporary = destination.path + ".berth-build-\(ProcessSys.currentPID)"
            try FS.replaceDurably(destination.path, temporary: temporary) { fd in
                try store.save([id.description], format: destination.format) { chunk in try writeAll(fd, chunk, temporary) }
            }
        }
        if options.quiet { print(id.description) }
    }

    func runRootDownloads(_ runRoot: String) -> String {
        runRoot + "/build-downloads/\(ProcessSys.currentPID)"
    }

    /// Fetches `url` into a file (streamed; a 2xx answer or an error naming the status).
    func download(_ url: String, into directory: String) async throws -> String {
        try FS.mkdirAll(directory, mode: 0o700)
        let path = directory + "/content"
        let fd = try FS.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: 0o600)
        defer { FS.close(fd) }
        let request = HTTPClientRequest(url: url)
        let response: HTTPClientResponse
        do { response = try await HTTPClient.shared.execute(request, timeout: .seconds(300)) } catch {
            printError("ERROR: ADD \(url): \(error)")
            throw ExitCode(1)
        }
        guard (200..<300).contains(response.status.code) else {
            printError("ERROR: ADD \(url): failed to load cache key: invalid response status \(response.status.code)")
            throw ExitCode(1)
        }
        for try await chunk in response.body {
            try chunk.withUnsafeReadableBytes { try writeAll(fd, $0, path) }
        }
        return path
    }

    /// `--output type=oci,dest=out.tar` (also `type=docker`, and a bare path as a docker archive).
    func parseOutput(_ text: String) throws -> (format: ArchiveFormat, path: String) {
        var type = "docker"
        var path: String?
        for field in text.split(separator: ",") {
            let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 1 { path = pair[0]; continue }
            switch pair[0] {
            case "type": type = pair[1]
            case "dest": path = pair[1]
            default: throw ValidationError("--output: unknown field \(pair[0]) (type=oci|docker,dest=PATH)")
            }
        }
        guard let path, !path.isEmpty else { throw ValidationError("--output: dest=PATH is required") }
        switch type {
        case "oci": return (.ociArchive, FS.absolute(path))
        case "docker", "tar": return (.dockerArchive, FS.absolute(path))
        default: throw ValidationError("--output: type \(type) is not supported (oci or docker)")
        }
    }

    /// A context sent as a tar on stdin, unpacked into a directory of its own.
    func unpackContext(runRoot: String) throws -> String {
        let base = runRoot + "/build-context"
        try FS.mkdirAll(base, mode: 0o700)
        let directory = base + "/\(ProcessSys.currentPID)"
        FS.removeAll(directory)
        try FS.mkdir(directory, mode: 0o755)
        let fd = try FS.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { FS.close(fd) }
        let extractor = TarExtractor(directoryFD: fd, path: directory, owner: nil)
        try extractor.extract { buffer in try readSome(STDIN_FILENO, buffer, "stdin") }
        return directory
    }

    func readAllStdin() throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try readSome(STDIN_FILENO, $0, "stdin") }
            if count == 0 { return bytes }
            bytes += buffer[0..<count]
        }
    }
}

/// `builder prune`.
/// The engine's networks as a build's RUN steps use them (Builder does not depend on Engine).
struct EngineBuildNetworks: BuildNetworks {
    let engine: Engine

    func attach(stepID id: String, hostname: String) throws(EngineError) -> BuildStepNetwork {
        let network = try engine.createBuildNetwork(id: id, hostname: hostname)
        return BuildStepNetwork(netns: network.netns, etcFiles: network.etcFiles) { engine.releaseBuildNetwork(network) }
    }
}

struct BuilderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "builder", abstract: "Manage builds", subcommands: [BuilderPrune.self])
}

struct BuilderPrune: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove build cache")
    @Flag(name: .shortAndLong, help: "Remove all unused build cache, not just dangling ones") var all = false
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation") var force = false

    func execute() async throws {
        let freed = Builder.prune(root: FS.absolute(GlobalOptions.root))
        print("Total:\t\(humanSize(freed))")
    }
}
