import ContainerSpec
import GoCompat

/// A JSON request body read as Go's encoding/json fills a struct, which is how dockerd reads
/// every body: member names match case-insensitively (an exact match first), null is the same
/// as absent, unknown members are ignored, and a member of the wrong type is a 400 with Go's words.
struct BodyObject {
    /// The Go type the body decodes into, for messages (`ExecConfig`, `NetworkCreateRequest`).
    let typeName: String
    private let members: [String: JSONValue]
    private let folded: [String: JSONValue]

    /// `value` null (an empty body) reads as an empty object.
    init(_ value: JSONValue, typeName: String) throws(EngineError) {
        self.typeName = typeName
        switch value {
        case .null:
            members = [:]
        case .object(let object, _):
            members = object
        default:
            throw .invalid("invalid JSON: json: cannot unmarshal \(Self.goKind(value)) into Go value of type \(typeName)")
        }
        var folded: [String: JSONValue] = [:]
        for (key, member) in members where folded[key.lowercased()] == nil { folded[key.lowercased()] = member }
        self.folded = folded
    }

    /// The member, nil when absent or null.
    func value(_ name: String) -> JSONValue? {
        let found = members[name] ?? folded[name.lowercased()]
        if case .null? = found { return nil }
        return found
    }

    func bool(_ name: String) throws(EngineError) -> Bool? {
        guard let found = value(name) else { return nil }
        guard case .bool(let flag) = found else { throw mismatch(name, found, "bool") }
        return flag
    }

    func string(_ name: String) throws(EngineError) -> String? {
        guard let found = value(name) else { return nil }
        guard case .string(let text) = found else { throw mismatch(name, found, "string") }
        return text
    }

    func integer(_ name: String) throws(EngineError) -> Int? {
        guard let found = value(name) else { return nil }
        guard case .number(let text) = found, let number = Int(text) else { throw mismatch(name, found, "int") }
        return number
    }

    /// A list of strings (`[]string`); a null entry is "" as in Go.
    func strings(_ name: String) throws(EngineError) -> [String]? {
        guard let found = value(name) else { return nil }
        guard case .array(let items) = found else { throw mismatch(name, found, "[]string") }
        var texts: [String] = []
        for item in items {
            switch item {
            case .string(let text): texts.append(text)
            case .null: texts.append("")
            default: throw mismatch(name, item, "string")
            }
        }
        return texts
    }

    /// A `map[string]string`, keys in the order sent.
    func stringMap(_ name: String) throws(EngineError) -> [(key: String, value: String)]? {
        guard let found = value(name) else { return nil }
        guard case .object(let object, let keys) = found else { throw mismatch(name, found, "map[string]string") }
        var pairs: [(key: String, value: String)] = []
        for key in keys {
            switch object[key] ?? .null {
            case .string(let text): pairs.append((key, text))
            case .null: pairs.append((key, ""))
            case let other: throw mismatch(name, other, "string")
            }
        }
        return pairs
    }

    /// A nested struct.
    func object(_ name: String, typeName: String) throws(EngineError) -> BodyObject? {
        guard let found = value(name) else { return nil }
        guard case .object = found else { throw mismatch(name, found, typeName) }
        return try BodyObject(found, typeName: typeName)
    }

    /// A list of structs.
    func objects(_ name: String, typeName: String) throws(EngineError) -> [BodyObject]? {
        guard let found = value(name) else { return nil }
        guard case .array(let items) = found else { throw mismatch(name, found, "[]" + typeName) }
        var objects: [BodyObject] = []
        for item in items {
            guard case .object = item else {
                if case .null = item { objects.append(try BodyObject(.null, typeName: typeName)); continue }
                throw mismatch(name, item, typeName)
            }
            objects.append(try BodyObject(item, typeName: typeName))
        }
        return objects
    }

    /// Go's error for a member of the wrong type.
    func mismatch(_ name: String, _ found: JSONValue, _ goType: String) -> EngineError {
        .invalid("invalid JSON: json: cannot unmarshal \(Self.goKind(found)) into Go struct field \(typeName).\(name) of type \(goType)")
    }

    /// How Go's decoder names a JSON value's kind.
    static func goKind(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}
