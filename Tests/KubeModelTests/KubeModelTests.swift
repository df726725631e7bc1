import GoCompat
import Kube
import KubeModel
import Testing

@Suite struct LabelSelectorTests {
    @Test(arguments: [
        ("", ["a": "1"], true),
        ("a=1", ["a": "1"], true),
        ("a==1", ["a": "2"], false),
        ("a!=1", [:], true),
        ("a in (1, 2),b", ["a": "2", "b": ""], true),
        ("a notin (1,2)", ["a": "2"], false),
        ("!a", ["b": "1"], true),
        ("a", [:], false),
        ("n>3,n<10", ["n": "5"], true),
        ("example.com/tier=web", ["example.com/tier": "web"], true),
    ] as [(String, [String: String], Bool)])
    func matches(selector: String, labels: [String: String], expected: Bool) throws {
        #expect(try LabelSelector(parsing: selector).matches(labels) == expected)
    }

    @Test(arguments: ["a=b=c", "a in 1", "=x", "a in ()", "a b", "bad key=1"])
    func refused(selector: String) {
        #expect(throws: KubeStatus.self) { try LabelSelector(parsing: selector) }
    }
}

@Suite struct FieldSelectorTests {
    static let object = JSONValue.ordered([("metadata", .ordered([("name", .string("a,b")), ("namespace", .string("ns"))]))])

    @Test func escapesAndOperators() throws {
        #expect(try FieldSelector(parsing: #"metadata.name=a\,b"#).matches(Self.object))
        #expect(try FieldSelector(parsing: "metadata.namespace!=ns").matches(Self.object) == false)
        #expect(try FieldSelector(parsing: "metadata.namespace==ns,metadata.name!=x").matches(Self.object))
        #expect(throws: KubeStatus.self) { try FieldSelector(parsing: "spec.x=1").check(for: KubeKinds.configMap) }
        #expect(throws: KubeStatus.self) { try FieldSelector(parsing: "nooperator") }
    }
}

@Suite struct NamesTests {
    @Test func dns1123() {
        #expect(Names.dns1123Subdomain("a.b-c").isEmpty)
        #expect(!Names.dns1123Subdomain("A").isEmpty)
        #expect(!Names.dns1123Subdomain("a..b").isEmpty)
        #expect(Names.dns1123Subdomain(String(repeating: "a", count: 254)) == ["must be no more than 253 characters"])
        #expect(Names.dns1123Label("team-a").isEmpty)
        #expect(!Names.dns1123Label("a.b").isEmpty)
        #expect(!Names.dns1123Label(String(repeating: "a", count: 64)).isEmpty)
        #expect(Names.qualifiedName("example.com/Name_1").isEmpty)
        #expect(!Names.qualifiedName("a/b/c").isEmpty)
        #expect(Names.labelValue("").isEmpty)
        #expect(!Names.labelValue("-x").isEmpty)
        #expect(Names.configKey("key.name_1-x").isEmpty)
        #expect(!Names.configKey("..").isEmpty)
        let generated = Names.generate("web-")
        #expect(generated.hasPrefix("web-") && generated.count == 9)
    }
}

@Suite struct PatchTests {
    static func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func mergePatch() throws {
        let result = Patches.mergePatch(try Self.json(#"{"a":{"b":1,"c":2},"d":[1]}"#), try Self.json(#"{"a":{"b":null,"e":3},"d":[2]}"#))
        #expect(result == (try Self.json(#"{"a":{"c":2,"e":3},"d":[2]}"#)))
    }

    @Test func strategicMergePatchDropsDirectives() throws {
        let result = try StrategicMerge.apply(kind: "ConfigMap", try Self.json(#"{"data":{"a":"1"}}"#),
                                              try Self.json(#"{"$setElementOrder/x":[],"data":{"b":"2"}}"#))
        #expect(result == (try Self.json(#"{"data":{"a":"1","b":"2"}}"#)))
    }

    /// Containers merge by name, their env by name and ports by containerPort; `$patch: delete`
    /// removes an item, `$setElementOrder` orders the list, `$retainKeys` drops a volume's old source.
    @Test func strategicMergeByKeys() throws {
        let pod = try Self.json(#"""
            {"metadata":{"finalizers":["a","b"]},"spec":{"containers":[
              {"name":"web","image":"x","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"ports":[{"containerPort":80}]},
              {"name":"side","image":"y"}],
             "volumes":[{"name":"v","emptyDir":{}}],"tolerations":[{"key":"t"}]}}
            """#)
        let patch = try Self.json(#"""
            {"metadata":{"$deleteFromPrimitiveList/finalizers":["a"],"finalizers":["c"]},
             "spec":{"$setElementOrder/containers":[{"name":"side"},{"name":"web"}],
              "containers":[{"name":"web","env":[{"name":"B","$patch":"delete"},{"name":"C","value":"3"}],"ports":[{"containerPort":81}]},
                            {"name":"gone","$patch":"delete"}],
              "volumes":[{"name":"v","$retainKeys":["name","configMap"],"configMap":{"name":"cm"}}],
              "tolerations":[{"key":"u"}]}}
            """#)
        let result = try StrategicMerge.apply(kind: "Pod", pod, patch)
        let expected = try Self.json(#"""
            {"metadata":{"finalizers":["b","c"]},"spec":{"containers":[
              {"name":"side","image":"y"},
              {"name":"web","image":"x","env":[{"name":"A","value":"1"},{"name":"C","value":"3"}],"ports":[{"containerPort":80},{"containerPort":81}]}],
             "volumes":[{"name":"v","configMap":{"name":"cm"}}],"tolerations":[{"key":"u"}]}}
            """#)
        #expect(result == expected, "\(String(decoding: result.serialized, as: UTF8.self))")
        // `$patch: replace` in a list makes the patch's items the list.
        let replaced = try StrategicMerge.apply(kind: "Pod", pod, try Self.json(#"{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"z"}]}}"#))
        #expect(replaced[member: "spec"]?[member: "containers"] == (try Self.json(#"[{"name":"only","image":"z"}]"#)))
        #expect(throws: KubeStatus.self) { try StrategicMerge.apply(kind: "Pod", pod, try Self.json(#"{"spec":{"containers":[{"image":"z"}]}}"#)) }
    }

    @Test func jsonPatch() throws {
        let document = try Self.json(#"{"a":[1,2],"b":{"c":"x"},"k/e~y":1}"#)
        let patch = try Self.json(#"""
            [{"op":"add","path":"/a/1","value":9},{"op":"replace","path":"/b/c","value":"y"},{"op":"move","from":"/b","path":"/m"},
             {"op":"copy","from":"/a/0","path":"/n"},{"op":"remove","path":"/k~1e~0y"},{"op":"test","path":"/n","value":1}]
            """#)
        #expect(try Patches.jsonPatch(document, patch) == (try Self.json(#"{"a":[1,9,2],"m":{"c":"y"},"n":1}"#)))
        #expect(throws: KubeStatus.self) { try Patches.jsonPatch(document, try Self.json(#"[{"op":"remove","path":"/zz"}]"#)) }
        #expect(throws: KubeStatus.self) { try Patches.jsonPatch(document, try Self.json(#"[{"op":"test","path":"/a/0","value":2}]"#)) }
    }
}

@Suite struct TableTests {
    @Test(arguments: [(0, "0s"), (119, "119s"), (125, "2m5s"), (600, "10m"), (3 * 3600 + 60, "3h1m"), (9 * 3600, "9h"),
                      (50 * 3600, "2d2h"), (400 * 86400, "400d"), (3 * 365 * 86400 + 86400, "3y1d"), (10 * 365 * 86400, "10y")])
    func ages(seconds: Int, text: String) {
        #expect(Tables.humanDuration(Int64(seconds)) == text)
    }

    @Test func timestamps() {
        #expect(Tables.parseTimestamp("1970-01-01T00:01:00Z") == 60)
        #expect(Tables.parseTimestamp("1970-01-01T01:00:00.5+01:00") == 0)
        #expect(Tables.parseTimestamp("garbage") == nil)
    }
}

@Suite struct ObjectDecodingTests {
    static func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func secretsGetDataFromStringDataAndAType() throws {
        let (secret, warnings) = try Objects.decode(KubeKinds.secret, try Self.json(#"{"metadata":{"name":"s"},"stringData":{"k":"v"},"extra":1}"#),
                                                    validation: .warn)
        #expect(warnings == [#"unknown field "extra""#])
        #expect(secret[member: "data"]?[member: "k"] == .string("dg=="))
        #expect(secret[member: "stringData"] == nil)
        #expect(secret[member: "type"] == .string("Opaque"))
        #expect(secret[member: "extra"] == nil)
        #expect(throws: KubeStatus.self) {
            try Objects.decode(KubeKinds.secret, try Self.json(#"{"metadata":{"name":"s"},"data":{"k":"!!"}}"#), validation: .strict)
        }
        #expect(throws: KubeStatus.self) {
            try Objects.decode(KubeKinds.configMap, try Self.json(#"{"metadata":{"name":"c"},"data":{"k":1}}"#), validation: .strict)
        }
    }

    @Test func protobufConfigMap() throws {
        // k8s\0, Unknown{typeMeta{v1, ConfigMap}, raw: ConfigMap{metadata{name "c"}, data{"a": "b"}}}
        let raw: [UInt8] = [0x0a, 0x03, 0x0a, 0x01, 0x63, 0x12, 0x06, 0x0a, 0x01, 0x61, 0x12, 0x01, 0x62]
        let typeMeta: [UInt8] = [0x0a, 0x02] + Array("v1".utf8) + [0x12, 0x09] + Array("ConfigMap".utf8)
        let body: [UInt8] = [0x6b, 0x38, 0x73, 0x00, 0x0a, UInt8(typeMeta.count)] + typeMeta + [0x12, UInt8(raw.count)] + raw
        let object = try KubeProtobuf.decode(body)
        #expect(object == (try Self.json(#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c"},"data":{"a":"b"}}"#)))
        #expect(throws: KubeStatus.self) { try KubeProtobuf.decode([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x05, 0x01]) }
    }
}

@Suite struct ManagedFieldsTests {
    static func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    /// Leaves as FieldsV1 spells them: members, keyed items with ".", set members; status apart.
    @Test func fieldSets() throws {
        let pod = try Self.json(#"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"1"},"finalizers":["x"]},
             "spec":{"containers":[{"name":"web","image":"i","ports":[{"containerPort":80}]}]},"status":{"phase":"Running"}}
            """#)
        let fields = ManagedFields.fields(KubeKinds.pod, pod)
        #expect(fields == [
            ["f:metadata", "f:labels", "f:a"], ["f:metadata", "f:finalizers", #"v:"x""#],
            ["f:spec", "f:containers", #"k:{"name":"web"}"#, "."], ["f:spec", "f:containers", #"k:{"name":"web"}"#, "f:name"],
            ["f:spec", "f:containers", #"k:{"name":"web"}"#, "f:image"],
            ["f:spec", "f:containers", #"k:{"name":"web"}"#, "f:ports", #"k:{"containerPort":80}"#, "."],
            ["f:spec", "f:containers", #"k:{"name":"web"}"#, "f:ports", #"k:{"containerPort":80}"#, "f:containerPort"],
        ])
        #expect(ManagedFields.fields(KubeKinds.pod, pod, subresource: "status") == [["f:metadata", "f:labels", "f:a"], ["f:metadata", "f:finalizers", #"v:"x""#], ["f:status", "f:phase"]])
        #expect(ManagedFields.text(["f:spec", "f:containers", #"k:{"name":"web"}"#, "f:image"]) == #".spec.containers[name="web"].image"#)
        let rendered = ManagedFields.fieldsV1([["f:data", "f:b"], ["f:data", "f:a"], ["f:spec", "k:{\"name\":\"x\"}", "."]])
        #expect(String(decoding: rendered.serialized, as: UTF8.self) == #"{"f:data":{"f:a":{},"f:b":{}},"f:spec":{"k:{\"name\":\"x\"}":{".":{}}}}"#)
    }

    /// An update takes what it changed from the others; apply conflicts on another's different value.
    @Test func updateThenApply() throws {
        let kind = KubeKinds.configMap
        let created = ManagedFields.recordUpdate(kind, old: nil, new: try Self.json(#"{"metadata":{"name":"c"},"data":{"a":"1","b":"2"}}"#), manager: "one", time: "t")
        let changed = ManagedFields.recordUpdate(kind, old: created, new: created.setting("data", to: try Self.json(#"{"a":"9","b":"2"}"#)), manager: "two", time: "t")
        let entries = ManagedFields.entries(changed)
        #expect(entries.map(\.manager) == ["one", "two"])
        #expect(entries[0].fields == [["f:data", "f:b"]] && entries[1].fields == [["f:data", "f:a"]])
        #expect(throws: KubeStatus.self) {
            try ManagedFields.apply(kind, live: changed, config: try Self.json(#"{"data":{"a":"1"}}"#), manager: "three", force: false)
        }
        let forced = try ManagedFields.apply(kind, live: changed, config: try Self.json(#"{"data":{"a":"1"}}"#), manager: "three", force: true, time: "t")
        #expect(forced[member: "data"] == (try Self.json(#"{"a":"1","b":"2"}"#)))
        #expect(ManagedFields.entries(forced).map(\.manager) == ["one", "three"])
    }
}
