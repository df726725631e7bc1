import Glibc

/// The values the store fills in that no client may choose: uid, creationTimestamp, and the clocks.
public enum SystemFields {
    /// A random (version 4) UUID in lowercase, as the apiserver's `uuid.NewUUID()` prints it.
    public static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<2).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
        bytes[6] = (bytes[6] & 0x0F) | 0x40 // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80 // RFC 4122 variant
        let hex = bytes.map { byte in String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16) }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }

    /// RFC 3339 in UTC to the second (`2025-01-02T03:04:05Z`), metav1.Time's wire form.
    public static func timestamp(_ seconds: time_t = time(nil)) -> String {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
            + "T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// RFC 3339 with microseconds (`2025-01-02T03:04:05.123456Z`), metav1.MicroTime's wire form.
    public static func microTimestamp() -> String {
        let now = Self.now()
        let seconds = time_t(now)
        let micros = Int((now - Double(seconds)) * 1_000_000)
        let text = String(micros)
        return String(timestamp(seconds).dropLast()) + "." + String(repeating: "0", count: max(0, 6 - text.count)) + text + "Z"
    }

    /// Wall-clock seconds, for the change log's ages.
    public static func now() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
