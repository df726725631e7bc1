/// Go's `time.ParseDuration`, which HEALTHCHECK's --interval/--timeout/--start-period/--start-interval
/// use: a sequence of decimal numbers with units (`1h30m`, `1.5s`, `300ms`, `10us`), result in nanoseconds.
public func parseGoDuration(_ text: String) throws(DockerfileError) -> Int64 {
    let invalid = DockerfileError("time: invalid duration \"\(text)\"")
    var v = Array(text.unicodeScalars)[...]
    var negative = false
    if let sign = v.first, sign == "-" || sign == "+" {
        negative = sign == "-"
        v = v.dropFirst()
    }
    if v.count == 1 && v.first == "0" { return 0 }  // the one number allowed without a unit
    guard !v.isEmpty else { throw invalid }
    let units: [String: Double] = [
        "ns": 1, "us": 1e3, "\u{B5}s": 1e3, "\u{3BC}s": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9,
    ]
    var total = 0.0
    while !v.isEmpty {
        var number = ""
        var sawDigit = false
        while let c = v.first, ("0"..."9").contains(c) || c == "." {
            if c != "." { sawDigit = true }
            number.unicodeScalars.append(c)
            v = v.dropFirst()
        }
        guard sawDigit, number.unicodeScalars.filter({ $0 == "." }).count <= 1 else { throw invalid }
        var unit = ""
        while let c = v.first, c != ".", !("0"..."9").contains(c) {
            unit.unicodeScalars.append(c)
            v = v.dropFirst()
        }
        if unit.isEmpty { throw DockerfileError("time: missing unit in duration \"\(text)\"") }
        guard let scale = units[unit] else {
            throw DockerfileError("time: unknown unit \"\(unit)\" in duration \"\(text)\"")
        }
        guard let value = Double(number.hasPrefix(".") ? "0" + number : number) else { throw invalid }
        total += value * scale
    }
    guard total < 9.2e18 else { throw invalid }
    let ns = Int64(total.rounded())
    return negative ? -ns : ns
}
