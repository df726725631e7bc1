import GoCompat

// Parsers for the values of `docker run` flags, one per flag syntax (split by concern into
// RunOptions+Sizes, +Mounts, +Security, +Environment, +Networking, +Lifecycle), and the checks
// Docker applies across flags (RunOptions+Flags, +Validate). Error texts are Docker's (its CLI's
// for what the CLI checks, the daemon's for the rest) so scripts that match on them keep working.

extension RunOptions {
    /// One parser per flag syntax. Pure: no filesystem access except the `*File` readers.
    public enum Parse {}
}

extension RunOptions.Parse {
    /// Runs a per-flag parser; its error gets the CLI's flag prefix:
    /// `invalid argument "x" for "-m, --memory" flag: invalid size: 'x'`.
    public static func flag<T>(_ names: String, _ value: String, _ parse: (String) throws(EngineError) -> T) throws(EngineError) -> T {
        do { return try parse(value) } catch {
            throw EngineError(error.kind, "invalid argument \(goQuote(value)) for \(goQuote(names)) flag: \(error.message)")
        }
    }

    /// Runs a parser whose error the daemon reports after `prefix`: `invalid CapAdd: unknown capability: …`.
    public static func daemon<T>(_ prefix: String, _ value: String, _ parse: (String) throws(EngineError) -> T) throws(EngineError) -> T {
        do { return try parse(value) } catch { throw EngineError(error.kind, "\(prefix): \(error.message)") }
    }
}

// MARK: helpers shared by the parsers

extension RunOptions.Parse {
    /// Go's strings.Cut: the text before the first `separator`, and after it (nil when absent).
    static func cut(_ text: String, _ separator: Character) -> (String, String?) {
        guard let index = text.firstIndex(of: separator) else { return (text, nil) }
        return (String(text[..<index]), String(text[text.index(after: index)...]))
    }
}

/// Go's strconv.Quote, as Docker's messages quote values.
func goQuote(_ text: String) -> String { GoStrconv.quote(text) }

/// Go's strconv.ParseBool.
func goBool(_ text: String) -> Bool? { GoStrconv.parseBool(text) }

func isAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
}

extension String {
    func trimmingASCIISpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
