import Glibc
import GRDB
import LinuxSys
import OCI

/// The engine's images: blobs by digest, unpacked layer snapshots, and records with tags.
///
///     <root>/berth.db                 image records, tags, repo digests, layer sizes (tables in the
///                                     engine's database, which the engine opens and migrates)
///     <root>/blobs/sha256/<hex>       manifests, configs and layers as the registry served them
///     <root>/snapshots/<diffID hex>   each layer unpacked, ready to be an overlayfs lower directory
///
/// Content goes in first and the record last, so a kill -9 at any moment leaves either a whole
/// image or unreferenced content that `prune` collects — never a record naming missing content.
public final class ImageStore: Sendable {
    public let root: String
    public let content: ContentStore
    public let snapshots: SnapshotStore
    public let database: ImageDatabase

    /// `database`: the engine's database, opened and migrated by its owner.
    public init(root: String, database: DatabasePool) throws(ImageStoreError) {
        self.root = root
        do { try FS.mkdirAll(root, mode: 0o711) } catch { throw .sys(error) }
        content = try ContentStore(root: root + "/blobs")
        snapshots = try SnapshotStore(root: root + "/snapshots")
        self.database = ImageDatabase(pool: database)
    }

    /// Everything `images`, `inspect` and friends show about one image.
    public struct Image: Sendable {
        public var record: ImageRecord
        public var manifest: ImageManifest
        public var config: ImageConfiguration
        public var configBytes: [UInt8]
        public var id: Digest { record.id }
    }

    /// Every image, with its size summed from its layers' content sizes where the record has none
    /// yet (written by an older Berth): measured once, on the first listing, then stored.
    public func images() throws(ImageStoreError) -> [ImageRecord] {
        var records = try database.images()
        guard records.contains(where: { $0.size < 0 }) else { return records }
        let sizes = try layerSizes()
        var measured: [Digest: Int64] = [:]
        for index in records.indices where records[index].size < 0 {
            let diffIDs = (try? decodeConfig(records[index].id))?.rootfs.diffIDs ?? []
            records[index].size = diffIDs.reduce(0) { $0 + (sizes[$1] ?? 0) }
            measured[records[index].id] = records[index].size
        }
        try database.setSizes(measured)
        return records
    }

    public func load(_ record: ImageRecord) throws(ImageStoreError) -> Image {
        let manifestBytes = try content.read(record.manifestDigest)
        let manifest: ImageManifest
        do { manifest = try decodeJSON(ImageManifest.self, manifestBytes) } catch {
            throw ImageStoreError("manifest \(record.manifestDigest) of image \(record.id.shortID): \(error)")
        }
        let configBytes = try content.read(record.id)
        let config: ImageConfiguration
        do { config = try decodeJSON(ImageConfiguration.self, configBytes) } catch {
            throw ImageStoreError("config of image \(record.id.shortID): \(error)")
        }
        return Image(record: record, manifest: manifest, config: config, configBytes: configBytes)
    }

    /// Finds an image as Docker's commands take it: a name with optional tag (`busybox`,
    /// `busybox:1.36`, `127.0.0.1:5000/app`), `name@digest`, a full ID (`sha256:…`), or a unique
    /// prefix of the ID's hex.
    public func resolve(_ text: String) throws(ImageStoreError) -> ImageRecord {
        let records = try images()
        if let reference = try? ImageReference(parsing: text) {
            let normalized = reference.description
            if let match = records.first(where: { $0.tags.contains(normalized) || $0.repoDigests.contains(normalized) }) {
                return match
            }
            if let digest = reference.digest, let match = records.first(where: {
                $0.repoDigests.contains("\(reference.name)@\(digest)") || ($0.id == digest)
            }) { return match }
        }
        var hex = Substring(text)
        if hex.hasPrefix("sha256:") { hex = hex.dropFirst("sha256:".count) }
        if !hex.isEmpty, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            let matches = records.filter { $0.id.hex.hasPrefix(hex) }
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 { throw ImageStoreError("image ID prefix \(text) is ambiguous: it matches \(matches.count) images") }
        }
        throw .notFound(text)
    }

    /// Each stored layer's size as Docker reports it (`SnapshotStore.contentSize`), by diffID.
    /// Layers an older Berth recorded with their tar's size only are measured now, once.
    public func layerSizes() throws(ImageStoreError) -> [Digest: Int64] {
        let layers = try database.layers()
        var measured: [Digest: Int64] = [:]
        for (diffID, layer) in layers where layer.contentSize == nil && snapshots.has(diffID) {
            measured[diffID] = try snapshots.contentSize(diffID)
        }
        if !measured.isEmpty { try database.setContentSizes(measured) }
        return layers.mapValues { $0.contentSize ?? 0 }.merging(measured) { $1 }
    }

    /// Each stored layer's uncompressed tar length, by diffID (what `save` writes).
    public func layerTarSizes() throws(ImageStoreError) -> [Digest: Int64] {
        try database.layers().mapValues(\.tarSize)
    }

    /// Records a snapshot just put in place: its tar's length and its measured content (returned).
    @discardableResult
    func recordLayer(_ diffID: Digest, tarSize: Int64) throws(ImageStoreError) -> Int64 {
        let contentSize = try snapshots.contentSize(diffID)
        try database.recordLayer(diffID: diffID, tarSize: tarSize, contentSize: contentSize)
        return contentSize
    }

    /// The snapshot directories of an image's layers, lowest first — the overlayfs lowerdir stack
    /// reversed (overlayfs names the topmost first).
    public func layerPaths(_ image: Image) -> [String] {
        image.config.rootfs.diffIDs.map { snapshots.path($0) }
    }
}
