import GoCompat

/// Sizes written the way Docker and runc accept them on the command line.
public enum Units {
    /// `64m`, `1g`, `512k`, `1024`, `2GiB`, `-1` (unlimited) in bytes, with binary multiples as
    /// Go's units.RAMInBytes reads them (runc's `update --memory` and friends).
    public static func ramInBytes(_ text: String) -> Int64? {
        if text == "-1" { return -1 }
        return try? GoUnits.ramInBytes(text)
    }
}
