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
        case .json: send(writer, 200, outgoing(target.kind, stored.json))
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
                body += outgoing(target.kind, item.json)
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

    /// A stored object as `kind` shows it (an events.k8s.io Event from its core v1 storage, an
    /// autoscaling/v1 HorizontalPodAutoscaler from its v2 one).
    func outgoing(_ kind: KubeKind, _ object: JSONValue) -> JSONValue {
        kind.isConverted ? KubeKinds.fromStorage(kind, object) : object
    }

    func outgoing(_ kind: KubeKind, _ bytes: [UInt8]) -> [UInt8] {
        guard kind.isConverted, let object = try? JSONParser.parse(bytes) else { return bytes }
        return KubeKinds.fromStorage(kind, object).serialized
    }

    /// An object of `kind` as it is stored.
    func incoming(_ kind: KubeKind, _ object: JSONValue) -> JSONValue {
        kind.isConverted ? KubeKinds.toStorage(kind, object) : object
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
        let manager = try fieldManager(request)
        let (object, warnings) = try Objects.decode(kind, body, validation: try fieldValidation(request))
        try create(object, target, dryRun: dryRun, warnings: warnings, writer) { object in
            ManagedFields.recordUpdate(kind, old: nil, new: object, manager: manager)
        }
    }

    /// Stores a new object decoded from a request (POST, or an apply that creates): the server's
    /// fields and the kind's initial status set, validated; `own` records its managedFields.
    func create(_ decoded: JSONValue, _ target: Target, dryRun: Bool, warnings: [String], _ writer: ResponseWriter,
                own: (JSONValue) throws(KubeStatus) -> JSONValue) throws(KubeStatus) {
        let kind = target.kind
        var object = try placed(incoming(kind, decoded), target)
        // What only the server sets is not the client's to send.
        for field in ["uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"] {
            object = object.settingMetadata(field, to: nil)
        }
        if object.metadataString("name") == nil, let prefix = object.metadataString("generateName") {
            object = object.settingMetadata("name", to: .string(Names.generate(prefix)))
            if kind.kind == "Namespace" { (object, _) = try Objects.decode(kind, object, validation: .ignore) }
        }
        let name = object.metadataString("name") ?? ""
        let uid = Self.presetUID(kind)
        if let uid { object = Objects.jobWithGeneratedSelector(object, uid: uid) }
        if let status = Objects.initialStatus(kind, object) { object = object.setting("status", to: status) }
        object = VolumeProtection.protecting(kind: kind.kind, object)
        if kind.kind == "PersistentVolumeClaim", object[member: "spec"]?[member: "storageClassName"] == nil, let name = defaultStorageClass() {
            // The DefaultStorageClass admission plugin: a claim without a class gets the default one.
            object = object.setting("spec", to: (object[member: "spec"] ?? .ordered([])).setting("storageClassName", to: .string(name)))
        }
        if kind.kind == "Ingress" { object = admittingIngress(object) }
        let errors = Objects.validate(kind, object)
        if !errors.isEmpty { throw .invalid(kind, name, errors) }
        if let namespace = target.namespace { try requireActiveNamespace(namespace, creating: kind, name: name) }
        object = try own(object)
        if kind.kind == "Service" { return try createService(object, target, dryRun: dryRun, warnings: warnings, writer) }
        if dryRun {
            let exists: Bool
            do { _ = try store.get(key(target, name: name)); exists = true } catch where error.kind == .notFound { exists = false } catch {
                throw status(error, target, name: name)
            }
            if exists { throw .alreadyExists(kind, name) }
            let preview = object.settingMetadata("uid", to: .string(uid ?? SystemFields.uuid()))
                .settingMetadata("creationTimestamp", to: .string(SystemFields.timestamp()))
            return try sendJSON(writer, 201, outgoing(kind, preview), warnings: warnings)
        }
        let stored: StoredObject
        do { stored = try store.create(kind.storeResource, object, uid: uid) } catch { throw status(error, target, name: name, creating: true) }
        if kind.kind == "Namespace" { ensureDefaultServiceAccount(in: name) }
        if kind.kind == "PersistentVolumeClaim", let claim = try? stored.value() {
            provision(claim)
            if let bound = try? store.get(stored.key) { return send(writer, 201, bound.json, warnings: warnings) }
        }
        if kind.kind == "PersistentVolume" {
            bindWaitingClaims()
            if let bound = try? store.get(stored.key) { return send(writer, 201, outgoing(kind, bound.json), warnings: warnings) }
        }
        send(writer, 201, outgoing(kind, stored.json), warnings: warnings)
    }

    /// The uid a new object gets before it is stored, for a kind whose spec refers to it (a
    /// Job's generated selector names its own uid); nil: the store chooses.
    static func presetUID(_ kind: KubeKind) -> String? {
        kind.kind == "Job" ? SystemFields.uuid() : nil
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
        try change(target, dryRun: dryRun, warnings: warnings, writer, manager: try fieldManager(request)) { old throws(KubeStatus) in
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
        case "application/strategic-merge-patch+json": apply = { old, patch throws(KubeStatus) in try StrategicMerge.apply(kind: kind.kind, old, patch) }
        case "application/json-patch+json": apply = { old, patch throws(KubeStatus) in try Patches.jsonPatch(old, patch) }
        case "application/apply-patch+yaml": return try applyPatch(request, target, writer)
        default: throw .unsupportedMediaType(type)
        }
        if request.parameter("force") != nil {
            throw .invalidOptions("PatchOptions", [FieldError("force", .forbidden, "may not be specified for non-apply patch")])
        }
        let manager = try fieldManager(request)
        let patch = try readBody(request)
        if type != "application/json-patch+json" {
            guard case .object = patch else { throw .badRequest("the patch is \(patch.kind), not a JSON object") }
        }
        let dryRun = try self.dryRun(request)
        let validation = try fieldValidation(request)
        var warnings: [String] = []
        try change(target, dryRun: dryRun, warnings: [], writer, manager: manager, addWarnings: { warnings }) { old throws(KubeStatus) in
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
    /// `manager` (an update's field manager) takes what the change changes; nil for an apply,
    /// whose transform sets managedFields itself.
    func change(_ target: Target, dryRun: Bool, warnings: [String], _ writer: ResponseWriter, manager: String?,
                addWarnings: () -> [String] = { [] },
                _ transform: (JSONValue) throws(KubeStatus) -> JSONValue) throws(KubeStatus) {
        if target.kind.kind == "Service" {
            return try changeService(target, dryRun: dryRun, warnings: warnings, writer, manager: manager, addWarnings: addWarnings, transform)
        }
        try changeObject(target, dryRun: dryRun, warnings: warnings, writer, manager: manager, addWarnings: addWarnings, transform)
    }

    func changeObject(_ target: Target, dryRun: Bool, warnings: [String], _ writer: ResponseWriter, manager: String?,
                      addWarnings: () -> [String] = { [] },
                      _ transform: (JSONValue) throws(KubeStatus) -> JSONValue) throws(KubeStatus) {
        let kind = target.kind, name = target.name!
        var failure: KubeStatus?
        func apply(_ old: JSONValue) throws(KubeStatus) -> JSONValue {
            var new = incoming(kind, try transform(outgoing(kind, old)))
            if target.subresource == "status" {
                // Through status only status changes (the apiserver's status strategies).
                new = old.setting("status", to: new[member: "status"])
                    .settingMetadata("resourceVersion", to: new[member: "metadata"]?[member: "resourceVersion"])
            } else if kind.kind == "Namespace" {
                // A namespace's status and finalizers change through its subresources only.
                new = new.setting("status", to: old[member: "status"]).setting("spec", to: old[member: "spec"])
            } else if kind.hasStatus {
                new = new.setting("status", to: old[member: "status"])
            }
            // The system's fields stay the stored ones (the store keeps uid and creationTimestamp).
            for field in ["deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"] + (manager == nil ? [] : ["managedFields"]) {
                new = new.settingMetadata(field, to: old[member: "metadata"]?[member: field])
            }
            if let manager {
                new = ManagedFields.recordUpdate(kind, old: old, new: new, manager: manager, subresource: target.subresource)
            }
            var errors = Objects.validate(kind, new)
            errors += Objects.validateUpdate(kind, old: old, new: new)
            if Self.isDeleting(old) {
                let added = Self.finalizers(new).filter { !Self.finalizers(old).contains($0) }
                if !added.isEmpty {
                    errors.append(FieldError("metadata.finalizers", .forbidden,
                                             "no new finalizers can be added if the object is being deleted, found new finalizers []string{\(added.map { GoStrconv.quote($0) }.joined(separator: ", "))}"))
                }
            }
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
            return try sendJSON(writer, 200, outgoing(kind, new), warnings: warnings + addWarnings())
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
        send(writer, 200, outgoing(kind, stored.json), warnings: warnings + addWarnings())
        // The last finalizer of an object being deleted removed: it goes now.
        try? finishIfDone(kind, stored)
    }

    // MARK: - Delete

    /// DeleteOptions from the body (optional) and the query.
    struct DeleteOptions {
        var dryRun = false
        var uid: String?
        var resourceVersion: UInt64?
        var gracePeriod: Int?
        var propagation: String?
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
        } else {
            options.propagation = body?[member: "propagationPolicy"]?.stringValue ?? request.parameter("propagationPolicy")
        }
        // The deprecated orphanDependents says Orphan (true) or Background (false).
        let orphan = body?[member: "orphanDependents"] ?? request.parameter("orphanDependents").map { .bool(Self.isTrue($0)) }
        if case .bool(let value)? = orphan {
            if options.propagation != nil {
                throw .invalidOptions("DeleteOptions", [FieldError("propagationPolicy", .invalid(options.propagation!), "orphanDependents and deletionPropagation cannot be both set")])
            }
            options.propagation = value ? "Orphan" : "Background"
        }
        if let text = body?[member: "gracePeriodSeconds"]?.numberText ?? request.parameter("gracePeriodSeconds") {
            guard let seconds = Int(text) else { throw .badRequest("invalid gracePeriodSeconds \(FieldErrorText.quote(text))") }
            options.gracePeriod = max(seconds, 0)
        }
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

    /// DELETE of one object: gone at once (a Pod answers with itself, others with a Status), or
    /// marked for deletion (200 with the object).
    func delete(_ request: HTTPServerRequest, _ target: Target, _ writer: ResponseWriter) throws(KubeStatus) {
        let kind = target.kind, name = target.name!
        let options = try deleteOptions(request)
        if kind.kind == "Namespace" && Self.protectedNamespaces.contains(name) {
            throw .forbidden(kind, name, "this namespace may not be deleted")
        }
        if kind.kind == "Namespace" {
            return try deleteNamespace(name, options, writer)
        }
        switch try deleteObject(kind, key(target, name: name), options) {
        case .deleted(let object):
            if kind.kind == "Pod" { return try sendJSON(writer, 200, object) }
            try sendJSON(writer, 200, Self.success(kind, name, uid: object.metadataString("uid")))
        case .pending(let object):
            try sendJSON(writer, 200, outgoing(kind, object))
        }
    }

    /// A namespace goes Terminating, everything in it is deleted (graceful Pods and finalizers
    /// holding it), then it goes. The answer is the Terminating namespace.
    func deleteNamespace(_ name: String, _ options: DeleteOptions, _ writer: ResponseWriter) throws(KubeStatus) {
        let key = ObjectKey(KubeKinds.namespace.storeResource, name: name)
        let target = Target(kind: KubeKinds.namespace, namespace: nil, name: name)
        let current: StoredObject
        do { current = try store.get(key) } catch { throw status(error, target) }
        let object = try parse(current)
        if let uid = options.uid, uid != object.metadataString("uid") {
            throw .conflict(target.kind, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.metadataString("uid") ?? "")")
        }
        let terminating = { (value: JSONValue) -> JSONValue in
            var value = value.setting("status", to: .ordered([("phase", .string("Terminating"))]))
            if !Self.isDeleting(value) {
                value = value.settingMetadata("deletionTimestamp", to: .string(SystemFields.timestamp()))
                    .settingMetadata("deletionGracePeriodSeconds", to: .int(0))
            }
            return value
        }
        if options.dryRun { return try sendJSON(writer, 200, terminating(object)) }
        let marked: StoredObject
        do { marked = try store.guaranteedUpdate(key) { value in terminating(value) } } catch { throw status(error, target) }
        try sweepNamespace(name)
        send(writer, 200, marked.json)
    }

    /// Deletes what a Terminating namespace holds (in the background, Pods gracefully), and the
    /// namespace itself once nothing is left; again each time the namespace controller finds objects
    /// added since, or the namespace empty.
    func sweepNamespace(_ name: String) throws(KubeStatus) {
        for kind in KubeKinds.namespacedKinds {
            let items: [StoredObject]
            do { items = try store.list(kind.storeResource, namespace: name).items } catch { throw .internalError(error.message) }
            for item in items {
                var each = DeleteOptions()
                each.propagation = "Background"
                do { _ = try deleteObject(kind, item.key, each) } catch where error.code == 404 {}
            }
        }
        try finishNamespace(name)
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
            var each = options
            each.uid = nil
            each.resourceVersion = nil
            do { deleted.append(outgoing(target.kind, try deleteObject(target.kind, item.key, each).object)) } catch where error.code == 404 { continue }
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
