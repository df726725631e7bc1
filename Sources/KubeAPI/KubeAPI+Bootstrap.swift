import ContainerSpec
import Glibc
import GoCompat
import Kube
import KubeModel
import LinuxSys

/// What a new cluster has before anyone writes: the system namespaces, and in every namespace a
/// `default` ServiceAccount (the service account controller's work, done when a namespace is made).
extension KubeAPI {
    public static let systemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    /// Makes what is missing; harmless to repeat (every start of `berth serve` does).
    public func bootstrap() throws(EngineError) {
        for name in Self.systemNamespaces {
            let body = JSONValue.ordered([("metadata", .ordered([("name", .string(name))]))])
            guard let (namespace, _) = try? Objects.decode(KubeKinds.namespace, body, validation: .strict) else { continue }
            do { try store.create(KubeKinds.namespace.storeResource, namespace) } catch where error.kind == .conflict {}
        }
        for namespace in try store.list(KubeKinds.namespace.storeResource).items {
            ensureDefaultServiceAccount(in: namespace.key.name)
        }
        ensureNode(root: root)
        ensureDefaultStorageClass()
    }

    func ensureDefaultServiceAccount(in namespace: String) {
        let account = JSONValue.ordered([
            ("kind", .string("ServiceAccount")), ("apiVersion", .string("v1")),
            ("metadata", .ordered([("name", .string("default")), ("namespace", .string(namespace))])),
        ])
        _ = try? store.create(KubeKinds.serviceAccount.storeResource, account)
    }
}
