import Archive
import Glibc
import NIOCore
import OCI
import Registry

/// What a pull reports as it goes, for progress bars or plain lines.
public enum PullEvent: Sendable {
    case resolved(ImageReference, digest: Digest)
    /// A layer that is already stored (blob and snapshot): Docker's "Already exists".
    case layerExists(Digest)
    case layerWaiting(Digest, size: Int64)
    case layerProgress(Digest, bytes: Int64, size: Int64)
    /// Download finished, unpack finishing.
    case layerDownloaded(Digest)
    case layerDone(Digest)
}

public struct PullResult: Sendable {
    public var reference: ImageReference
    public var imageID: Digest
    /// The digest a registry serves the image by (the index's, for a multi-platform image).
    public var repoDigest: Digest
    /// Whether the reference now names an image it did not name before: Docker's "Downloaded newer
    /// image" (a new tag of an image already here too); false is "Image is up to date".
    public var downloaded: Bool
}

extension ImageStore {
    /// Pulls `reference` for `platform`: manifest (choosing from an index), config, then every
    /// layer at once, each streamed from the registry through its digest check into the blob store
    /// and, in the same pass, decompressed and unpacked into its snapshot. An image already stored
    /// whole reports no layers, as Docker's pull does; a new one reports each layer it has as
    /// `layerExists` ("Already exists").
    public func pull(_ reference: ImageReference, client: RegistryClient, platform: Platform = .current,
                     progress: @escaping @Sendable (PullEvent) -> Void = { _ in }) async throws -> PullResult {
        let lock = try StoreLock(root: root, exclusive: false)
        defer { withExtendedLifetime(lock) {} }

        var fetched = try await client.manifest(reference)
        let repoDigest = fetched.digest
        var document = try ManifestDocument.decode(fetched.bytes, contentType: fetched.mediaType)
        if case .index(let index) = document {
            guard let entry = index.manifest(for: platform) else {
                let offered = index.manifests.compactMap { $0.platform?.description }.filter { !$0.hasPrefix("unknown") }
                throw ImageStoreError("no matching manifest for \(platform) in the manifest list entries of \(reference.familiar) (it has: \(offered.joined(separator: ", ")))")
            }
            fetched = try await client.manifest(reference, digest: entry.digest)
            document = try ManifestDocument.decode(fetched.bytes, contentType: entry.mediaType)
        }
        guard case .manifest(let manifest) = document else {
            throw ImageStoreError("\(reference.familiar): an index inside an index is not supported")
        }
        progress(.resolved(reference, digest: repoDigest))
        let imageID = manifest.config.digest
        try checkManifest(manifest, of: reference)

        // What the reference names now: Docker says "Downloaded newer image" whenever that changes.
        let stored = try database.images()
        let named = reference.tag.map { tag in stored.first { $0.tags.contains(reference.with(tag: tag).description) } }
            ?? stored.first { $0.repoDigests.contains("\(reference.name)@\(repoDigest)") }

        if !content.has(imageID) {
            try await fetchWhole(manifest.config, of: reference, client: client)
        }
        let config = try decodeConfig(imageID)
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw ImageStoreError("image \(reference.familiar): its config lists \(config.rootfs.diffIDs.count) layers (rootfs.diff_ids) but its manifest \(manifest.layers.count)")
        }

        let layers = Array(zip(manifest.layers, config.rootfs.diffIDs))
        let whole = stored.contains { $0.id == imageID }
            && layers.allSatisfy { content.has($0.0.digest) && snapshots.has($0.1) }
        if !whole {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for (descriptor, diffID) in layers {
                    group.addTask {
                        try await self.fetchLayer(descriptor, diffID: diffID, of: reference, client: client, progress: progress)
                    }
                }
                try await group.waitForAll()
            }
        }
        if !content.has(fetched.digest) {
            _ = try content.put(fetched.bytes)
        }

        let sizes = try layerSizes()
        let record = ImageRecord(id: imageID, manifestDigest: fetched.digest, manifestMediaType: fetched.mediaType,
                                 created: config.created, size: config.rootfs.diffIDs.reduce(0) { $0 + (sizes[$1] ?? 0) },
                                 addedAt: 0, lastTagTime: nil)
        let tags = reference.tag.map { [reference.with(tag: $0).description] } ?? []
        try database.store(record, tags: tags, repoDigests: ["\(reference.name)@\(repoDigest)"])
        return PullResult(reference: reference, imageID: imageID, repoDigest: repoDigest, downloaded: named?.id != imageID)
    }

    func checkManifest(_ manifest: ImageManifest, of reference: ImageReference) throws(ImageStoreError) {
        guard manifest.schemaVersion == 2 else {
            throw ImageStoreError("manifest of \(reference.familiar): schemaVersion \(manifest.schemaVersion), expected 2")
        }
        for (index, layer) in manifest.layers.enumerated() where !MediaType.isLayer(layer.mediaType) {
            throw ImageStoreError("manifest of \(reference.familiar): layers[\(index)] has media type \"\(layer.mediaType)\", which is not a layer")
        }
        for (index, layer) in manifest.layers.enumerated() where layer.size < 0 {
            throw ImageStoreError("manifest of \(reference.familiar): layers[\(index)] has a negative size")
        }
    }

    func decodeConfig(_ digest: Digest) throws(ImageStoreError) -> ImageConfiguration {
        let bytes = try content.read(digest)
        do { return try decodeJSON(ImageConfiguration.self, bytes) } catch {
            throw ImageStoreError("image config \(digest): \(error)")
        }
    }

    /// A small blob (a config) fetched whole into the store.
    func fetchWhole(_ descriptor: Descriptor, of reference: ImageReference, client: RegistryClient) async throws {
        let writer = try BlobWriter(store: content, algorithm: descriptor.digest.algorithm)
        do {
            try await client.fetchBlob(reference, descriptor) { buffer in
                try buffer.withUnsafeReadableBytes { bytes in try writer.write(bytes) }
            }
            try writer.commit(expected: descriptor.digest, size: descriptor.size)
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// Brings one layer in: nothing to do when blob and snapshot are both here, an unpack from the
    /// stored blob when only the snapshot is missing, else one streamed pass that stores the blob
    /// and unpacks it at once. Returns whether anything was downloaded.
    func fetchLayer(_ descriptor: Descriptor, diffID: Digest, of reference: ImageReference, client: RegistryClient,
                    progress: @escaping @Sendable (PullEvent) -> Void) async throws -> Bool {
        let haveBlob = content.has(descriptor.digest)
        let haveSnapshot = snapshots.has(diffID)
        if haveBlob && haveSnapshot {
            progress(.layerExists(descriptor.digest))
            return false
        }
        if haveBlob {
            try unpackStoredLayer(descriptor, diffID: diffID)
            progress(.layerDone(descriptor.digest))
            return false
        }
        progress(.layerWaiting(descriptor.digest, size: descriptor.size))
        let writer = try BlobWriter(store: content, algorithm: descriptor.digest.algorithm)
        let target = haveSnapshot ? nil : try snapshots.prepare()
        do {
            let unpacker = try target.map { path throws in try LayerUnpacker(into: path) }
            var received: Int64 = 0
            var reported: Int64 = 0
            try await client.fetchBlob(reference, descriptor) { buffer in
                try buffer.withUnsafeReadableBytes { bytes in
                    try writer.write(bytes)
                    do { try unpacker?.consume(bytes) } catch {
                        throw ImageStoreError("layer \(descriptor.digest) of \(reference.familiar): \(error)")
                    }
                }
                received += Int64(buffer.readableBytes)
                if received - reported >= 512 << 10 || received == descriptor.size {
                    reported = received
                    progress(.layerProgress(descriptor.digest, bytes: received, size: descriptor.size))
                }
            }
            progress(.layerDownloaded(descriptor.digest))
            try writer.commit(expected: descriptor.digest, size: descriptor.size)
            if let unpacker, let target {
                let layer: UnpackedLayer
                do { layer = try unpacker.finish() } catch {
                    throw ImageStoreError("layer \(descriptor.digest) of \(reference.familiar): \(error)")
                }
                try commitSnapshot(target, unpacked: layer, expected: diffID, blob: descriptor.digest)
            }
        } catch {
            writer.abandon()
            if let target { snapshots.abandon(target) }
            throw error
        }
        progress(.layerDone(descriptor.digest))
        return true
    }

    func unpackStoredLayer(_ descriptor: Descriptor, diffID: Digest) throws {
        let target = try snapshots.prepare()
        do {
            let unpacked = try LayerUnpacker.unpack(file: content.path(descriptor.digest), into: target)
            try commitSnapshot(target, unpacked: unpacked, expected: diffID, blob: descriptor.digest)
        } catch {
            snapshots.abandon(target)
            throw error
        }
    }

    func commitSnapshot(_ target: String, unpacked: UnpackedLayer, expected diffID: Digest, blob: Digest) throws {
        guard unpacked.diffID == diffID.description else {
            throw ImageStoreError("layer \(blob): its uncompressed content has digest \(unpacked.diffID), but the image config says \(diffID)")
        }
        try snapshots.commit(target, as: diffID)
        try recordLayer(diffID, tarSize: unpacked.uncompressedSize)
    }
}
