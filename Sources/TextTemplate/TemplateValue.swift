/// A dynamically typed value a template renders: the shape of JSON, with integers kept apart from
/// doubles and object keys kept in the order they were given.
///
/// Printing follows Go's `fmt` `%v` as `text/template` uses it: a string prints as itself, an int in
/// decimal, a double like Go's `%v` (`1.5`, `1e+06`, `1e+21`), a bool as `true`/`false`, an array as
/// `[a b c]` and an object as `map[k:v k2:v2]` with keys sorted. `null` prints `<no value>` when it is
/// the whole result of an action (Go's wording for a missing map entry) and `<nil>` inside an array or
/// object, or when passed to `print`/`printf`.
public indirect enum TemplateValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    /// Key order is kept (for JSON output); a key appears at most once when built by `TemplateValue.parseJSON`.
    /// The kind says what a template does with a key the object lacks (see `ObjectKind`).
    case object([(key: String, value: TemplateValue)], ObjectKind = .map)
}

/// What Go would hold an object as, which decides what `.Key` does when the key is not there: a
/// map (JSON decoded into interface{}, Docker's map fields) gives its zero value, a struct has no
/// such field, an error when the template is strict (Docker's inspect).
public enum ObjectKind: Sendable, Equatable {
    case map
    /// A nil map (always without members): null in JSON, an empty map to a template.
    case nilMap
    /// `omitted`: fields the struct has that its JSON left out (omitempty): nil, never an error.
    case structure(omitted: Set<String>)
}

extension TemplateValue: Equatable {
    public static func == (lhs: TemplateValue, rhs: TemplateValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a, _), .object(b, _)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

extension TemplateValue {
    /// The value stored under `key` when this is an object (the first entry with that key), else nil.
    public subscript(key: String) -> TemplateValue? {
        guard case .object(let pairs, _) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    /// The element at `index` when this is an array and the index is in range, else nil.
    public subscript(index: Int) -> TemplateValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }

    /// Go's name for the type this value would have after `json.Unmarshal` into `interface{}`
    /// (integers are `int`), as used in error messages and `%!verb(type=value)`.
    var typeName: String {
        switch self {
        case .null: return "<nil>"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float64"
        case .string: return "string"
        case .array: return "[]interface {}"
        case .object: return "map[string]interface {}"
        }
    }

    /// Go's template truth: false, 0, nil and empty strings, arrays and objects are false.
    var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o, _): return !o.isEmpty
        }
    }
}

extension TemplateValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    /// Keeps the literal's key order.
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .object(elements.map { (key: $0.0, value: $0.1) })
    }
}

/// Byte-wise ordering of strings, as Go compares and sorts them.
func goLess(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}

func goEqual(_ a: String, _ b: String) -> Bool {
    a.utf8.elementsEqual(b.utf8)
}
