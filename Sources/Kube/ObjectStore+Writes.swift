import ContainerSpec
import FoundationEssentials
import GoCompat
import GRDB

/// The changes: each is one transaction that takes the next revision, writes the object and
/// appends the change to the log.
extension ObjectStore {
    /// Stores a new object; its key is its resource and `metadata.namespace`/`metadata.name`.
    /// Sets `metadata.resourceVersion`, `uid`, `creationTimestamp`, and `generation` 1 when the
    /// object has a `spec` (the apiserver's strategies for spec'd kinds do); whatever the client
    /// sent in those is replaced. An existing key is a `conflict` (the API's AlreadyExists).
    /// `uid`, when given, is the uid to set: the API chose it first because the object refers
    /// to it (a Job's generated selector).
    @discardableResult
    public func create(_ resource: Resource, _ object: JSONValue, uid: String? = nil) throws(EngineError) -> StoredObject {
        let key = try Self.key(resource, object, operation: "create")
        return try write("create \(key)") { db -> (StoredObject, UInt64?) in
            if try Self.current(db, key) != nil {
                throw EngineError.conflict("create \(key): it already exists")
            }
            let revision = try Self.nextRevision(db)
            var value = object
                .settingMetadata("uid", to: .string(uid ?? SystemFields.uuid()))
                .settingMetadata("creationTimestamp", to: .string(SystemFields.timestamp()))
                .settingMetadata("resourceVersion", to: .string(String(revision)))
            value = value.settingMetadata("generation", to: value[member: "spec"] == nil ? nil : .number("1"))
            let stored = try self.put(db, key, value, revision: revision, change: .added)
            return (stored, revision)
        }
    }

    /// Replaces an object (the API's PUT). A `metadata.resourceVersion` in `object` must be the
    /// stored one (optimistic concurrency), else a `conflict`; without one the update is
    /// unconditional. A `metadata.uid` must be the stored one. `uid` and `creationTimestamp` are
    /// kept; `generation` grows by one when `spec` changed and never otherwise. An update that
    /// changes nothing writes nothing and keeps the resourceVersion, as the apiserver does.
    @discardableResult
    public func update(_ resource: Resource, _ object: JSONValue) throws(EngineError) -> StoredObject {
        let key = try Self.key(resource, object, operation: "update")
        return try write("update \(key)") { db -> (StoredObject, UInt64?) in
            guard let old = try Self.current(db, key) else {
                throw EngineError.notFound("update \(key): not found")
            }
            if let given = object.metadataString("resourceVersion"), given != String(old.resourceVersion) {
                throw EngineError.conflict("update \(key): the object has been modified (resourceVersion \(given), stored \(old.resourceVersion))")
            }
            return try self.replace(db, key, old: old, with: object, operation: "update")
        }
    }

    /// Reads the object, applies `transform` to it and stores the result, in one transaction: no
    /// other change can come between the read and the write, so the update is never lost and
    /// never conflicts (the apiserver's GuaranteedUpdate, without its retries). `transform` runs
    /// inside the transaction: it must be quick and must not call the store. The rules of
    /// `update` apply to what it returns, but its `metadata.resourceVersion` is not checked.
    @discardableResult
    /// `keepingGeneration`: a change the API makes through a subresource (a Pod's binding to its
    /// node) that does not count as a new spec.
    public func guaranteedUpdate(_ key: ObjectKey, keepingGeneration: Bool = false,
                                 _ transform: (JSONValue) throws(EngineError) -> JSONValue) throws(EngineError) -> StoredObject {
        try write("update \(key)") { db -> (StoredObject, UInt64?) in
            guard let old = try Self.current(db, key) else {
                throw EngineError.notFound("update \(key): not found")
            }
            var new = try transform(try old.value())
            guard new[member: "metadata"]?[member: "name"]?.stringValue ?? key.name == key.name,
                  new[member: "metadata"]?[member: "namespace"]?.stringValue ?? key.namespace == key.namespace else {
                throw EngineError.invalid("update \(key): the update may not change the object's name or namespace")
            }
            new = new.settingMetadata("name", to: .string(key.name))
            if !key.namespace.isEmpty { new = new.settingMetadata("namespace", to: .string(key.namespace)) }
            return try self.replace(db, key, old: old, with: new, operation: "update", keepingGeneration: keepingGeneration)
        }
    }

    /// Removes an object; returns it as last stored, with the deletion's revision as its
    /// resourceVersion (what a watch's DELETED event carries). The preconditions, when given, must
    /// hold, else a `conflict`.
    @discardableResult
    public func delete(_ key: ObjectKey, resourceVersion: UInt64? = nil, uid: String? = nil) throws(EngineError) -> StoredObject {
        try write("delete \(key)") { db -> (StoredObject, UInt64?) in
            guard let old = try Self.current(db, key) else {
                throw EngineError.notFound("delete \(key): not found")
            }
            if let resourceVersion, resourceVersion != old.resourceVersion {
                throw EngineError.conflict("delete \(key): the object has been modified (resourceVersion \(resourceVersion), stored \(old.resourceVersion))")
            }
            let value = try old.value()
            if let uid, uid != value.metadataString("uid") {
                throw EngineError.conflict("delete \(key): the object's uid is \(value.metadataString("uid") ?? "unset"), not \(uid)")
            }
            let revision = try Self.nextRevision(db)
            let last = value.settingMetadata("resourceVersion", to: .string(String(revision))).serialized
            try db.execute(sql: "DELETE FROM kube_objects WHERE resource = ? AND namespace = ? AND name = ?",
                           arguments: [key.resource.description, key.namespace, key.name])
            try self.logChange(db, .deleted, key, json: last, revision: revision)
            return (StoredObject(key: key, resourceVersion: revision, json: last), revision)
        }
    }

    // MARK: - Inside a transaction

    /// The update rules shared by `update` and `guaranteedUpdate`.
    func replace(_ db: Database, _ key: ObjectKey, old: StoredObject, with object: JSONValue, operation: String,
                 keepingGeneration: Bool = false) throws -> (StoredObject, UInt64?) {
        let previous = try old.value()
        if let uid = object.metadataString("uid"), uid != previous.metadataString("uid") {
            throw EngineError.conflict("\(operation) \(key): the object's uid is \(previous.metadataString("uid") ?? "unset"), not \(uid)")
        }
        var value = object
            .settingMetadata("uid", to: previous[member: "metadata"]?[member: "uid"])
            .settingMetadata("creationTimestamp", to: previous[member: "metadata"]?[member: "creationTimestamp"])
            .settingMetadata("resourceVersion", to: .string(String(old.resourceVersion)))
        let generation = previous[member: "metadata"]?[member: "generation"]
        if value[member: "spec"] != previous[member: "spec"] && !keepingGeneration {
            var number: Int64 = 0
            if case .number(let text)? = generation { number = Int64(text) ?? 0 }
            value = value.settingMetadata("generation", to: .number(String(number + 1)))
        } else {
            value = value.settingMetadata("generation", to: generation)
        }
        // Nothing changed: no revision, no event (etcd3's store short-circuits the same way).
        if value == previous { return (old, nil) }
        let revision = try Self.nextRevision(db)
        value = value.settingMetadata("resourceVersion", to: .string(String(revision)))
        return (try put(db, key, value, revision: revision, change: .modified), revision)
    }

    func put(_ db: Database, _ key: ObjectKey, _ value: JSONValue, revision: UInt64, change: ObjectEvent.Kind) throws -> StoredObject {
        let json = value.serialized
        try db.execute(sql: """
            INSERT INTO kube_objects (resource, namespace, name, resource_version, object) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (resource, namespace, name) DO UPDATE SET resource_version = excluded.resource_version, object = excluded.object
            """, arguments: [key.resource.description, key.namespace, key.name, Int64(revision), Data(json)])
        try logChange(db, change, key, json: json, revision: revision)
        return StoredObject(key: key, resourceVersion: revision, json: json)
    }

    func logChange(_ db: Database, _ kind: ObjectEvent.Kind, _ key: ObjectKey, json: [UInt8], revision: UInt64) throws {
        try db.execute(sql: """
            INSERT INTO kube_changes (revision, type, resource, namespace, name, object, at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [Int64(revision), kind.rawValue, key.resource.description, key.namespace, key.name, Data(json), SystemFields.now()])
        if revision % options.compactEvery == 0 { _ = try compact(db) }
    }

    /// Takes the next revision; the transaction that takes it is the change that has it.
    static func nextRevision(_ db: Database) throws -> UInt64 {
        try db.execute(sql: "UPDATE kube_revision SET revision = revision + 1 WHERE id = 1")
        return try revisionRow(db).revision
    }

    static func current(_ db: Database, _ key: ObjectKey) throws -> StoredObject? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT resource_version, object FROM kube_objects WHERE resource = ? AND namespace = ? AND name = ?
            """, arguments: [key.resource.description, key.namespace, key.name]) else { return nil }
        return StoredObject(key: key, resourceVersion: UInt64(row["resource_version"] as Int64), json: [UInt8](row["object"] as Data))
    }

    /// The key an object names in its metadata.
    static func key(_ resource: Resource, _ object: JSONValue, operation: String) throws(EngineError) -> ObjectKey {
        guard case .object = object else {
            throw .invalid("\(operation) \(resource): the object is \(object.kind), not an object")
        }
        guard let name = object.metadataString("name") else {
            throw .invalid("\(operation) \(resource): metadata.name is required")
        }
        return ObjectKey(resource, namespace: object.metadataString("namespace") ?? "", name: name)
    }
}
