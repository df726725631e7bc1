import ContainerSpec
import GoCompat
import Kube
import KubeModel
import Synchronization

/// Events about the objects controllers keep (core/v1 Events, `source.component` the controller's
/// name as the controller manager's recorders set it), seen in `kubectl describe` and `kubectl
/// get events`.
enum ControllerEvents {
    static let resource = Resource("events")

    static func record(_ store: ObjectStore, about object: JSONValue, kind: String, apiVersion: String, component: String,
                       type: String = "Normal", reason: String, message: String) {
        guard let namespace = object.metadataString("namespace"), let name = object.metadataString("name"),
              store.acceptsNewContent(inNamespace: namespace) else { return }
        var suffix = ""
        for _ in 0..<16 { suffix += String(UInt8.random(in: 0...15), radix: 16) }
        var involved: [(String, JSONValue)] = [("kind", .string(kind)), ("namespace", .string(namespace)), ("name", .string(name)),
                                              ("uid", .string(object.metadataString("uid") ?? "")), ("apiVersion", .string(apiVersion))]
        if let resourceVersion = object.metadataString("resourceVersion") { involved.append(("resourceVersion", .string(resourceVersion))) }
        let now = JSONValue.string(SystemFields.timestamp())
        let event = JSONValue.ordered([
            ("apiVersion", .string("v1")), ("kind", .string("Event")),
            ("metadata", .ordered([("name", .string(name + "." + suffix)), ("namespace", .string(namespace))])),
            ("involvedObject", .ordered(involved)), ("reason", .string(reason)), ("message", .string(message)),
            ("source", .ordered([("component", .string(component))])),
            ("firstTimestamp", now), ("lastTimestamp", now), ("count", .int(1)), ("type", .string(type)),
            ("eventTime", .null), ("reportingComponent", .string(component)), ("reportingInstance", .string("")),
        ])
        // An Event is a note: failing to write one changes nothing the controller decides.
        _ = try? store.create(resource, event)
    }
}

/// When a controller next needs a pass though nothing changes (a backoff ends, a deadline or a
/// schedule comes): the earliest time any of its passes asked for.
public final class WakeTimer: Sendable {
    private let earliest = Mutex<Int64?>(nil)

    public init() {}

    /// Asks for a pass at `time` (Unix seconds).
    func request(_ time: Int64) {
        earliest.withLock { current in
            if current == nil || time < current! { current = time }
        }
    }

    /// The time asked for since the last call, cleared.
    public func take() -> Int64? { earliest.withLock { value in defer { value = nil }; return value } }
}
