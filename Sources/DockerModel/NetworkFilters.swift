/// `network ls --filter`: name (a substring), id (a prefix), driver, label, type (builtin|custom).
public struct NetworkFilters: Sendable {
    /// The filters in the order given; each narrows the list.
    public var filters: [(key: String, value: String)] = []

    public init(_ filters: [String]) throws(FilterError) {
        for item in filters {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw FilterError(.badFormat, "bad format of filter (expected name=value)") }
            guard ["name", "id", "driver", "label", "type"].contains(parts[0]) else {
                throw FilterError(.invalid, "Invalid filter '\(parts[0])'")
            }
            self.filters.append((parts[0], parts[1]))
        }
    }

    public func accepts(name: String, id: String, driver: String, labels: [String: String]) -> Bool {
        for (key, value) in filters {
            switch key {
            case "name": if !name.contains(value) { return false }
            case "id": if !id.hasPrefix(value) { return false }
            case "driver": if driver != value { return false }
            case "label":
                let kv = value.split(separator: "=", maxSplits: 1).map(String.init)
                if !(labels[kv[0]] != nil && (kv.count == 1 || labels[kv[0]] == kv[1])) { return false }
            default:  // type
                if (value == "builtin") != ["bridge", "host", "none"].contains(name) { return false }
            }
        }
        return true
    }
}
