import ImageStore
import OCI

/// Docker's `GET /images/{name}/json` (`image inspect`), members in Docker's order.
public struct ImageInspect: Encodable, Sendable {
    public var id: String
    public var repoTags: [String]
    public var repoDigests: [String]
    public var parent = ""
    public var comment: String
    public var created: String
    public var dockerVersion = ""
    public var author: String
    public var config: Config
    public var architecture: String
    /// Omitted when the image has none.
    public var variant: String?
    public var os: String
    public var size: Int64
    /// The layers' directories, topmost first, `:`-separated.
    public var lowerDir: String
    public var rootFSType: String
    public var layers: [String]
    public var lastTagTime: String

    /// The image's container config as Docker shows it: the fields a container would get, with
    /// ExposedPorts, Healthcheck, ArgsEscaped, StopSignal and Shell only when set.
    public struct Config: Encodable, Sendable {
        public var config: ContainerConfig

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encodeMembers([
                (AnyKey("Hostname"), ""), (AnyKey("Domainname"), ""), (AnyKey("User"), config.user ?? ""),
                (AnyKey("AttachStdin"), false), (AnyKey("AttachStdout"), false), (AnyKey("AttachStderr"), false),
            ])
            try c.encodeIfPresent(config.exposedPorts.map { SortedSet($0.keys) }, forKey: AnyKey("ExposedPorts"))
            try c.encodeMembers([
                (AnyKey("Tty"), false), (AnyKey("OpenStdin"), false), (AnyKey("StdinOnce"), false),
                (AnyKey("Env"), config.env), (AnyKey("Cmd"), config.cmd),
            ])
            if let health = config.healthcheck {
                // Docker's image config has no StartInterval here.
                var probe = ContainerInspect.HealthConfig(health)
                probe.startInterval = nil
                try c.encode(probe, forKey: AnyKey("Healthcheck"))
            }
            try c.encodeIfPresent(config.argsEscaped, forKey: AnyKey("ArgsEscaped"))
            try c.encodeMembers([
                (AnyKey("Image"), ""), (AnyKey("Volumes"), config.volumes.map { SortedSet($0.keys) }),
                (AnyKey("WorkingDir"), config.workingDir ?? ""), (AnyKey("Entrypoint"), config.entrypoint),
                (AnyKey("OnBuild"), config.onBuild), (AnyKey("Labels"), config.labels.map(SortedMap.init)),
            ])
            try c.encodeIfPresent(config.stopSignal, forKey: AnyKey("StopSignal"))
            try c.encodeIfPresent(config.shell, forKey: AnyKey("Shell"))
        }
    }

    public init(_ image: ImageStore.Image, store: ImageStore) {
        id = image.id.description
        repoTags = familiarNames(image.record.tags)
        repoDigests = familiarNames(image.record.repoDigests)
        comment = image.config.history?.last?.comment ?? ""
        created = image.config.created ?? ""
        author = image.config.author ?? ""
        config = Config(config: image.config.config ?? ContainerConfig())
        architecture = image.config.architecture
        variant = image.config.variant
        os = image.config.os
        size = image.record.size
        lowerDir = store.layerPaths(image).reversed().joined(separator: ":")
        rootFSType = image.config.rootfs.type
        layers = image.config.rootfs.diffIDs.map(\.description)
        lastTagTime = image.record.lastTagTime.map {
            Timestamp.format(seconds: Int($0), nanoseconds: Int(($0 - $0.rounded(.down)) * 1e9))
        } ?? "0001-01-01T00:00:00Z"
    }

    struct GraphDriver: Encodable {
        var lowerDir: String
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            var data = c.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("Data"))
            try data.encode(lowerDir, forKey: AnyKey("LowerDir"))
            try c.encode("overlay", forKey: AnyKey("Name"))
        }
    }

    struct RootFS: Encodable {
        var type: String
        var layers: [String]
        enum CodingKeys: String, CodingKey { case type = "Type", layers = "Layers" }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encodeMembers([
            (AnyKey("Id"), id), (AnyKey("RepoTags"), repoTags), (AnyKey("RepoDigests"), repoDigests), (AnyKey("Parent"), parent),
            (AnyKey("Comment"), comment), (AnyKey("Created"), created), (AnyKey("DockerVersion"), dockerVersion),
            (AnyKey("Author"), author), (AnyKey("Config"), config), (AnyKey("Architecture"), architecture),
        ])
        try c.encodeIfPresent(variant, forKey: AnyKey("Variant"))
        try c.encodeMembers([
            (AnyKey("Os"), os), (AnyKey("Size"), size), (AnyKey("GraphDriver"), GraphDriver(lowerDir: lowerDir)),
            (AnyKey("RootFS"), RootFS(type: rootFSType, layers: layers)),
        ])
        var metadata = c.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("Metadata"))
        try metadata.encode(lastTagTime, forKey: AnyKey("LastTagTime"))
    }
}
