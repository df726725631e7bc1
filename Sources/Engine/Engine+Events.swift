import ContainerNetwork
import Supervisor

extension Engine {
    /// `<root>/events.log`, shared with the supervisors (see `EventLog`).
    public var eventsPath: String { root + "/" + EventLog.fileName }

    /// What Docker puts in a container event's Actor.Attributes: its labels, image and name.
    func eventAttributes(_ container: Container) -> [String: String] {
        var attributes = container.config.labels ?? [:]
        attributes["image"] = container.image
        attributes["name"] = container.name
        return attributes
    }

    /// Records a container event (`berth events`); never fails the operation.
    public func recordEvent(_ container: Container, _ action: String, _ extra: [String: String] = [:]) {
        var attributes = eventAttributes(container)
        for (key, value) in extra { attributes[key] = value }
        EventLog.append(EventMessage(container: container.id, action: action, attributes: attributes), to: eventsPath)
    }

    /// Records a volume event: create and destroy (the driver), mount (where, which container).
    func recordVolumeEvent(_ name: String, _ action: String, _ extra: [String: String] = [:]) {
        var attributes = ["driver": Self.localDriver]
        for (key, value) in extra { attributes[key] = value }
        EventLog.append(EventMessage(type: "volume", id: name, action: action, attributes: attributes), to: eventsPath)
    }

    /// Records a network event: create, destroy, connect and disconnect (with the container).
    func recordNetworkEvent(_ network: BridgeNetwork, _ action: String, container: String? = nil) {
        EventLog.append(EventMessage(network: network.id, name: network.name, action: action, container: container), to: eventsPath)
    }
}
