/// A value that Docker's Go types hold as a map (`map[string]T`: Labels, Options, Networks …), not
/// as a struct. A template reads a key a map lacks as its zero value (`<no value>`), where a field
/// a struct lacks is an error; encoders that keep the difference (TextTemplate's) look for this.
public protocol GoMap {
    /// A nil map: JSON's null, to a template an empty map (`map[]`, no keys, no error).
    var isNilMap: Bool { get }
}

extension GoMap {
    public var isNilMap: Bool { false }
}

extension Dictionary: GoMap where Key == String {}

extension Optional: GoMap where Wrapped: GoMap {
    public var isNilMap: Bool {
        switch self {
        case .none: true
        case .some(let wrapped): wrapped.isNilMap
        }
    }
}
