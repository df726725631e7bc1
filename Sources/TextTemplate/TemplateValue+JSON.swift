extension TemplateValue {
    /// Compact JSON like Go's `json.Marshal`: keys in stored order, `<`, `>`, `&` escaped as
    /// `\u003c`, `\u003e`, `\u0026`, U+2028/U+2029 escaped, doubles in Go's form (`1.5`, `1e+21`,
    /// `1e-7`). Non-finite doubles, which JSON cannot hold, are written as `null`.
    public func json() -> String {
        json(escapeHTML: true)
    }

    /// Compact JSON; with `escapeHTML` false, `<`, `>` and `&` are written as they are (what Docker's
    /// `{{json .}}` template function and `--format json` print).
    public func json(escapeHTML: Bool) -> String {
        var out = ""
        appendJSON(to: &out, escapeHTML: escapeHTML, indent: nil, level: 0)
        return out
    }

    /// Indented JSON like Go's `json.MarshalIndent(v, "", indent)`: one element per line, `"key": value`,
    /// empty arrays and objects as `[]` and `{}`.
    public func prettyJSON(indent: String = "    ", escapeHTML: Bool = true) -> String {
        var out = ""
        appendJSON(to: &out, escapeHTML: escapeHTML, indent: indent, level: 0)
        return out
    }

    private func appendJSON(to out: inout String, escapeHTML: Bool, indent: String?, level: Int) {
        func newline(_ level: Int) {
            guard let indent else { return }
            out += "\n"
            for _ in 0..<level { out += indent }
        }
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += Self.jsonNumber(d)
        case .string(let s): Self.appendJSONString(s, to: &out, escapeHTML: escapeHTML)
        case .array(let items):
            out += "["
            for (n, item) in items.enumerated() {
                if n > 0 { out += "," }
                newline(level + 1)
                item.appendJSON(to: &out, escapeHTML: escapeHTML, indent: indent, level: level + 1)
            }
            if !items.isEmpty { newline(level) }
            out += "]"
        case .object(_, .nilMap):
            out += "null"
        case .object(let pairs, _):
            out += "{"
            for (n, pair) in pairs.enumerated() {
                if n > 0 { out += "," }
                newline(level + 1)
                Self.appendJSONString(pair.key, to: &out, escapeHTML: escapeHTML)
                out += indent == nil ? ":" : ": "
                pair.value.appendJSON(to: &out, escapeHTML: escapeHTML, indent: indent, level: level + 1)
            }
            if !pairs.isEmpty { newline(level) }
            out += "}"
        }
    }

    /// Go's `encoding/json` float form: shortest digits, `%f` style unless below 1e-6 or from 1e21,
    /// exponent without a leading zero (`1e-7`, `1e+21`).
    static func jsonNumber(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        let magnitude = d.magnitude
        if magnitude != 0, magnitude < 1e-6 || magnitude >= 1e21 {
            var text = GoFormat.formatFloat(d, verb: "e", precision: nil)
            // e-07 → e-7 (Go trims a leading zero from negative two-digit exponents only).
            let bytes = Array(text.utf8)
            let n = bytes.count
            if n >= 4, bytes[n - 4] == UInt8(ascii: "e"), bytes[n - 3] == UInt8(ascii: "-"), bytes[n - 2] == UInt8(ascii: "0") {
                text = String(decoding: bytes[..<(n - 2)] + bytes[(n - 1)...], as: UTF8.self)
            }
            return text
        }
        return GoFormat.formatFloat(d, verb: "f", precision: nil)
    }

    static func appendJSONString(_ s: String, to out: inout String, escapeHTML: Bool) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "<", ">", "&":
                if escapeHTML {
                    out += "\\u00" + GoFormat.hex(scalar.value, width: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            case "\u{2028}", "\u{2029}":
                out += "\\u" + GoFormat.hex(scalar.value, width: 4)
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + GoFormat.hex(scalar.value, width: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
