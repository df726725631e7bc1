import Glibc
import LinuxSys

public enum Clock {
    /// Now in RFC 3339 with nanoseconds, UTC, the way runc writes `created` (Go's RFC3339Nano).
    public static func rfc3339Nano() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return format(seconds: now.tv_sec, nanoseconds: Int(now.tv_nsec))
    }

    /// Now in RFC 3339 to the second, as log lines carry it.
    public static func rfc3339() -> String {
        format(seconds: time(nil), nanoseconds: 0)
    }

    public static func format(seconds: time_t, nanoseconds: Int) -> String {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var out = "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
        out += "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
        if nanoseconds > 0 {
            var fraction = pad(Int32(nanoseconds), 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            out += "." + fraction
        }
        return out + "Z"
    }

    public static func monotonicMilliseconds() -> Int64 {
        MonotonicClock.milliseconds()
    }

    public static func monotonicSeconds() -> Double {
        MonotonicClock.seconds()
    }
}
