import ContainerSpec
import GoCompat
import HTTPServer
import Kube
import KubeModel

/// CRUD on a kind's objects: create (POST), get, list, update (PUT), patch, delete, deletecollection.
extension KubeAPI {
    // MARK: - Query parameters

    /// `dryRun=All`: everything but the write. Any other value is refused, as the apiserver does.
    func dryRun(_ request: HTTPServerRequest, body: JSONValue? = nil) throws(KubeStatus) -> Bool {
        var values = request.parameters("dryRun")
        if case .array(let items)? = body?[member: "dryRun"] { values += items.compactMap(\.stringValue) }
        for value in values where value != "All" {
            throw .badRequest("Invalid dryRun value: \(FieldErrorText.quote(value)): supported values: \"All\"")
        }
        return !values.isEmpty
    }

    /// `fieldValidation`: Strict, Warn (the default) or Ignore.
    func fieldValidation(_ request: HTTPServerRequest) throws(KubeStatus) -> Objects.FieldValidation {
        guard let value = request.parameter("fieldValidation"), !value.isEmpty else { return .warn }
        guard let validation = Objects.FieldValidation(rawValue: value) else {
            throw .badRequest("fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\" (got \(FieldErrorText.quote(value)))")
        }
        return validation
    }

    /// The label and field selectors of a list, watch or deletecollection, as one filter.
    func selector(_ request: HTTPServerRequest, _ kind: KubeKind) throws(KubeStatus) -> (@Sendable (JSONValue) -> Bool)? {
        let labels = try LabelSelector(parsing: request.parameter("labelSelector") ?? "")
        let fields = try FieldSelector(parsing: request.parameter("fieldSelector") ?? "")
        try fields.check(for: kind)
        if labels.isEmpty && fields.isEmpty { return nil }
        return { object in
            var map: [String: String] = [:]
            for (key, value) in object[member: "metadata"]?[member: "labels"]?.objectValue ?? [:] { map[key] = value.stringValue ?? "" }
            return labels.matches(map) && fields.matches(object)
        }
    }

    // MARK: - Reads

    func get(_ request: HTTPServerRequest, _ target: Target, _ writer: ResponseWriter) throws(KubeStatus) {
        let representation = try self.representation(request, tables: true)
        let stored: StoredObject
        do { stored = try store.get(key(target, name: target.name!)) } catch { throw status(error, target) }
        switch representation {
        case .json: send(writer, 200, stored.json)
        case .table(let version):
            let object = try parse(stored)
            try sendJSON(writer, 200, table(target.kind, [object], resourceVersion: nil, version: version, request))
        }
    }

    func list(_ request: HTTPServerRequest, _ target: Target, _ writer: ResponseWriter) throws(KubeStatus) {
        let representation = try self.representation(request, tables: true)
        let filter = try selector(request, target.kind)
        let listed: ObjectList
        do {
            listed = try store.list(target.kind.storeResource, namespace: target.namespace) { stored throws(EngineError) in
                guard let filter else { return true }
                return filter(try stored.value())
            }
        } catch {
            throw status(error, target)
        }
        switch representation {
        case .json:
            // The stored JSON goes out as it is: no parse and re-encode per item.
            var body = Array(#"{"kind":"\#(target.kind.listKind)","apiVersion":"\#(target.kind.apiVersion)","metadata":{"resourceVersion":"\#(listed.resourceVersion)"},"items":["#.utf8)
            for (index, item) in listed.items.enumerated() {
                if index > 0 { body.append(UInt8(ascii: ",")) }
                body += item.json
            }
            body += Array("]}".utf8)
            send(writer, 200, body)
        case .table(let version):
            var objects: [JSONValue] = []
            for item in listed.items { objects.append(try parse(item)) }
            try sendJSON(writer, 200, table(target.kind, objects, resourceVersion: String(listed.resourceVersion), version: version, request))
        }
    }

    func table(_ kind: KubeKind, _ objects: [JSONValue], resourceVersion: String?, version: String, _ request: HTTPServerRequest) throws(KubeStatus) -> JSONValue {
        var include = Tables.Include.metadata
        if let value = request.parameter("includeObject"), !value.isEmpty {
            guard let given = Tables.Include(rawValue: value) else {
                throw .badRequest("includeObject must be one of None, Metadata, Object (got \(FieldErrorText.quote(value)))")
            }
            include = given
        }
        let table = Tables.table(kind, objects: objects, resourceVersion: resourceVersion, include: include)
        return version == "v1" ? table : table.setting("apiVersion", to: .string("meta.k8s.io/" + version))
    }

    func parse(_ stored: StoredObject) throws(KubeStatus) -> JSONValue {
        do { return try stored.value() } catch { throw .internalError(error.message) }
    }

    func key(_ target: Target, name: String) -> ObjectKey {
        ObjectKey(target.kind.storeResource, namespace: target.namespace ?? "", name: name)
    }

    // MARK: - Create

    func create(_ request: HTTPServerRequest, _ target: Target, _ writer: ResponseWriter) throws(KubeStatus) {
        let kind = target.kind
        let body = try readBody(request)
        let dryRun = try self.dryRun(request)
        var (object, warnings) = try Objects.decode(kind, body, validation: try fieldValidation(request))
        object = try placed(object, target)
        // What only the server sets is not the client's to send.
        for field in ["uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"] {
            object = object.settingMetadata(field, to: nil)
        }
        if object.metadataString("name") == nil, let prefix = object.metadataString("generateName") {
            object = object.settingMetadata("name", to: .string(Names.generate(prefix)))
            if kind.kind == "Namespace" { (object, _) = try Objects.decode(kind, object, validation: .ignore) }
        }
        let name = object.metadataString("name") ?? ""
        let errors = Objects.validate(kind, object)
        if !errors.isEmpty { throw .invalid(kind, name, errors) }
        if let namespace = target.namespace { try requireActiveNamespace(namespace, creating: kind, name: name) }
        if kind.kind == "Service" { return try createService(object, target, dryRun: dryRun, warnings: warnings, writer) }
        if dryRun {
            let exists: Bool
            do { _ = try store.get(key(target, name: name)); exists = true } catch where error.kind == .notFound { exists = false } catch {
                throw status(error, target, name: name)
            }
            if exists { throw .alreadyExists(kind, name) }
            let preview = object.settingMetadata("uid", to: .string(SystemFields.uuid()))
                .settingMetadata("creationTimestamp", to: .string(SystemFields.timestamp()))
            return try sendJSON(writer, 201, preview, warnings: warnings)
        }
        let stored: StoredObject
        do { stored = try store.create(kind.storeResource, object) } catch { throw status(error, target, name: name, creating: true) }
        if kind.kind == "Namespace" { ensureDefaultServiceAccount(in: name) }
        send(writer, 201, stored.json, warnings: warnings)
    }

    /// The object's namespace made the URL's (400 when the body names another), or removed for
    /// a cluster-scoped kind.
    func placed(_ object: JSONValue, _ target: Target) throws(KubeStatus) -> JSONValue {
        guard let namespace = target.namespace else { return object.settingMetadata("namespace", to: nil) }
        if let given = object.metadataString("namespace"), given != namespace {
            throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        return object.settingMetadata("namespace", to: .string(namespace))
    }

    /// New objects go only into a namespace that exists and is not being deleted.
    func requireActiveNamespace(_ namespace: String, creating kind: KubeKind, name: String) throws(KubeStatus) {
        let stored: StoredObject
        do { stored = try store.get(ObjectKey(KubeKinds.namespace.storeResource, name: namespace)) } catch {
            if error.kind == .notFound { throw .notFound(KubeKinds.namespace, namespace) }
            throw .internalError(error.message)
        }
        if (try? stored.value())?[member: "status"]?[member: "phase"]?.stringValue == "Terminating" {
            throw .forbidden(kind, name, "unable to create new content in namespace \(namespace) because it is being terminated")
        }
    }

    // MARK: - Update and patch

    func update(_ request: HTTPServerRequest, _ target: Target, _ writer: ResponseWriter) throws(KubeStatus) {
        let kind = target.kind, name = target.name!
        let body = try readBody(request)
        let dryRun = try self.dryRun(request)
        var (object, warnings) = try Objects.decode(kind, body, validation: try fieldValidation(request))
        object = try placed(object, target)
        if let given = object.metadataString("name"), given != name {
            throw .badRequest("the name of the object (\(given)) does not match the name on the URL (\(name))")
        }
        object = object.settingMetadata("name", to: .string(name))
        let replacement = object
        try change(target, dryRun: dryRun, warnings: warnings, writer) { old throws(KubeStatus) in
            if let given = replacement.metadataString("resourceVersion"), given != old.metadataString("resourceVersion") {
                throw .conflict(kind, name, KubeStatus.modifiedDetail)
            }
            return replacement
        }
    }

    func patch(_ request: HTTPServerRequest, _ target: Target, _ writer: ResponseWriter) throws(KubeStatus) {
        let kind = target.kind, name = target.name!
        let type = (request.header("Content-Type") ?? "").split(separator: ";").first.map { String($0).trimmingCharacters.lowercased() } ?? ""
        let apply: (JSONValue, JSONValue) throws(KubeStatus) -> JSONValue
        switch type {
        case "application/merge-patch+json": apply = { old, patch in Patches.mergePatch(old, patch) }
        case "application/strategic-merge-patch+json": apply = { old, patch in Patches.strategicMergePatch(old, patch) }
        case "application/json-patch+json": apply = { old, patch throws(KubeStatus) in try Patches.jsonPatch(old, patch) }
        default: throw .unsupportedMediaType(type)
        }
        let patch = try readBody(request)
        if type != "application/json-patch+json" {
            guard case .object = patch else { throw .badRequest("the patch is \(patch.kind), not a JSON object") }
        }
        let dryRun = try self.dryRun(request)
        let validation = try fieldValidation(request)
        var warnings: [String] = []
        try change(target, dryRun: dryRun, warnings: [], writer, addWarnings: { warnings }) { old throws(KubeStatus) in
            let patched = try apply(old, patch)
            var (object, found) = try Objects.decode(kind, patched, validation: validation)
            warnings = found
            if let given = object.metadataString("name"), given != name {
                throw .invalid(kind, name, [FieldError("metadata.name", .invalid(given), "field is immutable")])
            }
            object = try placed(object, target)
            // A resourceVersion the patch sets is a precondition; the one the old object had is not.
            if let given = patch[member: "metadata"]?[member: "resourceVersion"]?.stringValue, given != old.metadataString("resourceVersion") {
                throw .conflict(kind, name, KubeStatus.modifiedDetail)
            }
            return object.settingMetadata("resourceVersion", to: nil)
        }
    }

    /// Reads the object, applies `transform`, validates and stores the result, all in one store
    /// transaction (no change comes between), or with `dryRun` only computes it. Answers 200 with
    /// the object as stored.
    func change(_ target: Target, dryRun: Bool, warnings: [String], _ writer: ResponseWriter,
                addWarnings: () -> [String] = { [] },
                _ transform: (JSONValue) throws(KubeStatus) -> JSONValue) throws(KubeStatus) {
        if target.kind.kind == "Service" {
            return try changeService(target, dryRun: dryRun, warnings: warnings, writer, addWarnings: addWarnings, transform)
        }
        try changeObject(target, dryRun: dryRun, warnings: warnings, writer, addWarnings: addWarnings, transform)
    }

    func changeObject(_ target: Target, dryRun: Bool, warnings: [String], _ writer: ResponseWriter,
                      addWarnings: () -> [String] = { [] },
                      _ transform: (JSONValue) throws(KubeStatus) -> JSONValue) throws(KubeStatus) {
        let kind = target.kind, name = target.name!
        var failure: KubeStatus?
        func apply(_ old: JSONValue) throws(KubeStatus) -> JSONValue {
            var new = try transform(old)
            if kind.kind == "Namespace" {
                // A namespace's status and finalizers change through its subresources only.
                new = new.setting("status", to: old[member: "status"]).setting("spec", to: old[member: "spec"])
            }
            // The system's fields stay the stored ones (the store keeps uid and creationTimestamp).
            for field in ["deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"] {
                new = new.settingMetadata(field, to: old[member: "metadata"]?[member: field])
            }
            var errors = Objects.validate(kind, new)
            errors += Objects.validateUpdate(kind, old: old, new: new)
            if !errors.isEmpty { throw .invalid(kind, name, errors) }
            return new
        }
        let key = self.key(target, name: name)
        if dryRun {
            let old: JSONValue
            do { old = try store.get(key).value() } catch { throw status(error, target) }
            var new = try apply(old)
            for field in ["uid", "creationTimestamp", "resourceVersion", "generation"] {
                new = new.settingMetadata(field, to: old[member: "metadata"]?[member: field])
            }
            return try sendJSON(writer, 200, new, warnings: warnings + addWarnings())
        }
        let stored: StoredObject
        do throws(EngineError) {
            stored = try store.guaranteedUpdate(key) { old throws(EngineError) in
                do throws(KubeStatus) { return try apply(old) } catch {
                    failure = error
                    throw EngineError.invalid("update \(key): \(error.message)")
                }
            }
        } catch {
            if let failure { throw failure }
            throw status(error, target)
        }
        send(writer, 200, stored.json, warnings: warnings + addWarnings())
    }

    // MARK: - Delete

    /// DeleteOptions from the body (optional) and the query.
    struct DeleteOptions {
        var dryRun = false
        var uid: String?
        var resourceVersion: UInt64?
        var gracePeriodSeconds: Int?
    }

    func deleteOptions(_ request: HTTPServerRequest) throws(KubeStatus) -> DeleteOptions {
        var body: JSONValue?
        let bytes: [UInt8]
        do { bytes = try request.body.readAll(limit: Self.bodyLimit) } catch { throw .badRequest("the request body could not be read") }
        if !bytes.isEmpty {
            do { body = try JSONParser.parse(bytes) } catch { throw .badRequest("the DeleteOptions body is not valid JSON: \(error.message)") }
        }
        var options = DeleteOptions()
        options.dryRun = try dryRun(request, body: body)
        if let policy = body?[member: "propagationPolicy"]?.stringValue ?? request.parameter("propagationPolicy"),
           !["Orphan", "Background", "Foreground"].contains(policy) {
            throw .badRequest("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \(FieldErrorText.quote(policy)): supported values: \"Foreground\", \"Background\", \"Orphan\"")
        }
        if case .number(let text)? = body?[member: "gracePeriodSeconds"] { options.gracePeriodSeconds = Int(text) }
        if let text = request.parameter("gracePeriodSeconds") { options.gracePeriodSeconds = Int(text) }
        let preconditions = body?[member: "preconditions"]
        options.uid = preconditions?[member: "uid"]?.stringValue
        if let text = preconditions?[member: "resourceVersion"]?.stringValue {
            guard let number = UInt64(text) else { throw .badRequest("invalid resourceVersion precondition \(FieldErrorText.quote(text))") }
            options.resourceVersion = number
        }
        return options
    }

    /// The namespaces the system needs; deleting them is forbidden, as in Kubernetes.
    static let protectedNamespaces: Set<String> = ["default", "kube-system", "kube-public"]

    func delete(_ request: HTTPServerRequest, _ target: Target, _ writer: ResponseWriter) throws(KubeStatus) {
        let kind = target.kind, name = target.name!
        let options = try deleteOptions(request)
        if kind.kind == "Namespace" && Self.protectedNamespaces.contains(name) {
            throw .forbidden(kind, name, "this namespace may not be deleted")
        }
        let key = self.key(target, name: name)
        let current: StoredObject
        do { current = try store.get(key) } catch { throw status(error, target) }
        let object = try parse(current)
        if let uid = options.uid, uid != object.metadataString("uid") {
            throw .conflict(kind, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.metadataString("uid") ?? "")")
        }
        if let version = options.resourceVersion, version != current.resourceVersion {
            throw .conflict(kind, name, "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(current.resourceVersion)")
        }
        if kind.kind == "Namespace" {
            return try deleteNamespace(name, object, dryRun: options.dryRun, writer)
        }
        if kind.kind == "Pod", let marked = try gracefulPodDeletion(key, object, gracePeriod: options.gracePeriodSeconds, dryRun: options.dryRun, target) {
            return try sendJSON(writer, 200, marked)
        }
        if !options.dryRun {
            do { _ = try store.delete(key, resourceVersion: options.resourceVersion, uid: options.uid) } catch { throw status(error, target) }
        }
        try sendJSON(writer, 200, Self.success(kind, name, uid: object.metadataString("uid")))
    }

    /// A namespace goes Terminating, its objects are deleted, then it is (the namespace
    /// controller's and finalizer's work, done at once). The answer is the Terminating namespace.
    func deleteNamespace(_ name: String, _ object: JSONValue, dryRun: Bool, _ writer: ResponseWriter) throws(KubeStatus) {
        let key = ObjectKey(KubeKinds.namespace.storeResource, name: name)
        let target = Target(kind: KubeKinds.namespace, namespace: nil, name: name)
        let terminating = { (value: JSONValue) -> JSONValue in
            value.setting("status", to: .ordered([("phase", .string("Terminating"))]))
                .settingMetadata("deletionTimestamp", to: .string(SystemFields.timestamp()))
                .settingMetadata("deletionGracePeriodSeconds", to: .int(0))
        }
        if dryRun { return try sendJSON(writer, 200, terminating(object)) }
        let marked: StoredObject
        do { marked = try store.guaranteedUpdate(key) { value in terminating(value) } } catch { throw status(error, target) }
        for kind in KubeKinds.namespacedKinds {
            let items: [StoredObject]
            do { items = try store.list(kind.storeResource, namespace: name).items } catch { throw .internalError(error.message) }
            for item in items {
                do { _ = try store.delete(item.key) } catch where error.kind == .notFound {} catch { throw .internalError(error.message) }
            }
        }
        do { _ = try store.delete(key) } catch where error.kind == .notFound {} catch { throw status(error, target) }
        send(writer, 200, marked.json)
    }

    func deleteCollection(_ request: HTTPServerRequest, _ target: Target, _ writer: ResponseWriter) throws(KubeStatus) {
        let options = try deleteOptions(request)
        let filter = try selector(request, target.kind)
        let listed: ObjectList
        do {
            listed = try store.list(target.kind.storeResource, namespace: target.namespace) { stored throws(EngineError) in
                guard let filter else { return true }
                return filter(try stored.value())
            }
        } catch {
            throw status(error, target)
        }
        var deleted: [JSONValue] = []
        for item in listed.items {
            if !options.dryRun {
                do { _ = try store.delete(item.key) } catch where error.kind == .notFound { continue } catch { throw .internalError(error.message) }
            }
            deleted.append(try parse(item))
        }
        try sendJSON(writer, 200, .ordered([
            ("kind", .string(target.kind.listKind)), ("apiVersion", .string(target.kind.apiVersion)),
            ("metadata", .ordered([("resourceVersion", .string(String(listed.resourceVersion)))])), ("items", .array(deleted)),
        ]))
    }

    /// The Status a deletion answers with.
    static func success(_ kind: KubeKind, _ name: String, uid: String?) -> JSONValue {
        var details: [(String, JSONValue)] = [("name", .string(name))]
        if !kind.group.isEmpty { details.append(("group", .string(kind.group))) }
        details.append(("kind", .string(kind.resource)))
        if let uid { details.append(("uid", .string(uid))) }
        return .ordered([("kind", .string("Status")), ("apiVersion", .string("v1")), ("metadata", .ordered([])),
                         ("status", .string("Success")), ("details", .ordered(details))])
    }
}
