import Supervisor

/// Docker's event message (`GET /events`, `events --format '{{json .}}'`) is Supervisor's
/// `EventMessage`: the supervisor writes it, so it lives below the views.
public typealias DockerEventMessage = EventMessage

/// What an `events --format` template reads: the Go struct's field names (Status, ID, From, Type,
/// Action, Actor.ID, Actor.Attributes, Scope, Time, TimeNano), attributes sorted.
public struct EventRow: Encodable, Sendable {
    public var event: EventMessage

    public init(_ event: EventMessage) { self.event = event }

    struct Actor: Encodable {
        var id: String
        var attributes: SortedMap<String>
        enum CodingKeys: String, CodingKey { case id = "ID", attributes = "Attributes" }
    }

    enum CodingKeys: String, CodingKey {
        case status = "Status", id = "ID", from = "From", type = "Type", action = "Action", actor = "Actor", scope = "Scope"
        case time = "Time", timeNano = "TimeNano"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(event.status ?? "", forKey: .status)
        try c.encode(event.id ?? "", forKey: .id)
        try c.encode(event.from ?? "", forKey: .from)
        try c.encode(event.type, forKey: .type)
        try c.encode(event.action, forKey: .action)
        try c.encode(Actor(id: event.actor.id, attributes: SortedMap(event.actor.attributes)), forKey: .actor)
        try c.encode(event.scope, forKey: .scope)
        try c.encode(event.time, forKey: .time)
        try c.encode(event.timeNano, forKey: .timeNano)
    }
}
