import Foundation
import GRDB
import OCI

/// One stored image: its ID is the digest of its config, as Docker's is.
public struct ImageRecord: Sendable, Equatable {
    public var id: Digest
    public var manifestDigest: Digest
    public var manifestMediaType: String
    /// The config's `created` time, as written there (RFC 3339).
    public var created: String?
    /// Sum of the unpacked content of its layers (`SnapshotStore.contentSize`), as Docker reports
    /// `Size`; -1 in the database until measured (records an older Berth wrote with tar sizes).
    public var size: Int64
    public var addedAt: Double
    public var lastTagTime: Double?
    /// Normalised references (`docker.io/library/busybox:latest`), sorted.
    public var tags: [String] = []
    /// `name@digest` of the manifest (or index) each repository served it as.
    public var repoDigests: [String] = []
}

/// Image records, tags and layer sizes: tables in the engine's database (`<root>/berth.db`, WAL),
/// which the engine opens and migrates (it owns the file; these are the image tables' migrations).
/// Every change is one transaction, and content (blobs, snapshots) is in place before the record
/// that names it.
public final class ImageDatabase: Sendable {
    package let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    /// The image tables' schema, in the order it grew.
    public static func registerMigrations(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("images-v1") { db in
            try db.execute(sql: """
                CREATE TABLE images (
                    id TEXT PRIMARY KEY NOT NULL,
                    manifest_digest TEXT NOT NULL,
                    manifest_media_type TEXT NOT NULL,
                    created TEXT,
                    size INTEGER NOT NULL,
                    added_at REAL NOT NULL,
                    last_tag_time REAL
                );
                CREATE TABLE tags (
                    reference TEXT PRIMARY KEY NOT NULL,
                    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
                );
                CREATE INDEX tags_by_image ON tags(image_id);
                CREATE TABLE repo_digests (
                    reference TEXT PRIMARY KEY NOT NULL,
                    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
                );
                CREATE INDEX repo_digests_by_image ON repo_digests(image_id);
                CREATE TABLE layers (
                    diff_id TEXT PRIMARY KEY NOT NULL,
                    size INTEGER NOT NULL
                );
                """)
        }
        // Sizes as Docker reports them: a layer's unpacked content, not its tar stream. `size`
        // stays the tar's length (`save` writes it in headers); `content_size` is NULL until
        // the snapshot is measured, and images are summed again once it is (size -1).
        migrator.registerMigration("images-v2") { db in
            try db.execute(sql: """
                ALTER TABLE layers ADD COLUMN content_size INTEGER;
                UPDATE images SET size = -1;
                """)
        }
    }

    func wrap<T>(_ what: String, _ body: () throws -> T) throws(ImageStoreError) -> T {
        do { return try body() } catch let error as ImageStoreError { throw error } catch {
            throw ImageStoreError("\(what): \(error)")
        }
    }

    /// Records an image and points `tags` at it (moving them from any other image), in one transaction.
    public func store(_ image: ImageRecord, tags: [String], repoDigests: [String]) throws(ImageStoreError) {
        try wrap("record image \(image.id)") {
            try pool.write { db in
                let now = Date().timeIntervalSince1970
                try db.execute(sql: """
                    INSERT INTO images (id, manifest_digest, manifest_media_type, created, size, added_at, last_tag_time)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest,
                        manifest_media_type = excluded.manifest_media_type, size = excluded.size
                    """, arguments: [image.id.description, image.manifestDigest.description, image.manifestMediaType,
                                     image.created, image.size, now, tags.isEmpty ? nil : now])
                for tag in tags {
                    try db.execute(sql: "INSERT OR REPLACE INTO tags (reference, image_id) VALUES (?, ?)",
                                   arguments: [tag, image.id.description])
                }
                if !tags.isEmpty {
                    try db.execute(sql: "UPDATE images SET last_tag_time = ? WHERE id = ?", arguments: [now, image.id.description])
                }
                for digest in repoDigests {
                    try db.execute(sql: "INSERT OR REPLACE INTO repo_digests (reference, image_id) VALUES (?, ?)",
                                   arguments: [digest, image.id.description])
                }
            }
        }
    }

    /// `tarSize`: bytes of the uncompressed tar; `contentSize`: what Docker reports (`SnapshotStore.contentSize`).
    public func recordLayer(diffID: Digest, tarSize: Int64, contentSize: Int64) throws(ImageStoreError) {
        try wrap("record layer \(diffID)") {
            try pool.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO layers (diff_id, size, content_size) VALUES (?, ?, ?)",
                               arguments: [diffID.description, tarSize, contentSize])
            }
        }
    }

    /// Every recorded layer: its tar's size and its content's (nil until measured).
    public func layers() throws(ImageStoreError) -> [Digest: (tarSize: Int64, contentSize: Int64?)] {
        try wrap("read layers") {
            try pool.read { db in
                var sizes: [Digest: (tarSize: Int64, contentSize: Int64?)] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT diff_id, size, content_size FROM layers") {
                    if let digest = try? Digest(row["diff_id"] as String) { sizes[digest] = (row["size"], row["content_size"]) }
                }
                return sizes
            }
        }
    }

    public func setContentSizes(_ sizes: [Digest: Int64]) throws(ImageStoreError) {
        try wrap("record layer sizes") {
            try pool.write { db in
                for (diffID, size) in sizes {
                    try db.execute(sql: "UPDATE layers SET content_size = ? WHERE diff_id = ?", arguments: [size, diffID.description])
                }
            }
        }
    }

    public func setSizes(_ sizes: [Digest: Int64]) throws(ImageStoreError) {
        try wrap("record image sizes") {
            try pool.write { db in
                for (id, size) in sizes {
                    try db.execute(sql: "UPDATE images SET size = ? WHERE id = ?", arguments: [size, id.description])
                }
            }
        }
    }

    public func forgetLayer(_ diffID: Digest) throws(ImageStoreError) {
        try wrap("forget layer \(diffID)") {
            try pool.write { db in try db.execute(sql: "DELETE FROM layers WHERE diff_id = ?", arguments: [diffID.description]) }
        }
    }

    public func images() throws(ImageStoreError) -> [ImageRecord] {
        try wrap("list images") {
            try pool.read { db in
                var byID: [String: ImageRecord] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT * FROM images") {
                    guard let id = try? Digest(row["id"] as String),
                          let manifest = try? Digest(row["manifest_digest"] as String) else { continue }
                    byID[id.description] = ImageRecord(
                        id: id, manifestDigest: manifest, manifestMediaType: row["manifest_media_type"],
                        created: row["created"], size: row["size"], addedAt: row["added_at"], lastTagTime: row["last_tag_time"])
                }
                for row in try Row.fetchAll(db, sql: "SELECT reference, image_id FROM tags ORDER BY reference") {
                    byID[row["image_id"] as String]?.tags.append(row["reference"])
                }
                for row in try Row.fetchAll(db, sql: "SELECT reference, image_id FROM repo_digests ORDER BY reference") {
                    byID[row["image_id"] as String]?.repoDigests.append(row["reference"])
                }
                // Newest first, as `docker images` lists them.
                return byID.values.sorted { ($0.created ?? "", $0.addedAt, $0.id) > ($1.created ?? "", $1.addedAt, $1.id) }
            }
        }
    }

    public func tag(_ reference: String, to id: Digest) throws(ImageStoreError) {
        try wrap("tag \(reference)") {
            try pool.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO tags (reference, image_id) VALUES (?, ?)", arguments: [reference, id.description])
                try db.execute(sql: "UPDATE images SET last_tag_time = ? WHERE id = ?", arguments: [Date().timeIntervalSince1970, id.description])
            }
        }
    }

    /// Removes a tag; returns whether it existed.
    public func untag(_ reference: String) throws(ImageStoreError) -> Bool {
        try wrap("untag \(reference)") {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM tags WHERE reference = ?", arguments: [reference])
                let removed = db.changesCount > 0
                try db.execute(sql: "DELETE FROM repo_digests WHERE reference = ?", arguments: [reference])
                return removed || db.changesCount > 0
            }
        }
    }

    /// Deletes an image's record with its tags and digests (content is collected separately).
    public func delete(_ id: Digest) throws(ImageStoreError) {
        try wrap("delete image \(id)") {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM tags WHERE image_id = ?", arguments: [id.description])
                try db.execute(sql: "DELETE FROM repo_digests WHERE image_id = ?", arguments: [id.description])
                try db.execute(sql: "DELETE FROM images WHERE id = ?", arguments: [id.description])
            }
        }
    }

    /// Drops repo digests of a repository that no longer has any tag on the image (as Docker does on untag).
    public func pruneRepoDigests(of id: Digest) throws(ImageStoreError) {
        try wrap("update digests of \(id)") {
            try pool.write { db in
                let tags = try String.fetchAll(db, sql: "SELECT reference FROM tags WHERE image_id = ?", arguments: [id.description])
                let repos = Set(tags.compactMap { try? ImageReference(parsing: $0).name })
                for digest in try String.fetchAll(db, sql: "SELECT reference FROM repo_digests WHERE image_id = ?", arguments: [id.description]) {
                    let name = digest.split(separator: "@").first.map(String.init) ?? digest
                    if !repos.contains(name) {
                        try db.execute(sql: "DELETE FROM repo_digests WHERE reference = ?", arguments: [digest])
                    }
                }
            }
        }
    }
}
