import GoCompat
import Testing

/// Go's parsers, value for value and error text for error text, as Go's own functions answer.
struct GoCompatTests {
    static func failure<T>(_ body: () throws(GoError) -> T) -> String? {
        do {
            _ = try body()
            return nil
        } catch { return error.message }
    }

    @Test(arguments: [
        ("512", 512), ("512k", 524_288), ("1.5g", 1_610_612_736), ("2GiB", 2_147_483_648), ("1 m", 1_048_576),
        ("64MB", 67_108_864), ("1b", 1), ("0", 0), ("1e3", 1000), ("8000p", 9_007_199_254_740_992_000), ("0.5k", 512),
    ] as [(String, Int64)])
    func ramInBytes(text: String, bytes: Int64) throws {
        #expect(try GoUnits.ramInBytes(text) == bytes)
    }

    @Test(arguments: [
        ("10m", 10_000_000), ("1.5k", 1500), ("10MiB", 10_000_000), ("1kb", 1000), ("7", 7), ("2 g", 2_000_000_000),
    ] as [(String, Int64)])
    func fromHumanSize(text: String, bytes: Int64) throws {
        #expect(try GoUnits.fromHumanSize(text) == bytes)
    }

    @Test(arguments: [
        ("", "invalid size: ''"), ("abc", "invalid size: 'abc'"), ("1x", "invalid suffix: 'x'"),
        ("1kbb", "invalid suffix: 'kbb'"), ("1bb", "invalid suffix: 'bb'"), ("1kib2", "strconv.ParseFloat: parsing \"1kib2\": invalid syntax"),
        ("-1", "invalid size: '-1'"), ("1..2", "strconv.ParseFloat: parsing \"1..2\": invalid syntax"),
        // Past Int64: refused, not a trap.
        ("9000p", "invalid size: '9000p'"), ("8191p", "invalid size: '8191p'"), ("99999999999999999999", "invalid size: '99999999999999999999'"),
    ])
    func badSizes(text: String, message: String) {
        #expect(Self.failure { () throws(GoError) in try GoUnits.ramInBytes(text) } == message)
    }

    @Test func decimalOverflow() {
        #expect(Self.failure { () throws(GoError) in try GoUnits.fromHumanSize("9300p") } == "invalid size: '9300p'")
        #expect(Self.failure { () throws(GoError) in try GoUnits.fromHumanSize("10ki") } == "invalid suffix: 'ki'")
    }

    @Test(arguments: [
        ("30s", 30_000_000_000), ("1m30s", 90_000_000_000), ("500ms", 500_000_000), ("1.5h", 5_400_000_000_000),
        ("-2s", -2_000_000_000), ("0", 0), ("-0", 0), ("+5ns", 5), ("1µs", 1000), ("1us", 1000), (".5s", 500_000_000), ("1.s", 1_000_000_000),
        ("9223372036854775807ns", Int64.max), ("-9223372036854775808ns", Int64.min), ("2562047h", 9_223_369_200_000_000_000),
        ("1.0000000000000000000001s", 1_000_000_000),
    ] as [(String, Int64)])
    func durations(text: String, nanoseconds: Int64) throws {
        #expect(try GoTime.parseDuration(text) == nanoseconds)
    }

    @Test(arguments: [
        ("", "time: invalid duration \"\""), ("1", "time: missing unit in duration \"1\""),
        ("1x", "time: unknown unit \"x\" in duration \"1x\""), ("s", "time: invalid duration \"s\""),
        (".", "time: invalid duration \".\""), ("-", "time: invalid duration \"-\""), ("1s2", "time: missing unit in duration \"1s2\""),
        ("9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\""),
        ("2562048h", "time: invalid duration \"2562048h\""), ("99999999999999999999s", "time: invalid duration \"99999999999999999999s\""),
        ("5000000h5000000h", "time: invalid duration \"5000000h5000000h\""),
    ])
    func badDurations(text: String, message: String) {
        #expect(Self.failure { () throws(GoError) in try GoTime.parseDuration(text) } == message)
    }

    @Test(arguments: [
        ("plain", "\"plain\""), ("a\"b", "\"a\\\"b\""), ("back\\slash", "\"back\\\\slash\""), ("tab\t", "\"tab\\t\""),
        ("cr\r", "\"cr\\r\""), ("\u{01}", "\"\\x01\""), ("é", "\"é\""), ("\u{200B}", "\"\\u200b\""),
    ])
    func quote(text: String, quoted: String) {
        #expect(GoStrconv.quote(text) == quoted)
    }

    @Test func integers() throws {
        #expect(try GoStrconv.parseInt("-42") == -42)
        #expect(try GoStrconv.parseInt("+7") == 7)
        #expect(try GoStrconv.parseInt("9223372036854775807") == Int64.max)
        #expect(Self.failure { () throws(GoError) in try GoStrconv.parseInt("9223372036854775808") }
            == "strconv.ParseInt: parsing \"9223372036854775808\": value out of range")
        #expect(Self.failure { () throws(GoError) in try GoStrconv.parseInt("-99999999999999999999") }
            == "strconv.ParseInt: parsing \"-99999999999999999999\": value out of range")
        #expect(Self.failure { () throws(GoError) in try GoStrconv.parseInt("1x") } == "strconv.ParseInt: parsing \"1x\": invalid syntax")
        #expect(Self.failure { () throws(GoError) in try GoStrconv.parseInt("") } == "strconv.ParseInt: parsing \"\": invalid syntax")
    }

    @Test func booleansAndFloats() {
        for yes in ["1", "t", "T", "TRUE", "true", "True"] { #expect(GoStrconv.parseBool(yes) == true) }
        for no in ["0", "f", "F", "FALSE", "false", "False"] { #expect(GoStrconv.parseBool(no) == false) }
        for neither in ["", "yes", "tRUE", "2"] { #expect(GoStrconv.parseBool(neither) == nil) }
        #expect(GoStrconv.parseFloat("1.5e3") == 1500)
        #expect(GoStrconv.parseFloat("inf") == nil)
        #expect(GoStrconv.parseFloat("0x10") == nil)
        #expect(GoStrconv.parseFloat(".") == nil)
    }
}
