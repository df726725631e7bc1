import ContainerSpec
import Engine
import GRDB
import LinuxSys

/// The Kubernetes objects' store (etcd's role), in the engine's `berth.db`.
///
/// Objects are JSON documents keyed by resource, namespace and name. Every change is one SQLite
/// transaction that takes the next value of one store-wide revision (etcd's): it becomes the
/// object's `metadata.resourceVersion` and the change's place in the change log that watches read.
/// The log is compacted to its newest changes; a watch from before them is `expired` (410 Gone).
///
/// Durability: the database is in WAL mode; a transaction's frames are written to the WAL before
/// the write returns, so a kill -9 of the process at any moment loses no acknowledged change
/// (GRDB's `synchronous = NORMAL`: a power loss may roll back the newest changes, never tear one).
///
///     kube_objects   (resource, namespace, name) -> resource_version, object     the current objects
///     kube_changes   revision -> type, resource, namespace, name, object, at     the change log
///     kube_revision  the one row: revision (the newest; 1 when empty, as etcd starts, since "0" means
///                    "any" to the API), compacted (the log holds every change after it)
public final class ObjectStore: Sendable {
    public struct Options: Sendable {
        /// The change log keeps at most this many changes…
        public var keepChanges: Int
        /// …and none older than this, once compacted.
        public var keepSeconds: Double
        /// A write whose revision is a multiple of this compacts the log (its cost spread thin).
        public var compactEvery: UInt64
        /// A blocked watch re-reads the log this often even when this process wrote nothing: another
        /// process may have (this process's writes wake it at once).
        public var pollSeconds: Double

        public init(keepChanges: Int = 10_000, keepSeconds: Double = 300, compactEvery: UInt64 = 64, pollSeconds: Double = 1) {
            self.keepChanges = keepChanges
            self.keepSeconds = keepSeconds
            self.compactEvery = compactEvery
            self.pollSeconds = pollSeconds
        }
    }

    let pool: DatabasePool
    public let options: Options
    /// This process's newest committed revision, under a condition blocked watches wait on.
    let signal = RevisionSignal()

    /// A store over a database opened with `registerMigrations` among its migrations (see `open`).
    public init(database: StateDatabase, options: Options = Options()) throws(EngineError) {
        pool = database.pool
        self.options = options
        do {
            let revision = try pool.read { db -> UInt64 in
                guard try db.tableExists("kube_revision") else {
                    throw EngineError.system("open the Kubernetes store in \(database.path): the database was opened without the store's migrations")
                }
                return try Self.revisionRow(db).revision
            }
            signal.advance(to: revision)
        } catch let error as EngineError {
            throw error
        } catch {
            throw .system("open the Kubernetes store in \(database.path)", error)
        }
    }

    /// The store in `<root>/berth.db`, the engine's database, made and migrated with the store's tables.
    public static func open(root: String, options: Options = Options()) throws(EngineError) -> ObjectStore {
        try ObjectStore(database: Engine.openDatabase(root: root, migrations: registerMigrations), options: options)
    }

    /// The store's tables, for `Engine.openDatabase(root:migrations:)`: `berth serve` opens the
    /// engine's database once, with these, and hands it to both the engine and the store.
    public static func registerMigrations(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("kube-store-v1") { db in
            // WITHOUT ROWID: the key is the table's order, as etcd's keys are, so a list by resource
            // and namespace reads one range in (namespace, name) order.
            try db.execute(sql: """
                CREATE TABLE kube_objects (
                    resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                    resource_version INTEGER NOT NULL, object BLOB NOT NULL,
                    PRIMARY KEY (resource, namespace, name)) WITHOUT ROWID;
                CREATE TABLE kube_changes (
                    revision INTEGER PRIMARY KEY NOT NULL, type TEXT NOT NULL,
                    resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                    object BLOB NOT NULL, at REAL NOT NULL);
                CREATE INDEX kube_changes_by_resource ON kube_changes(resource, revision);
                CREATE TABLE kube_revision (
                    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
                    revision INTEGER NOT NULL, compacted INTEGER NOT NULL);
                INSERT INTO kube_revision (id, revision, compacted) VALUES (1, 1, 0);
                """)
        }
    }

    /// The store's newest revision: what a list or a watch from "now" starts at.
    public func currentRevision() throws(EngineError) -> UInt64 {
        try read("read the Kubernetes store's revision") { db in try Self.revisionRow(db).revision }
    }

    // MARK: - Plumbing

    static func revisionRow(_ db: Database) throws -> (revision: UInt64, compacted: UInt64) {
        guard let row = try Row.fetchOne(db, sql: "SELECT revision, compacted FROM kube_revision WHERE id = 1") else {
            throw EngineError.system("read the Kubernetes store's revision: the kube_revision row is missing")
        }
        return (UInt64(row["revision"] as Int64), UInt64(row["compacted"] as Int64))
    }

    func read<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws(EngineError) -> T {
        do {
            return try pool.read(body)
        } catch let error as EngineError {
            throw error
        } catch {
            throw .system(operation(), error)
        }
    }

    /// One transaction; its body returns the revision it committed (nil when it changed nothing),
    /// and blocked watches are woken once it is durable.
    func write<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> (T, UInt64?)) throws(EngineError) -> T {
        let (result, revision): (T, UInt64?)
        do {
            (result, revision) = try pool.write(body)
        } catch let error as EngineError {
            throw error
        } catch {
            throw .system(operation(), error)
        }
        if let revision { signal.advance(to: revision) }
        return result
    }
}

/// The newest revision this process committed, and the condition that watches sleep on until it moves.
final class RevisionSignal: @unchecked Sendable {
    let condition = ConditionLock()
    /// Guarded by `condition`.
    private var revision: UInt64 = 0
    /// Threads inside `wait` (guarded by `condition`): a test waits for a watch to be asleep.
    private var sleepers = 0
    var sleeping: Int { condition.withLock { sleepers } }

    func advance(to newRevision: UInt64) {
        condition.withLock {
            if newRevision > revision { revision = newRevision }
            condition.broadcast()
        }
    }

    /// Wakes everyone (a watch was stopped) without a new revision.
    func poke() { condition.withLock { condition.broadcast() } }

    /// Sleeps until the revision passes `seen`, `stop()` says so, or `seconds` pass.
    func wait(after seen: UInt64, seconds: Double, stop: () -> Bool) {
        let deadline = MonotonicClock.seconds() + seconds
        condition.withLock {
            sleepers += 1
            defer { sleepers -= 1 }
            while revision <= seen && !stop() {
                let left = deadline - MonotonicClock.seconds()
                if left <= 0 || !condition.wait(timeoutSeconds: left) { return }
            }
        }
    }
}
