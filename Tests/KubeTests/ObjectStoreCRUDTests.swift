import ContainerSpec
import GoCompat
import Kube
import Testing

/// Create, get, list, update and delete, with the fields the store owns and etcd's revisions.
struct ObjectStoreCRUDTests {
    @Test func createFillsTheSystemFields() throws {
        let temporary = try TemporaryStore()
        let before = try temporary.store.currentRevision()
        let made = try temporary.store.create(pods, object("web", namespace: "default", [
            ("spec", try json(#"{"containers":[{"name":"c","image":"busybox"}]}"#)),
        ]).settingUID("client-chose-this"))
        #expect(made.resourceVersion == before + 1)
        #expect(made.key == ObjectKey(pods, namespace: "default", name: "web"))
        #expect(try made.metadata("resourceVersion") == .string(String(made.resourceVersion)))
        let uid = try #require(try made.metadata("uid")?.stringValue)
        #expect(uid != "client-chose-this")
        #expect(uid.wholeMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/) != nil, "\(uid)")
        let created = try #require(try made.metadata("creationTimestamp")?.stringValue)
        #expect(created.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/) != nil, "\(created)")
        #expect(try made.metadata("generation") == .number("1"))
        #expect(try temporary.store.get(made.key) == made)
        #expect(try temporary.store.currentRevision() == made.resourceVersion)
    }

    @Test func anObjectWithoutSpecHasNoGeneration() throws {
        let temporary = try TemporaryStore()
        let made = try temporary.store.create(configMaps, object("settings", namespace: "default", [
            ("data", try json(#"{"a":"1"}"#)),
        ]))
        #expect(try made.metadata("generation") == nil)
        #expect(try made.value()[member: "data"] == (try json(#"{"a":"1"}"#)))
    }

    @Test func twoObjectsWithOneKeyConflict() throws {
        let temporary = try TemporaryStore()
        try temporary.store.create(pods, object("web", namespace: "default"))
        #expect(errorKind { try temporary.store.create(pods, object("web", namespace: "default")) } == .conflict)
        // The same name elsewhere is another key.
        try temporary.store.create(pods, object("web", namespace: "other"))
        try temporary.store.create(configMaps, object("web", namespace: "default"))
        try temporary.store.create(namespaces, object("web"))
        #expect(try temporary.store.list(pods).items.count == 2)
    }

    @Test func badObjectsAreInvalidAndMissingOnesNotFound() throws {
        let temporary = try TemporaryStore()
        #expect(errorKind { try temporary.store.create(pods, .array([])) } == .invalidArgument)
        #expect(errorKind { try temporary.store.create(pods, try json(#"{"metadata":{"namespace":"default"}}"#)) } == .invalidArgument)
        let missing = ObjectKey(pods, namespace: "default", name: "nope")
        #expect(errorKind { _ = try temporary.store.get(missing) } == .notFound)
        #expect(errorKind { try temporary.store.update(pods, object("nope", namespace: "default")) } == .notFound)
        #expect(errorKind { try temporary.store.delete(missing) } == .notFound)
        #expect(try temporary.store.currentRevision() == 1, "a failed change takes no revision")
    }

    @Test func updateNeedsTheStoredResourceVersion() throws {
        let temporary = try TemporaryStore()
        let made = try temporary.store.create(configMaps, object("c", namespace: "default", [("data", try json(#"{"a":"1"}"#))]))
        let stale = try made.value().settingMetadataForTest("resourceVersion", .string(String(made.resourceVersion)))
        let first = try temporary.store.update(configMaps, stale.setting("data", to: try json(#"{"a":"2"}"#)))
        #expect(first.resourceVersion == made.resourceVersion + 1)
        #expect(try first.metadata("uid") == (try made.metadata("uid")))
        #expect(try first.metadata("creationTimestamp") == (try made.metadata("creationTimestamp")))
        // The second writer read the same version: it loses, and the first one's data stays.
        let error = #expect(throws: EngineError.self) {
            try temporary.store.update(configMaps, stale.setting("data", to: try json(#"{"a":"3"}"#)))
        }
        #expect(error?.kind == .conflict)
        #expect(try temporary.store.get(made.key).value()[member: "data"] == (try json(#"{"a":"2"}"#)))
        // Without a resourceVersion the update is unconditional.
        let forced = try temporary.store.update(configMaps, object("c", namespace: "default", [("data", try json(#"{"a":"4"}"#))]))
        #expect(forced.resourceVersion == first.resourceVersion + 1)
        // A uid that is not the object's is a conflict too (the object was replaced meanwhile).
        #expect(errorKind { try temporary.store.update(configMaps, object("c", namespace: "default").settingUID("other")) } == .conflict)
    }

    @Test func deleteReturnsTheObjectAtTheDeletionsRevision() throws {
        let temporary = try TemporaryStore()
        let made = try temporary.store.create(pods, object("web", namespace: "default"))
        #expect(errorKind { try temporary.store.delete(made.key, resourceVersion: made.resourceVersion + 7) } == .conflict)
        #expect(errorKind { try temporary.store.delete(made.key, uid: "another") } == .conflict)
        let gone = try temporary.store.delete(made.key, resourceVersion: made.resourceVersion, uid: try made.metadata("uid")?.stringValue)
        #expect(gone.resourceVersion == made.resourceVersion + 1)
        #expect(try gone.metadata("resourceVersion") == .string(String(gone.resourceVersion)))
        #expect(try gone.metadata("uid") == (try made.metadata("uid")))
        #expect(errorKind { _ = try temporary.store.get(made.key) } == .notFound)
        // The name is free again, for a new object with a new uid.
        let again = try temporary.store.create(pods, object("web", namespace: "default"))
        #expect(try again.metadata("uid") != (try made.metadata("uid")))
    }

    @Test func listIsOneSnapshotInKeyOrder() throws {
        let temporary = try TemporaryStore()
        for (namespace, name) in [("b", "z"), ("a", "y"), ("b", "a"), ("a", "x")] {
            try temporary.store.create(pods, object(name, namespace: namespace, labels: ["app": name == "x" || name == "z" ? "web" : "db"]))
        }
        try temporary.store.create(configMaps, object("unrelated", namespace: "a"))
        try temporary.store.create(deployments, object("apps-group", namespace: "a"))
        let all = try temporary.store.list(pods)
        #expect(all.items.map { "\($0.key.namespace)/\($0.key.name)" } == ["a/x", "a/y", "b/a", "b/z"])
        #expect(all.resourceVersion == (try temporary.store.currentRevision()))
        #expect(all.resourceVersion == 7, "six changes after the empty store's revision 1")
        #expect(try temporary.store.list(pods, namespace: "b").items.map(\.key.name) == ["a", "z"])
        #expect(try temporary.store.list(pods, namespace: "c").items.isEmpty)
        #expect(try temporary.store.list(deployments).items.map(\.key.name) == ["apps-group"])
        let web = try temporary.store.list(pods) { object throws(EngineError) in
            try object.value()[member: "metadata"]?[member: "labels"]?[member: "app"] == .string("web")
        }
        #expect(web.items.map(\.key.name) == ["x", "z"])
        #expect(web.resourceVersion == all.resourceVersion)
        // Each item carries its own last change's revision.
        #expect(all.items.map(\.resourceVersion) == [5, 3, 4, 2])
    }

    @Test func theRevisionIsOneAcrossResources() throws {
        let temporary = try TemporaryStore()
        var versions: [UInt64] = []
        versions.append(try temporary.store.create(pods, object("a", namespace: "default")).resourceVersion)
        versions.append(try temporary.store.create(namespaces, object("default")).resourceVersion)
        versions.append(try temporary.store.update(pods, object("a", namespace: "default", labels: ["x": "y"])).resourceVersion)
        versions.append(try temporary.store.delete(ObjectKey(namespaces, name: "default")).resourceVersion)
        #expect(versions == [2, 3, 4, 5])
    }
}

extension JSONValue {
    func settingUID(_ uid: String) -> JSONValue { settingMetadataForTest("uid", .string(uid)) }

    func settingMetadataForTest(_ key: String, _ value: JSONValue) -> JSONValue {
        setting("metadata", to: (self[member: "metadata"] ?? .object([:], keys: [])).setting(key, to: value))
    }
}
