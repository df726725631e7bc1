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
}
