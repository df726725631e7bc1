import OCI
import Registry

/// What a push reports per layer. A layer is named by its diffID, as Docker's push shows it; the
/// config goes up too, but is no layer and is not reported.
public enum PushEvent: Sendable {
    case preparing(Digest)
    case pushed(Digest)
    case existed(Digest)
    case mounted(Digest, from: String)
}

extension ImageStore {
    /// Pushes the image `source` names to `destination`: layers (skipping blobs the registry has,
    /// mounting ones another repository of the same registry has), then the config, then the
    /// manifest exactly as stored, so the registry serves the same digest this store knows it by.
    /// Layers are reported topmost first, as Docker lists them.
    public func push(_ source: String, to destination: ImageReference, client: RegistryClient,
                     progress: @escaping @Sendable (PushEvent) -> Void = { _ in }) async throws -> (digest: Digest, size: Int) {
        let record = try resolve(source)
        let image = try load(record)
        let manifestBytes = try content.read(record.manifestDigest)
        let diffIDs = image.config.rootfs.diffIDs
        guard diffIDs.count == image.manifest.layers.count else {
            throw ImageStoreError("push \(destination.familiar): image \(record.id.shortID) has \(diffIDs.count) diff IDs but \(image.manifest.layers.count) layers")
        }
        for descriptor in image.manifest.layers + [image.manifest.config] where !content.has(descriptor.digest) {
            throw ImageStoreError("push \(destination.familiar): blob \(descriptor.digest) is not in the store (was it removed by hand?)")
        }
        let sources = try mountSources(for: image, to: destination)
        let layers = Array(zip(image.manifest.layers, diffIDs).reversed())
        for (_, diffID) in layers { progress(.preparing(diffID)) }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for (descriptor, diffID) in layers {
                group.addTask {
                    let from = sources[descriptor.digest]
                    let result = try await client.pushBlob(destination, descriptor, file: self.content.path(descriptor.digest), mountFrom: from)
                    switch result {
                    case .existed: progress(.existed(diffID))
                    case .mounted: progress(.mounted(diffID, from: from ?? ""))
                    case .uploaded: progress(.pushed(diffID))
                    }
                }
            }
            try await group.waitForAll()
        }
        let config = image.manifest.config
        _ = try await client.pushBlob(destination, config, file: content.path(config.digest), mountFrom: sources[config.digest])
        let digest = try await client.pushManifest(destination, reference: destination.tag ?? record.manifestDigest.description,
                                                   bytes: manifestBytes, mediaType: image.manifest.mediaType ?? record.manifestMediaType)
        try database.store(record, tags: [], repoDigests: ["\(destination.name)@\(digest)"])
        return (digest, manifestBytes.count)
    }

    /// For each blob of `image`, a repository of the destination's registry (not the destination)
    /// known to hold it: one this image was pulled from or pushed to, else one of another image
    /// with the same blob (a base image's layers under an image built on it).
    func mountSources(for image: Image, to destination: ImageReference) throws(ImageStoreError) -> [Digest: String] {
        func repositories(_ record: ImageRecord) -> [String] {
            record.repoDigests.compactMap { try? ImageReference(parsing: $0) }
                .filter { $0.registry == destination.registry && $0.repository != destination.repository }
                .map(\.repository)
        }
        var sources: [Digest: String] = [:]
        for record in try images() where record.id != image.id {
            let candidates = repositories(record)
            guard let repository = candidates.first,
                  let manifest = try? decodeJSON(ImageManifest.self, content.read(record.manifestDigest)) else { continue }
            for blob in manifest.layers.map(\.digest) + [manifest.config.digest] { sources[blob] = repository }
        }
        if let own = repositories(image.record).first {
            for blob in image.manifest.layers.map(\.digest) + [image.manifest.config.digest] { sources[blob] = own }
        }
        return sources
    }
}
