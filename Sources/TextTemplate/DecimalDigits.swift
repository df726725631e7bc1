/// The decimal digits of a finite, non-negative double: value = 0.d₁d₂d₃… × 10^`point`.
/// `digits` holds values 0...9 with no leading or trailing zeros; zero has no digits.
/// Used to print doubles the way Go's `strconv.FormatFloat` does.
struct DecimalDigits: Equatable {
    var digits: [UInt8]
    var point: Int

    /// The shortest digits that read back as `value` (Swift's `description` finds the same digits as
    /// Go's shortest formatting: the shortest that round-trip, closest to the exact value).
    static func shortest(_ value: Double) -> DecimalDigits {
        let text = Array(String(value.magnitude).utf8)
        var mantissa = text[...]
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissa = text[..<e]
            exponent = Int(String(decoding: text[(e + 1)...], as: UTF8.self)) ?? 0
        }
        var digits: [UInt8] = []
        var point = 0
        var seenPoint = false
        for byte in mantissa {
            if byte == UInt8(ascii: ".") { seenPoint = true; continue }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { continue }
            digits.append(byte - UInt8(ascii: "0"))
            if !seenPoint { point += 1 }
        }
        return DecimalDigits(digits: digits, point: point + exponent).trimmed()
    }

    /// Every digit of the binary value, exactly.
    static func exact(_ value: Double) -> DecimalDigits {
        let magnitude = value.magnitude
        guard magnitude != 0, magnitude.isFinite else { return DecimalDigits(digits: [], point: 0) }
        var significand = magnitude.significandBitPattern
        var exponent = Int(magnitude.exponentBitPattern)
        if exponent == 0 {
            exponent = -1074
        } else {
            significand |= UInt64(1) << 52
            exponent -= 1075
        }
        // value = significand × 2^exponent
        var number = BigDecimalInteger(significand)
        if exponent >= 0 {
            for _ in 0..<exponent { number.multiply(by: 2) }
            let digits = number.digits()
            return DecimalDigits(digits: digits, point: digits.count).trimmed()
        }
        // significand × 2^-k = significand × 5^k / 10^k
        for _ in 0..<(-exponent) { number.multiply(by: 5) }
        let digits = number.digits()
        return DecimalDigits(digits: digits, point: digits.count + exponent).trimmed()
    }

    func trimmed() -> DecimalDigits {
        var result = self
        while let first = result.digits.first, first == 0 {
            result.digits.removeFirst()
            result.point -= 1
        }
        while let last = result.digits.last, last == 0 { result.digits.removeLast() }
        if result.digits.isEmpty { result.point = 0 }
        return result
    }

    /// Rounded to `count` significant digits, ties to even (the digits are exact, so a tie is a tie).
    func rounded(toDigits count: Int) -> DecimalDigits {
        guard count < digits.count else { return self }
        guard count >= 0 else { return DecimalDigits(digits: [], point: 0) }
        let next = digits[count]
        var up: Bool
        if next > 5 {
            up = true
        } else if next < 5 {
            up = false
        } else if digits[(count + 1)...].contains(where: { $0 != 0 }) {
            up = true
        } else {
            up = count > 0 && digits[count - 1] % 2 == 1
        }
        var kept = Array(digits[..<count])
        var point = self.point
        if up {
            var i = kept.count - 1
            while i >= 0 {
                if kept[i] == 9 {
                    kept[i] = 0
                    i -= 1
                } else {
                    kept[i] += 1
                    break
                }
            }
            if i < 0 {
                kept.insert(1, at: 0)
                point += 1
            }
        }
        return DecimalDigits(digits: kept, point: point).trimmed()
    }

    /// `%f` body: `fraction` digits after the point.
    func fixed(fraction: Int) -> String {
        var out = ""
        if point <= 0 {
            out = "0"
        } else {
            for i in 0..<point { out.append(digit(at: i)) }
        }
        if fraction > 0 {
            out.append(".")
            for j in 0..<fraction { out.append(digit(at: point + j)) }
        }
        return out
    }

    /// `%e` body: one digit, `fraction` digits after the point, `e`, sign and at least two exponent digits.
    func exponential(fraction: Int, upper: Bool = false) -> String {
        var out = String(digit(at: 0))
        if fraction > 0 {
            out.append(".")
            for j in 1...fraction { out.append(digit(at: j)) }
        }
        let exponent = digits.isEmpty ? 0 : point - 1
        out.append(upper ? "E" : "e")
        out.append(exponent < 0 ? "-" : "+")
        let magnitude = exponent.magnitude
        if magnitude < 10 { out.append("0") }
        out.append(String(magnitude))
        return out
    }

    private func digit(at index: Int) -> Character {
        guard index >= 0, index < digits.count else { return "0" }
        return Character(Unicode.Scalar(UInt8(ascii: "0") + digits[index]))
    }
}

/// A non-negative integer in base 10⁹, just enough to expand a double's exact decimal digits.
private struct BigDecimalInteger {
    static let base: UInt64 = 1_000_000_000
    var limbs: [UInt64]  // least significant first

    init(_ value: UInt64) {
        var v = value
        limbs = []
        repeat {
            limbs.append(v % Self.base)
            v /= Self.base
        } while v > 0
    }

    mutating func multiply(by factor: UInt64) {
        var carry: UInt64 = 0
        for i in limbs.indices {
            let product = limbs[i] * factor + carry
            limbs[i] = product % Self.base
            carry = product / Self.base
        }
        while carry > 0 {
            limbs.append(carry % Self.base)
            carry /= Self.base
        }
    }

    func digits() -> [UInt8] {
        var out: [UInt8] = []
        for (n, limb) in limbs.reversed().enumerated() {
            var chunk: [UInt8] = []
            var v = limb
            repeat {
                chunk.append(UInt8(v % 10))
                v /= 10
            } while v > 0
            if n > 0 { chunk.append(contentsOf: repeatElement(0, count: 9 - chunk.count)) }
            out.append(contentsOf: chunk.reversed())
        }
        return out
    }
}
