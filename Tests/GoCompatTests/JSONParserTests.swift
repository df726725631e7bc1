import GoCompat
import Testing

/// GoCompat's JSON parser: what Go's encoding/json accepts and rejects, with Go's messages.
struct JSONParserTests {
    static func parse(_ text: String, _ options: JSONParser.Options = JSONParser.Options()) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8), options: options)
    }

    @Test func keepsKeyOrderAndNumberText() throws {
        let value = try Self.parse(#" {"b": 1.50, "a": [true, null, "x"], "b": -0, "c": 1e3} "#)
        guard case .object(let members, let keys) = value else { Issue.record("not an object: \(value)"); return }
        #expect(keys == ["b", "a", "c"])
        #expect(members["b"] == .number("-0"))
        #expect(members["c"] == .number("1e3"))
        #expect(members["a"] == .array([.bool(true), .null, .string("x")]))
        #expect(try Self.parse("100000000000000000000") == .number("100000000000000000000"))
    }

    @Test(arguments: [
        ("", 0, "unexpected end of JSON input"),
        ("[1,]", 3, "invalid character ']' looking for beginning of value"),
        ("[01]", 2, "invalid character '1' after array element"),
        ("1.", 2, "unexpected end of JSON input"),
        ("1.e3", 2, "invalid character 'e' after decimal point in numeric literal"),
        ("-", 1, "unexpected end of JSON input"),
        ("1e400", 0, "number 1e400 is out of range"),
        ("\u{FEFF}1", 0, "invalid character '\\xef' looking for beginning of value"),
        ("\"a\tb\"", 2, "invalid character '\\t' in string literal"),
        ("[1] x", 4, "invalid character 'x' after top-level value"),
    ])
    func rejectsWhatGoRejects(_ text: String, _ offset: Int, _ message: String) {
        #expect(throws: JSONSyntaxError(offset: offset, message: message)) { try Self.parse(text) }
    }

    /// Go replaces lone surrogates and invalid UTF-8 with U+FFFD; strictUnicode makes them errors.
    @Test func unicode() throws {
        #expect(try Self.parse(#""\ud800x""#) == .string("\u{FFFD}x"))
        #expect(try Self.parse(#""\udc00""#) == .string("\u{FFFD}"))
        #expect(try Self.parse(#""\ud800\u0041""#) == .string("\u{FFFD}A"))
        #expect(try Self.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSONParser.parse([0x22, 0xFF, 0x22]) == .string("\u{FFFD}"))
        let strict = JSONParser.Options(strictUnicode: true)
        #expect(throws: JSONSyntaxError(offset: 1, message: "invalid lone high surrogate in string escape")) {
            try Self.parse(#""\ud800x""#, strict)
        }
        #expect(throws: JSONSyntaxError(offset: 3, message: "invalid UTF-8 in string")) {
            try JSONParser.parse([0x22, 0xFF, 0x22], options: strict)
        }
    }

    @Test func depthLimit() throws {
        #expect(throws: JSONSyntaxError(offset: 512, message: "exceeded max depth")) {
            try Self.parse(String(repeating: "[", count: 513))
        }
        _ = try Self.parse(String(repeating: "[", count: 600) + String(repeating: "]", count: 600), JSONParser.Options(maxDepth: 600))
    }

    @Test func error() {
        #expect(JSONSyntaxError(offset: 3, message: "m").description == "json: offset 3: m")
    }
}
