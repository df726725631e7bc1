import GoCompat
import Testing

/// GoJSON: a JSON tree into a Decodable as Go's encoding/json fills a struct.
struct GoJSONDecoderTests {
    struct Outer: Decodable, GoNamed, Equatable {
        var name: String?
        var count: Int64?
        var inner: Inner?
        var items: [Inner]?
        var tags: [String: String]?
        static var goName: String { "pkg.Outer" }
        enum CodingKeys: String, CodingKey, CaseIterable { case name = "Name", count = "Count", inner = "Inner", items = "Items", tags = "Tags" }
    }

    struct Inner: Decodable, GoNamed, Equatable {
        var port: UInt16?
        var flag: Bool?
        static var goName: String { "pkg.Inner" }
        enum CodingKeys: String, CodingKey, CaseIterable { case port = "Port", flag = "Flag" }
    }

    static func decode(_ text: String) throws -> Outer {
        try GoJSON.decode(Outer.self, from: JSONParser.parse(Array(text.utf8)))
    }

    static func error(_ text: String) -> String? {
        do { _ = try decode(text); return nil } catch let error as GoError { return error.message } catch { return "\(error)" }
    }

    @Test func fieldsMatchWithoutCaseMapKeysExactly() throws {
        let value = try Self.decode(#"{"name":"a","COUNT":3,"inner":{"port":80},"Tags":{"Key":"v","key":"w"},"extra":[1]}"#)
        #expect(value == Outer(name: "a", count: 3, inner: Inner(port: 80), tags: ["Key": "v", "key": "w"]))
        #expect(try Self.decode(#"{"Name":"a","name":"b"}"#).name == "b")
        #expect(try Self.decode(#"{"name":"b","Name":"a"}"#).name == "a")
    }

    @Test func nullIsAbsentAndZeroInsideContainers() throws {
        #expect(try Self.decode(#"{"Name":null,"Inner":null,"Items":[null,{"Flag":true}],"Tags":{"a":null}}"#)
            == Outer(items: [Inner(), Inner(flag: true)], tags: ["a": ""]))
        #expect(try Self.decode("null") == Outer())
    }

    @Test(arguments: [
        (#"{"Count":"3"}"#, "json: cannot unmarshal string into Go struct field Outer.Count of type int64"),
        (#"{"Count":3.0}"#, "json: cannot unmarshal number 3.0 into Go struct field Outer.Count of type int64"),
        (#"{"Count":99999999999999999999}"#, "json: cannot unmarshal number 99999999999999999999 into Go struct field Outer.Count of type int64"),
        (#"{"Inner":{"Port":70000}}"#, "json: cannot unmarshal number 70000 into Go struct field Inner.Inner.Port of type uint16"),
        (#"{"Items":[{"Flag":1}]}"#, "json: cannot unmarshal number into Go struct field Inner.Items.Flag of type bool"),
        (#"{"Items":{}}"#, "json: cannot unmarshal object into Go struct field Outer.Items of type []pkg.Inner"),
        (#"{"Inner":[]}"#, "json: cannot unmarshal array into Go struct field Outer.Inner of type pkg.Inner"),
        (#"{"Tags":{"a":true}}"#, "json: cannot unmarshal bool into Go struct field Outer.Tags of type string"),
        (#""x""#, "json: cannot unmarshal string into Go value of type pkg.Outer"),
    ])
    func typeErrorsInGosWords(_ text: String, _ message: String) {
        #expect(Self.error(text) == message)
    }

    @Test func topLevelMapsAndLists() throws {
        let args = try GoJSON.decode([String: String?].self, from: JSONParser.parse(Array(#"{"A":"1","B":null}"#.utf8)))
        #expect(args.count == 2 && args["A"] == .some("1") && args["B"] == .some(String?.none))
        #expect(throws: GoError("json: cannot unmarshal number into Go value of type string")) {
            try GoJSON.decode([String: String?].self, from: JSONParser.parse(Array(#"{"A":1}"#.utf8)))
        }
    }

    @Test func parseFirstLeavesTheRest() throws {
        let (value, end) = try JSONParser.parseFirst(Array(#" {"a":1}  }x"#.utf8))
        #expect(value == JSONValue(members: ["a": .number("1")]) && end == 10)
    }
}
