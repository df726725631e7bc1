/// A kind of object as the store files it: the API group ("" for the core group) and the
/// resource's plural name, as etcd's keys under `/registry` name them (`pods`, `apps/deployments`).
public struct Resource: Hashable, Sendable, CustomStringConvertible {
    public let group: String
    public let name: String

    public init(group: String = "", _ name: String) {
        self.group = group
        self.name = name
    }

    /// The store's key for the resource: `pods`, `apps/deployments`.
    public var description: String { group.isEmpty ? name : group + "/" + name }
}

/// One object's key: its resource, its namespace ("" for a cluster-scoped object) and its name.
public struct ObjectKey: Hashable, Sendable, CustomStringConvertible {
    public let resource: Resource
    public let namespace: String
    public let name: String

    public init(_ resource: Resource, namespace: String = "", name: String) {
        self.resource = resource
        self.namespace = namespace
        self.name = name
    }

    /// How messages name the object: `pods default/web`, `namespaces kube-system`.
    public var description: String {
        namespace.isEmpty ? "\(resource) \(name)" : "\(resource) \(namespace)/\(name)"
    }
}
