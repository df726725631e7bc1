import GoCompat
import Kube

/// A Pod's defaults, validation and update rules, as the apiserver applies them.
extension Objects {
    static func filling(_ object: JSONValue, _ key: String, _ value: JSONValue) -> JSONValue {
        object[member: key] == nil ? object.setting(key, to: value) : object
    }

    /// The defaults a Pod gets on the way in (the v1 defaulting functions and the admission
    /// plugins that are on by default: ServiceAccount).
    static func podDefaults(_ pod: JSONValue) -> JSONValue {
        guard var spec = pod[member: "spec"], case .object = spec else { return pod }
        for (key, value) in [("restartPolicy", JSONValue.string("Always")), ("terminationGracePeriodSeconds", .int(30)),
                             ("dnsPolicy", .string("ClusterFirst")), ("securityContext", .ordered([])),
                             ("schedulerName", .string("default-scheduler")), ("enableServiceLinks", .bool(true)),
                             ("preemptionPolicy", .string("PreemptLowerPriority")), ("priority", .int(0))] {
            spec = filling(spec, key, value)
        }
        let account = spec[member: "serviceAccountName"]?.stringValue ?? spec[member: "serviceAccount"]?.stringValue ?? "default"
        spec = spec.setting("serviceAccountName", to: .string(account)).setting("serviceAccount", to: .string(account))
        for list in ["initContainers", "containers"] {
            guard let containers = spec[member: list]?.arrayItems else { continue }
            spec = spec.setting(list, to: .array(containers.map(containerDefaults)))
        }
        return pod.setting("spec", to: spec)
    }

    static func containerDefaults(_ container: JSONValue) -> JSONValue {
        guard case .object = container else { return container }
        var container = container
        container = filling(container, "resources", .ordered([]))
        container = filling(container, "terminationMessagePath", .string("/dev/termination-log"))
        container = filling(container, "terminationMessagePolicy", .string("File"))
        if container[member: "imagePullPolicy"] == nil {
            // Always for :latest or no tag, else IfNotPresent (a digest counts as pinned).
            let image = container[member: "image"]?.stringValue ?? ""
            let lastPart = image.split(separator: "/").last.map(String.init) ?? image
            let tag = image.contains("@") ? "digest" : (lastPart.split(separator: ":", maxSplits: 1).dropFirst().first.map(String.init) ?? "latest")
            container = container.setting("imagePullPolicy", to: .string(tag == "latest" ? "Always" : "IfNotPresent"))
        }
        if let ports = container[member: "ports"]?.arrayItems {
            container = container.setting("ports", to: .array(ports.map { filling($0, "protocol", .string("TCP")) }))
        }
        return container
    }

    /// The status a new object starts with (what the client sent is dropped), nil to keep it.
    public static func initialStatus(_ kind: KubeKind, _ object: JSONValue) -> JSONValue? {
        switch kind.kind {
        case "Pod": initialPodStatus(object)
        case "PersistentVolumeClaim": .ordered([("phase", .string("Pending"))])
        case "PersistentVolume": .ordered([("phase", .string("Available"))])
        default: nil
        }
    }

    /// A new Pod's status: Pending, with the QoS class of its resources (what the client sent is dropped).
    public static func initialPodStatus(_ pod: JSONValue) -> JSONValue {
        .ordered([("phase", .string("Pending")), ("qosClass", .string(qosClass(pod)))])
    }

    /// Guaranteed when every container limits cpu and memory with requests equal to limits,
    /// BestEffort when none asks for anything, Burstable otherwise.
    public static func qosClass(_ pod: JSONValue) -> String {
        let spec = pod[member: "spec"]
        let containers = (spec?[member: "containers"]?.arrayItems ?? []) + (spec?[member: "initContainers"]?.arrayItems ?? [])
        var any = false, guaranteed = !containers.isEmpty
        for container in containers {
            let requests = container[member: "resources"]?[member: "requests"]?.objectValue ?? [:]
            let limits = container[member: "resources"]?[member: "limits"]?.objectValue ?? [:]
            if !requests.isEmpty || !limits.isEmpty { any = true }
            for resource in ["cpu", "memory"] {
                guard let limit = limits[resource] else { guaranteed = false; continue }
                if let request = requests[resource], request != limit { guaranteed = false }
            }
        }
        return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable"
    }

    static func validatePod(_ pod: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let spec = pod[member: "spec"]
        let containers = spec?[member: "containers"]?.arrayItems ?? []
        if containers.isEmpty { errors.append(FieldError("spec.containers", .required, "")) }
        var names: Set<String> = []
        for list in ["initContainers", "containers"] {
            for (index, container) in (spec?[member: list]?.arrayItems ?? []).enumerated() {
                let path = "spec.\(list)[\(index)]"
                let name = container[member: "name"]?.stringValue ?? ""
                if name.isEmpty {
                    errors.append(FieldError(path + ".name", .required, ""))
                } else {
                    errors += Names.dns1123Label(name).map { FieldError(path + ".name", .invalid(name), $0) }
                    if !names.insert(name).inserted { errors.append(FieldError(path + ".name", .duplicate(name), "")) }
                }
                if (container[member: "image"]?.stringValue ?? "").isEmpty { errors.append(FieldError(path + ".image", .required, "")) }
            }
        }
        if let policy = spec?[member: "restartPolicy"]?.stringValue, !["Always", "OnFailure", "Never"].contains(policy) {
            errors.append(FieldError("spec.restartPolicy", .notSupported(policy), #"supported values: "Always", "OnFailure", "Never""#))
        }
        return errors
    }

    /// What a Pod update may change in spec: images, activeDeadlineSeconds, added tolerations,
    /// schedulingGates removed (the apiserver's ValidatePodUpdate).
    static func validatePodUpdate(old: JSONValue, new: JSONValue) -> [FieldError] {
        func mutable(_ spec: JSONValue?) -> JSONValue? {
            guard var spec else { return nil }
            for list in ["initContainers", "containers"] {
                guard let containers = spec[member: list]?.arrayItems else { continue }
                spec = spec.setting(list, to: .array(containers.map { $0.setting("image", to: nil) }))
            }
            return spec.setting("activeDeadlineSeconds", to: nil).setting("tolerations", to: nil).setting("schedulingGates", to: nil)
        }
        if mutable(old[member: "spec"]) == mutable(new[member: "spec"]) { return [] }
        return [FieldError("spec", .forbidden, "pod updates may not change fields other than `spec.containers[*].image`,"
            + "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
            + "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")]
    }
}
