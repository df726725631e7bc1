import Archive
import Glibc
import LinuxSys
import OCI

extension ImageStore {
    /// Reads a `docker save` archive (legacy or current) or an OCI archive (plain or compressed)
    /// and stores its images. Every blob is verified against its name while it streams in; layers
    /// are unpacked and checked against the config's diff_ids. Returns the tags loaded, and the IDs
    /// of images that came without one.
    public func loadArchive(read: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> (tags: [ImageReference], untagged: [Digest]) {
        let lock = try StoreLock(root: root, exclusive: false)
        defer { withExtendedLifetime(lock) {} }
        let collector = ArchiveCollector(store: content)
        defer { collector.abandon() }
        let reader = TarReader()
        var decompressor: Decompressor?
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var first = true
        while true {
            let n = try buffer.withUnsafeMutableBytes { try read($0) }
            if n == 0 { break }
            try buffer.withUnsafeBytes { raw in
                let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<n])
                if first {
                    first = false
                    let kind = Compression.detect(chunk)
                    if kind != .none { decompressor = try Decompressor(kind) }
                }
                if let decompressor {
                    try decompressor.decompress(chunk) { out in try reader.feed(out, to: collector) }
                } else {
                    try reader.feed(chunk, to: collector)
                }
            }
        }
        if first { throw ImageStoreError("load: the archive is empty") }
        try decompressor?.finish()
        try reader.finish()

        if let manifestJSON = collector.smallFiles["manifest.json"] {
            return try loadDockerArchive(manifestJSON, collector)
        }
        if let indexJSON = collector.smallFiles["index.json"] {
            return try loadOCILayout(indexJSON, collector)
        }
        throw ImageStoreError("load: the archive has neither manifest.json (docker save) nor index.json (OCI layout)")
    }

    private func loadDockerArchive(_ json: [UInt8], _ collector: ArchiveCollector) throws -> (tags: [ImageReference], untagged: [Digest]) {
        let entries: [DockerArchiveEntry]
        do { entries = try decodeJSON([DockerArchiveEntry].self, json) } catch { throw ImageStoreError("load: manifest.json: \(error)") }
        var tags: [ImageReference] = []
        var untagged: [Digest] = []
        for (index, entry) in entries.enumerated() {
            guard let configDigest = collector.digest(of: entry.config) else {
                throw ImageStoreError("load: manifest.json[\(index)].Config names \(entry.config), which is not in the archive")
            }
            let config = try decodeConfig(configDigest)
            guard config.rootfs.diffIDs.count == entry.layers.count else {
                throw ImageStoreError("load: manifest.json[\(index)]: \(entry.layers.count) layers, but its config lists \(config.rootfs.diffIDs.count)")
            }
            var layers: [Descriptor] = []
            for (position, (path, diffID)) in zip(entry.layers, config.rootfs.diffIDs).enumerated() {
                guard let blob = collector.digest(of: path) else {
                    throw ImageStoreError("load: manifest.json[\(index)].Layers[\(position)] names \(path), which is not in the archive")
                }
                let kind = try compression(of: blob)
                let mediaType = kind == .none ? MediaType.dockerLayer : kind == .gzip ? MediaType.dockerLayerGzip : MediaType.ociLayerZstd
                let descriptor = Descriptor(mediaType: mediaType, digest: blob, size: content.size(blob) ?? 0)
                if !snapshots.has(diffID) { try unpackStoredLayer(descriptor, diffID: diffID) }
                layers.append(descriptor)
            }
            let configBytes = try content.read(configDigest)
            let manifest = ImageManifest(
                mediaType: MediaType.dockerManifest,
                config: Descriptor(mediaType: MediaType.dockerConfig, digest: configDigest, size: Int64(configBytes.count)),
                layers: layers)
            let manifestDigest = try content.put(try encodeCanonical(manifest))
            var names: [ImageReference] = []
            for text in entry.repoTags ?? [] {
                do { names.append(try ImageReference(parsing: text)) } catch {
                    throw ImageStoreError("load: manifest.json[\(index)].RepoTags: \(error.message)")
                }
            }
            try record(configDigest, config: config, manifestDigest: manifestDigest, mediaType: MediaType.dockerManifest, tags: names)
            tags += names
            if names.isEmpty { untagged.append(configDigest) }
        }
        return (tags, untagged)
    }

    private func loadOCILayout(_ json: [UInt8], _ collector: ArchiveCollector) throws -> (tags: [ImageReference], untagged: [Digest]) {
        let index: ImageIndex
        do { index = try decodeJSON(ImageIndex.self, json) } catch { throw ImageStoreError("load: index.json: \(error)") }
        var tags: [ImageReference] = []
        var untagged: [Digest] = []
        for (position, entry) in index.manifests.enumerated() {
            var descriptor = entry
            if MediaType.isIndex(entry.mediaType) {
                let nested = try decodeJSON(ImageIndex.self, try content.read(entry.digest))
                guard let chosen = nested.manifest(for: .current) else {
                    throw ImageStoreError("load: index.json manifests[\(position)] has no image for \(Platform.current)")
                }
                descriptor = chosen
            }
            guard content.has(descriptor.digest) else {
                throw ImageStoreError("load: index.json manifests[\(position)]: blob \(descriptor.digest) is not in the archive")
            }
            let manifest: ImageManifest
            do { manifest = try decodeJSON(ImageManifest.self, try content.read(descriptor.digest)) } catch {
                throw ImageStoreError("load: manifest \(descriptor.digest): \(error)")
            }
            let config = try decodeConfig(manifest.config.digest)
            guard config.rootfs.diffIDs.count == manifest.layers.count else {
                throw ImageStoreError("load: manifest \(descriptor.digest): \(manifest.layers.count) layers, but its config lists \(config.rootfs.diffIDs.count)")
            }
            for (layer, diffID) in zip(manifest.layers, config.rootfs.diffIDs) {
                guard content.has(layer.digest) else { throw ImageStoreError("load: layer \(layer.digest) is not in the archive") }
                if !snapshots.has(diffID) { try unpackStoredLayer(layer, diffID: diffID) }
            }
            var names: [ImageReference] = []
            if let name = entry.annotations?["io.containerd.image.name"] ?? entry.annotations?["org.opencontainers.image.ref.name"],
               name.contains("/") || name.contains(":"), let reference = try? ImageReference(parsing: name) {
                names = [reference]
            }
            try record(manifest.config.digest, config: config, manifestDigest: descriptor.digest,
                       mediaType: manifest.mediaType ?? descriptor.mediaType, tags: names)
            tags += names
            if names.isEmpty { untagged.append(manifest.config.digest) }
        }
        return (tags, untagged)
    }

    private func record(_ id: Digest, config: ImageConfiguration, manifestDigest: Digest, mediaType: String, tags: [ImageReference]) throws {
        let sizes = try layerSizes()
        let record = ImageRecord(id: id, manifestDigest: manifestDigest, manifestMediaType: mediaType, created: config.created,
                                 size: config.rootfs.diffIDs.reduce(0) { $0 + (sizes[$1] ?? 0) }, addedAt: 0)
        try database.store(record, tags: tags.map(\.description), repoDigests: [])
    }
}

/// Takes a save archive's entries apart as they stream: `blobs/<alg>/<hex>` straight into the
/// content store (verified against their names), JSON files into memory, and other files (the
/// legacy format's `<id>/layer.tar`) into the store under the digest of their content.
final class ArchiveCollector: TarEntryHandler {
    let store: ContentStore
    var smallFiles: [String: [UInt8]] = [:]
    var storedFiles: [String: Digest] = [:]
    private var writer: BlobWriter?
    private var expected: Digest?
    private var memory: [UInt8]?
    private var path = ""

    init(store: ContentStore) { self.store = store }

    static func clean(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/")
    }

    /// The digest of the file at `path` in the archive.
    func digest(of path: String) -> Digest? {
        let name = Self.clean(path)
        if let digest = storedFiles[name] { return digest }
        let parts = name.split(separator: "/")
        if parts.count == 3, parts[0] == "blobs", let algorithm = Digest.Algorithm(rawValue: String(parts[1])),
           let digest = try? Digest(algorithm: algorithm, hex: String(parts[2])), store.has(digest) { return digest }
        return nil
    }

    func entry(_ header: TarHeader) throws {
        path = Self.clean(header.path)
        guard header.type == .file else { return }
        let parts = path.split(separator: "/")
        if parts.count == 3, parts[0] == "blobs", let algorithm = Digest.Algorithm(rawValue: String(parts[1])) {
            do { expected = try Digest(algorithm: algorithm, hex: String(parts[2])) } catch {
                throw ImageStoreError("load: \(path): not a blob name (\(error.message))")
            }
            writer = try BlobWriter(store: store, algorithm: algorithm)
        } else if (path.hasSuffix(".json") || path == "oci-layout" || path == "repositories") && header.size <= 16 << 20 {
            memory = []
        } else {
            expected = nil
            writer = try BlobWriter(store: store, algorithm: .sha256)
        }
    }

    func data(_ chunk: UnsafeRawBufferPointer) throws {
        if let writer { try writer.write(chunk) } else if memory != nil { memory?.append(contentsOf: chunk) }
    }

    func endOfEntry() throws {
        if let writer {
            let digest = try writer.commit(expected: expected)
            storedFiles[path] = digest
            self.writer = nil
            expected = nil
        } else if let bytes = memory {
            smallFiles[path] = bytes
            // Legacy archives name configs `<hex>.json`; keep them as blobs too.
            storedFiles[path] = try store.put(bytes)
            memory = nil
        }
    }

    func abandon() { writer?.abandon() }
}
