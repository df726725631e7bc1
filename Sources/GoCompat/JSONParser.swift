/// A JSON syntax error: Go's message (`invalid character ']' looking for beginning of value`) and the
/// byte offset where it was found.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public let message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "json: offset \(offset): \(message)" }
}

/// Parses one JSON text (RFC 8259) as Go's `encoding/json` accepts it.
///
/// Rejected, as Go rejects them: trailing commas, leading zeros, `+`/`.`-led numbers, `1.`, `1e`,
/// control characters in strings, unknown escapes, comments, a byte-order mark, trailing data, and
/// (as `json.Unmarshal` into `any` does) numbers beyond the range of a float64. A lone UTF-16
/// surrogate escape and invalid UTF-8 become U+FFFD, as in Go, unless `strictUnicode` makes them
/// errors. The runtime decodes every config.json with this, so strings without escapes take a fast path.
public struct JSONParser {
    public struct Options: Sendable {
        /// Nesting deeper than this is an error ("exceeded max depth").
        public var maxDepth: Int
        /// Lone surrogate escapes and invalid UTF-8 are errors instead of U+FFFD.
        public var strictUnicode: Bool

        public init(maxDepth: Int = 512, strictUnicode: Bool = false) {
            self.maxDepth = maxDepth
            self.strictUnicode = strictUnicode
        }
    }

    private let bytes: [UInt8]
    private let options: Options
    private var i = 0
    private var depth = 0

    private init(_ bytes: [UInt8], _ options: Options) {
        self.bytes = bytes
        self.options = options
    }

    public static func parse(_ bytes: [UInt8], options: Options = Options()) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes, options)
        parser.skipSpace()
        let value = try parser.parseValue()
        parser.skipSpace()
        if parser.i < bytes.count {
            throw parser.error("invalid character \(describe(bytes[parser.i])) after top-level value")
        }
        return value
    }

    /// The first JSON value of `bytes` and the offset just past it (and past the whitespace after
    /// it), as Go's `json.Decoder` reads one value from a stream: what follows is the caller's (a
    /// Docker API handler refuses anything but `}`/`]` there, as `Decoder.More` does).
    public static func parseFirst(_ bytes: [UInt8], options: Options = Options()) throws(JSONSyntaxError) -> (value: JSONValue, end: Int) {
        var parser = JSONParser(bytes, options)
        parser.skipSpace()
        let value = try parser.parseValue()
        parser.skipSpace()
        return (value, parser.i)
    }

    private func error(_ message: String) -> JSONSyntaxError { JSONSyntaxError(offset: i, message: message) }
    private var endOfInput: JSONSyntaxError { JSONSyntaxError(offset: i, message: "unexpected end of JSON input") }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
    }

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard i < bytes.count else { throw endOfInput }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("invalid character \(Self.describe(bytes[i])) looking for beginning of value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let text = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for byte in text {
            guard i < bytes.count else { throw endOfInput }
            guard bytes[i] == byte else {
                throw error("invalid character \(Self.describe(bytes[i])) in literal \(word.description)")
            }
            i += 1
        }
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > options.maxDepth { throw error("exceeded max depth") }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        i += 1
        var members: [String: JSONValue] = [:]
        var keys: [String] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            depth -= 1
            return .object(members, keys: keys)
        }
        while true {
            guard i < bytes.count else { throw endOfInput }
            guard bytes[i] == UInt8(ascii: "\"") else {
                throw error("invalid character \(Self.describe(bytes[i])) looking for beginning of object key string")
            }
            let key = try parseString()
            skipSpace()
            guard i < bytes.count else { throw endOfInput }
            guard bytes[i] == UInt8(ascii: ":") else {
                throw error("invalid character \(Self.describe(bytes[i])) after object key")
            }
            i += 1
            skipSpace()
            let value = try parseValue()
            if members.updateValue(value, forKey: key) == nil { keys.append(key) }
            skipSpace()
            guard i < bytes.count else { throw endOfInput }
            switch bytes[i] {
            case UInt8(ascii: ","):
                i += 1
                skipSpace()
            case UInt8(ascii: "}"):
                i += 1
                depth -= 1
                return .object(members, keys: keys)
            default:
                throw error("invalid character \(Self.describe(bytes[i])) after object key:value pair")
            }
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            depth -= 1
            return .array(items)
        }
        while true {
            items.append(try parseValue())
            skipSpace()
            guard i < bytes.count else { throw endOfInput }
            switch bytes[i] {
            case UInt8(ascii: ","):
                i += 1
                skipSpace()
            case UInt8(ascii: "]"):
                i += 1
                depth -= 1
                return .array(items)
            default:
                throw error("invalid character \(Self.describe(bytes[i])) after array element")
            }
        }
    }

    private func text(_ buffer: ArraySlice<UInt8>) throws(JSONSyntaxError) -> String {
        if options.strictUnicode {
            guard let string = String(validating: buffer, as: UTF8.self) else { throw error("invalid UTF-8 in string") }
            return string
        }
        return String(decoding: buffer, as: UTF8.self)
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        i += 1  // opening quote
        let start = i
        // Fast path: no escapes.
        while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 { i += 1 }
        guard i < bytes.count else { throw endOfInput }
        if bytes[i] == UInt8(ascii: "\"") {
            i += 1
            return try text(bytes[start..<(i - 1)])
        }
        var buffer = Array(bytes[start..<i])
        while true {
            guard i < bytes.count else { throw endOfInput }
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "\""):
                i += 1
                return try text(buffer[...])
            case UInt8(ascii: "\\"):
                i += 1
                guard i < bytes.count else { throw endOfInput }
                let escape = bytes[i]
                i += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escape)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"): try unicodeEscape(into: &buffer)
                default:
                    i -= 1
                    throw error("invalid character \(Self.describe(escape)) in string escape code")
                }
            default:
                guard byte >= 0x20 else { throw error("invalid character \(Self.describe(byte)) in string literal") }
                buffer.append(byte)
                i += 1
            }
        }
    }

    /// After `\u`: one code point, or a surrogate pair. A lone half is U+FFFD (Go) or an error (strict);
    /// a high half followed by an escape that is not a low half leaves that escape to be read on its own.
    private mutating func unicodeEscape(into buffer: inout [UInt8]) throws(JSONSyntaxError) {
        var code = try hex4()
        if (0xDC00...0xDFFF).contains(code) {
            if options.strictUnicode {
                throw JSONSyntaxError(offset: i - 6, message: "invalid lone low surrogate in string escape")
            }
            code = 0xFFFD
        } else if (0xD800...0xDBFF).contains(code) {
            if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                let next = i
                i += 2
                let low = try hex4()
                if (0xDC00...0xDFFF).contains(low) {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if options.strictUnicode {
                    throw JSONSyntaxError(offset: i - 6, message: "invalid surrogate pair in string escape")
                } else {
                    i = next
                    code = 0xFFFD
                }
            } else if options.strictUnicode {
                throw JSONSyntaxError(offset: i - 6, message: "invalid lone high surrogate in string escape")
            } else {
                code = 0xFFFD
            }
        }
        let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
        buffer.append(contentsOf: String(scalar).utf8)
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard i < bytes.count else { throw endOfInput }
            let byte = bytes[i]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid character \(Self.describe(byte)) in \\u hexadecimal character escape")
            }
            code = code << 4 | digit
            i += 1
        }
        return code
    }

    /// The literal text of a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count else { throw endOfInput }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if Self.isDigit(bytes[i]) {
            while i < bytes.count, Self.isDigit(bytes[i]) { i += 1 }
        } else {
            throw error("invalid character \(Self.describe(bytes[i])) in numeric literal")
        }
        var integral = true
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            guard i < bytes.count else { throw endOfInput }
            guard Self.isDigit(bytes[i]) else {
                throw error("invalid character \(Self.describe(bytes[i])) after decimal point in numeric literal")
            }
            while i < bytes.count, Self.isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            integral = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count else { throw endOfInput }
            guard Self.isDigit(bytes[i]) else {
                throw error("invalid character \(Self.describe(bytes[i])) in exponent of numeric literal")
            }
            while i < bytes.count, Self.isDigit(bytes[i]) { i += 1 }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        // Short integers always fit a float64; anything else is checked as Go's Unmarshal into any does.
        if !(integral && i - start <= 18), !(Double(text)?.isFinite ?? false) {
            throw JSONSyntaxError(offset: start, message: "number \(text) is out of range")
        }
        return text
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// A byte as Go quotes it in JSON errors: `'x'`, `'\n'`, `'\x00'`.
    static func describe(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "'"): return "'\\''"
        case UInt8(ascii: "\""): return "'\"'"
        case 0x20..<0x7F: return "'\(Character(Unicode.Scalar(byte)))'"
        case 0x0A: return "'\\n'"
        case 0x0D: return "'\\r'"
        case 0x09: return "'\\t'"
        default:
            let digits = String(byte, radix: 16)
            return "'\\x\(digits.count < 2 ? "0" + digits : digits)'"
        }
    }
}
