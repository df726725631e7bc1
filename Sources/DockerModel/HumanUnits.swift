import ImageStore

/// Sizes, durations and times in the words Docker prints them (go-units' HumanSize and
/// HumanDuration, Go's time.Time.String()).

/// Decimal units with three significant digits: 4261000 → "4.26MB", 1234 → "1.23kB"
/// (go-units' HumanSizeWithPrecision(size, 3), as `docker images` prints SIZE). With four
/// (`significantDigits: 4`, go-units' HumanSize) → "4.261MB": `system df`, and an image's shared
/// and unique sizes.
public func humanSize(_ bytes: Int64, significantDigits: Int = 3) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000, unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    let integerDigits = value >= 100 ? 3 : value >= 10 ? 2 : 1
    return fixed(value, decimals: max(0, significantDigits - integerDigits)) + units[unit]
}

/// Like Go's %.3g for values in [0, 1000).
public func significant3(_ value: Double) -> String {
    fixed(value, decimals: value >= 100 ? 0 : value >= 10 ? 1 : 2)
}

/// Binary units with Go's %.4g (go-units' BytesSize): 25275973632 → "23.54GiB", "1.523MiB", "0B".
/// `docker stats` and `docker info` print sizes so.
public func humanBinarySize(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = Double(max(bytes, 0))
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    // Rounded in integers, so no binary fraction leaks into the digits.
    let decimals = value >= 1000 ? 0 : value >= 100 ? 1 : value >= 10 ? 2 : 3
    var scale: Int64 = 1
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int64((value * Double(scale)).rounded())
    var text = "\(scaled / scale)"
    if decimals > 0 {
        var fraction = String(scaled % scale)
        while fraction.count < decimals { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        if !fraction.isEmpty { text += "." + fraction }
    }
    return text + units[unit]
}

/// `value` rounded to `decimals` places, trailing zeros (and a bare point) dropped, as %g prints it.
func fixed(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if text.hasSuffix(".0") { text.removeLast(2) }
    if let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) - 1 > decimals {
        text = String(text[..<text.index(dot, offsetBy: decimals + 1)])
    }
    if text.contains(".") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return text
}

/// "Less than a second", "3 minutes", "About an hour", "2 weeks"… (Docker adds " ago").
public func humanDuration(_ seconds: Double) -> String {
    let s = Int(seconds)
    if s < 1 { return "Less than a second" }
    if s == 1 { return "1 second" }
    if s < 60 { return "\(s) seconds" }
    let minutes = s / 60
    if minutes == 1 { return "About a minute" }
    if minutes < 60 { return "\(minutes) minutes" }
    let hours = minutes / 60
    if hours == 1 { return "About an hour" }
    if hours < 48 { return "\(hours) hours" }
    if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
    if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
    if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
    return "\(hours / 24 / 365) years"
}

/// Go's time.Time.String() for UTC: "2024-05-01 12:00:00 +0000 UTC".
public func goTime(_ seconds: Double) -> String {
    let text = Timestamp.format(seconds: Int(seconds))
    guard let index = text.firstIndex(of: "T") else { return String(text.dropLast()) + " +0000 UTC" }
    return String((String(text[..<index]) + " " + String(text[text.index(after: index)...])).dropLast()) + " +0000 UTC"
}
