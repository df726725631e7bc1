import Supervisor

/// `events --filter container=|event=|type=|label=|image=|volume=|network=|scope=`: values of one key
/// are alternatives, keys must all match, and every label filter must match (Docker's rules).
public struct EventFilters: Sendable {
    public var values: [String: [String]] = [:]

    public init(_ filters: [String]) throws(FilterError) {
        for filter in filters {
            let (rawKey, value) = try FilterError.split(filter)
            let key = rawKey.lowercased()
            guard ["container", "event", "type", "label", "image", "scope", "volume", "network"].contains(key) else {
                throw FilterError(.invalid, "invalid filter '\(key)'")
            }
            values[key, default: []].append(value)
        }
    }

    public func accepts(_ event: EventMessage) -> Bool {
        let attributes = event.actor.attributes
        if let containers = values["container"] {
            guard event.type == "container", containers.contains(where: { attributes["name"] == $0 || event.actor.id.hasPrefix($0) }) else { return false }
        }
        if let actions = values["event"] {
            // health_status, exec_create and exec_start also match their "…: detail" forms.
            guard actions.contains(where: { event.action == $0 || (["health_status", "exec_create", "exec_start"].contains($0) && event.action.hasPrefix($0)) }) else { return false }
        }
        if let types = values["type"], !types.contains(event.type) { return false }
        if let volumes = values["volume"] {
            guard event.type == "volume", volumes.contains(event.actor.id) else { return false }
        }
        if let networks = values["network"] {
            guard event.type == "network", networks.contains(where: { attributes["name"] == $0 || event.actor.id.hasPrefix($0) }) else { return false }
        }
        if let scopes = values["scope"], !scopes.contains(event.scope) { return false }
        for label in values["label"] ?? [] {
            if let eq = label.firstIndex(of: "=") {
                guard attributes[String(label[..<eq])] == String(label[label.index(after: eq)...]) else { return false }
            } else if attributes[label] == nil {
                return false
            }
        }
        if let images = values["image"] {
            let image = attributes["image"] ?? event.from ?? ""
            let untagged = image.split(separator: "@").first.map { name in
                name.lastIndex(of: ":").map { colon in name[colon...].contains("/") ? String(name) : String(name[..<colon]) } ?? String(name)
            } ?? image
            guard images.contains(where: { $0 == image || $0 == untagged || $0 + ":latest" == image }) else { return false }
        }
        return true
    }
}
