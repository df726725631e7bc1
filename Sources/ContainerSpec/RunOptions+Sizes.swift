import GoCompat

// MARK: sizes and numbers

extension RunOptions.Parse {
    /// `512`, `512k`, `1.5g`, `2GiB`, `1 m`: bytes with binary multiples, as go-units' RAMInBytes
    /// reads them (the number is a float, the suffix b/k/m/g/t/p with an optional `b` or `ib`).
    public static func size(_ text: String) throws(EngineError) -> Int64 {
        do { return try GoUnits.ramInBytes(text) } catch { throw .invalid(error.message) }
    }

    /// `--memory-swap`: a size, or `-1` for unlimited swap.
    public static func memorySwap(_ text: String) throws(EngineError) -> Int64 {
        text == "-1" ? -1 : try size(text)
    }

    /// `--cpus 1.5` → 1_500_000_000 NanoCPUs. Accepts what Go's big.Rat does (`1.5`, `3/2`, `1e-3`);
    /// more than nine decimals is "too precise". The range against the host is `validate`'s.
    public static func nanoCPUs(_ text: String) throws(EngineError) -> Int64 {
        let failed = EngineError.invalid("failed to parse \(text) as a rational number")
        if let slash = text.firstIndex(of: "/") {
            guard let numerator = Int64(text[..<slash]), let denominator = Int64(text[text.index(after: slash)...]),
                  denominator > 0 else { throw failed }
            let (scaled, overflow) = numerator.multipliedReportingOverflow(by: 1_000_000_000)
            if overflow { return numerator < 0 ? Int64.min : Int64.max }
            guard scaled % denominator == 0 else { throw .invalid("value is too precise") }
            return scaled / denominator
        }
        // A decimal with an optional exponent, kept exact: digits × 10^exponent.
        var chars = Substring(text)
        var negative = false
        if let first = chars.first, first == "+" || first == "-" {
            negative = first == "-"
            chars = chars.dropFirst()
        }
        var mantissa = ""
        var exponent = 0
        var seenDot = false
        var index = chars.startIndex
        while index < chars.endIndex, chars[index].isASCII, chars[index].isNumber || chars[index] == "." {
            if chars[index] == "." {
                if seenDot { throw failed }
                seenDot = true
            } else {
                mantissa.append(chars[index])
                if seenDot { exponent -= 1 }
            }
            index = chars.index(after: index)
        }
        guard !mantissa.isEmpty else { throw failed }
        if index < chars.endIndex {
            guard chars[index] == "e" || chars[index] == "E", let power = Int(chars[chars.index(after: index)...]),
                  abs(power) < 10_000 else { throw failed }
            exponent += power
        }
        exponent += 9
        // Digits below a nano must all be zero.
        while exponent < 0 {
            guard let last = mantissa.last else { break }
            guard last == "0" else { throw .invalid("value is too precise") }
            mantissa.removeLast()
            exponent += 1
        }
        if mantissa.isEmpty { return 0 }
        mantissa += String(repeating: "0", count: min(exponent, 40))
        let trimmed = mantissa.drop { $0 == "0" }
        guard trimmed.count <= 18, let magnitude = Int64(trimmed.isEmpty ? "0" : trimmed) else {
            return negative ? Int64.min : Int64.max
        }
        return negative ? -magnitude : magnitude
    }

    /// `-c, --cpu-shares`, once read as an integer: negative is refused.
    public static func cpuShares(_ shares: Int64) throws(EngineError) -> UInt64 {
        if shares < 0 { throw .invalid("invalid CPU shares (\(shares)): value must be a positive integer") }
        return UInt64(shares)
    }

    /// `--cpu-period`, once read as an integer: negative is refused.
    public static func cpuPeriod(_ period: Int64) throws(EngineError) -> UInt64 {
        if period < 0 { throw .invalid("invalid CPU period (\(period)): value must be a positive integer") }
        return UInt64(period)
    }

    /// A whole number as Go's strconv.ParseInt reads it, with its error text.
    public static func integer(_ text: String) throws(EngineError) -> Int64 {
        do { return try GoStrconv.parseInt(text) } catch { throw .invalid(error.message) }
    }
}

// MARK: durations

extension RunOptions.Parse {
    /// A Go duration (`30s`, `1m30s`, `500ms`, `1.5h`, `-2s`) in nanoseconds, with time.ParseDuration's errors.
    public static func duration(_ text: String) throws(EngineError) -> Int64 {
        do { return try GoTime.parseDuration(text) } catch { throw .invalid(error.message) }
    }
}
