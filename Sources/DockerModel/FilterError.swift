/// A `--filter` the daemon refuses. `badFormat` is the client's own check (no `key=value`); the
/// rest are the daemon's words. The front end chooses how to print either.
public struct FilterError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case badFormat
        case invalid
    }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// Splits `key=value` at the first `=`.
    static func split(_ filter: String, message: String = "bad format of filter (expected name=value)") throws(FilterError) -> (key: String, value: String) {
        guard let equals = filter.firstIndex(of: "=") else { throw FilterError(.badFormat, message) }
        return (String(filter[..<equals]), String(filter[filter.index(after: equals)...]))
    }

    /// `label=KEY` or `label=KEY=VALUE`.
    static func label(_ text: String) -> (String, String?) {
        guard let eq = text.firstIndex(of: "=") else { return (text, nil) }
        return (String(text[..<eq]), String(text[text.index(after: eq)...]))
    }
}
