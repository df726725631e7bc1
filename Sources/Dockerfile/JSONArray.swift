/// The exec form test: is the argument text a JSON array (Go's `json.Unmarshal` into `[]any`)?
///
/// Docker decides exec vs shell form by *trying* JSON: anything that is not valid JSON — single quotes,
/// a trailing comma, text after the `]` — silently becomes shell form (so `CMD ["a", 'b']` runs
/// `/bin/sh -c "[\"a\", 'b']"`). Valid JSON with a non-string element is an error instead.
enum JSONArrayResult: Equatable {
    case notJSON
    case strings([String])
    case notAllStrings
}

func parseJSONArray(_ text: String) -> JSONArrayResult {
    var p = JSONScanner(Array(text.utf8))
    p.skipSpace()
    guard p.peek == UInt8(ascii: "[") else { return .notJSON }
    guard let value = p.value() else { return .notJSON }
    p.skipSpace()
    guard p.atEnd, case .array(let items) = value else { return .notJSON }
    var strings: [String] = []
    for item in items {
        guard case .string(let s) = item else { return .notAllStrings }
        strings.append(s)
    }
    return .strings(strings)
}

private indirect enum JSONValue {
    case string(String)
    case array([JSONValue])
    case other
}

private struct JSONScanner {
    let bytes: [UInt8]
    var pos = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { pos >= bytes.count }
    var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { pos += 1 }
    }

    mutating func literal(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<(pos + w.count)]) == w else { return false }
        pos += w.count
        return true
    }

    mutating func value(depth: Int = 0) -> JSONValue? {
        guard depth < 1000 else { return nil }
        skipSpace()
        guard let c = peek else { return nil }
        switch c {
        case UInt8(ascii: "["):
            pos += 1
            var items: [JSONValue] = []
            skipSpace()
            if peek == UInt8(ascii: "]") {
                pos += 1
                return .array(items)
            }
            while true {
                guard let v = value(depth: depth + 1) else { return nil }
                items.append(v)
                skipSpace()
                guard let sep = peek else { return nil }
                pos += 1
                if sep == UInt8(ascii: "]") { return .array(items) }
                guard sep == UInt8(ascii: ",") else { return nil }
            }
        case UInt8(ascii: "{"):
            pos += 1
            skipSpace()
            if peek == UInt8(ascii: "}") {
                pos += 1
                return .other
            }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\""), string() != nil else { return nil }
                skipSpace()
                guard peek == UInt8(ascii: ":") else { return nil }
                pos += 1
                guard value(depth: depth + 1) != nil else { return nil }
                skipSpace()
                guard let sep = peek else { return nil }
                pos += 1
                if sep == UInt8(ascii: "}") { return .other }
                guard sep == UInt8(ascii: ",") else { return nil }
            }
        case UInt8(ascii: "\""):
            return string().map { .string($0) }
        case UInt8(ascii: "t"): return literal("true") ? .other : nil
        case UInt8(ascii: "f"): return literal("false") ? .other : nil
        case UInt8(ascii: "n"): return literal("null") ? .other : nil
        default: return number() ? .other : nil
        }
    }

    mutating func digits() -> Int {
        let start = pos
        while let c = peek, c >= 0x30 && c <= 0x39 { pos += 1 }
        return pos - start
    }

    /// JSON numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    mutating func number() -> Bool {
        if peek == UInt8(ascii: "-") { pos += 1 }
        if peek == UInt8(ascii: "0") {
            pos += 1
        } else if digits() == 0 {
            return false
        }
        if peek == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { return false }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            pos += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { return false }
        }
        return true
    }

    mutating func hex4() -> UInt32? {
        guard pos + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            pos += 1
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            default: return nil
            }
            v = v * 16 + d
        }
        return v
    }

    mutating func string() -> String? {
        pos += 1  // opening quote
        var out: [UInt8] = []
        while let c = peek {
            pos += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let e = peek else { return nil }
                pos += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var code = hex4() else { return nil }
                    if code >= 0xD800 && code < 0xDC00 {
                        // A surrogate pair; a lone half becomes U+FFFD as in Go.
                        let save = pos
                        if literal("\\u"), let low = hex4(), low >= 0xDC00 && low < 0xE000 {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            pos = save
                            code = 0xFFFD
                        }
                    } else if code >= 0xDC00 && code < 0xE000 {
                        code = 0xFFFD
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: return nil
                }
            default:
                if c < 0x20 { return nil }  // control characters must be escaped
                out.append(c)
            }
        }
        return nil
    }
}
