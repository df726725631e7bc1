import GoCompat

/// resource.Quantity values as numbers (what the HorizontalPodAutoscaler compares).
public enum Quantities {
    /// The value of `100m`, `1.5`, `2Gi`, `250000n`: decimal (n, u, m, k, M, G, T, P, E) and binary
    /// (Ki … Ei) suffixes; nil when it is not a quantity.
    public static func value(_ text: String) -> Double? {
        let suffixes: [(String, Double)] = [
            ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776), ("Pi", 1_125_899_906_842_624),
            ("Ei", 1_152_921_504_606_846_976), ("n", 1e-9), ("u", 1e-6), ("m", 0.001), ("k", 1e3), ("M", 1e6), ("G", 1e9),
            ("T", 1e12), ("P", 1e15), ("E", 1e18),
        ]
        for (suffix, factor) in suffixes where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * factor }
        }
        return Double(text)
    }

    public static func value(_ json: JSONValue?) -> Double? {
        switch json {
        case .string(let text)?: value(text)
        case .number(let text)?: Double(text)
        default: nil
        }
    }

    /// Cores as a Quantity's canonical text in millicores (`250m`), as the HPA's status writes CPU.
    public static func milliText(_ cores: Double) -> String {
        let milli = Int64((cores * 1000).rounded())
        return milli % 1000 == 0 ? String(milli / 1000) : "\(milli)m"
    }
}
