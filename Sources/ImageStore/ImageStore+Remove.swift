import Glibc
import LinuxSys
import OCI

/// What `rmi` and `image prune` did, in the order Docker prints it.
public enum RemovalEvent: Sendable, Equatable {
    case untagged(String)
    case deleted(Digest)
}

/// A container that uses an image: such an image is never deleted, only untagged (Docker's rules).
public struct ImageUse: Sendable {
    public var containerID: String
    public var running: Bool

    public init(containerID: String, running: Bool) {
        self.containerID = containerID
        self.running = running
    }

    var shortContainerID: String { String(containerID.prefix(12)) }
}

extension ImageStore {
    /// Points `target` at the image `source` names.
    public func tag(_ source: String, as target: ImageReference) throws(ImageStoreError) {
        guard target.digest == nil else { throw ImageStoreError(.invalid, "refusing to create a tag with a digest reference: \(target.familiar)") }
        let record = try resolve(source)
        try database.tag(target.description, to: record.id)
    }

    /// Docker's `rmi`: a name removes that tag, and the image once no tag is left; an ID removes
    /// the image, which needs `force` when tags in more than one repository still name it. An image
    /// a container uses (`inUse`, by image ID) is never deleted: removing its last name needs
    /// `force` and only untags it; removing it by ID fails, with `force` untags it unless the
    /// container runs.
    public func remove(_ text: String, force: Bool, inUse: [Digest: ImageUse] = [:]) throws(ImageStoreError) -> [RemovalEvent] {
        let record = try resolve(text)
        let use = inUse[record.id]
        var events: [RemovalEvent] = []
        let reference = try? ImageReference(parsing: text)
        let byName = reference.map { record.tags.contains($0.description) || record.repoDigests.contains($0.description) } ?? false
        if byName, let reference {
            let name = reference.description
            let lastName = record.tags.filter { $0 != name }.isEmpty
            if lastName, let use, !force {
                throw ImageStoreError(.conflict, "conflict: unable to remove repository reference \"\(text)\" (must force) - container \(use.shortContainerID) is using its referenced image \(record.id.shortID)")
            }
            if try database.untag(name) { events.append(.untagged(reference.familiar)) }
            try database.pruneRepoDigests(of: record.id)
            let remaining = try images().first { $0.id == record.id }
            for digest in record.repoDigests where !(remaining?.repoDigests.contains(digest) ?? false) {
                events.append(.untagged(familiar(digest)))
            }
            if let remaining, !remaining.tags.isEmpty { return events }
            if use != nil { return events }
        } else {
            let repositories = Set(record.tags.compactMap { try? ImageReference(parsing: $0).name })
            if repositories.count > 1 && !force {
                throw ImageStoreError(.conflict, "conflict: unable to delete \(record.id.shortID) (must be forced) - image is referenced in multiple repositories")
            }
            if let use, use.running {
                throw ImageStoreError(.conflict, "conflict: unable to delete \(record.id.shortID) (cannot be forced) - image is being used by running container \(use.shortContainerID)")
            }
            if let use, !force {
                throw ImageStoreError(.conflict, "conflict: unable to delete \(record.id.shortID) (must be forced) - image is being used by stopped container \(use.shortContainerID)")
            }
            for tag in record.tags { events.append(.untagged(familiar(tag))) }
            for digest in record.repoDigests { events.append(.untagged(familiar(digest))) }
            if use != nil {
                for tag in record.tags { _ = try database.untag(tag) }
                try database.pruneRepoDigests(of: record.id)
                return events
            }
        }
        try database.delete(record.id)
        events.append(.deleted(record.id))
        _ = try collectGarbage()
        return events
    }

    func familiar(_ reference: String) -> String {
        (try? ImageReference(parsing: reference))?.familiar ?? reference
    }

    /// Removes untagged images, or with `all` every image no container uses, of those `selecting`
    /// accepts (the API's `until` and `label` filters), then collects their content. Returns the
    /// removed IDs and the bytes reclaimed.
    public func prune(all: Bool, inUse: Set<Digest> = [], selecting: (ImageRecord) -> Bool = { _ in true })
        throws(ImageStoreError) -> (removed: [Digest], reclaimed: Int64) {
        var removed: [Digest] = []
        for record in try images() where (all || record.tags.isEmpty) && !inUse.contains(record.id) && selecting(record) {
            try database.delete(record.id)
            removed.append(record.id)
        }
        return (removed, try collectGarbage())
    }

    /// Deletes every blob and snapshot no image references, and what killed processes left in
    /// the ingest directories. Holds the store's exclusive lock, so no pull is half-way.
    @discardableResult
    public func collectGarbage() throws(ImageStoreError) -> Int64 {
        let lock = try StoreLock(root: root, exclusive: true)
        defer { withExtendedLifetime(lock) {} }
        var blobs = Set<Digest>()
        var layers = Set<Digest>()
        for record in try images() {
            blobs.insert(record.id)
            blobs.insert(record.manifestDigest)
            // An image whose manifest cannot be read keeps what it names that we can still find.
            if let manifest = try? decodeJSON(ImageManifest.self, content.read(record.manifestDigest)) {
                for layer in manifest.layers { blobs.insert(layer.digest) }
            }
            if let config = try? decodeConfig(record.id) { layers.formUnion(config.rootfs.diffIDs) }
        }
        var reclaimed: Int64 = 0
        for digest in content.all() where !blobs.contains(digest) {
            reclaimed += content.size(digest) ?? 0
            content.remove(digest)
        }
        let sizes = (try? layerSizes()) ?? [:]
        for diffID in snapshots.all() where !layers.contains(diffID) {
            reclaimed += sizes[diffID] ?? 0
            snapshots.remove(diffID)
            try database.forgetLayer(diffID)
        }
        content.removeStaleIngests()
        snapshots.removeStaleIngests()
        return reclaimed
    }
}
