import OCI
import Registry

public enum PushEvent: Sendable {
    case preparing(Digest)
    case pushed(Digest)
    case existed(Digest)
    case mounted(Digest, from: String)
}

extension ImageStore {
    /// Pushes the image `source` names to `destination`: layers and config (skipping blobs the
    /// registry has, mounting ones another repository of the same registry has), then the manifest
    /// exactly as stored, so the registry serves the same digest this store knows it by.
    public func push(_ source: String, to destination: ImageReference, client: RegistryClient,
                     progress: @escaping @Sendable (PushEvent) -> Void = { _ in }) async throws -> (digest: Digest, size: Int) {
        let record = try resolve(source)
        let image = try load(record)
        let manifestBytes = try content.read(record.manifestDigest)
        // A blob pulled from another repository of the same registry can be mounted, not uploaded.
        let mountSource = record.repoDigests.compactMap { try? ImageReference(parsing: $0) }
            .first { $0.registry == destination.registry && $0.repository != destination.repository }?.repository

        try await withThrowingTaskGroup(of: Void.self) { group in
            for descriptor in image.manifest.layers + [image.manifest.config] {
                guard content.has(descriptor.digest) else {
                    throw ImageStoreError("push \(destination.familiar): layer \(descriptor.digest) is not in the store (was it removed by hand?)")
                }
                group.addTask {
                    progress(.preparing(descriptor.digest))
                    let result = try await client.pushBlob(destination, descriptor, file: self.content.path(descriptor.digest),
                                                           mountFrom: mountSource)
                    switch result {
                    case .existed: progress(.existed(descriptor.digest))
                    case .mounted: progress(.mounted(descriptor.digest, from: mountSource ?? ""))
                    case .uploaded: progress(.pushed(descriptor.digest))
                    }
                }
            }
            try await group.waitForAll()
        }
        let digest = try await client.pushManifest(destination, reference: destination.tag ?? record.manifestDigest.description,
                                                   bytes: manifestBytes, mediaType: image.manifest.mediaType ?? record.manifestMediaType)
        try database.store(record, tags: [], repoDigests: ["\(destination.name)@\(digest)"])
        return (digest, manifestBytes.count)
    }
}
