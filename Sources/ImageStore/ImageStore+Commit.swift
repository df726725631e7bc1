import Archive
import Crypto
import Glibc
import LinuxSys
import OCI

/// One layer of an image being built: its uncompressed digest (the snapshot's name), the
/// compressed blob that goes in the manifest, the blob's size and the layer's as Docker reports it
/// (its unpacked content).
public struct CommittedLayer: Codable, Sendable, Equatable {
    public var diffID: OCI.Digest
    public var blob: OCI.Digest
    public var blobSize: Int64
    public var mediaType: String
    public var size: Int64

    public init(diffID: OCI.Digest, blob: OCI.Digest, blobSize: Int64, mediaType: String, size: Int64) {
        self.diffID = diffID
        self.blob = blob
        self.blobSize = blobSize
        self.mediaType = mediaType
        self.size = size
    }
}

extension ImageStore {
    /// The layers of a stored image with their blobs, lowest first (a build's starting point).
    public func committedLayers(_ image: Image) throws(ImageStoreError) -> [CommittedLayer] {
        let diffIDs = image.config.rootfs.diffIDs
        guard diffIDs.count == image.manifest.layers.count else {
            throw ImageStoreError("image \(image.id.shortID): \(diffIDs.count) diff IDs but \(image.manifest.layers.count) layers")
        }
        let sizes = (try? layerSizes()) ?? [:]
        return zip(diffIDs, image.manifest.layers).map { diffID, layer in
            CommittedLayer(diffID: diffID, blob: layer.digest, blobSize: layer.size, mediaType: layer.mediaType, size: sizes[diffID] ?? 0)
        }
    }

    /// Makes a directory in overlayfs's upper-directory form (whiteouts as 0:0 devices, opaque
    /// directories by xattr) a layer: tarred in name order with OCI whiteouts, gzip-compressed
    /// into a blob, and the directory itself renamed to be the layer's snapshot. The directory
    /// must come from `snapshots.prepare()` (same filesystem); it is gone afterwards either way.
    public func commitLayer(directory: String) throws(ImageStoreError) -> CommittedLayer {
        let blob = try BlobWriter(store: content, algorithm: .sha256)
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            let compressor = try GzipCompressor(level: 1)
            try TarWriter.writeTree(directory: directory, options: TarWriter.TreeOptions(overlayWhiteouts: true)) { bytes in
                hasher.update(bufferPointer: bytes)
                size += Int64(bytes.count)
                try compressor.compress(bytes) { out in try blob.write(out) }
            }
            try compressor.finish { out in try blob.write(out) }
        } catch {
            blob.abandon()
            snapshots.abandon(directory)
            throw (error as? ImageStoreError) ?? ImageStoreError("layer from \(directory): \(error)")
        }
        let digest: OCI.Digest
        do { digest = try blob.commit() } catch {
            snapshots.abandon(directory)
            throw error
        }
        let diffID = OCI.Digest(computed: .sha256, hex: hexString(hasher.finalize()))
        if snapshots.has(diffID) { snapshots.abandon(directory) } else { try snapshots.commit(directory, as: diffID) }
        let contentSize = try recordLayer(diffID, tarSize: size)
        return CommittedLayer(diffID: diffID, blob: digest, blobSize: content.size(digest) ?? 0,
                              mediaType: MediaType.ociLayerGzip, size: contentSize)
    }

    /// Makes a copy of an overlay upper directory a layer, leaving the directory as it is (`commit`
    /// of a container, which goes on using it): tarred once in name order with OCI whiteouts, and
    /// that one stream both gzip-compressed into a blob and unpacked into a fresh snapshot, which is
    /// then the same tree a pull of the blob would give.
    public func commitLayer(copying directory: String) throws(ImageStoreError) -> CommittedLayer {
        let lock = try StoreLock(root: root, exclusive: false)
        defer { withExtendedLifetime(lock) {} }
        let snapshot = try snapshots.prepare()
        let blob: BlobWriter
        do { blob = try BlobWriter(store: content, algorithm: .sha256) } catch {
            snapshots.abandon(snapshot)
            throw error
        }
        let unpacked: UnpackedLayer
        do {
            let unpacker = try LayerUnpacker(into: snapshot)
            let compressor = try GzipCompressor(level: 1)
            try TarWriter.writeTree(directory: directory, options: TarWriter.TreeOptions(overlayWhiteouts: true)) { bytes in
                try unpacker.consume(bytes)
                try compressor.compress(bytes) { out in try blob.write(out) }
            }
            try compressor.finish { out in try blob.write(out) }
            unpacked = try unpacker.finish()
        } catch {
            blob.abandon()
            snapshots.abandon(snapshot)
            throw (error as? ImageStoreError) ?? ImageStoreError("layer from \(directory): \(error)")
        }
        let digest: OCI.Digest
        let diffID: OCI.Digest
        do {
            digest = try blob.commit()
            diffID = try OCI.Digest(unpacked.diffID)
        } catch {
            snapshots.abandon(snapshot)
            throw (error as? ImageStoreError) ?? ImageStoreError("layer from \(directory): \(error)")
        }
        if snapshots.has(diffID) { snapshots.abandon(snapshot) } else { try snapshots.commit(snapshot, as: diffID) }
        _ = try recordLayer(diffID, tarSize: unpacked.uncompressedSize)
        return CommittedLayer(diffID: diffID, blob: digest, blobSize: content.size(digest) ?? 0,
                              mediaType: MediaType.ociLayerGzip, size: unpacked.uncompressedSize)
    }

    /// Whether a cached layer can still be used: its snapshot and blob are both there (an image
    /// prune may have collected them).
    public func has(_ layer: CommittedLayer) -> Bool {
        snapshots.has(layer.diffID) && content.has(layer.blob)
    }

    /// Stores a built image: its config (whose rootfs names `layers`) and an OCI manifest, then
    /// the record with its tags. Returns the image ID (the config's digest).
    public func storeBuiltImage(config: ImageConfiguration, layers: [CommittedLayer], tags: [ImageReference]) throws(ImageStoreError) -> OCI.Digest {
        let lock = try StoreLock(root: root, exclusive: false)
        defer { withExtendedLifetime(lock) {} }
        var config = config
        config.rootfs = RootFS(diffIDs: layers.map(\.diffID))
        let configBytes = try encodeCanonical(config)
        let configDigest = try content.put(configBytes)
        let manifest = ImageManifest(
            config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
            layers: layers.map { Descriptor(mediaType: $0.mediaType, digest: $0.blob, size: $0.blobSize) })
        let manifestBytes = try encodeCanonical(manifest)
        let manifestDigest = try content.put(manifestBytes)
        // The store's measure, not the layers' own: a build cache entry an older Berth wrote holds tar sizes.
        let sizes = (try? layerSizes()) ?? [:]
        let record = ImageRecord(id: configDigest, manifestDigest: manifestDigest, manifestMediaType: MediaType.ociManifest,
                                 created: config.created ?? Timestamp.now(), size: layers.reduce(0) { $0 + (sizes[$1.diffID] ?? $1.size) },
                                 addedAt: 0)
        try database.store(record, tags: tags.map(\.description), repoDigests: [])
        return configDigest
    }
}
