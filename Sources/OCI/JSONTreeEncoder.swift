// A small Codable JSON encoder: sorted keys, no escaped slashes, compact or indented.
//
// With the tree decoder beside it, the runtime needs no Foundation at all: the static binary stays
// small and, more to the point for a command that lives 10 ms, the Swift runtime has far fewer
// protocol conformances to search the first time each generic Codable type is used.

/// One node of the document being built. A class, so nested containers can fill it in later.
final class JSONNode {
    enum Kind { case null, bool, number, string, array, object }
    var kind: Kind = .null
    var scalar = ""
    var elements: [JSONNode] = []
    var members: [String: JSONNode] = [:]

    func write(into out: inout [UInt8], indent: Int?, level: Int) {
        switch kind {
        case .null: out += Array("null".utf8)
        case .bool, .number: out += Array(scalar.utf8)
        case .string: appendQuoted(scalar, to: &out)
        case .array:
            if elements.isEmpty { out += Array("[]".utf8); return }
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent, level + 1)
                element.write(into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out.append(UInt8(ascii: "]"))
        case .object:
            if members.isEmpty { out += Array("{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent, level + 1)
                appendQuoted(key, to: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                members[key]!.write(into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out.append(UInt8(ascii: "}"))
        }
    }

    private func newline(_ out: inout [UInt8], _ indent: Int?, _ level: Int) {
        guard let indent else { return }
        out.append(0x0a)
        out += [UInt8](repeating: 0x20, count: indent * level)
    }
}

/// A JSON string literal for `text`: quotes, backslashes and control characters escaped, the rest as UTF-8.
public func jsonQuoted(_ text: String) -> String {
    var out: [UInt8] = []
    appendQuoted(text, to: &out)
    return String(decoding: out, as: UTF8.self)
}

func appendQuoted(_ text: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "\""): out += [0x5c, UInt8(ascii: "\"")]
        case UInt8(ascii: "\\"): out += [0x5c, 0x5c]
        case 0x0a: out += [0x5c, UInt8(ascii: "n")]
        case 0x0d: out += [0x5c, UInt8(ascii: "r")]
        case 0x09: out += [0x5c, UInt8(ascii: "t")]
        case 0x08: out += [0x5c, UInt8(ascii: "b")]
        case 0x0c: out += [0x5c, UInt8(ascii: "f")]
        case 0..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
        default: out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
}

public enum JSONTreeEncoder {
    /// Encodes `value`; `indent` spaces per level, or compact when nil.
    public static func encode<T: Encodable>(_ value: T, indent: Int? = nil) throws -> [UInt8] {
        let root = JSONNode()
        try value.encode(to: TreeEncoder(node: root, codingPath: []))
        var out: [UInt8] = []
        root.write(into: &out, indent: indent, level: 0)
        return out
    }
}

struct TreeEncoder: Encoder {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.kind != .object { node.kind = .object; node.members = [:] }
        return KeyedEncodingContainer(KeyedEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if node.kind != .array { node.kind = .array; node.elements = [] }
        return UnkeyedEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueEncoder(node: node, codingPath: codingPath)
    }
}

/// Writing scalars into a node, shared by the three containers.
extension JSONNode {
    func set(_ kind: Kind, _ scalar: String) {
        self.kind = kind
        self.scalar = scalar
    }

    func setNumber<T: BinaryInteger>(_ value: T) { set(.number, String(value)) }

    func setFloating(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "JSON has no \(value)"))
        }
        set(.number, value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)")
    }

    func set<T: Encodable>(encoding value: T, path: [any CodingKey]) throws {
        try value.encode(to: TreeEncoder(node: self, codingPath: path))
    }
}

struct KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: JSONNode
    let codingPath: [any CodingKey]

    private func child(_ key: Key) -> JSONNode {
        let child = JSONNode()
        node.members[key.stringValue] = child
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { child(key).kind = .null }
    mutating func encode(_ value: Bool, forKey key: Key) throws { child(key).set(.bool, value ? "true" : "false") }
    mutating func encode(_ value: String, forKey key: Key) throws { child(key).set(.string, value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try child(key).setFloating(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try child(key).setFloating(Double(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { child(key).setNumber(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { child(key).setNumber(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { child(key).setNumber(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { child(key).setNumber(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { child(key).setNumber(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { child(key).setNumber(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { child(key).setNumber(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { child(key).setNumber(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { child(key).setNumber(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { child(key).setNumber(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try child(key).set(encoding: value, path: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(node: child(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        TreeEncoder(node: child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { TreeEncoder(node: node, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { TreeEncoder(node: child(key), codingPath: codingPath + [key]) }
}

struct UnkeyedEncoder: UnkeyedEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var count: Int { node.elements.count }

    private func next() -> JSONNode {
        let child = JSONNode()
        node.elements.append(child)
        return child
    }

    mutating func encodeNil() throws { next().kind = .null }
    mutating func encode(_ value: Bool) throws { next().set(.bool, value ? "true" : "false") }
    mutating func encode(_ value: String) throws { next().set(.string, value) }
    mutating func encode(_ value: Double) throws { try next().setFloating(value) }
    mutating func encode(_ value: Float) throws { try next().setFloating(Double(value)) }
    mutating func encode(_ value: Int) throws { next().setNumber(value) }
    mutating func encode(_ value: Int8) throws { next().setNumber(value) }
    mutating func encode(_ value: Int16) throws { next().setNumber(value) }
    mutating func encode(_ value: Int32) throws { next().setNumber(value) }
    mutating func encode(_ value: Int64) throws { next().setNumber(value) }
    mutating func encode(_ value: UInt) throws { next().setNumber(value) }
    mutating func encode(_ value: UInt8) throws { next().setNumber(value) }
    mutating func encode(_ value: UInt16) throws { next().setNumber(value) }
    mutating func encode(_ value: UInt32) throws { next().setNumber(value) }
    mutating func encode(_ value: UInt64) throws { next().setNumber(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try next().set(encoding: value, path: codingPath + [IndexKey(count - 1)])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(node: next(), codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        TreeEncoder(node: next(), codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { TreeEncoder(node: next(), codingPath: codingPath) }
}

struct SingleValueEncoder: SingleValueEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.kind = .null }
    mutating func encode(_ value: Bool) throws { node.set(.bool, value ? "true" : "false") }
    mutating func encode(_ value: String) throws { node.set(.string, value) }
    mutating func encode(_ value: Double) throws { try node.setFloating(value) }
    mutating func encode(_ value: Float) throws { try node.setFloating(Double(value)) }
    mutating func encode(_ value: Int) throws { node.setNumber(value) }
    mutating func encode(_ value: Int8) throws { node.setNumber(value) }
    mutating func encode(_ value: Int16) throws { node.setNumber(value) }
    mutating func encode(_ value: Int32) throws { node.setNumber(value) }
    mutating func encode(_ value: Int64) throws { node.setNumber(value) }
    mutating func encode(_ value: UInt) throws { node.setNumber(value) }
    mutating func encode(_ value: UInt8) throws { node.setNumber(value) }
    mutating func encode(_ value: UInt16) throws { node.setNumber(value) }
    mutating func encode(_ value: UInt32) throws { node.setNumber(value) }
    mutating func encode(_ value: UInt64) throws { node.setNumber(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try node.set(encoding: value, path: codingPath) }
}
