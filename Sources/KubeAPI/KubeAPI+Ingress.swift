import GoCompat
import Kube
import KubeModel

/// The DefaultIngressClass admission plugin: an Ingress created without a class (neither
/// spec.ingressClassName nor the older kubernetes.io/ingress.class annotation) gets the default
/// IngressClass, the newest when several are marked default.
extension KubeAPI {
    func defaultIngressClass() -> String? {
        guard let classes = try? store.list(KubeKinds.ingressClass.storeResource).items else { return nil }
        let defaults = classes.compactMap { try? $0.value() }.filter(KubeKinds.isDefaultIngressClass)
        return defaults.max { ($0.metadataString("creationTimestamp") ?? "") < ($1.metadataString("creationTimestamp") ?? "") }?.metadataString("name")
    }

    func admittingIngress(_ ingress: JSONValue) -> JSONValue {
        guard ingress[member: "spec"]?[member: "ingressClassName"] == nil,
              ingress[member: "metadata"]?[member: "annotations"]?[member: "kubernetes.io/ingress.class"] == nil,
              let name = defaultIngressClass() else { return ingress }
        return ingress.setting("spec", to: (ingress[member: "spec"] ?? .ordered([])).setting("ingressClassName", to: .string(name)))
    }
}
