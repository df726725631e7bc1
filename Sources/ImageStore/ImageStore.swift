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

    public func images() throws(ImageStoreError) -> [ImageRecord] { try database.images() }

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

    /// Uncompressed size of each unpacked layer, for `Size`.
    public func layerSizes() throws(ImageStoreError) -> [Digest: Int64] { try database.layerSizes() }

    /// The snapshot directories of an image's layers, lowest first — the overlayfs lowerdir stack
    /// reversed (overlayfs names the topmost first).
    public func layerPaths(_ image: Image) -> [String] {
        image.config.rootfs.diffIDs.map { snapshots.path($0) }
    }
}
