import ContainerSpec
import FoundationEssentials
import GRDB
import ImageStore
import OCI

/// A container as the engine records it: what it was created from and with. What it is doing now
/// (running, exit code, restarts) is its supervisor's `ContainerRunState`, read beside this.
public struct Container: Sendable, Equatable {
    /// 64 hex digits.
    public var id: String
    /// Unique, without Docker's leading slash.
    public var name: String
    /// The image as the user named it (`busybox`, an ID prefix…), as Docker's Config.Image keeps it.
    public var image: String
    public var imageID: String
    /// RFC 3339 with nanoseconds, UTC.
    public var created: String
    public var options: RunOptions
    /// Docker's merged Config: the image's with the user's flags applied.
    public var config: ContainerConfig

    public var shortID: String { String(id.prefix(12)) }
}

/// The containers table in the engine database (`<root>/berth.db`, shared with the image records).
/// Every change is one transaction; the name's uniqueness is the database's, so two CLIs creating
/// the same name at once cannot both succeed.
final class ContainerDatabase: Sendable {
    let pool: DatabasePool

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// The containers tables' schema, in the order it grew (StateDatabase applies it).
    static func registerMigrations(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("containers-v1") { db in
            try db.execute(sql: """
                CREATE TABLE containers (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL UNIQUE,
                    image TEXT NOT NULL,
                    image_id TEXT NOT NULL,
                    created TEXT NOT NULL,
                    options BLOB NOT NULL,
                    config BLOB NOT NULL
                );
                CREATE INDEX containers_by_image ON containers(image_id);
                """)
        }
    }

    func insert(_ container: Container) throws(EngineError) {
        let options: [UInt8], config: [UInt8]
        do {
            options = try JSONTreeEncoder.encode(container.options)
            config = try JSONTreeEncoder.encode(container.config)
        } catch {
            throw .system("encode container \(container.name)", error)
        }
        do {
            try pool.write { db in
                if try Row.fetchOne(db, sql: "SELECT 1 FROM containers WHERE name = ?", arguments: [container.name]) != nil {
                    throw EngineError.conflict("Conflict. The container name \"/\(container.name)\" is already in use by container \"\(try String.fetchOne(db, sql: "SELECT id FROM containers WHERE name = ?", arguments: [container.name]) ?? "")\". You have to remove (or rename) that container to be able to reuse that name.")
                }
                try db.execute(sql: "INSERT INTO containers (id, name, image, image_id, created, options, config) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               arguments: [container.id, container.name, container.image, container.imageID, container.created,
                                           Data(options), Data(config)])
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .system("record container \(container.name)", error)
        }
    }

    func all() throws(EngineError) -> [Container] {
        try fetch("SELECT * FROM containers ORDER BY created DESC")
    }

    /// Docker's lookup order: a full ID, then a name, then the IDs `prefix` begins.
    func lookup(_ text: String, name: String) throws(EngineError) -> [Container] {
        let exact = try fetch("SELECT * FROM containers WHERE id = ?1 OR name = ?2 ORDER BY id = ?1 DESC", [text, name])
        if let first = exact.first { return [first] }
        guard !text.isEmpty else { return [] }
        return try fetch("SELECT * FROM containers WHERE substr(id, 1, length(?1)) = ?1", [text])
    }

    func names() throws(EngineError) -> Set<String> {
        do {
            return Set(try pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM containers") })
        } catch {
            throw .system("read container names", error)
        }
    }

    func exists(id: String) throws(EngineError) -> Bool {
        do {
            return try pool.read { db in try Row.fetchOne(db, sql: "SELECT 1 FROM containers WHERE id = ?", arguments: [id]) != nil }
        } catch {
            throw .system("read container \(id)", error)
        }
    }

    private func fetch(_ sql: String, _ arguments: StatementArguments = []) throws(EngineError) -> [Container] {
        do {
            return try pool.read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).compactMap(Self.decode) }
        } catch {
            throw .system("read containers", error)
        }
    }

    func remove(id: String) throws(EngineError) {
        do {
            try pool.write { db in try db.execute(sql: "DELETE FROM containers WHERE id = ?", arguments: [id]) }
        } catch {
            throw .system("remove container \(id) from the database", error)
        }
    }

    func rename(id: String, to name: String) throws(EngineError) {
        do {
            try pool.write { db in
                if let other = try String.fetchOne(db, sql: "SELECT id FROM containers WHERE name = ?", arguments: [name]) {
                    throw EngineError.conflict("Conflict. The container name \"/\(name)\" is already in use by container \"\(other)\". You have to remove (or rename) that container to be able to reuse that name.")
                }
                try db.execute(sql: "UPDATE containers SET name = ? WHERE id = ?", arguments: [name, id])
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .system("rename container \(id)", error)
        }
    }

    func update(id: String, options: RunOptions) throws(EngineError) {
        do {
            let bytes = try JSONTreeEncoder.encode(options)
            try pool.write { db in
                try db.execute(sql: "UPDATE containers SET options = ? WHERE id = ?", arguments: [Data(bytes), id])
            }
        } catch {
            throw .system("update container \(id)", error)
        }
    }

    /// A row whose JSON cannot be read (a newer berth wrote it) is left out rather than failing every listing.
    static func decode(_ row: Row) -> Container? {
        guard let optionsData: Data = row["options"], let configData: Data = row["config"],
              let options = try? JSONTreeDecoder.decode(RunOptions.self, from: Array(optionsData)),
              let config = try? JSONTreeDecoder.decode(ContainerConfig.self, from: Array(configData))
        else { return nil }
        return Container(id: row["id"], name: row["name"], image: row["image"], imageID: row["image_id"],
                         created: row["created"], options: options, config: config)
    }
}
