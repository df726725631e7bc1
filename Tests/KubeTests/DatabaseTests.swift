import ContainerSpec
import Engine
import Foundation
import Kube
import Testing

/// The store's tables live in the engine's berth.db, added by the store's own migration.
struct DatabaseTests {
    @Test func theEngineAndTheStoreShareOneDatabase() throws {
        let temporary = try TemporaryStore()
        try temporary.store.create(pods, object("p", namespace: "default"))
        // An engine opened without the store's migrations (a CLI) still opens the database.
        let runRoot = temporary.root + "/run"
        _ = try Engine(root: temporary.root, runRoot: runRoot)
        // berth serve's way: one database, both services over its pool.
        let database = try Engine.openDatabase(root: temporary.root, migrations: ObjectStore.registerMigrations)
        _ = try Engine(root: temporary.root, runRoot: runRoot, database: database)
        let shared = try ObjectStore(database: database)
        #expect(try shared.get(ObjectKey(pods, namespace: "default", name: "p")).resourceVersion == 2)
        var mode = stat()
        #expect(stat(temporary.root + "/berth.db", &mode) == 0)
        #expect(mode.st_mode & 0o777 == 0o600, "Secrets will be stored here")
    }

    @Test func aDatabaseWithoutTheStoresTablesIsAClearError() throws {
        let root = NSTemporaryDirectory() + "berth-kube-bare-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let bare = try Engine.openDatabase(root: root)
        let error = #expect(throws: EngineError.self) { _ = try ObjectStore(database: bare) }
        #expect(error?.kind == .internal)
        #expect(error?.message.contains("without the store's migrations") == true)
    }

    @Test func objectsAreStoredAsCompactJSONInTheirOrder() throws {
        let temporary = try TemporaryStore()
        let made = try temporary.store.create(configMaps, try json("""
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"},
             "data": {"z": "<&>\\u2028 \\"q\\" \\\\ \\n", "a": "é😀"}, "big": 12345678901234567890123, "f": 1.50}
            """))
        let text = String(decoding: made.json, as: UTF8.self)
        #expect(text.hasPrefix(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"default","uid":""#))
        #expect(text.contains(#""data":{"z":"\u003c\u0026\u003e\u2028 \"q\" \\ \n","a":"é😀"},"big":12345678901234567890123,"f":1.50}"#), "\(text)")
        #expect(try temporary.store.get(made.key).json == made.json)
    }
}
