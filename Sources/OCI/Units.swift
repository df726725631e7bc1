/// Sizes written the way Docker and runc accept them on the command line.
public enum Units {
    /// `64m`, `1g`, `512k`, `1024`, `2GiB`, `-1` (unlimited) in bytes, with binary multiples as
    /// Go's units.RAMInBytes reads them.
    public static func ramInBytes(_ text: String) -> Int64? {
        if text == "-1" { return -1 }
        var lower = text.lowercased()
        for suffix in ["ib", "b"] where lower.hasSuffix(suffix) && lower.count > suffix.count {
            lower.removeLast(suffix.count)
            break
        }
        let multipliers: [Character: Double] = ["k": 1024, "m": 1_048_576, "g": 1_073_741_824, "t": 1_099_511_627_776, "p": 1_125_899_906_842_624]
        var multiplier = 1.0
        if let last = lower.last, let value = multipliers[last] {
            multiplier = value
            lower.removeLast()
        }
        guard let number = Double(lower), number >= 0, number.isFinite else { return nil }
        let bytes = number * multiplier
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }
}
