import ContainerSpec
import FoundationEssentials
import GRDB

extension ObjectStore {
    /// One object.
    public func get(_ key: ObjectKey) throws(EngineError) -> StoredObject {
        guard let object = try read("get \(key)", { db in try Self.current(db, key) }) else {
            throw .notFound("get \(key): not found")
        }
        return object
    }

    /// A resource's objects, in one namespace or (nil) all, in (namespace, name) order, with the
    /// revision they were read at (one snapshot: the list is exactly the store at that revision).
    /// `filter` keeps the objects it accepts (label and field selectors); it runs after the read.
    public func list(_ resource: Resource, namespace: String? = nil,
                     filter: ((StoredObject) throws(EngineError) -> Bool)? = nil) throws(EngineError) -> ObjectList {
        let (revision, objects) = try read("list \(resource)") { db -> (UInt64, [StoredObject]) in
            let revision = try Self.revisionRow(db).revision
            var sql = "SELECT namespace, name, resource_version, object FROM kube_objects WHERE resource = ?"
            var arguments: StatementArguments = [resource.description]
            if let namespace {
                sql += " AND namespace = ?"
                arguments += [namespace]
            }
            let rows = try Row.fetchAll(db, sql: sql + " ORDER BY namespace, name", arguments: arguments)
            return (revision, rows.map { row in
                StoredObject(key: ObjectKey(resource, namespace: row["namespace"], name: row["name"]),
                             resourceVersion: UInt64(row["resource_version"] as Int64), json: [UInt8](row["object"] as Data))
            })
        }
        guard let filter else { return ObjectList(resourceVersion: revision, items: objects) }
        var kept: [StoredObject] = []
        for object in objects where try filter(object) { kept.append(object) }
        return ObjectList(resourceVersion: revision, items: kept)
    }
}

extension ObjectStore {
    /// Sleeps until this process commits a revision after `revision`, `seconds` pass, or `stop`
    /// says so (checked whenever `wake` is called): how a control loop waits for work.
    public func waitForChange(after revision: UInt64, seconds: Double, stop: () -> Bool) {
        signal.wait(after: revision, seconds: seconds, stop: stop)
    }

    /// Wakes every `waitForChange` (and watch) to look at its stop condition.
    public func wake() { signal.poke() }
}
