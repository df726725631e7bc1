import ContainerSpec
import Glibc
import ImageStore
import LinuxSys
import OCI

// `commit` (POST /commit): a container's changes as a new image.

extension Engine {
    /// What `commit` takes besides the container.
    public struct CommitOptions: Sendable {
        /// `REPOSITORY[:TAG]` for the new image; untagged when nil.
        public var reference: ImageReference?
        public var author: String?
        public var comment: String?
        /// Dockerfile instructions applied to the config (`--change`: CMD, ENTRYPOINT, ENV, EXPOSE,
        /// LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR).
        public var changes: [String]
        /// Freeze the container's processes while its filesystem is read (Docker's default).
        public var pause: Bool
        /// The config to start from instead of the container's (the API's request body); what it
        /// leaves unset is taken from the container's, as Docker merges them.
        public var config: ContainerConfig?

        public init(reference: ImageReference? = nil, author: String? = nil, comment: String? = nil, changes: [String] = [],
                    pause: Bool = true, config: ContainerConfig? = nil) {
            self.reference = reference
            self.author = author
            self.comment = comment
            self.changes = changes
            self.pause = pause
            self.config = config
        }
    }

    /// A new image: the container's image's layers, then the container's upper directory as one
    /// more (overlay's whiteouts and opaque directories made OCI ones; no layer at all when the
    /// container changed nothing, as Docker), with the container's config and `options.changes`,
    /// and a history entry naming the author, the comment and the container's command. A running
    /// container is paused meanwhile unless `options.pause` is false. Returns the image ID
    /// (`sha256:…`). Records the container's `commit` event.
    public func commit(_ container: Container, _ options: CommitOptions) throws(EngineError) -> String {
        var config = options.config ?? container.config
        do { try ConfigChange.apply(options.changes, to: &config) } catch {
            throw .invalid(error.message, reportedByDaemon: true)
        }
        config = Self.merged(config, over: container.config)

        let base: ImageStore.Image
        let baseLayers: [CommittedLayer]
        do {
            base = try images.load(try images.resolve(container.imageID))
            baseLayers = try images.committedLayers(base)
        } catch {
            throw .system("image \(container.image) of container \(container.name)", error)
        }

        // As Docker: a container that cannot be paused (stopped meanwhile) is committed as it is.
        var pausedHere = false
        if options.pause && status(container).status == .running {
            pausedHere = (try? pause(container)) != nil
        }
        defer { if pausedHere { try? unpause(container) } }
        let layer = try containerLayer(container)

        let created = Timestamp.now()
        var entry = HistoryEntry(created: created, createdBy: (container.config.cmd ?? []).joined(separator: " "),
                                 comment: options.comment.flatMap { $0.isEmpty ? nil : $0 }, emptyLayer: layer == nil ? true : nil)
        entry.author = options.author.flatMap { $0.isEmpty ? nil : $0 }
        var imageConfig = ImageConfiguration(architecture: base.config.architecture, os: base.config.os, config: config,
                                             rootfs: base.config.rootfs, history: (base.config.history ?? []) + [entry], created: created)
        imageConfig.variant = base.config.variant
        imageConfig.osVersion = base.config.osVersion
        imageConfig.author = entry.author
        let id: Digest
        do {
            id = try images.storeBuiltImage(config: imageConfig, layers: baseLayers + (layer.map { [$0] } ?? []),
                                            tags: options.reference.map { [$0] } ?? [])
        } catch {
            throw .system("commit \(container.name)", error)
        }
        recordEvent(container, "commit", ["comment": options.comment ?? "", "imageID": id.description,
                                          "imageRef": options.reference?.familiar ?? ""])
        return id.description
    }

    /// The container's upper directory as a layer; nil when it holds nothing (no change, or never started).
    private func containerLayer(_ container: Container) throws(EngineError) -> CommittedLayer? {
        let upper = containerDirectory(container.id) + "/upper"
        let entries: [String]
        do { entries = try FS.list(path: upper) } catch {
            if error.errno == ENOENT { return nil }
            throw .system("read the changes of \(container.name)", error)
        }
        if entries.isEmpty { return nil }
        do { return try images.commitLayer(copying: upper) } catch {
            throw .system("commit the changes of \(container.name)", error)
        }
    }

    /// Docker's merge of a commit's config with the container's: what the new one leaves empty is
    /// the container's; ports, volumes, labels and environment variables add up (the new value
    /// wins for a variable set in both); the container's command is kept only when the new config
    /// sets no entrypoint.
    static func merged(_ new: ContainerConfig, over old: ContainerConfig) -> ContainerConfig {
        var config = new
        if (config.user ?? "").isEmpty { config.user = old.user }
        if let ports = old.exposedPorts {
            config.exposedPorts = (config.exposedPorts ?? [:]).merging(ports) { mine, _ in mine }
        }
        if let env = old.env {
            var merged = config.env ?? []
            let keys = Set(merged.map { String($0.prefix { $0 != "=" }) })
            merged += env.filter { !keys.contains(String($0.prefix { $0 != "=" })) }
            config.env = merged
        }
        if let labels = old.labels { config.labels = (config.labels ?? [:]).merging(labels) { mine, _ in mine } }
        if (config.entrypoint ?? []).isEmpty {
            if (config.cmd ?? []).isEmpty { config.cmd = old.cmd }
            if config.entrypoint == nil { config.entrypoint = old.entrypoint }
        }
        if config.healthcheck == nil { config.healthcheck = old.healthcheck }
        if (config.workingDir ?? "").isEmpty { config.workingDir = old.workingDir }
        if let volumes = old.volumes { config.volumes = (config.volumes ?? [:]).merging(volumes) { mine, _ in mine } }
        if config.onBuild == nil { config.onBuild = old.onBuild }
        if (config.stopSignal ?? "").isEmpty { config.stopSignal = old.stopSignal }
        return config
    }
}
