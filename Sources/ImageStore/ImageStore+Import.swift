import Archive
import Glibc
import LinuxSys
import OCI

extension ImageStore {
    /// Docker's `import`: a root filesystem tarball (plain, gzip or zstd) becomes a one-layer image.
    /// The layer is stored gzip-compressed (as it would be pushed) and unpacked into its snapshot
    /// in the same pass. `read` fills the buffer it is given and returns the count, 0 at the end.
    public func importRootfs(read: (UnsafeMutableRawBufferPointer) throws -> Int, source: String, changes: [String],
                             message: String?, platform: Platform, tag: ImageReference?) throws -> Digest {
        var containerConfig = ContainerConfig()
        try ConfigChange.apply(changes, to: &containerConfig)
        let lock = try StoreLock(root: root, exclusive: false)
        defer { withExtendedLifetime(lock) {} }

        let snapshot = try snapshots.prepare()
        let blob = try BlobWriter(store: content, algorithm: .sha256)
        let layerDigest: Digest
        let unpacked: UnpackedLayer
        var compressedMediaType = MediaType.ociLayerGzip
        do {
            let unpacker = try LayerUnpacker(into: snapshot)
            var compressor: GzipCompressor?
            var first = true
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let count = try buffer.withUnsafeMutableBytes { try read($0) }
                if count == 0 { break }
                try buffer.withUnsafeBytes { raw in
                    let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                    if first {
                        first = false
                        switch Compression.detect(chunk) {
                        case .none: compressor = try GzipCompressor()
                        case .gzip: compressedMediaType = MediaType.ociLayerGzip
                        case .zstd: compressedMediaType = MediaType.ociLayerZstd
                        }
                    }
                    try unpacker.consume(chunk)
                    if let compressor {
                        try compressor.compress(chunk) { out in try blob.write(out) }
                    } else {
                        try blob.write(chunk)
                    }
                }
            }
            if first { throw ImageStoreError("import \(source): the tarball is empty") }
            try compressor?.finish { out in try blob.write(out) }
            unpacked = try unpacker.finish()
            layerDigest = try blob.commit()
        } catch {
            blob.abandon()
            snapshots.abandon(snapshot)
            throw error
        }
        let diffID = try Digest(unpacked.diffID)
        if snapshots.has(diffID) { snapshots.abandon(snapshot) } else { try snapshots.commit(snapshot, as: diffID) }
        let contentSize = try recordLayer(diffID, tarSize: unpacked.uncompressedSize)

        let created = Timestamp.now()
        let comment = message ?? "Imported from \(source)"
        var config = ImageConfiguration(
            architecture: platform.architecture, os: platform.os, config: containerConfig,
            rootfs: RootFS(diffIDs: [diffID]),
            history: [HistoryEntry(created: created, comment: comment)], created: created)
        config.variant = platform.variant
        let configBytes = try encodeCanonical(config)
        let configDigest = try content.put(configBytes)
        let layerSize = content.size(layerDigest) ?? 0
        let manifest = ImageManifest(
            config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
            layers: [Descriptor(mediaType: compressedMediaType, digest: layerDigest, size: layerSize)])
        let manifestBytes = try encodeCanonical(manifest)
        let manifestDigest = try content.put(manifestBytes)
        let record = ImageRecord(id: configDigest, manifestDigest: manifestDigest, manifestMediaType: MediaType.ociManifest,
                                 created: created, size: contentSize, addedAt: 0)
        try database.store(record, tags: tag.map { [$0.description] } ?? [], repoDigests: [])
        return configDigest
    }
}

/// Compact JSON with sorted keys: the same document always has the same digest.
func encodeCanonical<T: Encodable>(_ value: T) throws(ImageStoreError) -> [UInt8] {
    do { return try JSONTreeEncoder.encode(value) } catch { throw ImageStoreError("encode \(T.self): \(error)") }
}
