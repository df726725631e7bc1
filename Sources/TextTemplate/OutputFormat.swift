/// A `--format` flag as Docker reads it.
public enum OutputFormat: Sendable, Equatable {
    /// `table`, or `table` followed by a template; nil means the command's default columns.
    case table(String?)
    /// `json`: each item as one line of JSON (Docker ≥ 23).
    case json
    /// Any other template, rendered once per item.
    case template(String)

    /// Like Docker: an empty flag is the default table; a flag starting with `table` is a table whose
    /// template is the rest, trimmed (nil when nothing follows); exactly `json` is JSON lines.
    public init(_ flag: String) {
        if flag.isEmpty {
            self = .table(nil)
        } else if flag.hasPrefix("table") {
            let rest = trimmingSpace(String(flag.dropFirst(5)))
            self = .table(rest.isEmpty ? nil : rest)
        } else if flag == "json" {
            self = .json
        } else {
            self = .template(flag)
        }
    }
}

/// Removes leading and trailing whitespace (Go's `strings.TrimSpace` for the ASCII cases).
func trimmingSpace(_ text: String) -> String {
    var scalars = Substring(text).unicodeScalars[...]
    while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
    while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
    return String(scalars)
}
