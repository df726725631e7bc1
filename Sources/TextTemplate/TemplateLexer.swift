/// One lexical item of a template, with the byte offset where it starts.
struct TemplateToken: Sendable {
    enum Kind: Sendable, Equatable {
        case text(String)
        case leftDelim, rightDelim
        case space
        case identifier(String)
        case keyword(String)
        case field(String)
        case dot
        case variable(String)
        case string(String)
        case char(Int64)
        case number(String)
        case bool(Bool)
        case nilValue
        case pipe, leftParen, rightParen, declare, assign, comma
        case eof
    }

    var kind: Kind
    var offset: Int
}

/// Splits a template into text and action items, applying `{{-`/`-}}` trimming and dropping comments.
struct TemplateLexer {
    static let keywords: Set<String> = [
        "if", "else", "end", "range", "with", "break", "continue", "define", "template", "block",
    ]

    /// Deepest nesting of parentheses, and of control structures in the parser (bounds recursion).
    static let maxNesting = 200

    let src: [UInt8]
    var pos = 0
    var tokens: [TemplateToken] = []
    var parenDepth = 0

    init(_ source: String) { src = Array(source.utf8) }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
    static func isAlphaNumeric(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "_") || (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b >= 0x80
    }

    private func has(_ literal: String, at index: Int) -> Bool {
        var i = index
        for byte in literal.utf8 {
            guard i < src.count, src[i] == byte else { return false }
            i += 1
        }
        return true
    }

    private func error(_ offset: Int, _ message: String) -> TemplateError {
        TemplateError(source: src, offset: offset, message: message)
    }

    /// `-}}` preceded by one space at `index`.
    private func atTrimmedRightDelim(_ index: Int) -> Bool {
        index < src.count && Self.isSpace(src[index]) && has("-}}", at: index + 1)
    }

    mutating func run() throws(TemplateError) -> [TemplateToken] {
        while pos < src.count {
            var end = pos
            while end < src.count, !has("{{", at: end) { end += 1 }
            let trimLeft = end < src.count && has("{{-", at: end) && end + 3 < src.count && Self.isSpace(src[end + 3])
            var textEnd = end
            if trimLeft { while textEnd > pos, Self.isSpace(src[textEnd - 1]) { textEnd -= 1 } }
            if textEnd > pos {
                tokens.append(TemplateToken(kind: .text(String(decoding: src[pos..<textEnd], as: UTF8.self)), offset: pos))
            }
            guard end < src.count else {
                pos = end
                break
            }
            let delim = end
            pos = end + (trimLeft ? 4 : 2)
            if has("/*", at: pos) {
                try lexComment(start: delim)
            } else {
                tokens.append(TemplateToken(kind: .leftDelim, offset: delim))
                try lexAction(start: delim)
            }
        }
        tokens.append(TemplateToken(kind: .eof, offset: src.count))
        return tokens
    }

    private mutating func skipTextSpace() {
        while pos < src.count, Self.isSpace(src[pos]) { pos += 1 }
    }

    private mutating func lexComment(start: Int) throws(TemplateError) {
        var i = pos + 2
        while i < src.count, !has("*/", at: i) { i += 1 }
        guard i < src.count else { throw error(start, "unclosed comment") }
        pos = i + 2
        if atTrimmedRightDelim(pos) {
            pos += 4
            skipTextSpace()
        } else if has("}}", at: pos) {
            pos += 2
        } else {
            throw error(start, "comment ends before closing delimiter")
        }
    }

    private mutating func emit(_ kind: TemplateToken.Kind, _ offset: Int) {
        tokens.append(TemplateToken(kind: kind, offset: offset))
    }

    private mutating func lexAction(start: Int) throws(TemplateError) {
        parenDepth = 0
        while true {
            guard pos < src.count else { throw error(start, "unclosed action") }
            if atTrimmedRightDelim(pos) || has("}}", at: pos) {
                let trim = !has("}}", at: pos)
                guard parenDepth == 0 else { throw error(pos, "unclosed left paren") }
                emit(.rightDelim, pos)
                pos += trim ? 4 : 2
                if trim { skipTextSpace() }
                return
            }
            let c = src[pos]
            let begin = pos
            switch c {
            case _ where Self.isSpace(c):
                while pos < src.count, Self.isSpace(src[pos]), !atTrimmedRightDelim(pos) { pos += 1 }
                if pos > begin { emit(.space, begin) }
            case UInt8(ascii: "|"):
                pos += 1
                emit(.pipe, begin)
            case UInt8(ascii: ","):
                pos += 1
                emit(.comma, begin)
            case UInt8(ascii: "("):
                pos += 1
                parenDepth += 1
                guard parenDepth <= Self.maxNesting else { throw error(begin, "max expression depth exceeded") }
                emit(.leftParen, begin)
            case UInt8(ascii: ")"):
                pos += 1
                parenDepth -= 1
                guard parenDepth >= 0 else { throw error(begin, "unexpected right paren") }
                emit(.rightParen, begin)
            case UInt8(ascii: ":"):
                guard has(":=", at: pos) else { throw error(begin, "expected :=") }
                pos += 2
                emit(.declare, begin)
            case UInt8(ascii: "="):
                pos += 1
                emit(.assign, begin)
            case UInt8(ascii: "\""):
                emit(.string(try lexQuoted(start: begin)), begin)
            case UInt8(ascii: "`"):
                pos += 1
                while pos < src.count, src[pos] != UInt8(ascii: "`") { pos += 1 }
                guard pos < src.count else { throw error(begin, "unterminated raw quoted string") }
                emit(.string(String(decoding: src[(begin + 1)..<pos], as: UTF8.self)), begin)
                pos += 1
            case UInt8(ascii: "'"):
                emit(.char(try lexChar(start: begin)), begin)
            case UInt8(ascii: "$"):
                pos += 1
                while pos < src.count, Self.isAlphaNumeric(src[pos]) { pos += 1 }
                emit(.variable(String(decoding: src[begin..<pos], as: UTF8.self)), begin)
            case UInt8(ascii: "."):
                if pos + 1 < src.count, src[pos + 1] >= 0x30, src[pos + 1] <= 0x39 {
                    try lexNumber()
                } else {
                    pos += 1
                    while pos < src.count, Self.isAlphaNumeric(src[pos]) { pos += 1 }
                    if pos == begin + 1 {
                        emit(.dot, begin)
                    } else {
                        emit(.field(String(decoding: src[(begin + 1)..<pos], as: UTF8.self)), begin)
                    }
                }
            case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try lexNumber()
            case _ where Self.isAlphaNumeric(c):
                while pos < src.count, Self.isAlphaNumeric(src[pos]) { pos += 1 }
                let word = String(decoding: src[begin..<pos], as: UTF8.self)
                if word == "true" || word == "false" {
                    emit(.bool(word == "true"), begin)
                } else if word == "nil" {
                    emit(.nilValue, begin)
                } else if Self.keywords.contains(word) {
                    emit(.keyword(word), begin)
                } else {
                    emit(.identifier(word), begin)
                }
            default:
                var scalar = String(decoding: src[pos..<min(pos + 1, src.count)], as: UTF8.self)
                if c < 0x20 || c == 0x7F { scalar = "U+" + GoFormat.hex(UInt32(c), width: 4) }
                throw error(begin, "bad character \(scalar.debugDescription) in action")
            }
        }
    }

    private mutating func lexNumber() throws(TemplateError) {
        let begin = pos
        if src[pos] == UInt8(ascii: "+") || src[pos] == UInt8(ascii: "-") { pos += 1 }
        var isHexLike = false
        if has("0x", at: pos) || has("0X", at: pos) || has("0o", at: pos) || has("0O", at: pos) || has("0b", at: pos)
            || has("0B", at: pos)
        {
            isHexLike = true
            pos += 2
        }
        while pos < src.count {
            let b = src[pos]
            if Self.isAlphaNumeric(b) && b < 0x80 || b == UInt8(ascii: ".") {
                if !isHexLike, b == UInt8(ascii: "e") || b == UInt8(ascii: "E"), pos + 1 < src.count,
                    src[pos + 1] == UInt8(ascii: "+") || src[pos + 1] == UInt8(ascii: "-")
                {
                    pos += 2
                    continue
                }
                pos += 1
            } else {
                break
            }
        }
        emit(.number(String(decoding: src[begin..<pos], as: UTF8.self)), begin)
    }

    /// A double-quoted string with Go's escapes, decoded.
    private mutating func lexQuoted(start: Int) throws(TemplateError) -> String {
        pos += 1
        var bytes: [UInt8] = []
        while true {
            guard pos < src.count, src[pos] != 0x0A else { throw error(start, "unterminated quoted string") }
            let c = src[pos]
            pos += 1
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                try lexEscape(into: &bytes, quote: UInt8(ascii: "\""), start: start)
            } else {
                bytes.append(c)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func lexChar(start: Int) throws(TemplateError) -> Int64 {
        pos += 1
        var bytes: [UInt8] = []
        while true {
            guard pos < src.count, src[pos] != 0x0A else { throw error(start, "unterminated character constant") }
            let c = src[pos]
            pos += 1
            if c == UInt8(ascii: "'") { break }
            if c == UInt8(ascii: "\\") {
                try lexEscape(into: &bytes, quote: UInt8(ascii: "'"), start: start)
            } else {
                bytes.append(c)
            }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let scalars = Array(text.unicodeScalars)
        guard scalars.count == 1 || (bytes.count == 1) else {
            throw error(start, "malformed character constant")
        }
        return bytes.count == 1 ? Int64(bytes[0]) : Int64(scalars[0].value)
    }

    private mutating func lexEscape(into bytes: inout [UInt8], quote: UInt8, start: Int) throws(TemplateError) {
        guard pos < src.count else { throw error(start, "unterminated quoted string") }
        let e = src[pos]
        pos += 1
        func hexDigits(_ count: Int) throws(TemplateError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<count {
                guard pos < src.count, let d = Self.hexValue(src[pos]) else {
                    throw error(start, "invalid escape in quoted string")
                }
                value = value << 4 | d
                pos += 1
            }
            return value
        }
        switch e {
        case UInt8(ascii: "a"): bytes.append(0x07)
        case UInt8(ascii: "b"): bytes.append(0x08)
        case UInt8(ascii: "f"): bytes.append(0x0C)
        case UInt8(ascii: "n"): bytes.append(0x0A)
        case UInt8(ascii: "r"): bytes.append(0x0D)
        case UInt8(ascii: "t"): bytes.append(0x09)
        case UInt8(ascii: "v"): bytes.append(0x0B)
        case UInt8(ascii: "\\"): bytes.append(e)
        case quote: bytes.append(e)
        case UInt8(ascii: "x"): bytes.append(UInt8(try hexDigits(2)))
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let value = try hexDigits(e == UInt8(ascii: "u") ? 4 : 8)
            guard let scalar = Unicode.Scalar(value) else { throw error(start, "invalid escape in quoted string") }
            bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            var value = UInt32(e - 0x30)
            for _ in 0..<2 {
                guard pos < src.count, src[pos] >= 0x30, src[pos] <= 0x37 else {
                    throw error(start, "invalid escape in quoted string")
                }
                value = value * 8 + UInt32(src[pos] - 0x30)
                pos += 1
            }
            guard value <= 0xFF else { throw error(start, "invalid escape in quoted string") }
            bytes.append(UInt8(value))
        default:
            throw error(start, "invalid escape in quoted string")
        }
    }

    static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case 0x30...0x39: return UInt32(b - 0x30)
        case 0x61...0x66: return UInt32(b - 0x61 + 10)
        case 0x41...0x46: return UInt32(b - 0x41 + 10)
        default: return nil
        }
    }
}
