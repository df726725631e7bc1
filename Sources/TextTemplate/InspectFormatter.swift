/// Renders the items of an inspect-style command (`image inspect`, `inspect`) the way Docker does.
public enum InspectFormatter {
    /// - nil or empty `format`: a JSON array, 4-space indented, keys in stored order, HTML-escaped like
    ///   the daemon's JSON (`[]` when there are no items), followed by a newline.
    /// - `json`: the same array as one line of compact JSON.
    /// - anything else: the template rendered for each item, each followed by a newline (no `\t`
    ///   replacement and no trimming, as `docker inspect` does none).
    public static func render(_ items: [TemplateValue], format: String?) throws -> String {
        guard let format, !format.isEmpty else {
            return TemplateValue.array(items).prettyJSON(indent: "    ") + "\n"
        }
        if format == "json" { return TemplateValue.array(items).json() + "\n" }
        let template = try Template(format)
        var out = ""
        for item in items { out += try render(item, template) + "\n" }
        return out
    }

    /// One item through the template as `docker inspect` runs it: over its typed structs first,
    /// where a field a struct lacks is an error (a map's key is not: `<no value>`), and when that
    /// fails over the raw JSON with `missingkey=error`, whose result or error stands.
    public static func render(_ item: TemplateValue, _ template: Template) throws(TemplateError) -> String {
        do { return try template.render(item, missingKey: .structFields) } catch {
            return try template.render(item, missingKey: .all)
        }
    }
}
