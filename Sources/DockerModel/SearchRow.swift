import Registry

/// One line of `search`: Docker's search formatter's fields, all strings. The description is on
/// one line and, unless `noTrunc`, at most 45 characters; `IsOfficial` is `[OK]` or empty in a
/// table or template, `true` or `false` in `--format json`.
public struct SearchRow: Encodable, Sendable {
    public var name: String
    public var description: String
    public var starCount: String
    public var isOfficial: String

    public init(_ result: SearchResult, noTrunc: Bool, json: Bool) {
        name = result.name
        let oneLine = result.description.replacing("\n", with: " ").replacing("\r", with: " ")
        description = noTrunc ? oneLine : truncated(oneLine, 45)
        starCount = String(result.starCount)
        isOfficial = json ? String(result.isOfficial) : (result.isOfficial ? "[OK]" : "")
    }

    public static let defaultTable = "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}"
    public static let headers = ["Name": "NAME", "Description": "DESCRIPTION", "StarCount": "STARS", "IsOfficial": "OFFICIAL"]

    // The JSON keys in the order Docker's formatter gives them (sorted).
    enum CodingKeys: String, CodingKey {
        case description = "Description", isOfficial = "IsOfficial", name = "Name", starCount = "StarCount"
    }
}
