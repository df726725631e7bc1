import GoCompat

/// The functions a template can call: Go's `text/template` built-ins (`and or not len index slice
/// print printf println html urlquery eq ne lt le gt ge`; not `call` or `js`) and Docker's
/// (`json split join title lower upper pad truncate`).
///
/// Differences from Go, all lenient where the untyped data would otherwise fail:
/// - `len` and `index` of null give 0 and null (Go fails on an untyped nil; Docker's typed nil maps and
///   slices give 0 and the zero value).
/// - `eq`/`ne` compare ints with doubles by value and arrays/objects structurally; `lt` etc. compare ints
///   with doubles by value. Other mixed kinds are `incompatible types for comparison`, as in Go.
/// - `join` accepts any array and prints non-strings with `%v`.
/// - `truncate` counts characters (Unicode scalars), Docker counts bytes.
/// - `len` of a string counts UTF-8 bytes, as Go does.
enum TemplateFunctions {
    static let names: Set<String> = [
        "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "html", "urlquery",
        "eq", "ne", "lt", "le", "gt", "ge",
        "json", "split", "join", "title", "lower", "upper", "pad", "truncate",
    ]

    /// Docker's table headers are rendered with these returning their first argument unchanged.
    static let headerPassThrough: Set<String> = ["json", "split", "join", "title", "lower", "upper", "pad", "truncate"]

    static func call(_ name: String, _ args: [TemplateValue], headerMode: Bool) throws(FunctionError) -> TemplateValue {
        if headerMode, headerPassThrough.contains(name) {
            try arity(name, args, headerArity(name))
            return args[0]
        }
        switch name {
        case "not":
            try arity(name, args, 1)
            return .bool(!args[0].isTruthy)
        case "and":
            try atLeast(name, args, 1)
            return args.first { !$0.isTruthy } ?? args[args.count - 1]
        case "or":
            try atLeast(name, args, 1)
            return args.first { $0.isTruthy } ?? args[args.count - 1]
        case "len":
            try arity(name, args, 1)
            switch args[0] {
            case .string(let s): return .int(Int64(s.utf8.count))
            case .array(let a): return .int(Int64(a.count))
            case .object(let o, _): return .int(Int64(o.count))
            case .null: return .int(0)
            default: throw FunctionError(message: "len of type \(args[0].typeName)")
            }
        case "index":
            try atLeast(name, args, 1)
            return try index(args[0], Array(args.dropFirst()))
        case "slice":
            try atLeast(name, args, 1)
            return try slice(args[0], Array(args.dropFirst()))
        case "print": return .string(GoFormat.sprint(args))
        case "println": return .string(GoFormat.sprintln(args))
        case "printf":
            try atLeast(name, args, 1)
            return .string(GoPrintf.sprintf(try string(args[0]), Array(args.dropFirst())))
        case "html": return .string(html(GoFormat.sprint(args)))
        case "urlquery": return .string(urlQuery(GoFormat.sprint(args)))
        case "eq":
            try atLeast(name, args, 1)
            guard args.count >= 2 else { throw FunctionError(message: "missing argument for comparison") }
            for other in args.dropFirst() where try equal(args[0], other) { return .bool(true) }
            return .bool(false)
        case "ne":
            try arity(name, args, 2)
            return .bool(!(try equal(args[0], args[1])))
        case "lt", "le", "gt", "ge":
            try arity(name, args, 2)
            let less = try lessThan(args[0], args[1])
            let same = try equal(args[0], args[1])
            switch name {
            case "lt": return .bool(less)
            case "ge": return .bool(!less)
            case "le": return .bool(less || same)
            default: return .bool(!less && !same)
            }
        case "json":
            try arity(name, args, 1)
            return .string(args[0].json(escapeHTML: false))
        case "split":
            try arity(name, args, 2)
            return .array(split(try string(args[0]), separator: try string(args[1])).map { .string($0) })
        case "join":
            try arity(name, args, 2)
            let separator = try string(args[1])
            switch args[0] {
            case .array(let items): return .string(items.map { GoFormat.print($0) }.joined(separator: separator))
            case .null: return .string("")
            default: throw FunctionError.wrongType(expected: "[]string", got: args[0])
            }
        case "lower":
            try arity(name, args, 1)
            return .string(try string(args[0]).lowercased())
        case "upper":
            try arity(name, args, 1)
            return .string(try string(args[0]).uppercased())
        case "title":
            try arity(name, args, 1)
            return .string(title(try string(args[0])))
        case "pad":
            try arity(name, args, 3)
            let text = try string(args[0])
            let before = try integer(args[1])
            let after = try integer(args[2])
            guard before >= 0, after >= 0 else { throw FunctionError(message: "negative padding") }
            // The bound printf puts on widths (Go's fmt too): a padding of 10^12 spaces is a mistake.
            guard before <= 1_000_000, after <= 1_000_000 else { throw FunctionError(message: "padding larger than 1000000") }
            return .string(String(repeating: " ", count: before) + text + String(repeating: " ", count: after))
        case "truncate":
            try arity(name, args, 2)
            let text = try string(args[0])
            let length = try integer(args[1])
            guard length >= 0 else { throw FunctionError(message: "negative length \(length)") }
            return .string(String(text.unicodeScalars.prefix(length)))
        default:
            throw FunctionError(message: "function \(GoStrconv.quote(name)) not defined", fromCall: false)
        }
    }

    private static func headerArity(_ name: String) -> Int {
        switch name {
        case "split", "join", "truncate": return 2
        case "pad": return 3
        default: return 1
        }
    }

    // MARK: argument checks

    static func arity(_ name: String, _ args: [TemplateValue], _ count: Int) throws(FunctionError) {
        guard args.count == count else {
            throw FunctionError(message: "wrong number of args for \(name): want \(count) got \(args.count)", fromCall: false)
        }
    }

    static func atLeast(_ name: String, _ args: [TemplateValue], _ count: Int) throws(FunctionError) {
        guard args.count >= count else {
            throw FunctionError(
                message: "wrong number of args for \(name): want at least \(count) got \(args.count)", fromCall: false)
        }
    }

    static func string(_ value: TemplateValue) throws(FunctionError) -> String {
        guard case .string(let s) = value else { throw FunctionError.wrongType(expected: "string", got: value) }
        return s
    }

    static func integer(_ value: TemplateValue) throws(FunctionError) -> Int {
        switch value {
        case .int(let i): return Int(i)
        case .double(let d) where d.rounded(.towardZero) == d && d.magnitude < 1e15: return Int(d)
        default: throw FunctionError.wrongType(expected: "int", got: value)
        }
    }

    // MARK: comparison

    private enum Basic { case bool, number, string, null, composite }

    private static func basic(_ v: TemplateValue) -> Basic {
        switch v {
        case .bool: return .bool
        case .int, .double: return .number
        case .string: return .string
        case .null: return .null
        case .array, .object: return .composite
        }
    }

    static func equal(_ a: TemplateValue, _ b: TemplateValue) throws(FunctionError) -> Bool {
        switch (a, b) {
        case let (.int(x), .int(y)): return x == y
        case let (.int(x), .double(y)): return Double(x) == y
        case let (.double(x), .int(y)): return x == Double(y)
        case let (.double(x), .double(y)): return x == y
        case let (.string(x), .string(y)): return goEqual(x, y)
        case let (.bool(x), .bool(y)): return x == y
        case (.null, _), (_, .null): return a.isNull && b.isNull
        default:
            if basic(a) == .composite, basic(b) == .composite { return a == b }
            throw FunctionError(message: "incompatible types for comparison")
        }
    }

    static func lessThan(_ a: TemplateValue, _ b: TemplateValue) throws(FunctionError) -> Bool {
        switch (a, b) {
        case let (.int(x), .int(y)): return x < y
        case let (.int(x), .double(y)): return Double(x) < y
        case let (.double(x), .int(y)): return x < Double(y)
        case let (.double(x), .double(y)): return x < y
        case let (.string(x), .string(y)): return goLess(x, y)
        default:
            if basic(a) != basic(b) { throw FunctionError(message: "incompatible types for comparison") }
            throw FunctionError(message: "invalid type for comparison")
        }
    }

    // MARK: collections

    private static func index(_ item: TemplateValue, _ indices: [TemplateValue]) throws(FunctionError) -> TemplateValue {
        var current = item
        for key in indices {
            switch current {
            case .array(let items):
                let i = try position(key)
                guard i >= 0, i < items.count else { throw FunctionError(message: "index out of range: \(i)") }
                current = items[i]
            case .string(let s):
                let bytes = Array(s.utf8)
                let i = try position(key)
                guard i >= 0, i < bytes.count else { throw FunctionError(message: "index out of range: \(i)") }
                current = .int(Int64(bytes[i]))
            case .object(let pairs, _):
                guard case .string(let name) = key else {
                    throw FunctionError(message: "value has type \(key.typeName); should be string")
                }
                current = pairs.last { $0.key == name }?.value ?? .null
            case .null:
                return .null
            default:
                throw FunctionError(message: "can't index item of type \(current.typeName)")
            }
        }
        return current
    }

    private static func position(_ key: TemplateValue) throws(FunctionError) -> Int {
        switch key {
        case .int(let i): return Int(clamping: i)
        case .double(let d) where d.rounded(.towardZero) == d && d.magnitude < 1e15: return Int(d)
        default: throw FunctionError(message: "cannot index slice/array with type \(key.typeName)")
        }
    }

    private static func slice(_ item: TemplateValue, _ indices: [TemplateValue]) throws(FunctionError) -> TemplateValue {
        guard indices.count <= 2 else {
            throw FunctionError(message: "too many slice indexes: \(indices.count)")
        }
        let count: Int
        switch item {
        case .string(let s): count = s.utf8.count
        case .array(let a): count = a.count
        default: throw FunctionError(message: "can't slice item of type \(item.typeName)")
        }
        let low = indices.count > 0 ? try position(indices[0]) : 0
        let high = indices.count > 1 ? try position(indices[1]) : count
        guard low >= 0, high <= count else { throw FunctionError(message: "index out of range: \(low < 0 ? low : high)") }
        guard low <= high else { throw FunctionError(message: "invalid slice index: \(low) > \(high)") }
        switch item {
        case .string(let s): return .string(String(decoding: Array(s.utf8)[low..<high], as: UTF8.self))
        case .array(let a): return .array(Array(a[low..<high]))
        default: return .null
        }
    }

    // MARK: strings

    /// Go's `strings.Split`: every occurrence splits, so leading, trailing and adjacent separators give
    /// empty strings; an empty separator splits into characters.
    static func split(_ text: String, separator: String) -> [String] {
        if separator.isEmpty { return text.unicodeScalars.map { String(Character($0)) } }
        let bytes = Array(text.utf8)
        let sep = Array(separator.utf8)
        var parts: [String] = []
        var start = 0
        var i = 0
        while i + sep.count <= bytes.count {
            if bytes[i..<(i + sep.count)].elementsEqual(sep) {
                parts.append(String(decoding: bytes[start..<i], as: UTF8.self))
                i += sep.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(String(decoding: bytes[start...], as: UTF8.self))
        return parts
    }

    /// Upper-cases the first letter of each word, leaving the rest (Docker's `cases.Title` with `NoLower`).
    static func title(_ text: String) -> String {
        var out = ""
        var atWordStart = true
        for scalar in text.unicodeScalars {
            let properties = scalar.properties
            let wordChar = properties.isAlphabetic || properties.numericType != nil || scalar == "_" || scalar == "'"
            if wordChar, atWordStart {
                out += String(Character(scalar)).uppercased()
            } else {
                out.unicodeScalars.append(scalar)
            }
            atWordStart = !wordChar
        }
        return out
    }

    /// Go's `template.HTMLEscapeString`.
    static func html(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "'": out += "&#39;"
            case "\"": out += "&#34;"
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Go's `url.QueryEscape`.
    static func urlQuery(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "): out += "+"
            default: out += "%" + GoFormat.hex(UInt32(byte), width: 2).uppercased()
            }
        }
        return out
    }
}
