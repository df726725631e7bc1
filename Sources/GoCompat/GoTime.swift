/// Go's time package: the duration syntax Docker's flags, HEALTHCHECK and `--since 1h` read.
public enum GoTime {
    /// `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` with units ns, us, µs, μs, ms, s, m, h,
    /// in nanoseconds; the errors are Go's, and so is where it stops taking fraction digits.
    public static func parseDuration(_ text: String) throws(GoError) -> Int64 {
        let invalid = GoError("time: invalid duration \(GoStrconv.quote(text))")
        var s = Array(text.utf8)[...]
        var negative = false
        if let c = s.first, c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
            negative = c == UInt8(ascii: "-")
            s = s.dropFirst()
        }
        if s.elementsEqual("0".utf8) { return 0 }
        if s.isEmpty { throw invalid }
        let limit: UInt64 = 1 << 63
        let isDigit = { (c: UInt8) in c >= 0x30 && c <= 0x39 }
        var total: UInt64 = 0
        while !s.isEmpty {
            guard let first = s.first, first == UInt8(ascii: ".") || isDigit(first) else { throw invalid }
            // Go's leadingInt: overflow past 1<<63 is an error.
            var whole: UInt64 = 0
            var sawDigits = false
            while let c = s.first, isDigit(c) {
                guard whole <= limit / 10 else { throw invalid }
                whole = whole * 10 + UInt64(c - 0x30)
                guard whole <= limit else { throw invalid }
                sawDigits = true
                s = s.dropFirst()
            }
            // Go's leadingFraction: digits that no longer fit are skipped, not an error.
            var fraction: UInt64 = 0
            var scale = 1.0
            if s.first == UInt8(ascii: ".") {
                s = s.dropFirst()
                var overflowed = false
                while let c = s.first, isDigit(c) {
                    sawDigits = true
                    s = s.dropFirst()
                    if overflowed { continue }
                    if fraction > (limit - 1) / 10 {
                        overflowed = true
                        continue
                    }
                    let next = fraction * 10 + UInt64(c - 0x30)
                    if next > limit {
                        overflowed = true
                        continue
                    }
                    fraction = next
                    scale *= 10
                }
            }
            guard sawDigits else { throw invalid }
            let unitEnd = s.firstIndex { $0 == UInt8(ascii: ".") || isDigit($0) } ?? s.endIndex
            let unitText = String(decoding: s[..<unitEnd], as: UTF8.self)
            s = s[unitEnd...]
            if unitText.isEmpty { throw GoError("time: missing unit in duration \(GoStrconv.quote(text))") }
            guard let unit = units[unitText] else {
                throw GoError("time: unknown unit \(GoStrconv.quote(unitText)) in duration \(GoStrconv.quote(text))")
            }
            guard whole <= limit / unit else { throw invalid }
            var value = whole * unit
            if fraction > 0 {
                value += UInt64(Double(fraction) * (Double(unit) / scale))
                guard value <= limit else { throw invalid }
            }
            total += value
            guard total <= limit else { throw invalid }
        }
        if negative { return total == limit ? Int64.min : -Int64(total) }
        guard total < limit else { throw invalid }
        return Int64(total)
    }

    static let units: [String: UInt64] = [
        "ns": 1, "us": 1_000, "\u{00B5}s": 1_000, "\u{03BC}s": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
        "m": 60_000_000_000, "h": 3_600_000_000_000,
    ]
}
