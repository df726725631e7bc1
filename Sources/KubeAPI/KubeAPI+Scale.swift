import ContainerSpec
import GoCompat
import HTTPServer
import Kube
import KubeModel
import NIOHTTP1

/// The `scale` subresource of Deployments and ReplicaSets (what `kubectl scale` and autoscalers
/// use): an autoscaling/v1 Scale of the object's `spec.replicas`, its status replicas and selector.
extension KubeAPI {
    func scale(_ request: HTTPServerRequest, _ target: Target, _ writer: ResponseWriter) throws(KubeStatus) {
        let key = self.key(target, name: target.name!)
        func current() throws(KubeStatus) -> JSONValue {
            do { return try store.get(key).value() } catch { throw status(error, target) }
        }
        switch request.method {
        case .GET:
            try sendJSON(writer, 200, Self.scaleObject(try current()))
        case .PUT, .PATCH:
            let body = try readBody(request)
            let wanted: JSONValue
            if request.method == .PUT {
                wanted = body
            } else {
                let type = (request.header("Content-Type") ?? "").split(separator: ";").first.map { String($0).trimmingCharacters.lowercased() } ?? ""
                let scale = Self.scaleObject(try current())
                switch type {
                case "application/merge-patch+json", "application/strategic-merge-patch+json": wanted = Patches.mergePatch(scale, body)
                case "application/json-patch+json": wanted = try Patches.jsonPatch(scale, body)
                default: throw .unsupportedMediaType(type)
                }
            }
            guard let replicas = wanted[member: "spec"]?[member: "replicas"]?.intValue else {
                throw .invalid(target.kind, target.name!, [FieldError("spec.replicas", .required, "")])
            }
            guard replicas >= 0 else {
                throw .invalid(target.kind, target.name!, [FieldError("spec.replicas", .invalidNumber((replicas)), "must be greater than or equal to 0")])
            }
            if try dryRun(request) { return try sendJSON(writer, 200, Self.scaleObject(try current()).setting("spec", to: .ordered([("replicas", .int(replicas))]))) }
            let stored: StoredObject
            do {
                stored = try store.guaranteedUpdate(key) { old throws(EngineError) in
                    if let given = wanted[member: "metadata"]?[member: "resourceVersion"]?.stringValue, given != old.metadataString("resourceVersion") {
                        throw EngineError.conflict("scale \(key): the object has been modified")
                    }
                    return old.setting("spec", to: (old[member: "spec"] ?? .ordered([])).setting("replicas", to: .int(replicas)))
                }
            } catch {
                if error.kind == .conflict { throw .conflict(target.kind, target.name!, KubeStatus.modifiedDetail) }
                throw status(error, target)
            }
            do { try sendJSON(writer, 200, Self.scaleObject(try stored.value())) } catch let error as KubeStatus { throw error } catch {
                throw .internalError("scale \(key): \(error)")
            }
        default:
            throw .methodNotAllowed(request.method.rawValue, target.description)
        }
    }

    static func scaleObject(_ object: JSONValue) -> JSONValue {
        var metadata: [(String, JSONValue)] = []
        for member in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            if let value = object[member: "metadata"]?[member: member] { metadata.append((member, value)) }
        }
        return .ordered([
            ("kind", .string("Scale")), ("apiVersion", .string("autoscaling/v1")), ("metadata", .ordered(metadata)),
            ("spec", .ordered([("replicas", .int(object[member: "spec"]?[member: "replicas"]?.intValue ?? 0))])),
            ("status", .ordered([("replicas", .int(object[member: "status"]?[member: "replicas"]?.intValue ?? 0)),
                                 ("selector", .string(KubeKinds.selectorText(object[member: "spec"]?[member: "selector"]).replacing("<none>", with: "")))])),
        ])
    }
}
