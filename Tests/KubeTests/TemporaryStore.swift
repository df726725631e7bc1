import ContainerSpec
import Foundation
import GoCompat
import Kube

/// A store in a fresh temporary root, removed when the test is done.
final class TemporaryStore {
    let root: String
    let store: ObjectStore

    init(_ options: ObjectStore.Options = ObjectStore.Options()) throws {
        root = NSTemporaryDirectory() + "berth-kube-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        store = try ObjectStore.open(root: root, options: options)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }
}

let pods = Resource("pods")
let configMaps = Resource("configmaps")
let deployments = Resource(group: "apps", "deployments")
let namespaces = Resource("namespaces")

/// `{"metadata": {"name", "namespace"?, labels?}, more...}`, members in the order given.
func object(_ name: String, namespace: String? = nil, labels: [String: String]? = nil, _ more: [(String, JSONValue)] = []) -> JSONValue {
    var metadata = JSONValue.object([:], keys: []).setting("name", to: .string(name))
    if let namespace { metadata = metadata.setting("namespace", to: .string(namespace)) }
    if let labels { metadata = metadata.setting("labels", to: JSONValue(members: labels.mapValues { .string($0) })) }
    var value = JSONValue.object([:], keys: []).setting("metadata", to: metadata)
    for (key, member) in more { value = value.setting(key, to: member) }
    return value
}

/// A JSON document parsed (the tests write their objects as JSON text).
func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

extension StoredObject {
    func metadata(_ key: String) throws -> JSONValue? { try value()[member: "metadata"]?[member: key] }
}

/// The kind of an EngineError a body throws, nil when it throws none or another error.
func errorKind(_ body: () throws -> Void) -> EngineError.Kind? {
    do { try body() } catch let error as EngineError { return error.kind } catch { return nil }
    return nil
}
