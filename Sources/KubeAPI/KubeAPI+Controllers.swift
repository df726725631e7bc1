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
        let decoded: JSONValue
        do { (decoded, _) = try Objects.decode(kind, object, validation: .ignore) } catch {
            throw .invalid("create \(resource) \(object.metadataString("name") ?? ""): \(error.message)")
        }
        try store.create(resource, decoded)
    }

    public func deleteForController(_ key: ObjectKey) throws(EngineError) {
        guard let kind = KubeKinds.all.first(where: { $0.storeResource == key.resource }) else {
            throw .invalid("delete \(key): not a kind the API serves")
        }
        do { _ = try deleteObject(kind, key, DeleteOptions()) } catch {
            switch error.code {
            case 404: throw .notFound("delete \(key): \(error.message)")
            case 409: throw .conflict("delete \(key): \(error.message)")
            default: throw .invalid("delete \(key): \(error.message)")
            }
        }
    }
}
