/// Strict JSON (RFC 8259) into `TemplateValue`.
public enum JSONValue {
    /// Parses one JSON text. Object keys keep their order; a repeated key keeps its first position and
    /// takes the last value (as a Go map would). Numbers without fraction or exponent that fit an
    /// `Int64` become `.int` (except `-0`), all others `.double`.
    ///
    /// Rejected, as Go's `encoding/json` rejects them: trailing commas, leading zeros, `+`/`.`-led
    /// numbers, control characters in strings, unknown escapes, comments, a byte-order mark, trailing
    /// data. Stricter than Go: lone UTF-16 surrogates (`"\ud800"`), invalid UTF-8 and numbers beyond
    /// the range of a double are errors rather than replaced. Nesting deeper than 512 is an error.
    public static func parse(_ bytes: [UInt8]) throws -> TemplateValue {
        var parser = JSONValueParser(bytes: bytes)
        return try parser.parseDocument()
    }

    public static func parse(_ text: String) throws -> TemplateValue {
        try parse(Array(text.utf8))
    }
}

/// A JSON syntax error: what went wrong, and the byte offset where it was found.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public let message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "json: offset \(offset): \(message)" }
}

struct JSONValueParser {
    static let maxDepth = 512
    let bytes: [UInt8]
    var i = 0
    var depth = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws(JSONError) -> TemplateValue {
        skipSpace()
        let value = try parseValue()
        skipSpace()
        if i < bytes.count { throw error("invalid character \(describe(bytes[i])) after top-level value") }
        return value
    }

    private func error(_ message: String) -> JSONError { JSONError(offset: i, message: message) }
    private var endOfInput: JSONError { JSONError(offset: i, message: "unexpected end of JSON input") }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
    }

    private mutating func parseValue() throws(JSONError) -> TemplateValue {
        guard i < bytes.count else { throw endOfInput }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("invalid character \(describe(bytes[i])) looking for beginning of value")
        }
    }

    private mutating func literal(_ word: String) throws(JSONError) {
        for byte in word.utf8 {
            guard i < bytes.count else { throw endOfInput }
            guard bytes[i] == byte else { throw error("invalid character \(describe(bytes[i])) in literal \(word)") }
            i += 1
        }
    }

    private mutating func enter() throws(JSONError) {
        depth += 1
        if depth > Self.maxDepth { throw error("exceeded max depth") }
    }

    private mutating func parseObject() throws(JSONError) -> TemplateValue {
        try enter()
        i += 1
        var pairs: [(key: String, value: TemplateValue)] = []
        var positions: [String: Int] = [:]
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            depth -= 1
            return .object(pairs)
        }
        while true {
            guard i < bytes.count else { throw endOfInput }
            guard bytes[i] == UInt8(ascii: "\"") else {
                throw error("invalid character \(describe(bytes[i])) looking for beginning of object key string")
            }
            let key = try parseString()
            skipSpace()
            guard i < bytes.count else { throw endOfInput }
            guard bytes[i] == UInt8(ascii: ":") else {
                throw error("invalid character \(describe(bytes[i])) after object key")
            }
            i += 1
            skipSpace()
            let value = try parseValue()
            if let at = positions[key] {
                pairs[at].value = value
            } else {
                positions[key] = pairs.count
                pairs.append((key: key, value: value))
            }
            skipSpace()
            guard i < bytes.count else { throw endOfInput }
            switch bytes[i] {
            case UInt8(ascii: ","):
                i += 1
                skipSpace()
            case UInt8(ascii: "}"):
                i += 1
                depth -= 1
                return .object(pairs)
            default:
                throw error("invalid character \(describe(bytes[i])) after object key:value pair")
            }
        }
    }

    private mutating func parseArray() throws(JSONError) -> TemplateValue {
        try enter()
        i += 1
        var items: [TemplateValue] = []
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
                throw error("invalid character \(describe(bytes[i])) after array element")
            }
        }
    }

    private mutating func parseString() throws(JSONError) -> String {
        i += 1  // opening quote
        var buffer: [UInt8] = []
        while true {
            guard i < bytes.count else { throw endOfInput }
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "\""):
                i += 1
                guard let string = String(validating: buffer, as: UTF8.self) else {
                    throw error("invalid UTF-8 in string")
                }
                return string
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
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xDC00...0xDFFF).contains(code) {
                        throw JSONError(offset: i - 6, message: "invalid lone low surrogate in string escape")
                    }
                    if (0xD800...0xDBFF).contains(code) {
                        guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u")
                        else {
                            throw JSONError(offset: i - 6, message: "invalid lone high surrogate in string escape")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else {
                            throw JSONError(offset: i - 6, message: "invalid surrogate pair in string escape")
                        }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else {
                        throw error("invalid code point in string escape")
                    }
                    buffer.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    i -= 1
                    throw error("invalid character \(describe(escape)) in string escape code")
                }
            default:
                guard byte >= 0x20 else { throw error("invalid character \(describe(byte)) in string literal") }
                buffer.append(byte)
                i += 1
            }
        }
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard i < bytes.count else { throw endOfInput }
            let byte = bytes[i]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid character \(describe(byte)) in \\u hexadecimal character escape")
            }
            code = code << 4 | digit
            i += 1
        }
        return code
    }

    private mutating func parseNumber() throws(JSONError) -> TemplateValue {
        let start = i
        var integral = true
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count else { throw endOfInput }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if isDigit(bytes[i]) {
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        } else {
            throw error("invalid character \(describe(bytes[i])) in numeric literal")
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            guard i < bytes.count else { throw endOfInput }
            guard isDigit(bytes[i]) else { throw error("invalid character \(describe(bytes[i])) after decimal point in numeric literal") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            integral = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count else { throw endOfInput }
            guard isDigit(bytes[i]) else { throw error("invalid character \(describe(bytes[i])) in exponent of numeric literal") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        // -0 stays a double so that its sign survives a round trip, as it does through Go's float64.
        if integral, text != "-0", let value = Int64(text) { return .int(value) }
        guard let value = Double(text), value.isFinite else {
            throw JSONError(offset: start, message: "number \(text) is out of range")
        }
        return .double(value)
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// A byte as Go quotes it in JSON errors: `'x'`, `'\n'`, `'\x00'`.
    private func describe(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "'"): return "'\\''"
        case UInt8(ascii: "\""): return "'\"'"
        case 0x20..<0x7F: return "'\(Character(Unicode.Scalar(byte)))'"
        case 0x0A: return "'\\n'"
        case 0x0D: return "'\\r'"
        case 0x09: return "'\\t'"
        default: return "'\\x\(GoFormat.hex(UInt32(byte), width: 2))'"
        }
    }
}
