import GoCompat

/// Strict JSON (RFC 8259) into `TemplateValue`, with GoCompat's parser.
extension TemplateValue {
    /// Parses one JSON text. Object keys keep their order; a repeated key keeps its first position and
    /// takes the last value (as a Go map would). Numbers without fraction or exponent that fit an
    /// `Int64` become `.int` (except `-0`), all others `.double`.
    ///
    /// Rejected, as Go's `encoding/json` rejects them: trailing commas, leading zeros, `+`/`.`-led
    /// numbers, control characters in strings, unknown escapes, comments, a byte-order mark, trailing
    /// data, numbers beyond the range of a double. Stricter than Go: lone UTF-16 surrogates
    /// (`"\ud800"`) and invalid UTF-8 are errors rather than replaced. Nesting deeper than 512 is an error.
    public static func parseJSON(_ bytes: [UInt8]) throws -> TemplateValue {
        templateValue(try JSONParser.parse(bytes, options: JSONParser.Options(maxDepth: 512, strictUnicode: true)))
    }

    public static func parseJSON(_ text: String) throws -> TemplateValue {
        try parseJSON(Array(text.utf8))
    }

    private static func templateValue(_ value: JSONValue) -> TemplateValue {
        switch value {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .string(let text): return .string(text)
        case .number(let text):
            // -0 stays a double so that its sign survives a round trip, as it does through Go's float64.
            let integral = !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
            if integral, text != "-0", let value = Int64(text) { return .int(value) }
            // The parser has checked that the number is a finite double.
            return .double(Double(text) ?? 0)
        case .array(let items): return .array(items.map(templateValue))
        case .object(let members, let keys):
            return .object(keys.map { (key: $0, value: templateValue(members[$0] ?? .null)) })
        }
    }
}

/// A JSON syntax error: what went wrong, and the byte offset where it was found ("json: offset N: message").
public typealias JSONError = JSONSyntaxError
