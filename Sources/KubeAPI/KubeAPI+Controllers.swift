import ContainerSpec
import GoCompat
import Kube
import KubeModel

/// How `berth serve`'s controllers write (KubeControllers' ObjectWriter): a new object gets the
/// defaults a client's would, and a deletion is the API's (graceful for a Pod on a node, owners'
/// dependents collected), as the controller manager's requests to the apiserver are.
extension KubeAPI {
    public func createForController(_ resource: Resource, _ object: JSONValue) throws(EngineError) {
        guard let kind = KubeKinds.all.first(where: { $0.storeResource == resource }) else {
            throw .invalid("create \(resource): not a kind the API serves")
        }
        var decoded: JSONValue
        do { (decoded, _) = try Objects.decode(kind, object, validation: .ignore) } catch {
            throw .invalid("create \(resource) \(object.metadataString("name") ?? ""): \(error.message)")
        }
        // As a client's: nothing new in a namespace being deleted (a ReplicaSet replacing a Pod there
        // would keep the namespace Terminating forever).
        if kind.namespaced, let namespace = decoded.metadataString("namespace") {
            do { try requireActiveNamespace(namespace, creating: kind, name: decoded.metadataString("name") ?? "") } catch {
                throw error.code == 404 ? .notFound(error.message) : .forbidden(error.message)
            }
        }
        let uid = Self.presetUID(kind)
        if let uid { decoded = Objects.jobWithGeneratedSelector(decoded, uid: uid) }
        // A StatefulSet's claims get their phase and the default class and are provisioned, as a client's are.
        decoded = VolumeProtection.protecting(kind: kind.kind, decoded)
        if kind.kind == "PersistentVolumeClaim" {
            if let status = Objects.initialStatus(kind, decoded) { decoded = decoded.setting("status", to: status) }
            if decoded[member: "spec"]?[member: "storageClassName"] == nil, let name = defaultStorageClass() {
                decoded = decoded.setting("spec", to: (decoded[member: "spec"] ?? .ordered([])).setting("storageClassName", to: .string(name)))
            }
        }
        let stored = try store.create(resource, decoded, uid: uid)
        if kind.kind == "PersistentVolumeClaim", let claim = try? stored.value() { provision(claim) }
    }

    /// The protection controllers' call: the finalizer off, and the object gone if it was the last.
    public func removeFinalizerForController(_ key: ObjectKey, _ finalizer: String) throws(EngineError) {
        guard let kind = KubeKinds.all.first(where: { $0.storeResource == key.resource }) else {
            throw .invalid("remove finalizer \(finalizer) of \(key): not a kind the API serves")
        }
        do { try removeFinalizer(finalizer, kind, key) } catch {
            throw error.code == 404 ? .notFound("remove finalizer \(finalizer) of \(key): \(error.message)")
                : .invalid("remove finalizer \(finalizer) of \(key): \(error.message)")
        }
    }

    public func deleteForController(_ key: ObjectKey) throws(EngineError) {
        guard let kind = KubeKinds.all.first(where: { $0.storeResource == key.resource }) else {
            throw .invalid("delete \(key): not a kind the API serves")
        }
        // A Terminating namespace (the namespace controller's call) is swept as a client's deletion swept it.
        let sweep = kind.kind == "Namespace" && (try? store.get(key).value())?[member: "status"]?[member: "phase"]?.stringValue == "Terminating"
        do {
            if sweep { try sweepNamespace(key.name) } else { _ = try deleteObject(kind, key, DeleteOptions()) }
        } catch {
            switch error.code {
            case 404: throw .notFound("delete \(key): \(error.message)")
            case 409: throw .conflict("delete \(key): \(error.message)")
            default: throw .invalid("delete \(key): \(error.message)")
            }
        }
    }
}
