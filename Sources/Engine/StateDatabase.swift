import ContainerSpec
import Glibc
import GRDB
import ImageStore
import LinuxSys

/// The engine's database, `<root>/berth.db` (SQLite, WAL): images, containers, volumes and
/// networks in one file, so one transaction can span them. The engine opens it once and applies
/// every table's migrations with one migrator; the stores are handed the open pool.
///
/// A service above the engine keeps its tables here too (the Kubernetes store): it passes its own
/// migrations, applied after the engine's, and the engine never learns what they are. Engines
/// opened without them ignore those tables (GRDB skips migrations it does not know).
public final class StateDatabase: Sendable {
    public let pool: DatabasePool
    public let path: String

    /// Registers a service's own migrations (their identifiers must not collide with the engine's).
    public typealias Migrations = (inout DatabaseMigrator) -> Void

    public init(path: String, migrations extra: Migrations = { _ in }) throws(EngineError) {
        self.path = path
        try Self.restrictToOwner(path)
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(30)
            // 512 KiB of page cache per connection instead of SQLite's 2 MiB: `berth serve` keeps a
            // writer and up to five readers open, each caching the pages its lists read (the whole
            // object table, with a hundred Pods), while the kernel's page cache holds the file anyway.
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -512") }
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw .system("open the engine database \(path)", error)
        }
        do {
            try Self.withSchemaLock(path: path) {
                var migrator = Self.migrator
                extra(&migrator)
                try migrator.migrate(pool)
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .system("migrate the engine database \(path)", error)
        }
    }

    /// Every table's schema, in the order the tables were added: a database made by any earlier
    /// Berth has a prefix of these applied, and gets the rest.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        ImageDatabase.registerMigrations(in: &migrator)
        ContainerDatabase.registerMigrations(in: &migrator)
        VolumeDatabase.registerMigrations(in: &migrator)
        NetworkDatabase.registerMigrations(in: &migrator)
        return migrator
    }

    /// Container records hold every `-e` value a user gave: the database is its owner's alone.
    /// It is created 0600 before SQLite opens it (the WAL and SHM files take the database's mode),
    /// and a database an older Berth made 0644 is narrowed, with its WAL and SHM.
    static func restrictToOwner(_ path: String) throws(EngineError) {
        do {
            let fd = try FS.open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode: 0o600)
            defer { FS.close(fd) }
            try sys("chmod 0600", path) { fchmod(fd, 0o600) }
        } catch {
            throw .system("create the engine database \(path)", error)
        }
        for suffix in ["-wal", "-shm"] {
            guard let side = try? FS.open(path + suffix, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) else { continue }
            _ = fchmod(side, 0o600)
            FS.close(side)
        }
    }

    /// Runs schema migrations under an exclusive lock on `<db>.lock`: two processes opening a new
    /// database at once would otherwise both see a migration as pending and both apply it.
    static func withSchemaLock(path: String, _ body: () throws -> Void) throws {
        let fd = try FS.open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o600)
        defer { FS.close(fd) }
        try sys("lock", path + ".lock") { flock(fd, LOCK_EX) }
        try body()
    }
}
