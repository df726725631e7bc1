import ContainerSpec
import GoCompat

/// An object as the store holds it: its key, the revision of its last change and its JSON.
public struct StoredObject: Sendable, Equatable {
    public let key: ObjectKey
    /// The revision of the object's last change; `metadata.resourceVersion` in `json`, as a number.
    public let resourceVersion: UInt64
    /// Compact JSON, as written: served as it is, no re-encoding.
    public let json: [UInt8]

    public init(key: ObjectKey, resourceVersion: UInt64, json: [UInt8]) {
        self.key = key
        self.resourceVersion = resourceVersion
        self.json = json
    }

    /// The object parsed.
    public func value() throws(EngineError) -> JSONValue {
        do { return try JSONParser.parse(json) } catch {
            throw .system("read \(key) from the Kubernetes store", error)
        }
    }
}

/// A list's items, in (namespace, name) order, and the revision the list was read at.
public struct ObjectList: Sendable {
    public let resourceVersion: UInt64
    public let items: [StoredObject]
}
