import ContainerSpec
import Kube
import KubeModel

/// The namespace controller's role: a Terminating namespace is emptied and then goes. Deleting a
/// namespace deletes what is in it at once, but its Pods go later (the kubelet removes each after its
/// grace period) and writers that raced the deletion may add objects; so, level-triggered, each pass
/// asks the API to sweep a Terminating namespace again when it holds objects not yet being deleted,
/// or nothing at all (then it goes).
public final class NamespaceController: Controller {
    let store: ObjectStore
    let writer: ObjectWriter

    public init(store: ObjectStore, writer: ObjectWriter) {
        self.store = store
        self.writer = writer
    }

    public var name: String { "namespace" }

    public func sync() throws(EngineError) {
        for stored in try store.list(KubeKinds.namespace.storeResource).items {
            let namespace = try stored.value()
            guard namespace[member: "status"]?[member: "phase"]?.stringValue == "Terminating" else { continue }
            var empty = true, leftover = false
            for kind in KubeKinds.namespacedKinds {
                let items = try store.list(kind.storeResource, namespace: stored.key.name).items
                if !items.isEmpty { empty = false }
                for item in items where !Workloads.isTerminating(try item.value()) { leftover = true }
                if leftover { break }
            }
            guard empty || leftover else { continue }
            do { try writer.delete(stored.key) } catch where error.kind == .notFound {}
        }
    }
}
