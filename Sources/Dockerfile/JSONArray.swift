import GoCompat

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
    let bytes = Array(text.utf8)
    // Only text that starts with `[` is tried (Go's parseJSON); leading JSON whitespace is skipped.
    guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }),
          first == UInt8(ascii: "[") else { return .notJSON }
    // 1000 levels, as this parser allowed before it was GoCompat's (Go allows 10000; recursion here
    // runs on whatever stack the build has).
    guard case .array(let items)? = try? JSONParser.parse(bytes, options: JSONParser.Options(maxDepth: 1000)) else {
        return .notJSON
    }
    var strings: [String] = []
    for item in items {
        guard case .string(let s) = item else { return .notAllStrings }
        strings.append(s)
    }
    return .strings(strings)
}
