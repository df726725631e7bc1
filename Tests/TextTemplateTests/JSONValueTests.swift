import Testing
import TextTemplate

struct JSONValueTests {
    @Test func parsesEveryKindKeepingKeyOrder() throws {
        let value = try TemplateValue.parseJSON(
            #" {"b":1,"a":[true,false,null],"c":{"d":"e"},"f":1.5,"g":-0,"h":1e2,"i":12345678901234567890,"j":-9223372036854775808} "#)
        #expect(value == [
            "b": 1, "a": [true, false, nil], "c": ["d": "e"], "f": 1.5, "g": .double(-0.0), "h": .double(100),
            "i": .double(1.2345678901234567e19), "j": .int(Int64.min),
        ])
        guard case .object(let pairs, _) = value else {
            Issue.record("not an object")
            return
        }
        #expect(pairs.map(\.key) == ["b", "a", "c", "f", "g", "h", "i", "j"])
        #expect(value["c"]?["d"] == "e")
        #expect(value["a"]?[2] == .null)
        #expect(value["nope"] == nil)
    }

    @Test func topLevelScalars() throws {
        #expect(try TemplateValue.parseJSON("3") == 3)
        #expect(try TemplateValue.parseJSON(" \"x\"\n") == "x")
        #expect(try TemplateValue.parseJSON("null") == .null)
        #expect(try TemplateValue.parseJSON("-1.5e-3") == .double(-0.0015))
    }

    @Test func stringEscapesAndSurrogatePairs() throws {
        #expect(try TemplateValue.parseJSON(#""\"\\\/\b\f\n\r\t\u00e9\u4E2D""#) == "\"\\/\u{08}\u{0C}\n\r\té中")
        #expect(try TemplateValue.parseJSON(#""\ud83d\ude00""#) == "😀")
        #expect(try TemplateValue.parseJSON(#""\uD834\uDD1E x""#) == "𝄞 x")
        #expect(try TemplateValue.parseJSON("\"é😀\"") == "é😀")
    }

    @Test func repeatedKeyKeepsFirstPositionAndLastValue() throws {
        #expect(try TemplateValue.parseJSON(#"{"a":1,"b":2,"a":3}"#) == ["a": 3, "b": 2])
    }

    @Test(arguments: [
        ("", "unexpected end of JSON input"),
        ("[1,]", "invalid character ']' looking for beginning of value"),
        (#"{"a":1,}"#, "invalid character '}' looking for beginning of object key string"),
        ("[01]", "invalid character '1' after array element"),
        ("01", "invalid character '1' after top-level value"),
        ("1 2", "invalid character '2' after top-level value"),
        (#""\x""#, "invalid character 'x' in string escape code"),
        (#""\u12G4""#, "invalid character 'G' in \\u hexadecimal character escape"),
        (#""\ud800""#, "invalid lone high surrogate in string escape"),
        (#""\udc00""#, "invalid lone low surrogate in string escape"),
        (#""\ud800\u0041""#, "invalid surrogate pair in string escape"),
        ("\"a\tb\"", "invalid character '\\t' in string literal"),
        (#""abc"#, "unexpected end of JSON input"),
        (#"{"a" 1}"#, "invalid character '1' after object key"),
        (#"{"a":1 "b":2}"#, "invalid character '\"' after object key:value pair"),
        ("{a:1}", "invalid character 'a' looking for beginning of object key string"),
        ("tru", "unexpected end of JSON input"),
        ("trUe", "invalid character 'U' in literal true"),
        (".5", "invalid character '.' looking for beginning of value"),
        ("+1", "invalid character '+' looking for beginning of value"),
        ("-", "unexpected end of JSON input"),
        ("-a", "invalid character 'a' in numeric literal"),
        ("1.", "unexpected end of JSON input"),
        ("1.e3", "invalid character 'e' after decimal point in numeric literal"),
        ("1e", "unexpected end of JSON input"),
        ("1e+x", "invalid character 'x' in exponent of numeric literal"),
        ("1e400", "number 1e400 is out of range"),
        ("NaN", "invalid character 'N' looking for beginning of value"),
        ("[1] // c", "invalid character '/' after top-level value"),
        ("\u{FEFF}1", "invalid character '\\xef' looking for beginning of value"),
        (String(repeating: "[", count: 600), "exceeded max depth"),
    ])
    func rejectsWhatGoRejects(_ text: String, _ message: String) {
        do {
            let value = try TemplateValue.parseJSON(text)
            Issue.record("parsed \(value)")
        } catch let error as JSONError {
            #expect(error.message == message)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONError.self) { try TemplateValue.parseJSON([0x22, 0xFF, 0x22]) }
    }

    @Test func errorNamesTheOffset() {
        #expect(throws: JSONError(offset: 3, message: "invalid character ']' looking for beginning of value")) {
            try TemplateValue.parseJSON("[1,]")
        }
    }

    /// Canonical compact JSON survives parse → json() unchanged.
    @Test(arguments: [
        #"{"b":1,"a":[true,false,null],"c":{},"d":[],"e":"x"}"#,
        #"[1.5,-2,0.000001,1e-7,1e+21,100000000000000000000,123456789.125,-0]"#,
        #""\u003chtml\u003e \u0026 \"q\" \\ \n\t\u0001 é \u2028""#,
        #"[[[[]]],{"":{"":""}}]"#,
    ])
    func roundTrip(_ text: String) throws {
        #expect(try TemplateValue.parseJSON(text).json() == text)
    }

    @Test func encodesLikeGo() {
        let value: TemplateValue = ["s": "<a&b>\u{08}\u{0C}\u{1F}", "d": 0.1, "big": 1e21, "small": 1e-7, "neg": -0.0]
        #expect(value.json() == #"{"s":"\u003ca\u0026b\u003e\b\f\u001f","d":0.1,"big":1e+21,"small":1e-7,"neg":-0}"#)
        #expect(value.json(escapeHTML: false) == #"{"s":"<a&b>\b\f\u001f","d":0.1,"big":1e+21,"small":1e-7,"neg":-0}"#)
        #expect(TemplateValue.double(.nan).json() == "null")
        #expect(TemplateValue.double(1e20).json() == "100000000000000000000")
        #expect(TemplateValue.double(1.5e-10).json() == "1.5e-10")
        #expect(TemplateValue.double(2.5e300).json() == "2.5e+300")
    }

    @Test func prettyPrintsLikeDockerInspect() {
        let value: TemplateValue = [["Id": "x", "Tags": ["a"], "Empty": [], "Obj": [:], "N": nil]]
        #expect(value.prettyJSON() == """
            [
                {
                    "Id": "x",
                    "Tags": [
                        "a"
                    ],
                    "Empty": [],
                    "Obj": {},
                    "N": null
                }
            ]
            """)
    }
}
