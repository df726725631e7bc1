/// Go's `fmt` printing of template values: `%v` (what an action prints), `Sprint`, `Sprintln`,
/// float formatting (quoting is GoCompat's `GoStrconv.quote`).
enum GoFormat {
    /// `%v`: strings bare, arrays `[a b]`, objects `map[k:v]` sorted by key, null `<nil>`.
    static func print(_ value: TemplateValue) -> String {
        var out = ""
        appendValue(value, to: &out)
        return out
    }

    private static func appendValue(_ value: TemplateValue, to out: inout String) {
        switch value {
        case .null: out += "<nil>"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += formatFloat(d, verb: "g", precision: nil)
        case .string(let s): out += s
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += " " }
                appendValue(item, to: &out)
            }
            out += "]"
        case .object(let pairs, _):
            out += "map["
            for (i, pair) in sortedPairs(pairs).enumerated() {
                if i > 0 { out += " " }
                out += pair.key
                out += ":"
                appendValue(pair.value, to: &out)
            }
            out += "]"
        }
    }

    /// Pairs in Go's map order: by key, byte-wise (for duplicated keys, the last entry wins, as in a map).
    static func sortedPairs(_ pairs: [(key: String, value: TemplateValue)]) -> [(key: String, value: TemplateValue)] {
        var latest: [String: Int] = [:]
        for (i, pair) in pairs.enumerated() { latest[pair.key] = i }
        return latest.keys.sorted(by: goLess).compactMap { key in latest[key].map { pairs[$0] } }
    }

    /// `fmt.Sprint`: a space between operands when neither side is a string.
    static func sprint(_ values: [TemplateValue]) -> String {
        var out = ""
        for (i, value) in values.enumerated() {
            if i > 0, !value.isString, !values[i - 1].isString { out += " " }
            out += print(value)
        }
        return out
    }

    /// `fmt.Sprintln`: spaces between all operands and a newline.
    static func sprintln(_ values: [TemplateValue]) -> String {
        values.map(print).joined(separator: " ") + "\n"
    }

    /// `strconv.FormatFloat` for verbs e, E, f, F, g, G; `precision` nil is the shortest exact form.
    /// Infinities print `+Inf`/`-Inf` and NaN `NaN`, as `fmt` prints them.
    static func formatFloat(_ value: Double, verb: Character, precision: Int?) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        let sign = value.sign == .minus ? "-" : ""
        let body: String
        switch verb {
        case "e", "E":
            if let precision {
                let digits = DecimalDigits.exact(value).rounded(toDigits: precision + 1)
                body = digits.exponential(fraction: precision, upper: verb == "E")
            } else {
                let digits = DecimalDigits.shortest(value)
                body = digits.exponential(fraction: max(digits.digits.count - 1, 0), upper: verb == "E")
            }
        case "f", "F":
            if let precision {
                let exact = DecimalDigits.exact(value)
                body = exact.rounded(toDigits: exact.point + precision).fixed(fraction: precision)
            } else {
                let digits = DecimalDigits.shortest(value)
                body = digits.fixed(fraction: max(digits.digits.count - digits.point, 0))
            }
        default:  // g, G
            var digits: DecimalDigits
            var eprec: Int
            if let precision {
                let wanted = precision == 0 ? 1 : precision
                digits = DecimalDigits.exact(value).rounded(toDigits: wanted)
                eprec = wanted
                if eprec > digits.digits.count, digits.digits.count >= digits.point { eprec = digits.digits.count }
            } else {
                digits = DecimalDigits.shortest(value)
                eprec = 6
            }
            let exponent = digits.point - 1
            let count = digits.digits.count
            if !digits.digits.isEmpty, exponent < -4 || exponent >= eprec {
                body = digits.exponential(fraction: max(count - 1, 0), upper: verb == "G")
            } else {
                body = digits.fixed(fraction: max(count - digits.point, 0))
            }
        }
        return sign + body
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(width - digits.count, 0)) + digits
    }
}

extension TemplateValue {
    var isString: Bool {
        if case .string = self { return true }
        return false
    }
}
