/// The OCI image spec's JSON documents (manifest.md, image-index.md, config.md, descriptor.md),
/// which also read Docker's schema2 manifests, manifest lists and image configs: the field names
/// are the same, only the media types differ.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    public static func isIndex(_ type: String) -> Bool { type == ociIndex || type == dockerManifestList }
    public static func isManifest(_ type: String) -> Bool { type == ociManifest || type == dockerManifest }
    public static func isLayer(_ type: String) -> Bool {
        [ociLayer, ociLayerGzip, ociLayerZstd, ociLayerNondistributableGzip, dockerLayerGzip, dockerLayer,
         dockerForeignLayerGzip, "application/vnd.oci.image.layer.nondistributable.v1.tar",
         "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"].contains(type)
    }
    /// What registries are asked for when a manifest is fetched (distribution-spec "pull manifests").
    public static let manifestAccept = [ociIndex, ociManifest, dockerManifestList, dockerManifest]
}

public struct Platform: Codable, Sendable, Hashable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var osVersion: String?
    public var osFeatures: [String]?
    public var variant: String?

    public init(architecture: String, os: String, variant: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    public var description: String { "\(os)/\(architecture)" + (variant.map { "/\($0)" } ?? "") }

    /// The machine's own platform in Go's names (GOOS/GOARCH), as registries label images.
    public static var current: Platform {
        #if arch(x86_64)
        Platform(architecture: "amd64", os: "linux")
        #elseif arch(arm64)
        Platform(architecture: "arm64", os: "linux", variant: "v8")
        #else
        Platform(architecture: "unknown", os: "linux")
        #endif
    }

    /// Parses `os/arch[/variant]` as `--platform` takes it (`linux/amd64`, `linux/arm64/v8`, or `arm64`).
    public init(parsing text: String) throws(ImageSpecError) {
        let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1 where !parts[0].isEmpty: self.init(architecture: Self.normalizedArch(parts[0]), os: "linux")
        case 2 where !parts[0].isEmpty && !parts[1].isEmpty: self.init(architecture: Self.normalizedArch(parts[1]), os: parts[0])
        case 3 where !parts.contains(""): self.init(architecture: Self.normalizedArch(parts[1]), os: parts[0], variant: parts[2])
        default: throw ImageSpecError("platform \"\(text)\": expected os/arch[/variant], such as linux/amd64")
        }
    }

    static func normalizedArch(_ arch: String) -> String {
        switch arch {
        case "x86_64", "x86-64": "amd64"
        case "aarch64": "arm64"
        default: arch
        }
    }

    /// Whether an index entry labelled `other` serves this platform: same os and architecture, and the
    /// same variant when both name one (arm64's "v8" is the default variant, as containerd treats it).
    public func matches(_ other: Platform) -> Bool {
        guard os == other.os, architecture == other.architecture else { return false }
        let mine = variant ?? (architecture == "arm64" ? "v8" : nil)
        let theirs = other.variant ?? (other.architecture == "arm64" ? "v8" : nil)
        return mine == nil || theirs == nil || mine == theirs
    }
}

public struct Descriptor: Codable, Sendable, Hashable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var annotations: [String: String]?
    public var platform: Platform?
    public var artifactType: String?

    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil, platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }
}

public struct ImageManifest: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var artifactType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(mediaType: String = MediaType.ociManifest, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        schemaVersion = 2
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

public struct ImageIndex: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String = MediaType.ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        schemaVersion = 2
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }

    /// The manifest for `platform`, skipping attestation entries (`unknown/unknown`, as BuildKit
    /// writes them) and entries that are not image manifests.
    public func manifest(for platform: Platform) -> Descriptor? {
        manifests.first { entry in
            guard MediaType.isManifest(entry.mediaType) || MediaType.isIndex(entry.mediaType) else { return false }
            guard let entryPlatform = entry.platform else { return false }
            if entryPlatform.os == "unknown" || entryPlatform.architecture == "unknown" { return false }
            return platform.matches(entryPlatform)
        }
    }
}

/// A JSON object with no members, the value type of `ExposedPorts` and `Volumes`.
public struct EmptyObject: Codable, Sendable, Hashable {
    public init() {}
}

public struct HealthConfig: Codable, Sendable, Equatable {
    public var test: [String]?
    public var interval: Int64?
    public var timeout: Int64?
    public var startPeriod: Int64?
    public var startInterval: Int64?
    public var retries: Int?

    public init(test: [String]? = nil) { self.test = test }

    enum CodingKeys: String, CodingKey {
        case test = "Test", interval = "Interval", timeout = "Timeout", startPeriod = "StartPeriod"
        case startInterval = "StartInterval", retries = "Retries"
    }
}

/// The `config` member of an image configuration: how a container from the image runs by default.
public struct ContainerConfig: Codable, Sendable, Equatable {
    public var user: String?
    public var exposedPorts: [String: EmptyObject]?
    public var env: [String]?
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var volumes: [String: EmptyObject]?
    public var workingDir: String?
    public var labels: [String: String]?
    public var stopSignal: String?
    public var argsEscaped: Bool?
    public var healthcheck: HealthConfig?
    public var onBuild: [String]?
    public var shell: [String]?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case user = "User", exposedPorts = "ExposedPorts", env = "Env", entrypoint = "Entrypoint", cmd = "Cmd"
        case volumes = "Volumes", workingDir = "WorkingDir", labels = "Labels", stopSignal = "StopSignal"
        case argsEscaped = "ArgsEscaped", healthcheck = "Healthcheck", onBuild = "OnBuild", shell = "Shell"
    }
}

public struct RootFS: Codable, Sendable, Equatable {
    public var type: String
    public var diffIDs: [Digest]

    public init(diffIDs: [Digest]) {
        type = "layers"
        self.diffIDs = diffIDs
    }

    enum CodingKeys: String, CodingKey {
        case type
        case diffIDs = "diff_ids"
    }
}

public struct HistoryEntry: Codable, Sendable, Equatable {
    public var created: String?
    public var createdBy: String?
    public var author: String?
    public var comment: String?
    public var emptyLayer: Bool?

    public init(created: String? = nil, createdBy: String? = nil, comment: String? = nil, emptyLayer: Bool? = nil) {
        self.created = created
        self.createdBy = createdBy
        self.comment = comment
        self.emptyLayer = emptyLayer
    }

    enum CodingKeys: String, CodingKey {
        case created, author, comment
        case createdBy = "created_by"
        case emptyLayer = "empty_layer"
    }
}

/// An image configuration (config.md). Docker adds members (container_config, docker_version…);
/// they are not decoded here, and the original bytes are kept wherever the digest matters.
public struct ImageConfiguration: Codable, Sendable, Equatable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var osVersion: String?
    public var variant: String?
    public var config: ContainerConfig?
    public var rootfs: RootFS
    public var history: [HistoryEntry]?

    public init(architecture: String, os: String, config: ContainerConfig?, rootfs: RootFS, history: [HistoryEntry]?, created: String?) {
        self.architecture = architecture
        self.os = os
        self.config = config
        self.rootfs = rootfs
        self.history = history
        self.created = created
    }

    enum CodingKeys: String, CodingKey {
        case created, author, architecture, os, variant, config, rootfs, history
        case osVersion = "os.version"
    }

    public var platform: Platform {
        var platform = Platform(architecture: architecture, os: os, variant: variant)
        platform.osVersion = osVersion
        return platform
    }
}

/// What a manifest fetch found, before the caller knows whether it is an index or a manifest.
public enum ManifestDocument: Sendable {
    case manifest(ImageManifest)
    case index(ImageIndex)

    /// Decodes by the media type the registry gave, or the document's own `mediaType`, or its shape.
    public static func decode(_ bytes: [UInt8], contentType: String?) throws(ImageSpecError) -> ManifestDocument {
        struct Probe: Decodable { var mediaType: String?; var manifests: [Descriptor]?; var config: Descriptor?; var schemaVersion: Int? }
        let probe: Probe
        do { probe = try JSONTreeDecoder.decode(Probe.self, from: bytes) } catch {
            throw ImageSpecError("manifest: not valid JSON: \(error)")
        }
        if probe.schemaVersion == 1 {
            throw ImageSpecError("manifest: Docker schema 1 manifests are not supported (deprecated by Docker in 2019); push the image again with a current client")
        }
        let type = probe.mediaType ?? contentType.map { String($0.split(separator: ";", omittingEmptySubsequences: false)[0]).trimmingSpaces } ?? ""
        let isIndex = MediaType.isIndex(type) || (probe.manifests != nil && probe.config == nil)
        do {
            if isIndex {
                let index = try JSONTreeDecoder.decode(ImageIndex.self, from: bytes)
                return .index(index)
            }
            let manifest = try JSONTreeDecoder.decode(ImageManifest.self, from: bytes)
            return .manifest(manifest)
        } catch {
            throw ImageSpecError("\(isIndex ? "index" : "manifest"): \(error)")
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
