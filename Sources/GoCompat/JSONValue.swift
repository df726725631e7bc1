/// A parsed JSON value, as `JSONParser` builds it.
///
/// Numbers keep their literal text, so each caller decides what a number is (an `Int64`, a `Double`,
/// "does not fit"). Objects keep their members in a dictionary (the runtime's spec decoder looks keys
/// up) and their key order separately: a repeated key keeps its first position and takes the last
/// value, as Go's `json.Unmarshal` into a map does.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue], keys: [String])

    /// An object from members; the key order is the sorted one.
    public init(members: [String: JSONValue]) {
        self = .object(members, keys: members.keys.sorted())
    }

    /// What the value is, as an error message names it ("expected a string, found an array").
    public var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let members, _) = self { return members }
        return nil
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// Equal when the same members have the same values, in whatever order.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x, _), .object(let y, _)): return x == y
        default: return false
        }
    }
}

/// Codable, so a file Berth rewrites (docker's config.json) keeps the members it does not know.
/// Through a `Decoder` the literal text of a number is not available: an integer that fits an
/// `Int64` is read as one, any other number as a `Double`.
extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Int64.self) { self = .number(String(value)); return }
        if let value = try? container.decode(Double.self) { self = .number("\(value)"); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([JSONValue].self) { self = .array(value); return }
        self = JSONValue(members: try container.decode([String: JSONValue].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let text):
            if let integer = Int64(text) {
                try container.encode(integer)
            } else {
                try container.encode(Double(text) ?? 0)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let members, _): try container.encode(members)
        }
    }
}
