import ContainerSpec
import Glibc
import GoCompat
import Kube
import KubeModel

/// Events as the kubelet records them (Scheduled, Pulling, Pulled, Created, Started, Killing,
/// BackOff, Unhealthy): core/v1 Events about the Pod, the same one again counted rather than repeated.
extension Kubelet {
    static let events = Resource("events")

    func recordEvent(_ key: ObjectKey, _ pod: JSONValue, container: String?, type: String, reason: String, message: String,
                     component: String = "kubelet", dedupe: Bool = true) {
        let uid = pod.metadataString("uid") ?? ""
        let dedupeKey = "\(uid)/\(container ?? "")/\(reason)/\(message)"
        let now = JSONValue.string(SystemFields.timestamp())
        if dedupe, let name = eventNames[dedupeKey] {
            let updated = try? store.guaranteedUpdate(ObjectKey(Self.events, namespace: key.namespace, name: name)) { value in
                let count = (value[member: "count"] ?? .null).podInt ?? 1
                return value.setting("count", to: .int(count + 1)).setting("lastTimestamp", to: now)
            }
            if updated != nil { return }
        }
        // A Killing event of a Pod deleted with its namespace is not written, as the apiserver refuses it.
        guard store.acceptsNewContent(inNamespace: key.namespace) else { return }
        var suffix = ""
        for _ in 0..<16 { suffix += String(UInt8.random(in: 0...15), radix: 16) }
        let name = key.name + "." + suffix
        var involved: [(String, JSONValue)] = [("kind", .string("Pod")), ("namespace", .string(key.namespace)), ("name", .string(key.name)),
                                              ("uid", .string(uid)), ("apiVersion", .string("v1"))]
        if let resourceVersion = pod.metadataString("resourceVersion") { involved.append(("resourceVersion", .string(resourceVersion))) }
        if let container {
            let isInit = (pod[member: "spec"]?[member: "initContainers"] ?? .null).podArray.contains { $0.podString("name") == container }
            involved.append(("fieldPath", .string("spec.\(isInit ? "initContainers" : "containers"){\(container)}")))
        }
        let event = JSONValue.ordered([
            ("apiVersion", .string("v1")), ("kind", .string("Event")),
            ("metadata", .ordered([("name", .string(name)), ("namespace", .string(key.namespace))])),
            ("involvedObject", .ordered(involved)), ("reason", .string(reason)), ("message", .string(message)),
            ("source", .ordered(component == "kubelet" ? [("component", .string(component)), ("host", .string(nodeName))]
                                                        : [("component", .string(component))])),
            ("firstTimestamp", now), ("lastTimestamp", now), ("count", .int(1)), ("type", .string(type)),
            ("eventTime", .null), ("reportingComponent", .string(component)), ("reportingInstance", .string(component == "kubelet" ? nodeName : "")),
        ])
        if (try? store.create(Self.events, event)) != nil, dedupe { eventNames[dedupeKey] = name }
    }
}
