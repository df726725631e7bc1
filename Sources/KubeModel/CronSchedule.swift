import Glibc
import GoCompat

/// A CronJob's `schedule` as the CronJob controller reads it (the standard five fields, minute
/// hour day-of-month month day-of-week, with `*`, `?`, lists, ranges, steps and JAN–DEC/SUN–SAT
/// names, or a descriptor such as `@hourly` or `@every 90s`), and the times it fires at in a time zone.
public struct CronSchedule: Sendable, Equatable {
    /// The allowed values of each field, bit n for value n.
    let minutes: UInt64, hours: UInt64, days: UInt64, months: UInt64, weekdays: UInt64
    /// Whether day-of-month or day-of-week was `*`/`?`: then a day must match both, else either.
    let daysStar: Bool, weekdaysStar: Bool
    /// `@every DURATION`: a fixed interval in whole seconds (at least one) instead of the fields.
    let every: Int64?

    public struct ParseError: Error, Sendable, Equatable {
        public let message: String
    }

    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    static let descriptors: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    public init(_ text: String) throws(ParseError) {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty else { throw ParseError(message: "empty spec string") }
        if trimmed.hasPrefix("@every ") {
            let text = String(trimmed.dropFirst("@every ".count))
            let nanoseconds: Int64
            do { nanoseconds = try GoTime.parseDuration(text) } catch {
                throw ParseError(message: "failed to parse duration \(trimmed): \(error.message)")
            }
            minutes = 0; hours = 0; days = 0; months = 0; weekdays = 0
            daysStar = false; weekdaysStar = false
            every = max(nanoseconds / 1_000_000_000, 1)
            return
        }
        every = nil
        let spec = trimmed.hasPrefix("@") ? Self.descriptors[trimmed.lowercased()] : trimmed
        guard let spec else { throw ParseError(message: "unrecognized descriptor: \(trimmed)") }
        let fields = spec.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else { throw ParseError(message: "expected exactly 5 fields, found \(fields.count): [\(fields.joined(separator: " "))]") }
        minutes = try Self.field(fields[0], 0, 59, names: []).0
        hours = try Self.field(fields[1], 0, 23, names: []).0
        let days = try Self.field(fields[2], 1, 31, names: [])
        self.days = days.0
        daysStar = days.1
        months = try Self.field(fields[3], 1, 12, names: Self.monthNames, namesFrom: 1).0
        let weekdays = try Self.field(fields[4], 0, 6, names: Self.dayNames)
        self.weekdays = weekdays.0
        weekdaysStar = weekdays.1
    }

    /// One field: a comma-separated list of `*`, `N`, `N-M`, each with an optional `/step`.
    static func field(_ text: String, _ low: Int, _ high: Int, names: [String], namesFrom: Int = 0) throws(ParseError) -> (UInt64, Bool) {
        var bits: UInt64 = 0
        var star = false
        for part in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard pieces.count <= 2 else { throw ParseError(message: "too many slashes: \(part)") }
            var start = low, end = high, step = 1
            if pieces[0] == "*" || pieces[0] == "?" {
                star = pieces.count == 1
            } else {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                guard bounds.count <= 2 else { throw ParseError(message: "too many hyphens: \(part)") }
                start = try value(bounds[0], names: names, namesFrom: namesFrom)
                end = bounds.count == 2 ? try value(bounds[1], names: names, namesFrom: namesFrom) : (pieces.count == 2 ? high : start)
            }
            if pieces.count == 2 {
                guard let given = Int(pieces[1]), given > 0 else { throw ParseError(message: "step must be a positive number: \(part)") }
                step = given
            }
            guard start >= low else { throw ParseError(message: "beginning of range (\(start)) below minimum (\(low)): \(part)") }
            guard end <= high else { throw ParseError(message: "end of range (\(end)) above maximum (\(high)): \(part)") }
            guard start <= end else { throw ParseError(message: "beginning of range (\(start)) beyond end of range (\(end)): \(part)") }
            for number in stride(from: start, through: end, by: step) { bits |= 1 << UInt64(number) }
        }
        return (bits, star)
    }

    static func value(_ text: String, names: [String], namesFrom: Int) throws(ParseError) -> Int {
        if let index = names.firstIndex(of: text.lowercased()) { return index + namesFrom }
        guard let number = Int(text), number >= 0 else { throw ParseError(message: "failed to parse int from \(text)") }
        return number
    }

    func dayMatches(_ time: tm) -> Bool {
        let day = days & (1 << UInt64(time.tm_mday)) != 0
        let weekday = weekdays & (1 << UInt64(time.tm_wday)) != 0
        return daysStar || weekdaysStar ? day && weekday : day || weekday
    }

    /// The first time after `after` (Unix seconds) the schedule fires at in `zone`; nil when none
    /// comes within five years (`0 0 30 2 *`).
    public func next(after: Int64, in zone: TimeZoneRules = .utc) -> Int64? {
        if let every { return after + every }
        // Walk wall-clock time (kept as if it were UTC), a month, day or hour at a time where a
        // field does not match, then map the wall time back to an instant.
        var wall = (after + zone.offset(at: after)) / 60 * 60 + 60
        let limit = wall + 5 * 366 * 86_400
        while wall < limit {
            var seconds = time_t(wall)
            var parts = tm()
            gmtime_r(&seconds, &parts)
            if months & (1 << UInt64(parts.tm_mon + 1)) == 0 {
                parts.tm_mon += 1; parts.tm_mday = 1; parts.tm_hour = 0; parts.tm_min = 0
                wall = Int64(timegm(&parts))
            } else if !dayMatches(parts) {
                parts.tm_mday += 1; parts.tm_hour = 0; parts.tm_min = 0
                wall = Int64(timegm(&parts))
            } else if hours & (1 << UInt64(parts.tm_hour)) == 0 {
                parts.tm_hour += 1; parts.tm_min = 0
                wall = Int64(timegm(&parts))
            } else if minutes & (1 << UInt64(parts.tm_min)) == 0 {
                wall += 60
            } else {
                let instant = wall - zone.offset(at: wall - zone.offset(at: wall))
                // A wall time the clock skipped or repeated (a DST change) maps to an instant
                // at or before `after`: go on from the next minute.
                if instant > after { return instant }
                wall += 60
            }
        }
        return nil
    }
}

/// A time zone's UTC offsets over time, from the system's tz database (TZif files under
/// /usr/share/zoneinfo), as Go's time.LoadLocation reads them.
public struct TimeZoneRules: Sendable, Equatable {
    /// Transition instants and the offset in force from each, ascending.
    let transitions: [(at: Int64, offset: Int64)]
    let initialOffset: Int64

    public static let utc = TimeZoneRules(transitions: [], initialOffset: 0)

    public static func == (a: TimeZoneRules, b: TimeZoneRules) -> Bool {
        a.initialOffset == b.initialOffset && a.transitions.elementsEqual(b.transitions) { $0.at == $1.at && $0.offset == $1.offset }
    }

    init(transitions: [(at: Int64, offset: Int64)], initialOffset: Int64) {
        self.transitions = transitions
        self.initialOffset = initialOffset
    }

    public static let directory = "/usr/share/zoneinfo"

    /// Whether `name` may be looked up at all: an IANA name (`Europe/Berlin`, `Etc/GMT+5`), never a
    /// path that leaves the database (`../`, an absolute path) nor "Local".
    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255, !name.hasPrefix("/"), name.lowercased() != "local" else { return false }
        for component in name.split(separator: "/", omittingEmptySubsequences: false) {
            guard !component.isEmpty, component != ".", component != ".." else { return false }
        }
        return name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || [UInt8(ascii: "/"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+")].contains(byte)
        }
    }

    /// The zone named `name` (UTC for "UTC" and "Etc/UTC"); nil for an unknown or invalid name.
    public static func load(_ name: String) -> TimeZoneRules? {
        if name == "UTC" || name == "Etc/UTC" { return .utc }
        guard isValidName(name), let bytes = readFile(directory + "/" + name) else { return nil }
        return parse(bytes)
    }

    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }

    /// A TZif file: version 1's 32-bit block, then (version 2+) the 64-bit one, which is used.
    static func parse(_ bytes: [UInt8]) -> TimeZoneRules? {
        guard bytes.count >= 44, bytes[0..<4].elementsEqual("TZif".utf8) else { return nil }
        func count(_ base: Int, _ index: Int) -> Int {
            let at = base + 20 + index * 4
            return Int(UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3]))
        }
        func signed(_ at: Int, _ width: Int) -> Int64 {
            var value: UInt64 = 0
            for index in 0..<width { value = value << 8 | UInt64(bytes[at + index]) }
            return width == 4 ? Int64(Int32(bitPattern: UInt32(value))) : Int64(bitPattern: value)
        }
        func blockSize(_ base: Int, width: Int) -> Int {
            let (ut, std, leap, time, type, chars) = (count(base, 0), count(base, 1), count(base, 2), count(base, 3), count(base, 4), count(base, 5))
            return 44 + time * width + time + type * 6 + chars + leap * (width + 4) + std + ut
        }
        var base = 0, width = 4
        if bytes[4] >= UInt8(ascii: "2") {
            base = blockSize(0, width: 4)
            width = 8
            guard bytes.count >= base + 44 else { return nil }
        }
        let timeCount = count(base, 3), typeCount = count(base, 4)
        let times = base + 44, indices = times + timeCount * width, types = indices + timeCount
        guard typeCount > 0, bytes.count >= types + typeCount * 6 else { return nil }
        func offset(ofType type: Int) -> Int64 { signed(types + type * 6, 4) }
        var transitions: [(at: Int64, offset: Int64)] = []
        for index in 0..<timeCount {
            let type = Int(bytes[indices + index])
            guard type < typeCount else { return nil }
            transitions.append((signed(times + index * width, width), offset(ofType: type)))
        }
        return TimeZoneRules(transitions: transitions, initialOffset: offset(ofType: 0))
    }

    /// Seconds east of UTC in force at `instant` (the last known offset after the last transition).
    public func offset(at instant: Int64) -> Int64 {
        var low = 0, high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            if transitions[middle].at <= instant { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? initialOffset : transitions[low - 1].offset
    }
}
