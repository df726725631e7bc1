import ContainerSpec
import GoCompat

/// Docker's `filters` query parameter, `{"label":["a=b"],"status":{"running":true}}` (both the
/// list form and the older map-of-true form), as the `key=value` strings the CLI's filters take.
enum QueryFilters {
    static func parse(_ text: String?) throws(EngineError) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        let value: JSONValue
        do { value = try JSONParser.parse(Array(text.utf8)) } catch {
            throw .invalid("invalid filter: \(error)")
        }
        guard case .object(let members, let keys) = value else {
            throw .invalid("invalid filter: the filters must be a JSON object of lists")
        }
        var filters: [String] = []
        for key in keys {
            switch members[key] ?? .null {
            case .array(let items):
                for item in items {
                    guard case .string(let text) = item else { throw .invalid("invalid filter '\(key)': values must be strings") }
                    filters.append(key + "=" + text)
                }
            case .object(let map, let order):
                for text in order where map[text] == .bool(true) { filters.append(key + "=" + text) }
            case .null:
                break
            default:
                throw .invalid("invalid filter '\(key)': values must be a list of strings")
            }
        }
        return filters
    }
}
