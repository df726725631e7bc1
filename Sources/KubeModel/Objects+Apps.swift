import GoCompat
import Kube

/// Deployments' and ReplicaSets' defaults and validation (apps/v1's), their pod templates
/// defaulted as Pods are.
extension Objects {
    static func workloadDefaults(_ kind: String, _ object: JSONValue) -> JSONValue {
        guard var spec = object[member: "spec"], case .object = spec else { return object }
        if kind != "DaemonSet" { spec = filling(spec, "replicas", .int(1)) }
        if kind == "StatefulSet" {
            spec = filling(spec, "podManagementPolicy", .string("OrderedReady"))
            var strategy = filling(spec[member: "updateStrategy"] ?? .ordered([]), "type", .string("RollingUpdate"))
            if strategy[member: "type"]?.stringValue == "RollingUpdate" {
                strategy = strategy.setting("rollingUpdate", to: filling(strategy[member: "rollingUpdate"] ?? .ordered([]), "partition", .int(0)))
            }
            spec = spec.setting("updateStrategy", to: strategy)
            spec = filling(spec, "revisionHistoryLimit", .int(10))
            let retention = spec[member: "persistentVolumeClaimRetentionPolicy"] ?? .ordered([])
            spec = spec.setting("persistentVolumeClaimRetentionPolicy",
                                to: filling(filling(retention, "whenDeleted", .string("Retain")), "whenScaled", .string("Retain")))
            if let claims = spec[member: "volumeClaimTemplates"]?.arrayItems {
                spec = spec.setting("volumeClaimTemplates", to: .array(claims.map { claim in
                    var claim = filling(filling(claim, "apiVersion", .string("v1")), "kind", .string("PersistentVolumeClaim"))
                    if let claimSpec = claim[member: "spec"], case .object = claimSpec {
                        claim = claim.setting("spec", to: filling(claimSpec, "volumeMode", .string("Filesystem")))
                    }
                    return filling(claim, "status", .ordered([("phase", .string("Pending"))]))
                }))
            }
        }
        if kind == "DaemonSet" {
            var strategy = filling(spec[member: "updateStrategy"] ?? .ordered([]), "type", .string("RollingUpdate"))
            if strategy[member: "type"]?.stringValue == "RollingUpdate" {
                let rolling = filling(filling(strategy[member: "rollingUpdate"] ?? .ordered([]), "maxUnavailable", .int(1)), "maxSurge", .int(0))
                strategy = strategy.setting("rollingUpdate", to: rolling)
            }
            spec = spec.setting("updateStrategy", to: strategy)
            spec = filling(spec, "revisionHistoryLimit", .int(10))
        }
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
            errors.append(FieldError("spec.replicas", .invalidNumber((replicas)), "must be greater than or equal to 0"))
        }
        let kind = object[member: "kind"]?.stringValue ?? ""
        if kind == "StatefulSet" || kind == "DaemonSet" {
            // Their Pods are kept running: a Pod that ends by itself is restarted, never replaced.
            let policy = spec?[member: "template"]?[member: "spec"]?[member: "restartPolicy"]?.stringValue ?? ""
            if policy != "Always" {
                errors.append(FieldError("spec.template.spec.restartPolicy", .notSupported(policy), "supported values: \"Always\""))
            }
        }
        if kind == "StatefulSet" {
            for (index, claim) in (spec?[member: "volumeClaimTemplates"]?.arrayItems ?? []).enumerated() {
                let name = claim.metadataString("name") ?? ""
                if name.isEmpty {
                    errors.append(FieldError("spec.volumeClaimTemplates[\(index)].metadata.name", .required, ""))
                } else {
                    errors += Names.dns1123Subdomain(name).map { FieldError("spec.volumeClaimTemplates[\(index)].metadata.name", .invalid(name), $0) }
                }
                if (claim[member: "spec"]?[member: "accessModes"]?.arrayItems ?? []).isEmpty {
                    errors.append(FieldError("spec.volumeClaimTemplates[\(index)].spec.accessModes", .required, "at least 1 access mode is required"))
                }
            }
            let management = spec?[member: "podManagementPolicy"]?.stringValue ?? "OrderedReady"
            if management != "OrderedReady" && management != "Parallel" {
                errors.append(FieldError("spec.podManagementPolicy", .notSupported(management), "supported values: \"OrderedReady\", \"Parallel\""))
            }
        }
        if kind == "StatefulSet" || kind == "DaemonSet" {
            let type = spec?[member: "updateStrategy"]?[member: "type"]?.stringValue ?? "RollingUpdate"
            if type != "RollingUpdate" && type != "OnDelete" {
                errors.append(FieldError("spec.updateStrategy.type", .notSupported(type), "supported values: \"OnDelete\", \"RollingUpdate\""))
            }
        }
        return errors
    }

    /// apps/v1 selectors are immutable.
    static func validateWorkloadUpdate(old: JSONValue, new: JSONValue) -> [FieldError] {
        if new[member: "kind"]?.stringValue == "StatefulSet" {
            // Only these may change; the rest (serviceName, volumeClaimTemplates…) is fixed.
            let mutable = ["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"]
            var was = old[member: "spec"] ?? .ordered([]), now = new[member: "spec"] ?? .ordered([])
            for field in mutable {
                was = was.setting(field, to: nil)
                now = now.setting(field, to: nil)
            }
            if was != now {
                return [FieldError("spec", .forbidden, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")]
            }
        }
        guard let was = old[member: "spec"]?[member: "selector"], let now = new[member: "spec"]?[member: "selector"], was != now else { return [] }
        return [FieldError("spec.selector", .invalid(KubeKinds.selectorText(now)), "field is immutable")]
    }
}
