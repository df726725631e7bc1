import ContainerSpec
import FoundationEssentials
import GRDB
import ImageStore
import OCI

/// A volume as the engine records it (Docker's local driver: a directory under `<root>/volumes`).
public struct Volume: Sendable, Equatable {
    public var name: String
    /// Always "local" for now: the only driver.
    public var driver: String
    /// `<root>/volumes/<name>/_data`, what a container gets bind-mounted.
    public var mountpoint: String
    /// RFC 3339 to the second, UTC, as Docker's CreatedAt.
    public var created: String
    /// nil when made implicitly by `run -v name:/x` (Docker prints `null`), `{}` from `volume create`.
    public var labels: [String: String]?
    public var options: [String: String]?
    /// Made for one container (`-v /path`, an image VOLUME): `rm -v` and `volume prune` without
    /// `-a` remove it. Docker 23+ marks these with a label; inspect shows it the same way.
    public var anonymous: Bool

    /// The label Docker 23+ puts on anonymous volumes.
    public static let anonymousLabel = "com.docker.volume.anonymous"

    /// Labels as `volume inspect`/`ls` report them: the user's, plus Docker's anonymous marker.
    public var reportedLabels: [String: String]? {
        guard anonymous else { return labels }
        var all = labels ?? [:]
        all[Self.anonymousLabel] = ""
        return all
    }
}

/// One volume mounted into one container, recorded when the container is created.
public struct VolumeAttachment: Sendable, Equatable {
    public var containerID: String
    public var name: String
    /// The cleaned absolute path inside the container.
    public var destination: String
    public var anonymous: Bool
}

/// The `volumes` and `volume_mounts` tables in the engine database, beside `containers`. Every
/// change is one transaction, and the directory work that must agree with a record (making a
/// volume's directory, moving a removed one aside) happens inside that transaction, so a volume
/// that `volume rm` is removing cannot be handed to a container being created at the same moment.
final class VolumeDatabase: Sendable {
    let pool: DatabasePool

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// The volumes tables' schema, in the order it grew (StateDatabase applies it).
    static func registerMigrations(in migrator: inout DatabaseMigrator) {
        // No foreign key to containers: a container's uses are ignored once its record is gone
        // (every query joins containers) and swept by the next volume change.
        migrator.registerMigration("volumes-v1") { db in
            try db.execute(sql: """
                CREATE TABLE volumes (
                    name TEXT PRIMARY KEY NOT NULL,
                    driver TEXT NOT NULL,
                    created TEXT NOT NULL,
                    labels TEXT,
                    options TEXT,
                    anonymous INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE volume_mounts (
                    container_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    destination TEXT NOT NULL,
                    PRIMARY KEY (container_id, destination)
                );
                CREATE INDEX volume_mounts_by_name ON volume_mounts(name);
                """)
        }
    }

    /// What a container asks for at one destination: a named volume, or nil for a new anonymous one.
    struct Want {
        var destination: String
        var name: String?
    }

    /// Creates `volume` unless one of its name exists (then returns that one, as Docker does);
    /// `makeDirectory` runs inside the transaction.
    func create(_ volume: Volume, makeDirectory: @escaping @Sendable (String) throws -> Void) throws(EngineError) -> Volume {
        do {
            return try pool.write { db in
                if let existing = try Self.fetchVolume(db, volume.name) { return existing }
                try makeDirectory(volume.name)
                try Self.insert(db, volume)
                return volume
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .system("create volume \(volume.name)", error)
        }
    }

    /// The container's volumes at each wanted destination: those recorded before are kept, the rest
    /// are made (a named volume when missing, a fresh anonymous one) and recorded, in one transaction.
    func attach(containerID: String, wants: [Want], make: @escaping @Sendable (_ name: String, _ anonymous: Bool) throws -> Volume,
                makeDirectory: @escaping @Sendable (String) throws -> Void) throws(EngineError) -> [VolumeAttachment] {
        do {
            return try pool.write { db in
                var result: [VolumeAttachment] = []
                for want in wants {
                    if let row = try Row.fetchOne(db, sql: """
                        SELECT m.name, v.anonymous FROM volume_mounts m JOIN volumes v ON v.name = m.name
                        WHERE m.container_id = ? AND m.destination = ?
                        """, arguments: [containerID, want.destination]) {
                        let name: String = row["name"]
                        try makeDirectory(name)
                        result.append(VolumeAttachment(containerID: containerID, name: name, destination: want.destination,
                                                       anonymous: row["anonymous"]))
                        continue
                    }
                    let volume: Volume
                    if let name = want.name, let existing = try Self.fetchVolume(db, name) {
                        volume = existing
                    } else {
                        volume = try make(want.name ?? Engine.newID(), want.name == nil)
                        try Self.insert(db, volume)
                    }
                    try makeDirectory(volume.name)
                    try db.execute(sql: "INSERT OR REPLACE INTO volume_mounts (container_id, name, destination) VALUES (?, ?, ?)",
                                   arguments: [containerID, volume.name, want.destination])
                    result.append(VolumeAttachment(containerID: containerID, name: volume.name, destination: want.destination,
                                                   anonymous: volume.anonymous))
                }
                return result
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .system("attach volumes to container \(containerID)", error)
        }
    }

    func attachments(containerID: String) throws(EngineError) -> [VolumeAttachment] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT m.name, m.destination, v.anonymous FROM volume_mounts m JOIN volumes v ON v.name = m.name
                    WHERE m.container_id = ? ORDER BY m.rowid
                    """, arguments: [containerID]).map {
                    VolumeAttachment(containerID: containerID, name: $0["name"], destination: $0["destination"], anonymous: $0["anonymous"])
                }
            }
        } catch {
            throw .system("read the volumes of container \(containerID)", error)
        }
    }

    func all() throws(EngineError) -> [Volume] {
        do {
            return try pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM volumes ORDER BY name").map(Self.decode) }
        } catch {
            throw .system("read volumes", error)
        }
    }

    func get(_ name: String) throws(EngineError) -> Volume? {
        do {
            return try pool.read { db in try Self.fetchVolume(db, name) }
        } catch {
            throw .system("read volume \(name)", error)
        }
    }

    /// IDs of the existing containers that use the volume.
    func users(_ name: String) throws(EngineError) -> [String] {
        do {
            return try pool.read { db in try Self.users(db, name) }
        } catch {
            throw .system("read the users of volume \(name)", error)
        }
    }

    /// Names of every volume some existing container uses.
    func namesInUse() throws(EngineError) -> Set<String> {
        do {
            return Set(try pool.read { db in
                try String.fetchAll(db, sql: "SELECT DISTINCT m.name FROM volume_mounts m JOIN containers c ON c.id = m.container_id")
            })
        } catch {
            throw .system("read volumes in use", error)
        }
    }

    /// Deletes the record of an unused volume; `moveAside` (inside the transaction) takes its
    /// directory out of the way so it can be deleted after. Throws notFound or Docker's in-use conflict.
    func remove(_ name: String, moveAside: @escaping @Sendable (String) throws -> Void) throws(EngineError) {
        do {
            try pool.write { db in
                guard try Self.fetchVolume(db, name) != nil else {
                    throw EngineError.notFound("get \(name): no such volume")
                }
                let users = try Self.users(db, name)
                guard users.isEmpty else {
                    throw EngineError.conflict("remove \(name): volume is in use - [\(users.joined(separator: ", "))]")
                }
                try db.execute(sql: "DELETE FROM volume_mounts WHERE container_id NOT IN (SELECT id FROM containers)")
                try db.execute(sql: "DELETE FROM volumes WHERE name = ?", arguments: [name])
                try moveAside(name)
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .system("remove volume \(name)", error)
        }
    }

    private static func users(_ db: Database, _ name: String) throws -> [String] {
        try String.fetchAll(db, sql: """
            SELECT DISTINCT m.container_id FROM volume_mounts m JOIN containers c ON c.id = m.container_id
            WHERE m.name = ? ORDER BY m.container_id
            """, arguments: [name])
    }

    private static func fetchVolume(_ db: Database, _ name: String) throws -> Volume? {
        try Row.fetchOne(db, sql: "SELECT * FROM volumes WHERE name = ?", arguments: [name]).map(decode)
    }

    private static func insert(_ db: Database, _ volume: Volume) throws {
        try db.execute(sql: "INSERT INTO volumes (name, driver, created, labels, options, anonymous) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [volume.name, volume.driver, volume.created, encode(volume.labels), encode(volume.options),
                                   volume.anonymous])
    }

    private static func encode(_ map: [String: String]?) throws -> String? {
        guard let map else { return nil }
        return String(decoding: try JSONTreeEncoder.encode(map), as: UTF8.self)
    }

    /// The mountpoint is filled in by the engine, which knows its root.
    private static func decode(_ row: Row) -> Volume {
        func map(_ column: String) -> [String: String]? {
            guard let text: String = row[column] else { return nil }
            return try? JSONTreeDecoder.decode([String: String].self, from: Array(text.utf8))
        }
        return Volume(name: row["name"], driver: row["driver"], mountpoint: "", created: row["created"],
                      labels: map("labels"), options: map("options"), anonymous: row["anonymous"])
    }
}
