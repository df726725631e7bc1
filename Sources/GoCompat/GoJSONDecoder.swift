// Go's encoding/json filling a struct, for the Docker Engine API's request bodies: clients send what
// Go's decoder accepts, so Berth has to accept the same and refuse the same, in the same words.
//
// Where Go differs from Foundation's JSONDecoder:
// - a key matches a field exactly or, failing that, case-insensitively (`"hostconfig"` fills
//   HostConfig; when two keys match one field the later wins); map keys match exactly;
// - unknown keys are skipped;
// - `null` leaves a field as it is (nil for pointers, slices and maps; zero otherwise), and a missing
//   key is no error: every field is optional;
// - a value of the wrong type is `json: cannot unmarshal string into Go struct field
//   HostConfig.HostConfig.Memory of type int64`: the innermost struct's name, then the JSON path of Go
//   field names from the top (no array indices, no map keys), then the Go type. (Go goes on decoding
//   and reports the first such error in document order; this stops at the first it meets. A named Go
//   type over a scalar, `time.Duration` or `container.NetworkMode`, prints as the scalar: `int64`.)
//
// Targets are plain `Decodable` types whose `CodingKeys` spell Go's field names; `GoNamed` gives the
// Go type name each error prints.

/// A type whose Go name errors print: `container.HostConfig`, `[]string`, `map[string]string`.
public protocol GoNamed {
    static var goName: String { get }
}

extension String: GoNamed { public static var goName: String { "string" } }
extension Bool: GoNamed { public static var goName: String { "bool" } }
extension Int: GoNamed { public static var goName: String { "int" } }
extension Int64: GoNamed { public static var goName: String { "int64" } }
extension UInt: GoNamed { public static var goName: String { "uint" } }
extension UInt16: GoNamed { public static var goName: String { "uint16" } }
extension UInt32: GoNamed { public static var goName: String { "uint32" } }
extension UInt64: GoNamed { public static var goName: String { "uint64" } }
extension Double: GoNamed { public static var goName: String { "float64" } }
extension Array: GoNamed where Element: GoNamed { public static var goName: String { "[]" + Element.goName } }
extension Optional: GoNamed where Wrapped: GoNamed { public static var goName: String { "*" + Wrapped.goName } }
extension Dictionary: GoNamed where Key == String, Value: GoNamed {
    public static var goName: String { "map[string]" + Value.goName }
}

public enum GoJSON {
    /// `value` decoded into a `T` as `json.Unmarshal` fills one, or Go's error text.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(GoError) -> T {
        do {
            return try GoValueDecoder(value, GoErrorContext(goType: goName(of: T.self))).decode(T.self)
        } catch let error as GoError {
            throw error
        } catch {
            throw GoError("json: \(error)")
        }
    }

    static func goName(of type: Any.Type) -> String {
        (type as? any GoNamed.Type)?.goName ?? String(describing: type)
    }
}

/// Where a value sits, as Go's errors name it.
struct GoErrorContext {
    /// The Go type of the value being decoded here.
    var goType: String
    /// The struct whose field holds the value (empty at the top).
    var structName = ""
    /// Go field names from the top.
    var fields: [String] = []

    var isMap: Bool { goType.hasPrefix("map[") || goType.hasPrefix("Dictionary<") }

    func child(field: String?, goType: String) -> GoErrorContext {
        var child = self
        child.goType = goType
        if let field {
            // A struct's field: Go names the struct (after its package) and appends the field.
            child.structName = String(self.goType.split(separator: ".").last ?? Substring(self.goType))
            child.fields.append(field)
        }
        return child
    }

    /// Go's UnmarshalTypeError for `value` where a `goType` was wanted.
    func mismatch(_ value: JSONValue, goType: String? = nil, numberText: Bool = false) -> GoError {
        let what: String
        switch value {
        case .null: what = "null"
        case .bool: what = "bool"
        case .number(let text): what = numberText ? "number " + text : "number"
        case .string: what = "string"
        case .array: what = "array"
        case .object: what = "object"
        }
        let type = goType ?? self.goType
        if structName.isEmpty && fields.isEmpty {
            return GoError("json: cannot unmarshal \(what) into Go value of type \(type)")
        }
        return GoError("json: cannot unmarshal \(what) into Go struct field \(structName).\(fields.joined(separator: ".")) of type \(type)")
    }

    // MARK: scalars (null is the zero value, as Go leaves a non-pointer alone)

    func string(_ value: JSONValue) throws(GoError) -> String {
        switch value {
        case .string(let text): return text
        case .null: return ""
        default: throw mismatch(value, goType: "string")
        }
    }

    func bool(_ value: JSONValue) throws(GoError) -> Bool {
        switch value {
        case .bool(let flag): return flag
        case .null: return false
        default: throw mismatch(value, goType: "bool")
        }
    }

    /// Go reads an integer field with strconv.ParseInt/ParseUint: `1.0`, `1e3` and out-of-range values
    /// are `number 1.0`.
    func integer<T: FixedWidthInteger & GoNamed>(_ type: T.Type, _ value: JSONValue) throws(GoError) -> T {
        switch value {
        case .number(let text):
            guard let number = T(text) else { throw mismatch(value, goType: T.goName, numberText: true) }
            return number
        case .null: return 0
        default: throw mismatch(value, goType: T.goName)
        }
    }

    func double(_ value: JSONValue) throws(GoError) -> Double {
        switch value {
        case .number(let text):
            guard let number = Double(text) else { throw mismatch(value, goType: "float64", numberText: true) }
            return number
        case .null: return 0
        default: throw mismatch(value, goType: "float64")
        }
    }
}

struct GoValueDecoder: Decoder {
    let value: JSONValue
    let context: GoErrorContext
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: JSONValue, _ context: GoErrorContext) {
        self.value = value
        self.context = context
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is String.Type: return try context.string(value) as! T
        case is Bool.Type: return try context.bool(value) as! T
        case is Int.Type: return try context.integer(Int.self, value) as! T
        case is Int64.Type: return try context.integer(Int64.self, value) as! T
        case is UInt.Type: return try context.integer(UInt.self, value) as! T
        case is UInt16.Type: return try context.integer(UInt16.self, value) as! T
        case is UInt32.Type: return try context.integer(UInt32.self, value) as! T
        case is UInt64.Type: return try context.integer(UInt64.self, value) as! T
        case is Double.Type: return try context.double(value) as! T
        default: return try T(from: self)
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        switch value {
        case .object(let members, let keys):
            return KeyedDecodingContainer(GoKeyedContainer<Key>(members: members, keys: keys, context: context))
        case .null:
            return KeyedDecodingContainer(GoKeyedContainer<Key>(members: [:], keys: [], context: context))
        default:
            throw context.mismatch(value)
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .array(let elements): return GoUnkeyedContainer(elements: elements, context: context)
        case .null: return GoUnkeyedContainer(elements: [], context: context)
        default: throw context.mismatch(value)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        GoSingleValue(decoder: self)
    }
}

struct GoKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let keys: [String]
    let context: GoErrorContext
    /// The keys folded to lower case, for the case-insensitive match (structs only).
    let folded: [String]
    var codingPath: [any CodingKey] { [] }

    init(members: [String: JSONValue], keys: [String], context: GoErrorContext) {
        self.members = members
        self.keys = keys
        self.context = context
        self.folded = context.isMap ? [] : keys.map { $0.lowercased() }
    }

    var allKeys: [Key] {
        if context.isMap { return keys.compactMap { Key(stringValue: $0) } }
        var seen = Set<String>()
        var found: [Key] = []
        for name in keys {
            var key = Key(stringValue: name)
            if key == nil, let cases = Key.self as? any (CodingKey & CaseIterable).Type {
                key = Self.fold(cases, name)
            }
            if let key, seen.insert(key.stringValue).inserted { found.append(key) }
        }
        return found
    }

    private static func fold<K: CodingKey & CaseIterable>(_ type: K.Type, _ name: String) -> Key? {
        let lower = name.lowercased()
        return K.allCases.first { $0.stringValue.lowercased() == lower }.flatMap { Key(stringValue: $0.stringValue) }
    }

    /// The value for a field: the last key, in document order, that names it exactly or but for case.
    private func member(_ key: Key) -> JSONValue? {
        if context.isMap { return members[key.stringValue] }
        let lower = key.stringValue.lowercased()
        guard let index = folded.lastIndex(of: lower) else { return nil }
        return members[keys[index]]
    }

    private func child<T>(_ key: Key, _ type: T.Type) -> GoErrorContext {
        context.child(field: context.isMap ? nil : key.stringValue, goType: GoJSON.goName(of: type))
    }

    func contains(_ key: Key) -> Bool { member(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = member(key) ?? .null { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try GoValueDecoder(member(key) ?? .null, child(key, type)).decode(type)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = member(key) else { return nil }
        if case .null = value { return nil }
        return try GoValueDecoder(value, child(key, type)).decode(type)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(false, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode("", key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(Double(0), key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try decode(Double(0), key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(Int(0), key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { Int8(try decode(Int(0), key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { Int16(try decode(Int(0), key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { Int32(try decode(Int(0), key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(Int64(0), key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decode(UInt(0), key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { UInt8(try decode(UInt16(0), key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decode(UInt16(0), key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decode(UInt32(0), key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decode(UInt64(0), key) }

    private func decode<T: Decodable>(_ zero: T, _ key: Key) throws -> T {
        try GoValueDecoder(member(key) ?? .null, child(key, T.self)).decode(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try GoValueDecoder(member(key) ?? .null, child(key, Any.self)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try GoValueDecoder(member(key) ?? .null, child(key, Any.self)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { GoValueDecoder(.object(members, keys: keys), context) }
    func superDecoder(forKey key: Key) throws -> any Decoder { GoValueDecoder(member(key) ?? .null, child(key, Any.self)) }
}

struct GoUnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let context: GoErrorContext
    var currentIndex = 0
    var codingPath: [any CodingKey] { [] }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(elements: [JSONValue], context: GoErrorContext) {
        self.elements = elements
        self.context = context
    }

    /// The next element's decoder: an element keeps its slice's place in Go's errors.
    private mutating func next<T>(_ type: T.Type) -> GoValueDecoder {
        let value = isAtEnd ? JSONValue.null : elements[currentIndex]
        currentIndex += 1
        return GoValueDecoder(value, context.child(field: nil, goType: GoJSON.goName(of: type)))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return true }
        if case .null = elements[currentIndex] { currentIndex += 1; return true }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type).decode(type) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type).decode(type) }
    mutating func decode(_ type: String.Type) throws -> String { try next(type).decode(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type).decode(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { Float(try next(Double.self).decode(Double.self)) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type).decode(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { Int8(try next(Int.self).decode(Int.self)) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { Int16(try next(Int.self).decode(Int.self)) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { Int32(try next(Int.self).decode(Int.self)) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type).decode(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type).decode(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { UInt8(try next(UInt16.self).decode(UInt16.self)) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type).decode(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type).decode(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type).decode(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next(Any.self).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next(Any.self).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { next(Any.self) }
}

struct GoSingleValue: SingleValueDecodingContainer {
    let decoder: GoValueDecoder
    var codingPath: [any CodingKey] { [] }

    func decodeNil() -> Bool {
        if case .null = decoder.value { return true }
        return false
    }

    /// A type of its own decoding (Docker's StrSlice) reads the value as another type in the same place.
    private func read<T: Decodable>(_ type: T.Type) throws -> T {
        var context = decoder.context
        context.goType = GoJSON.goName(of: type)
        return try GoValueDecoder(decoder.value, context).decode(type)
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try read(type) }
    func decode(_ type: Bool.Type) throws -> Bool { try read(type) }
    func decode(_ type: String.Type) throws -> String { try read(type) }
    func decode(_ type: Double.Type) throws -> Double { try read(type) }
    func decode(_ type: Float.Type) throws -> Float { Float(try read(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try read(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { Int8(try read(Int.self)) }
    func decode(_ type: Int16.Type) throws -> Int16 { Int16(try read(Int.self)) }
    func decode(_ type: Int32.Type) throws -> Int32 { Int32(try read(Int.self)) }
    func decode(_ type: Int64.Type) throws -> Int64 { try read(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try read(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { UInt8(try read(UInt16.self)) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try read(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try read(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try read(type) }
}
