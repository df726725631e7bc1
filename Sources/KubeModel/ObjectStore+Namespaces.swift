import Kube

extension ObjectStore {
    /// Whether `namespace` is not being deleted: the apiserver refuses new content in a Terminating
    /// namespace. Writers that go to the store directly (the kubelet's and controllers' Events) ask
    /// first, or an Event written after the namespace emptied would keep it Terminating. (A namespace
    /// the store does not hold is the API's to refuse; the controllers' own tests run without any.)
    public func acceptsNewContent(inNamespace namespace: String) -> Bool {
        guard let stored = try? get(ObjectKey(KubeKinds.namespace.storeResource, name: namespace)), let value = try? stored.value() else { return true }
        return value[member: "status"]?[member: "phase"]?.stringValue != "Terminating"
    }
}
