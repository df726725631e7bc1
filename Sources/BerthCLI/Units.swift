import ArgumentParser
import TextTemplate

/// Sizes and durations in the words Docker prints them (go-units' HumanSize and HumanDuration).

/// Decimal units with three significant digits: 4261000 → "4.26MB", 1234 → "1.23kB".
func humanSize(_ bytes: Int64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000, unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return significant3(value) + units[unit]
}

/// Like Go's %.3g for values in [0, 1000).
func significant3(_ value: Double) -> String {
    let decimals = value >= 100 ? 0 : value >= 10 ? 1 : 2
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
func humanDuration(_ seconds: Double) -> String {
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

/// Prints text that may or may not end in a newline, ending it with exactly one.
func printBlock(_ text: String) {
    print(text.hasSuffix("\n") ? text : text + "\n", terminator: "")
}

/// `volume inspect`, `network inspect` …: each name looked up and shown through `--format`; a name
/// that fails is reported as the daemon reports it, and the command then exits 1.
func inspectEach(_ names: [String], format: String?, _ value: (String) throws -> TemplateValue) throws {
    var values: [TemplateValue] = []
    var failed = false
    for name in names {
        do { values.append(try value(name)) } catch {
            printError("Error response from daemon: " + describe(error))
            failed = true
        }
    }
    do {
        printBlock(try InspectFormatter.render(values, format: format == "json" ? nil : format))
    } catch {
        printError("template parsing error: \(error)")
        throw ExitCode(1)
    }
    if failed { throw ExitCode(1) }
}
