import GoCompat
import Kube

/// Deployments' and ReplicaSets' defaults and validation (apps/v1's), their pod templates
/// defaulted as Pods are.
extension Objects {
    static func workloadDefaults(_ kind: String, _ object: JSONValue) -> JSONValue {
        guard var spec = object[member: "spec"], case .object = spec else { return object }
        spec = filling(spec, "replicas", .int(1))
        if kind == "Deployment" {
            var strategy = spec[member: "strategy"] ?? .ordered([])
            strategy = filling(strategy, "type", .string("RollingUpdate"))
            if strategy[member: "type"]?.stringValue == "RollingUpdate" {
                var rolling = strategy[member: "rollingUpdate"] ?? .ordered([])
                rolling = filling(filling(rolling, "maxUnavailable", .string("25%")), "maxSurge", .string("25%"))
                strategy = strategy.setting("rollingUpdate", to: rolling)
            }
            spec = spec.setting("strategy", to: strategy)
            spec = filling(filling(spec, "revisionHistoryLimit", .int(10)), "progressDeadlineSeconds", .int(600))
        }
        if let template = spec[member: "template"], case .object = template {
            let defaulted = podDefaults(.ordered([("spec", template[member: "spec"] ?? .ordered([]))]))
            spec = spec.setting("template", to: template.setting("spec", to: defaulted[member: "spec"]))
        }
        return object.setting("spec", to: spec)
    }

    static func validateWorkload(_ object: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let spec = object[member: "spec"]
        guard let selector = spec?[member: "selector"], selector.objectValue?.isEmpty == false else {
            return [FieldError("spec.selector", .required, "")]
        }
        let labels = LabelSelector.labels(of: spec?[member: "template"] ?? .null)
        if !LabelSelector(object: selector).matches(labels) {
            let text = "map[string]string{" + labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ", ") + "}"
            errors.append(FieldError("spec.template.metadata.labels", .invalid(text), "`selector` does not match template `labels`"))
        }
        if (spec?[member: "template"]?[member: "spec"]?[member: "containers"]?.arrayValue ?? []).isEmpty {
            errors.append(FieldError("spec.template.spec.containers", .required, ""))
        }
        if let replicas = spec?[member: "replicas"]?.intValue, replicas < 0 {
            errors.append(FieldError("spec.replicas", .invalid(String(replicas)), "must be greater than or equal to 0"))
        }
        return errors
    }

    /// apps/v1 selectors are immutable.
    static func validateWorkloadUpdate(old: JSONValue, new: JSONValue) -> [FieldError] {
        guard let was = old[member: "spec"]?[member: "selector"], let now = new[member: "spec"]?[member: "selector"], was != now else { return [] }
        return [FieldError("spec.selector", .invalid(KubeKinds.selectorText(now)), "field is immutable")]
    }
}
