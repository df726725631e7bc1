import GoCompat
import HTTPServer
import Kube
import KubeModel

/// Server-side apply (`PATCH` with `application/apply-patch+yaml`) and the field manager every
/// write records in managedFields.
extension KubeAPI {
    /// `fieldManager`, else the client's User-Agent up to its first `/` (the apiserver's default).
    func fieldManager(_ request: HTTPServerRequest) throws(KubeStatus) -> String {
        if let given = request.parameter("fieldManager"), !given.isEmpty {
            guard given.count <= 128 else {
                throw .invalidOptions("PatchOptions", [FieldError("fieldManager", .tooLong, "may not be more than 128 characters")])
            }
            return given
        }
        let agent = request.header("User-Agent") ?? ""
        let prefix = agent.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        return prefix.isEmpty ? "unknown" : String(prefix.prefix(128))
    }

    /// Applies the body (JSON or YAML) as `fieldManager`'s configuration: creates the
    /// object when there is none, else merges it in with field ownership (409 on conflicts unless
    /// `force=true`).
    func applyPatch(_ request: HTTPServerRequest, _ target: Target, _ writer: ResponseWriter) throws(KubeStatus) {
        let kind = target.kind, name = target.name!
        guard let manager = request.parameter("fieldManager"), !manager.isEmpty else {
            throw .invalidOptions("PatchOptions", [FieldError("fieldManager", .required, "is required for apply patch")])
        }
        let force = Self.isTrue(request.parameter("force"))
        let bytes: [UInt8]
        do { bytes = try request.body.readAll(limit: Self.bodyLimit) } catch { throw .badRequest("the request body could not be read") }
        let config = try Self.jsonOrYAML(bytes)
        guard case .object = config else { throw .badRequest("the apply configuration is \(config.kind), not an object") }
        for field in ["apiVersion", "kind"] where (config[member: field]?.stringValue ?? "").isEmpty {
            throw .badRequest("error decoding YAML: \(field) must be set in the applied configuration")
        }
        let dryRun = try self.dryRun(request)
        let (_, warnings) = try Objects.decode(kind, config, validation: try fieldValidation(request))
        if let given = config.metadataString("name"), given != name {
            throw .badRequest("the name of the object (\(given)) does not match the name on the URL (\(name))")
        }
        let applied = Objects.knownFields(kind, config).settingMetadata("name", to: .string(name))
        let exists: Bool
        do { _ = try store.get(key(target, name: name)); exists = true } catch where error.kind == .notFound { exists = false } catch {
            throw status(error, target)
        }
        if !exists {
            guard target.subresource == nil else { throw .notFound(kind, name) }
            let (object, _) = try Objects.decode(kind, applied, validation: .ignore)
            // The new object's applied fields are the applier's; what defaults added is no one's.
            return try create(object, target, dryRun: dryRun, warnings: warnings, writer) { object in
                ManagedFields.created(kind, object, applied: applied, manager: manager)
            }
        }
        try change(target, dryRun: dryRun, warnings: warnings, writer, manager: nil) { old throws(KubeStatus) in
            let merged = try ManagedFields.apply(kind, live: old, config: applied, manager: manager, force: force, subresource: target.subresource)
            var (object, _) = try Objects.decode(kind, merged, validation: .ignore)
            object = try placed(object, target)
            if let given = config[member: "metadata"]?[member: "resourceVersion"]?.stringValue, given != old.metadataString("resourceVersion") {
                throw .conflict(kind, name, KubeStatus.modifiedDetail)
            }
            return object.settingMetadata("resourceVersion", to: nil)
        }
    }
}
