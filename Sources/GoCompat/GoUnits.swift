/// docker/go-units' size parsers. Both read `NUMBER[ ]SUFFIX`, the number as strconv.ParseFloat
/// does and the suffix `b`, or `k m g t p` optionally followed by `b` or `ib`, case-insensitive;
/// they differ only in the multiple:
/// - `ramInBytes`, powers of 1024: `docker run -m/--memory-swap/--memory-reservation/--shm-size`,
///   `--mount tmpfs-size`, `docker update -m`, runc's `update --memory`, a Dockerfile's
///   `RUN --mount=type=tmpfs,size=`.
/// - `fromHumanSize`, powers of 1000: the json-file log driver's `--log-opt max-size`.
public enum GoUnits {
    public static func ramInBytes(_ text: String) throws(GoError) -> Int64 {
        try parseSize(text, multiple: 1024)
    }

    public static func fromHumanSize(_ text: String) throws(GoError) -> Int64 {
        try parseSize(text, multiple: 1000)
    }

    /// go-units' parseSize: the number ends at the last digit, dot or space; what follows is the suffix.
    static func parseSize(_ text: String, multiple: Double) throws(GoError) -> Int64 {
        let bytes = Array(text.utf8)
        guard let sep = bytes.lastIndex(where: { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x20 }) else {
            throw GoError("invalid size: '\(text)'")
        }
        let number = String(decoding: bytes[..<(bytes[sep] == 0x20 ? sep : sep + 1)], as: UTF8.self)
        let suffix = String(decoding: bytes[(sep + 1)...], as: UTF8.self).lowercased()
        guard var value = GoStrconv.parseFloat(number) else {
            throw GoError("strconv.ParseFloat: parsing \(GoStrconv.quote(number)): invalid syntax")
        }
        guard value >= 0 else { throw GoError("invalid size: '\(text)'") }
        if !suffix.isEmpty {
            let chars = Array(suffix)
            var good = chars.count <= 3
            if good, chars[0] == "b" {
                good = chars.count == 1
            } else if good, let power = "kmgtp".firstIndex(of: chars[0]) {
                // One multiplication by the whole multiple, as Go's `size *= float64(mul)`.
                var factor = 1.0
                for _ in 0...("kmgtp".distance(from: "kmgtp".startIndex, to: power)) { factor *= multiple }
                value *= factor
                good = chars.count == 1 || (chars.count == 2 && chars[1] == "b") || (chars.count == 3 && chars[1] == "i" && chars[2] == "b")
            } else {
                good = false
            }
            guard good else { throw GoError("invalid suffix: '\(suffix)'") }
        }
        // Past Int64 Go's conversion is undefined; refused here rather than trapping.
        guard value < 9.2e18 else { throw GoError("invalid size: '\(text)'") }
        return Int64(value)
    }
}
