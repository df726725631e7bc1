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
        for item in items { out += try template.render(item) + "\n" }
        return out
    }
}
