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
        ensureNode()
    }

    /// This machine's Node (named by its hostname): capacity and allocatable from the host, Ready.
    func ensureNode() {
        let cpus = String(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        var memory = 0
        if let text = try? FS.readText("/proc/meminfo"), let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }) {
            memory = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        }
        let resources = JSONValue.ordered([("cpu", .string(cpus)), ("memory", .string("\(memory)Ki")), ("pods", .string("110"))])
        let node = JSONValue.ordered([
            ("kind", .string("Node")), ("apiVersion", .string("v1")),
            ("metadata", .ordered([("name", .string(Self.nodeName)), ("labels", .ordered([
                ("kubernetes.io/hostname", .string(Self.nodeName)), ("kubernetes.io/os", .string("linux")),
            ]))])),
            ("spec", .ordered([])),
            ("status", .ordered([
                ("capacity", resources), ("allocatable", resources),
                ("conditions", .array([.ordered([("type", .string("Ready")), ("status", .string("True")), ("reason", .string("KubeletReady"))])])),
                ("nodeInfo", .ordered([("kubeletVersion", .string("v\(Self.major).\(Self.minor).0+berth")), ("operatingSystem", .string("linux"))])),
            ])),
        ])
        _ = try? store.create(KubeKinds.node.storeResource, node)
    }

    func ensureDefaultServiceAccount(in namespace: String) {
        let account = JSONValue.ordered([
            ("kind", .string("ServiceAccount")), ("apiVersion", .string("v1")),
            ("metadata", .ordered([("name", .string("default")), ("namespace", .string(namespace))])),
        ])
        _ = try? store.create(KubeKinds.serviceAccount.storeResource, account)
    }
}
