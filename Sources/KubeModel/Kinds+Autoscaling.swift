import GoCompat
import Kube

/// autoscaling/v2 HorizontalPodAutoscalers (KubeControllers' HorizontalPodAutoscalerController
/// keeps them), with the columns `kubectl get hpa` prints.
extension KubeKinds {
    public static let horizontalPodAutoscaler = KubeKind(
        group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler", resource: "horizontalpodautoscalers",
        singular: "horizontalpodautoscaler", namespaced: true, shortNames: ["hpa"], verbs: allVerbs,
        columns: [
            TableColumn("Reference", type: "string", description: "Reference is the reference to the target object.") { object in
                let target = object[member: "spec"]?[member: "scaleTargetRef"]
                return .string("\(target?[member: "kind"]?.stringValue ?? "")/\(target?[member: "name"]?.stringValue ?? "")")
            },
            TableColumn("Targets", type: "string", description: "Targets is the metric targets and their current values.") { object in
                .string(hpaTargets(object))
            },
            TableColumn("MinPods", type: "string", description: "The minimum number of replicas the autoscaler may set.") { object in
                .string(object[member: "spec"]?[member: "minReplicas"]?.intValue.map(String.init) ?? "<unset>")
            },
            TableColumn("MaxPods", type: "integer", description: "The maximum number of replicas the autoscaler may set.") {
                .int(count($0, "spec", "maxReplicas"))
            },
            TableColumn("Replicas", type: "integer", description: "Current number of replicas of pods managed by this autoscaler.") {
                .int(count($0, "status", "currentReplicas"))
            },
            TableColumn("Age", type: "string", description: "") { _ in .null },
        ],
        fields: ["spec", "status"])

    /// `cpu: 12%/50%`, one entry a metric, as the apiserver's printer writes them (`<unknown>`
    /// before the controller measured; `<none>` without metrics).
    static func hpaTargets(_ object: JSONValue) -> String {
        let specs = object[member: "spec"]?[member: "metrics"]?.arrayValue ?? []
        let statuses = object[member: "status"]?[member: "currentMetrics"]?.arrayValue ?? []
        if specs.isEmpty { return "<none>" }
        var parts: [String] = []
        for (index, spec) in specs.enumerated() {
            let type = spec[member: "type"]?.stringValue ?? ""
            let member = type.prefix(1).lowercased() + type.dropFirst()
            let source = spec[member: member]
            let status = index < statuses.count ? statuses[index][member: member] : nil
            let target = source?[member: "target"]
            let current = status?[member: "current"]
            let name = source?[member: "name"]?.stringValue ?? source?[member: "metric"]?[member: "name"]?.stringValue ?? ""
            if let average = target?[member: "averageValue"]?.stringValue {
                parts.append("\(name): \(current?[member: "averageValue"]?.stringValue ?? "<unknown>")/\(average)")
            } else if let value = target?[member: "value"]?.stringValue {
                parts.append("\(name): \(current?[member: "value"]?.stringValue ?? "<unknown>")/\(value)")
            } else {
                let now = current?[member: "averageUtilization"]?.intValue.map { "\($0)%" } ?? "<unknown>"
                let wanted = target?[member: "averageUtilization"]?.intValue.map { "\($0)%" } ?? "<auto>"
                parts.append("\(name): \(now)/\(wanted)")
            }
        }
        return parts.joined(separator: ", ")
    }
}

/// autoscaling/v1, a view of the same objects (one storage, autoscaling/v2's): CPU utilization
/// only, as `targetCPUUtilizationPercentage` and `currentCPUUtilizationPercentage`; the conditions
/// in the `autoscaling.alpha.kubernetes.io/conditions` annotation, as the apiserver converts them.
extension KubeKinds {
    public static let horizontalPodAutoscalerV1 = KubeKind(
        group: "autoscaling", version: "v1", kind: "HorizontalPodAutoscaler", resource: "horizontalpodautoscalers",
        singular: "horizontalpodautoscaler", namespaced: true, shortNames: ["hpa"], verbs: allVerbs,
        columns: horizontalPodAutoscaler.columns, fields: ["spec", "status"],
        storage: Resource(group: "autoscaling", "horizontalpodautoscalers"))

    static let conditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions"

    static func cpuUtilization(_ metrics: JSONValue?, _ side: String) -> JSONValue? {
        (metrics?.arrayValue ?? []).first {
            $0[member: "type"]?.stringValue == "Resource" && $0[member: "resource"]?[member: "name"]?.stringValue == "cpu"
        }?[member: "resource"]?[member: side]?[member: "averageUtilization"]
    }

    /// A stored (v2) HorizontalPodAutoscaler as autoscaling/v1 shows it.
    public static func hpaV1(fromV2 object: JSONValue) -> JSONValue {
        let spec = object[member: "spec"], status = object[member: "status"]
        var newSpec: [(String, JSONValue)] = []
        for member in ["scaleTargetRef", "minReplicas", "maxReplicas"] { if let value = spec?[member: member] { newSpec.append((member, value)) } }
        if let target = cpuUtilization(spec?[member: "metrics"], "target") { newSpec.append(("targetCPUUtilizationPercentage", target)) }
        var newStatus: [(String, JSONValue)] = []
        for member in ["observedGeneration", "lastScaleTime"] { if let value = status?[member: member] { newStatus.append((member, value)) } }
        newStatus.append(("currentReplicas", status?[member: "currentReplicas"] ?? .int(0)))
        newStatus.append(("desiredReplicas", status?[member: "desiredReplicas"] ?? .int(0)))
        if let current = cpuUtilization(status?[member: "currentMetrics"], "current") { newStatus.append(("currentCPUUtilizationPercentage", current)) }
        var result = object.setting("apiVersion", to: .string("autoscaling/v1")).setting("spec", to: .ordered(newSpec))
            .setting("status", to: .ordered(newStatus))
        if let conditions = status?[member: "conditions"], !(conditions.arrayValue ?? []).isEmpty {
            let annotations = (object[member: "metadata"]?[member: "annotations"] ?? .ordered([]))
                .setting(conditionsAnnotation, to: .string(String(decoding: conditions.serialized, as: UTF8.self)))
            result = result.settingMetadata("annotations", to: annotations)
        }
        return result
    }

    /// An autoscaling/v1 HorizontalPodAutoscaler as it is stored (v2).
    public static func hpaV2(fromV1 object: JSONValue) -> JSONValue {
        let spec = object[member: "spec"], status = object[member: "status"]
        var newSpec: [(String, JSONValue)] = []
        for member in ["scaleTargetRef", "minReplicas", "maxReplicas"] { if let value = spec?[member: member] { newSpec.append((member, value)) } }
        func metric(_ side: String, _ value: JSONValue, _ type: Bool) -> JSONValue {
            let measure: [(String, JSONValue)] = (type ? [("type", .string("Utilization"))] : []) + [("averageUtilization", value)]
            return .ordered([("type", .string("Resource")), ("resource", .ordered([("name", .string("cpu")), (side, .ordered(measure))]))])
        }
        if let target = spec?[member: "targetCPUUtilizationPercentage"] { newSpec.append(("metrics", .array([metric("target", target, true)]))) }
        var newStatus: [(String, JSONValue)] = []
        for member in ["observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"] {
            if let value = status?[member: member] { newStatus.append((member, value)) }
        }
        if let current = status?[member: "currentCPUUtilizationPercentage"] { newStatus.append(("currentMetrics", .array([metric("current", current, false)]))) }
        var result = object.setting("apiVersion", to: .string("autoscaling/v2")).setting("spec", to: .ordered(newSpec))
        var annotations = object[member: "metadata"]?[member: "annotations"]
        if let text = annotations?[member: conditionsAnnotation]?.stringValue {
            if let conditions = try? JSONParser.parse(Array(text.utf8)) { newStatus.append(("conditions", conditions)) }
            annotations = annotations?.setting(conditionsAnnotation, to: nil)
            result = result.settingMetadata("annotations", to: (annotations?.objectValue ?? [:]).isEmpty ? nil : annotations)
        }
        if status != nil { result = result.setting("status", to: .ordered(newStatus)) }
        return Objects.hpaDefaults(result)
    }
}
