/// A config.json that cannot be used, with the JSON path of the offending field
/// (`linux.namespaces[2].type`), so that a user can find and fix it.
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        path.isEmpty ? reason : "\(path): \(reason)"
    }
}
