import GoCompat
import Glibc

/// A point in time as the json-file log records it: seconds and nanoseconds since the Unix epoch, UTC.
///
/// Formatting and parsing are done by hand (no Foundation): the supervisor that writes logs must stay
/// small, and the text forms are fixed ones (Go's RFC3339Nano and the layouts `docker logs` accepts).
public struct LogTimestamp: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var seconds: Int64
    /// Always in 0..<1_000_000_000.
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        // Normalised so that comparison of (seconds, nanoseconds) is comparison of instants.
        let carry = Int64(nanoseconds).floorDiv(1_000_000_000)
        self.seconds = seconds + carry
        self.nanoseconds = Int32(Int64(nanoseconds) - carry * 1_000_000_000)
    }

    public static func now() -> LogTimestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return LogTimestamp(seconds: Int64(ts.tv_sec), nanoseconds: Int32(ts.tv_nsec))
    }

    public static func < (a: LogTimestamp, b: LogTimestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    public var description: String { jsonText }

    /// The instant shifted by a signed number of nanoseconds.
    public func adding(nanoseconds delta: Int64) -> LogTimestamp {
        let (s, n) = delta.floorDivMod(1_000_000_000)
        return LogTimestamp(seconds: seconds &+ s, nanoseconds: nanoseconds + Int32(n))
    }

    // MARK: Text forms

    /// The `time` value of a json-file entry, as Docker's json-file driver writes it: Go's
    /// `time.RFC3339Nano` of a UTC time, so the fraction loses its trailing zeros and disappears when
    /// it is zero (`2024-05-06T07:08:09.12Z`, `2024-05-06T07:08:09Z`).
    public var jsonText: String { String(decoding: bytes(fixedFraction: false), as: UTF8.self) }

    /// The form `docker logs -t` prints: Docker's `RFC3339NanoFixed`, always nine fraction digits.
    public var fixedText: String { String(decoding: bytes(fixedFraction: true), as: UTF8.self) }

    /// Appends `jsonText` (or `fixedText`) as bytes, for the writer's hot path.
    func append(to out: inout [UInt8], fixedFraction: Bool) {
        let (days, secondOfDay) = seconds.floorDivMod(86_400)
        let (year, month, day) = Self.civil(fromDays: days)
        appendDigits(&out, year, width: 4)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, Int64(month), width: 2)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, Int64(day), width: 2)
        out.append(UInt8(ascii: "T"))
        appendDigits(&out, secondOfDay / 3600, width: 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, secondOfDay / 60 % 60, width: 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, secondOfDay % 60, width: 2)
        if fixedFraction || nanoseconds != 0 {
            var fraction = Int64(nanoseconds)
            var width = 9
            if !fixedFraction {
                while fraction % 10 == 0 { fraction /= 10; width -= 1 }
            }
            out.append(UInt8(ascii: "."))
            appendDigits(&out, fraction, width: width)
        }
        out.append(UInt8(ascii: "Z"))
    }

    private func bytes(fixedFraction: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(30)
        append(to: &out, fixedFraction: fixedFraction)
        return out
    }

    /// Parses a json-file `time` value: RFC3339 with an optional fraction of any length and a zone
    /// (`Z` or `±hh:mm`), as Go's `time.Time` JSON decoding accepts it.
    public init?(jsonText: some StringProtocol) {
        self.init(rfc3339: Array(jsonText.utf8)[...])
    }

    init?(rfc3339 text: ArraySlice<UInt8>) {
        guard let fields = DateTimeText.parse(text, timeParts: 3, fraction: true, zone: .required),
              let value = fields.timestamp(localOffset: 0) else { return nil }
        self = value
    }

    // MARK: --since / --until

    /// Reads a `--since`/`--until` value the way the Docker CLI does (its `GetTimestamp`):
    ///
    /// - a Go duration (`10m`, `1h30m`, `1.5h`, `300ms`, `-5s`) counts back from `now`, to whole seconds;
    /// - RFC3339 / RFC3339Nano with a zone (`2024-01-02T15:04:05Z`, `…05.5+01:00`);
    /// - the same without a zone, in the local zone at `now`: `2024-01-02T15:04:05[.fraction]`,
    ///   `2024-01-02T15:04`, `2024-01-02T15`, `2024-01-02`; a zone may follow the short forms too;
    /// - Unix seconds with an optional fraction (`1700000000`, `1700000000.5`).
    ///
    /// The form is chosen from the text as Docker chooses it (a `Z`, `+` or three `-` mean a zone;
    /// a `.` means a fraction; the colons after `T` give the precision), then parsed strictly.
    public static func parse(userInput value: String, now: LogTimestamp) throws(SupervisorError) -> LogTimestamp {
        let text = Array(value.utf8)
        if value != "0", let duration = try? GoTime.parseDuration(value) {
            // Docker sends `reference.Add(-d).Unix()`: whole seconds, rounded down.
            return LogTimestamp(seconds: now.adding(nanoseconds: 0 &- duration).seconds)
        }
        let hasZone = text.contains { $0 == UInt8(ascii: "z") || $0 == UInt8(ascii: "Z") || $0 == UInt8(ascii: "+") }
            || text.count(where: { $0 == UInt8(ascii: "-") }) == 3
        var fields: DateTimeText?
        if text.contains(UInt8(ascii: ".")) {
            fields = DateTimeText.parse(text[...], timeParts: 3, fraction: true, zone: hasZone ? .required : .none)
        } else if text.contains(UInt8(ascii: "T")) {
            var colons = text.count(where: { $0 == UInt8(ascii: ":") })
            // A numeric zone offset brings a colon of its own.
            if hasZone && !text.contains(where: { $0 == UInt8(ascii: "z") || $0 == UInt8(ascii: "Z") }) && colons > 0 { colons -= 1 }
            fields = DateTimeText.parse(text[...], timeParts: min(colons + 1, 3), fraction: false, zone: hasZone ? .required : .none)
        } else {
            fields = DateTimeText.parse(text[...], timeParts: 0, fraction: false, zone: hasZone ? .required : .none)
        }
        if let fields, let stamp = fields.timestamp(localOffset: Self.localOffset(at: now)) { return stamp }
        if !text.contains(UInt8(ascii: "-")), let stamp = unixTimestamp(value) { return stamp }
        throw SupervisorError(
            "invalid time \"\(value)\": expected a duration before now (10m, 1h30m, 1.5h, 300ms), "
                + "RFC3339 (2006-01-02T15:04:05Z07:00, optional .fraction), a local date-time "
                + "(2006-01-02T15:04:05, 2006-01-02T15:04, 2006-01-02), or Unix seconds (1700000000.5)")
    }

    /// `SECONDS[.FRACTION]`, as the Docker API's `ParseTimestamps` reads it (the fraction scaled to
    /// nanoseconds whatever its length).
    static func unixTimestamp(_ value: String) -> LogTimestamp? {
        let parts = value.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let seconds = Int64(parts[0]) else { return nil }
        guard parts.count == 2 else { return LogTimestamp(seconds: seconds) }
        guard let fraction = Int64(parts[1]) else { return nil }
        let scaled = Double(fraction) * pow(10, Double(9 - parts[1].count))
        guard scaled.isFinite, abs(scaled) < 9e18 else { return nil }
        return LogTimestamp(seconds: seconds).adding(nanoseconds: Int64(scaled))
    }

    /// The local zone's offset from UTC at an instant, as Go's `reference.Zone()` gives it.
    static func localOffset(at instant: LogTimestamp) -> Int64 {
        var t = time_t(instant.seconds)
        var parts = tm()
        guard localtime_r(&t, &parts) != nil else { return 0 }
        return Int64(parts.tm_gmtoff)
    }

    // Howard Hinnant's days <-> civil date algorithms (proleptic Gregorian calendar).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), Int(month), Int(day))
    }

    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = Int64((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1)
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

private func appendDigits(_ out: inout [UInt8], _ value: Int64, width: Int) {
    var digits: [UInt8] = []
    var rest = value < 0 ? -value : value
    repeat {
        digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
        rest /= 10
    } while rest > 0
    if value < 0 { out.append(UInt8(ascii: "-")) }
    for _ in digits.count..<max(width, digits.count) { out.append(UInt8(ascii: "0")) }
    out.append(contentsOf: digits.reversed())
}

extension Int64 {
    func floorDiv(_ d: Int64) -> Int64 { floorDivMod(d).0 }
    func floorDivMod(_ d: Int64) -> (Int64, Int64) {
        let q = self / d, r = self % d
        return r < 0 ? (q - 1, r + d) : (q, r)
    }
}

/// The fields of `YYYY-MM-DD[THH[:MM[:SS[.fraction]]]][zone]`, parsed strictly for one layout as
/// Go's `time.Parse` reads Docker's layouts: 4-digit year, 2-digit month, day, minute and second,
/// a 1- or 2-digit hour, a zone of `Z` or `±hh:mm`.
struct DateTimeText {
    enum Zone { case none, required }

    var year: Int64, month: Int, day: Int
    var hour = 0, minute = 0, second = 0, nanosecond: Int64 = 0
    var offset: Int64?  // seconds east of UTC; nil: local time

    /// `timeParts`: 0 date only, 1 hour, 2 hour and minute, 3 with seconds (`fraction` allows `.digits`).
    static func parse(_ text: ArraySlice<UInt8>, timeParts: Int, fraction: Bool, zone: Zone) -> DateTimeText? {
        var s = Scanner(text)
        guard let year = s.digits(exactly: 4), s.take("-"), let month = s.digits(exactly: 2), s.take("-"),
              let day = s.digits(exactly: 2) else { return nil }
        var fields = DateTimeText(year: Int64(year), month: Int(month), day: Int(day))
        if timeParts >= 1 {
            guard s.take("T"), let hour = s.digits(min: 1, max: 2) else { return nil }
            fields.hour = Int(hour)
        }
        if timeParts >= 2 {
            guard s.take(":"), let minute = s.digits(exactly: 2) else { return nil }
            fields.minute = Int(minute)
        }
        if timeParts >= 3 {
            guard s.take(":"), let second = s.digits(exactly: 2) else { return nil }
            fields.second = Int(second)
            if fraction, s.peek == UInt8(ascii: "."), s.peek(1).map({ (0x30...0x39).contains($0) }) == true {
                s.index += 1
                var nanos: Int64 = 0, count = 0
                while let c = s.peek, (0x30...0x39).contains(c) {
                    if count < 9 { nanos = nanos * 10 + Int64(c - 0x30) }
                    count += 1
                    s.index += 1
                }
                for _ in count..<max(count, 9) { nanos *= 10 }
                fields.nanosecond = nanos
            }
        }
        if zone == .required {
            if s.take("Z") {
                fields.offset = 0
            } else {
                guard let sign = s.peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
                s.index += 1
                guard let hh = s.digits(exactly: 2), s.take(":"), let mm = s.digits(exactly: 2), hh <= 24, mm < 60 else { return nil }
                fields.offset = (sign == UInt8(ascii: "-") ? -1 : 1) * (hh * 3600 + mm * 60)
            }
        }
        guard s.atEnd else { return nil }
        guard (1...12).contains(fields.month), fields.day >= 1,
              fields.day <= Self.daysIn(month: fields.month, year: fields.year),
              fields.hour < 24, fields.minute < 60, fields.second < 60 else { return nil }
        return fields
    }

    func timestamp(localOffset: Int64) -> LogTimestamp? {
        let days = LogTimestamp.days(year: year, month: month, day: day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - (offset ?? localOffset)
        return LogTimestamp(seconds: seconds, nanoseconds: Int32(nanosecond))
    }

    static func daysIn(month: Int, year: Int64) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

private struct Scanner {
    let text: ArraySlice<UInt8>
    var index: Int
    init(_ text: ArraySlice<UInt8>) { self.text = text; self.index = text.startIndex }
    var atEnd: Bool { index == text.endIndex }
    var peek: UInt8? { index < text.endIndex ? text[index] : nil }
    func peek(_ ahead: Int) -> UInt8? { index + ahead < text.endIndex ? text[index + ahead] : nil }

    mutating func take(_ c: Unicode.Scalar) -> Bool {
        guard peek == UInt8(ascii: c) else { return false }
        index += 1
        return true
    }

    mutating func digits(exactly n: Int) -> Int64? { digits(min: n, max: n) }

    mutating func digits(min: Int, max: Int) -> Int64? {
        var value: Int64 = 0, count = 0
        while count < max, let c = peek, (0x30...0x39).contains(c) {
            value = value * 10 + Int64(c - 0x30)
            count += 1
            index += 1
        }
        return count >= min ? value : nil
    }
}
