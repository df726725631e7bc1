/// Renders the rows of a listing command (`images`, `ps`, …) the way Docker's formatter does.
///
/// - `.table(t)`: a header line, then one line per row, aligned by `TableWriter` (10, 1, 3, ' ').
///   The header is `t` rendered with each `{{.Field}}` replaced by `headers[Field]`, or when absent by
///   `ListFormatter.headerName(for:)` (`CreatedSince` → `CREATED SINCE`); `json`, `split`, `join`,
///   `title`, `lower`, `upper`, `pad` and `truncate` pass their argument through in the header. A
///   header is printed even when there are no rows.
/// - `.json`: each row as one line of compact JSON (`{{json .}}`, not HTML-escaped).
/// - `.template(t)`: `t` rendered per row, each followed by a newline.
///
/// Templates are trimmed of surrounding whitespace and a literal `\t` (backslash, t) becomes a tab,
/// as in Docker. Output ends with a newline unless there is nothing to print.
public struct ListFormatter: Sendable {
    public let format: OutputFormat
    public let defaultTable: String
    public let headers: [String: String]

    /// `defaultTable` is the command's default columns, with or without a leading `table`.
    public init(format: OutputFormat, defaultTable: String, headers: [String: String] = [:]) {
        self.format = format
        self.defaultTable = defaultTable
        self.headers = headers
    }

    public func render(_ rows: [TemplateValue]) throws -> String {
        switch format {
        case .json:
            return rows.map { $0.json(escapeHTML: false) + "\n" }.joined()
        case .template(let text):
            let template = try Template(Self.prepare(text))
            var out = ""
            for row in rows { out += try template.render(row) + "\n" }
            return out
        case .table(let text):
            var source = text ?? defaultTable
            if text == nil, source.hasPrefix("table") { source = String(source.dropFirst(5)) }
            let template = try Template(Self.prepare(source))
            var out = template.renderHeader { headers[$0] ?? Self.headerName(for: $0) } + "\n"
            for row in rows { out += try template.render(row) + "\n" }
            return TableWriter(minWidth: 10, tabWidth: 1, padding: 3, padChar: " ").format(out)
        }
    }

    /// Docker's header style for a field without an explicit header: camel case split into words,
    /// upper-cased. `CreatedSince` → `CREATED SINCE`, `ID` → `ID`, `HTTPPort` → `HTTP PORT`.
    public static func headerName(for field: String) -> String {
        let scalars = Array(field.unicodeScalars)
        var out = ""
        for (i, scalar) in scalars.enumerated() {
            if i > 0, scalar.properties.isUppercase {
                let previous = scalars[i - 1]
                let nextIsLower = i + 1 < scalars.count && scalars[i + 1].properties.isLowercase
                if previous.properties.isLowercase || previous.properties.numericType != nil
                    || (previous.properties.isUppercase && nextIsLower)
                {
                    out += " "
                }
            }
            out.unicodeScalars.append(scalar)
        }
        return out.uppercased()
    }

    /// Docker's `preFormat`: trims the template and turns each literal `\t` into a tab.
    static func prepare(_ text: String) -> String {
        let scalars = Array(trimmingSpace(text).unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            if scalars[i] == "\\", i + 1 < scalars.count, scalars[i + 1] == "t" {
                out.append("\t")
                i += 2
            } else {
                out.append(scalars[i])
                i += 1
            }
        }
        return String(out)
    }
}
