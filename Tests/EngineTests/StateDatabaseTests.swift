import Foundation
import TestSupport
import Testing

/// The engine's database is opened once, by the engine, with one migrator for every table: a
/// database an earlier Berth made gets the tables it lacks, and CLIs opening a new one at once
/// each see every table.
@Suite(.enabled(if: EngineEnv.ready && EngineEnv.executable("/usr/bin/python3")), .serialized)
struct StateDatabaseTests {
    static func migrations(_ database: String) throws -> [String] {
        let out = try sh(["/usr/bin/python3", "-c", """
            import sqlite3, sys
            for (i,) in sqlite3.connect(sys.argv[1]).execute("SELECT identifier FROM grdb_migrations ORDER BY rowid"): print(i)
            """, database])
        try #require(out.status == 0, "read grdb_migrations: \(out.stderr)")
        return out.stdout.split(separator: "\n").map(String.init)
    }

    /// A database with only the image tables (what `berth images` made before containers existed)
    /// gains the container, volume and network tables, and keeps its images.
    @Test func anOlderDatabaseGetsTheTablesItLacks() throws {
        let berth = try BerthEngine(loadBusybox: false)
        defer { berth.remove() }
        try FileManager.default.createDirectory(atPath: berth.root, withIntermediateDirectories: true)
        let database = berth.root + "/berth.db"
        let made = try sh(["/usr/bin/python3", "-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.executescript('''
            CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
            INSERT INTO grdb_migrations VALUES ('images-v1');
            CREATE TABLE images (id TEXT PRIMARY KEY NOT NULL, manifest_digest TEXT NOT NULL,
                manifest_media_type TEXT NOT NULL, created TEXT, size INTEGER NOT NULL,
                added_at REAL NOT NULL, last_tag_time REAL);
            CREATE TABLE tags (reference TEXT PRIMARY KEY NOT NULL, image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);
            CREATE INDEX tags_by_image ON tags(image_id);
            CREATE TABLE repo_digests (reference TEXT PRIMARY KEY NOT NULL, image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);
            CREATE INDEX repo_digests_by_image ON repo_digests(image_id);
            CREATE TABLE layers (diff_id TEXT PRIMARY KEY NOT NULL, size INTEGER NOT NULL);
            ''')
            db.commit()
            """, database])
        try #require(made.status == 0, "make the old database: \(made.stderr)")
        #expect(try Self.migrations(database) == ["images-v1"])

        let loaded = try berth.callAnyway(["load", "-i", EngineEnv.busyboxLayout + ".tar"])
        try #require(loaded.status == 0, "berth load: \(loaded.stderr)")
        _ = try berth.call("volume", "create", "kept")
        _ = try berth.call("network", "create", "net1")
        let image = try berth.call("images", "-q").trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try berth.call("create", "--name", "c1", "--network", "none", image, "true")
        #expect(try Self.migrations(database) == ["images-v1", "images-v2", "containers-v1", "volumes-v1", "networks-v1"])
        #expect(try berth.call("ps", "-a", "--format", "{{.Names}}") == "c1\n")
        #expect(try berth.call("volume", "ls", "-q") == "kept\n")
    }

    /// Eight CLIs open a root that has no database yet, at once: each succeeds (the migrations run
    /// once, under the schema lock) and the database has every table once.
    @Test func concurrentFirstOpensMigrateOnce() throws {
        let berth = try BerthEngine(loadBusybox: false)
        defer { berth.remove() }
        let script = (0..<8).map { i in
            i % 2 == 0 ? "'\(berth.binary)' --root '\(berth.root)' --runroot '\(berth.runRoot)' ps -a >/dev/null &"
                       : "'\(berth.binary)' --root '\(berth.root)' --runroot '\(berth.runRoot)' images -q >/dev/null &"
        }.joined(separator: "\n") + "\nfail=0; for j in $(jobs -p); do wait $j || fail=1; done; exit $fail"
        let out = try sh(["/bin/bash", "-c", script])
        #expect(out.status == 0, "a concurrent first open failed: \(out.stderr)")
        #expect(try Self.migrations(berth.root + "/berth.db") == ["images-v1", "images-v2", "containers-v1", "volumes-v1", "networks-v1"])
    }
}
