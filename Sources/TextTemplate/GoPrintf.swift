import GoCompat

/// Go's `fmt.Sprintf` over template values.
///
/// Verbs: `%v %s %d %q %t %f %F %e %E %g %G %x %X %o %b %c %U %%`, flags `- + 0 space #`
/// (`#` is accepted and ignored), width and precision (digits or `*`). Mistakes print the way Go
/// prints them instead of failing: `%!d(string=hi)` for a wrong type, `%!d(MISSING)` for a missing
/// argument, `%!(EXTRA int=1)` for arguments left over, `%!(NOVERB)` for a trailing `%`.
/// Arrays and objects apply the verb to each element, as Go does for slices and maps.
enum GoPrintf {
    struct Spec {
        var minus = false
        var plus = false
        var zero = false
        var space = false
        var width: Int?
        var precision: Int?
    }

    static func sprintf(_ format: String, _ args: [TemplateValue]) -> String {
        let scalars = Array(format.unicodeScalars)
        var out = ""
        var next = 0
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            i += 1
            if c != "%" {
                out.unicodeScalars.append(c)
                continue
            }
            var spec = Spec()
            flags: while i < scalars.count {
                switch scalars[i] {
                case "-": spec.minus = true
                case "+": spec.plus = true
                case "0": spec.zero = true
                case " ": spec.space = true
                case "#": break
                default: break flags
                }
                i += 1
            }
            if i < scalars.count, scalars[i] == "*" {
                i += 1
                if next < args.count, case .int(let w) = args[next] {
                    spec.width = Int(min(w.magnitude, 1_000_000))
                    if w < 0 { spec.minus = true }
                } else {
                    out += "%!(BADWIDTH)"
                }
                next += 1
            } else {
                spec.width = number(scalars, &i)
            }
            if i < scalars.count, scalars[i] == "." {
                i += 1
                if i < scalars.count, scalars[i] == "*" {
                    i += 1
                    if next < args.count, case .int(let p) = args[next], p >= 0 {
                        spec.precision = Int(min(p, 1_000_000))
                    } else {
                        out += "%!(BADPREC)"
                    }
                    next += 1
                } else {
                    spec.precision = number(scalars, &i) ?? 0
                }
            }
            guard i < scalars.count else {
                out += "%!(NOVERB)"
                break
            }
            let verb = Character(scalars[i])
            i += 1
            if verb == "%" {
                out += "%"
                continue
            }
            guard next < args.count else {
                out += "%!\(verb)(MISSING)"
                continue
            }
            out += Self.format(args[next], verb: verb, spec: spec)
            next += 1
        }
        if next < args.count {
            let extra = args[next...].map { $0.isNull ? "<nil>" : "\($0.typeName)=\(GoFormat.print($0))" }
            out += "%!(EXTRA " + extra.joined(separator: ", ") + ")"
        }
        return out
    }

    private static func number(_ scalars: [Unicode.Scalar], _ i: inout Int) -> Int? {
        var value: Int?
        while i < scalars.count, scalars[i].value >= 0x30, scalars[i].value <= 0x39 {
            value = min((value ?? 0) * 10 + Int(scalars[i].value - 0x30), 1_000_000)
            i += 1
        }
        return value
    }

    static func format(_ value: TemplateValue, verb: Character, spec: Spec) -> String {
        switch value {
        case .null:
            return verb == "v" ? pad("<nil>", spec) : "%!\(verb)(<nil>)"
        case .bool(let b):
            return verb == "v" || verb == "t" ? pad(b ? "true" : "false", spec) : bad(value, verb)
        case .int(let i):
            return formatInt(i, verb: verb, spec: spec) ?? bad(value, verb)
        case .double(let d):
            return formatDouble(d, verb: verb, spec: spec) ?? bad(value, verb)
        case .string(let s):
            return formatString(s, verb: verb, spec: spec) ?? bad(value, verb)
        case .array(let items):
            return "[" + items.map { format($0, verb: verb, spec: spec) }.joined(separator: " ") + "]"
        case .object(let pairs, _):
            let parts = GoFormat.sortedPairs(pairs).map {
                format(.string($0.key), verb: verb, spec: spec) + ":" + format($0.value, verb: verb, spec: spec)
            }
            return "map[" + parts.joined(separator: " ") + "]"
        }
    }

    private static func bad(_ value: TemplateValue, _ verb: Character) -> String {
        "%!\(verb)(\(value.typeName)=\(GoFormat.print(value)))"
    }

    private static func formatInt(_ i: Int64, verb: Character, spec: Spec) -> String? {
        let digits: String
        switch verb {
        case "d", "v": digits = String(i.magnitude)
        case "x": digits = String(i.magnitude, radix: 16)
        case "X": digits = String(i.magnitude, radix: 16, uppercase: true)
        case "o": digits = String(i.magnitude, radix: 8)
        case "b": digits = String(i.magnitude, radix: 2)
        case "c":
            return pad(Unicode.Scalar(UInt32(clamping: i)).map { String(Character($0)) } ?? "\u{FFFD}", spec)
        case "q":
            let scalar = Unicode.Scalar(UInt32(clamping: i)) ?? "\u{FFFD}"
            let quoted = GoStrconv.quote(String(Character(scalar)))
            let inner = quoted.dropFirst().dropLast()
            return pad("'" + (inner == "'" ? "\\'" : inner.replacingDoubleQuoteEscape()) + "'", spec)
        case "U":
            let h = String(i.magnitude, radix: 16, uppercase: true)
            return pad("U+" + String(repeating: "0", count: max(4 - h.count, 0)) + h, spec)
        default: return nil
        }
        var body = digits
        if let precision = spec.precision {
            if precision == 0, i == 0 { body = "" }
            if body.count < precision { body = String(repeating: "0", count: precision - body.count) + body }
        }
        let sign = i < 0 ? "-" : spec.plus ? "+" : spec.space ? " " : ""
        return padNumber(sign: sign, body: body, spec: spec, zeroAllowed: spec.precision == nil)
    }

    private static func formatDouble(_ d: Double, verb: Character, spec: Spec) -> String? {
        let text: String
        switch verb {
        case "v", "g", "G": text = GoFormat.formatFloat(d, verb: verb == "G" ? "G" : "g", precision: spec.precision)
        case "e", "E", "f", "F": text = GoFormat.formatFloat(d, verb: verb, precision: spec.precision ?? 6)
        default: return nil
        }
        var body = Substring(text)
        var sign = ""
        if body.hasPrefix("-") || body.hasPrefix("+") {
            sign = String(body.prefix(1))
            body = body.dropFirst()
        }
        if sign == "+", !spec.plus { sign = spec.space ? " " : "+" }
        if sign.isEmpty { sign = spec.plus ? "+" : spec.space ? " " : "" }
        // Infinities and NaN are never zero-padded.
        return padNumber(sign: sign, body: String(body), spec: spec, zeroAllowed: d.isFinite)
    }

    private static func formatString(_ s: String, verb: Character, spec: Spec) -> String? {
        switch verb {
        case "s", "v":
            if let precision = spec.precision { return pad(String(s.unicodeScalars.prefix(precision)), spec) }
            return pad(s, spec)
        case "q":
            return pad(GoStrconv.quote(s), spec)
        case "x", "X":
            let h = s.utf8.map { GoFormat.hex(UInt32($0), width: 2) }.joined(separator: spec.space ? " " : "")
            return pad(verb == "X" ? h.uppercased() : h, spec)
        default:
            return nil
        }
    }

    private static func padNumber(sign: String, body: String, spec: Spec, zeroAllowed: Bool) -> String {
        let width = spec.width ?? 0
        let length = sign.count + body.count
        guard length < width else { return sign + body }
        if spec.minus { return sign + body + String(repeating: " ", count: width - length) }
        if spec.zero, zeroAllowed { return sign + String(repeating: "0", count: width - length) + body }
        return String(repeating: " ", count: width - length) + sign + body
    }

    /// Width padding in runes: on the left, or on the right with `-`.
    static func pad(_ text: String, _ spec: Spec) -> String {
        let width = spec.width ?? 0
        let length = text.unicodeScalars.count
        guard length < width else { return text }
        let fill = String(repeating: " ", count: width - length)
        return spec.minus ? text + fill : fill + text
    }
}

extension Substring {
    /// Inside a character literal `"` needs no escape.
    fileprivate func replacingDoubleQuoteEscape() -> String {
        var out = ""
        var i = startIndex
        while i < endIndex {
            let c = self[i]
            let n = index(after: i)
            if c == "\\", n < endIndex, self[n] == "\"" {
                out.append("\"")
                i = index(after: n)
            } else {
                out.append(c)
                i = n
            }
        }
        return out
    }
}

extension TemplateValue {
    var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
