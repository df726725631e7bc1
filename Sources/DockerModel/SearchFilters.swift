import Registry

/// `search --filter` (and `GET /images/search?filters=`), applied as dockerd applies them to what
/// the registry found: `stars=N` (at least N; the largest given counts), `is-official=BOOL`,
/// `is-automated=BOOL`.
public struct SearchFilters: Sendable {
    public var minimumStars = 0
    public var isOfficial: Bool?
    public var isAutomated: Bool?

    public init(_ filters: [String]) throws(FilterError) {
        for filter in filters {
            let (key, value) = try FilterError.split(filter)
            switch key {
            case "stars":
                guard let stars = Int(value) else { throw FilterError(.invalid, "invalid filter 'stars=\(value)'") }
                minimumStars = max(minimumStars, stars)
            case "is-official", "is-automated":
                guard let flag = ["true": true, "1": true, "false": false, "0": false][value.lowercased()] else {
                    throw FilterError(.invalid, "invalid filter '\(key)=\(value)'")
                }
                if key == "is-official" { isOfficial = flag } else { isAutomated = flag }
            default:
                throw FilterError(.invalid, "invalid filter '\(key)'")
            }
        }
    }

    public func accepts(_ result: SearchResult) -> Bool {
        if let isOfficial, result.isOfficial != isOfficial { return false }
        if let isAutomated, result.isAutomated != isAutomated { return false }
        return result.starCount >= minimumStars
    }
}
