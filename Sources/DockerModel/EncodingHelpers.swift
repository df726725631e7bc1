import GoCompat

/// Go's encoding/json writes a map's keys sorted; these wrappers do the same through any encoder
/// that keeps the order of `encode` calls (TemplateValueEncoder does; a Swift Dictionary does not).
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// A `map[string]T`: keys sorted.
public struct SortedMap<Value: Encodable & Sendable>: Encodable, Sendable, GoMap {
    public var entries: [String: Value]
    public init(_ entries: [String: Value]) { self.entries = entries }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        for key in entries.keys.sorted() { try container.encode(entries[key], forKey: AnyKey(key)) }
    }
}

/// A `map[string]struct{}` (ExposedPorts, Volumes): keys sorted, each `{}`.
public struct SortedSet: Encodable, Sendable, GoMap {
    public var keys: [String]
    public init<S: Sequence<String>>(_ keys: S) { self.keys = Array(keys) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        for key in keys.sorted() { try container.encode(Empty(), forKey: AnyKey(key)) }
    }
}

/// `{}`.
public struct Empty: Encodable, Sendable {
    public init() {}
    public func encode(to encoder: any Encoder) throws { _ = encoder.container(keyedBy: AnyKey.self) }
}

/// Members in a given order (the order the engine keeps them in, e.g. NetworkSettings.Networks).
public struct OrderedMap<Value: Encodable & Sendable>: Encodable, Sendable, GoMap {
    public var entries: [(key: String, value: Value)]
    public init(_ entries: [(key: String, value: Value)]) { self.entries = entries }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        for (key, value) in entries { try container.encode(value, forKey: AnyKey(key)) }
    }
}

extension KeyedEncodingContainer {
    /// Encodes every (key, value) in order, a nil value as `null`.
    mutating func encodeMembers(_ members: [(Key, any Encodable)]) throws {
        for (key, value) in members { try encode(value, forKey: key) }
    }
}
