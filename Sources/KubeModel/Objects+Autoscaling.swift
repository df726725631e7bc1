import GoCompat
import Kube

/// HorizontalPodAutoscalers' defaults and validation (autoscaling/v2's).
extension Objects {
    /// The scaling rules a behavior without them gets: up by 4 Pods or 100 % each 15 s with no
    /// stabilisation; down by 100 % each 15 s after a 300 s stabilisation window.
    public static func hpaRules(scaleUp: Bool) -> JSONValue {
        func policy(_ type: String, _ value: Int) -> JSONValue {
            .ordered([("type", .string(type)), ("value", .int(value)), ("periodSeconds", .int(15))])
        }
        return .ordered([
            ("stabilizationWindowSeconds", .int(scaleUp ? 0 : 300)), ("selectPolicy", .string("Max")),
            ("policies", .array(scaleUp ? [policy("Pods", 4), policy("Percent", 100)] : [policy("Percent", 100)])),
        ])
    }

    static func hpaDefaults(_ object: JSONValue) -> JSONValue {
        guard var spec = object[member: "spec"], case .object = spec else { return object }
        spec = filling(spec, "minReplicas", .int(1))
        if (spec[member: "metrics"]?.arrayValue ?? []).isEmpty {
            spec = spec.setting("metrics", to: .array([.ordered([
                ("type", .string("Resource")),
                ("resource", .ordered([("name", .string("cpu")), ("target", .ordered([("type", .string("Utilization")), ("averageUtilization", .int(80))]))])),
            ])]))
        }
        // A behavior given gets every rule it leaves out; none given stays none (the controller uses the defaults).
        if var behavior = spec[member: "behavior"], case .object = behavior {
            for (member, up) in [("scaleUp", true), ("scaleDown", false)] {
                let defaults = hpaRules(scaleUp: up)
                var rules = behavior[member: member] ?? .ordered([])
                for field in ["stabilizationWindowSeconds", "selectPolicy", "policies"] {
                    rules = filling(rules, field, defaults[member: field]!)
                }
                behavior = behavior.setting(member, to: rules)
            }
            spec = spec.setting("behavior", to: behavior)
        }
        return object.setting("spec", to: spec)
    }

    static func validateHPA(_ object: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let spec = object[member: "spec"]
        let target = spec?[member: "scaleTargetRef"]
        if (target?[member: "kind"]?.stringValue ?? "").isEmpty { errors.append(FieldError("spec.scaleTargetRef.kind", .required, "")) }
        if (target?[member: "name"]?.stringValue ?? "").isEmpty { errors.append(FieldError("spec.scaleTargetRef.name", .required, "")) }
        let minimum = spec?[member: "minReplicas"]?.intValue ?? 1
        if minimum < 1 {
            errors.append(FieldError("spec.minReplicas", .invalidNumber((minimum)), "must be greater than or equal to 1"))
        }
        guard let maximum = spec?[member: "maxReplicas"]?.intValue else {
            return errors + [FieldError("spec.maxReplicas", .required, "")]
        }
        if maximum < 1 {
            errors.append(FieldError("spec.maxReplicas", .invalidNumber((maximum)), "must be greater than or equal to 1"))
        } else if maximum < minimum {
            errors.append(FieldError("spec.maxReplicas", .invalidNumber((maximum)), "must be greater than or equal to `minReplicas`"))
        }
        for (index, metric) in (spec?[member: "metrics"]?.arrayValue ?? []).enumerated() {
            let path = "spec.metrics[\(index)]"
            guard metric[member: "type"]?.stringValue == "Resource" else { continue }
            let target = metric[member: "resource"]?[member: "target"]
            if let utilization = target?[member: "averageUtilization"]?.intValue, utilization < 1 {
                errors.append(FieldError(path + ".resource.target.averageUtilization", .invalidNumber((utilization)), "must be greater than 0"))
            }
        }
        for member in ["scaleUp", "scaleDown"] {
            let rules = spec?[member: "behavior"]?[member: member]
            if let window = rules?[member: "stabilizationWindowSeconds"]?.intValue, window < 0 || window > 3600 {
                errors.append(FieldError("spec.behavior.\(member).stabilizationWindowSeconds", .invalidNumber((window)),
                                         "must be less than or equal to 3600 and greater than or equal to 0"))
            }
        }
        return errors
    }
}
