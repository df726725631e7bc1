import Foundation
import OCI
import Testing

struct SpecTests {
    func decode(_ json: String) throws(SpecError) -> Spec {
        try Spec.decode(Array(json.utf8))
    }

    static let minimal = #"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"]}}"#

    @Test func defaultSpecRoundTripsAndValidates() throws {
        let spec = Spec.defaultSpec()
        let decoded = try Spec.decode(spec.encoded())
        #expect(decoded == spec)
        try decoded.validate()
        #expect(decoded.process?.args == ["sh"])
        #expect(decoded.linux?.namespaces?.map(\.type) == [.pid, .network, .ipc, .uts, .mount, .cgroup])
    }

    @Test func rootlessSpecMapsTheCallerAndDropsWhatNeedsRoot() throws {
        let spec = Spec.rootlessSpec(uid: 1000, gid: 1000)
        try spec.validate()
        #expect(spec.linux?.namespaces?.contains { $0.type == .user } == true)
        #expect(spec.linux?.namespaces?.contains { $0.type == .network } == false)
        #expect(spec.linux?.uidMappings == [IDMapping(containerID: 0, hostID: 1000, size: 1)])
        // As runc's --rootless: sysfs bound from the host (no network namespace to mount one for).
        #expect(spec.mounts?.first { $0.destination == "/sys" }?.options?.contains("rbind") == true)
        #expect(spec.linux?.resources == nil)
    }

    /// Every 1.x version is accepted, including ones newer than this build knows.
    @Test(arguments: ["1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.3.0", "1.9.0"])
    func anyOneDotXVersionIsAccepted(_ version: String) throws {
        let spec = try decode(Self.minimal.replacingOccurrences(of: "1.0.2", with: version))
        try spec.validate()
    }

    @Test func unknownFieldsAreIgnored() throws {
        let json = #"{"ociVersion":"1.0.2","future":{"x":1},"root":{"path":"rootfs","newField":true},"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"],"fancy":[1,2]}}"#
        try decode(json).validate()
    }

    /// Decoding errors carry the JSON path of the offending field.
    @Test(arguments: [
        (#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","user":{"uid":"x","gid":0},"args":["sh"]}}"#, "process.user.uid", "expected a non-negative integer"),
        (#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"linux":{"namespaces":[{"type":"pid"},{"type":"nope"}]}}"#, "linux.namespaces[1].type", "invalid value"),
        (#"{"ociVersion":"1.0.2","root":{}}"#, "root.path", "required field is missing"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"mounts":[{"destination":"/a","options":"ro"}]}"#, "mounts[0].options", "expected an array"),
        (#"{"ociVersion":1}"#, "ociVersion", "expected a string"),
    ])
    func decodingErrorsNameTheField(_ json: String, _ path: String, _ reason: String) {
        #expect {
            try decode(json)
        } throws: { error in
            guard let error = error as? SpecError else { return false }
            return error.path == path && error.reason.contains(reason)
        }
    }

    @Test func invalidJSONIsReportedAsSuch() {
        #expect(throws: SpecError.self) { try decode(#"{"ociVersion":"1.0.2","#) }
    }

    /// Validation errors carry the JSON path too.
    @Test(arguments: [
        (#"{"ociVersion":"2.0.0","root":{"path":"rootfs"}}"#, "ociVersion"),
        (#"{"ociVersion":"1.0.2","root":{"path":""}}"#, "root.path"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"process":{"cwd":"tmp","user":{"uid":0,"gid":0},"args":["sh"]}}"#, "process.cwd"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":[]}}"#, "process.args"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"],"capabilities":{"bounding":["CAP_NOPE"]}}}"#, "process.capabilities.bounding[0]"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"],"rlimits":[{"type":"RLIMIT_BOGUS","hard":1,"soft":1}]}}"#, "process.rlimits[0].type"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"],"rlimits":[{"type":"RLIMIT_NOFILE","hard":1,"soft":2}]}}"#, "process.rlimits[0]"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"namespaces":[{"type":"pid"},{"type":"pid"}]}}"#, "linux.namespaces[1].type"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"namespaces":[{"type":"net","path":"x"}]}}"#, "linux.namespaces[0].type"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"namespaces":[{"type":"network","path":"relative"}]}}"#, "linux.namespaces[0].path"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"hostname":"h","linux":{"namespaces":[{"type":"mount"}]}}"#, "hostname"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"namespaces":[{"type":"mount"}],"sysctl":{"kernel.panic":"1"}}}"#, "linux.sysctl.kernel.panic"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"namespaces":[{"type":"mount"}],"sysctl":{"net.ipv4.ip_forward":"1"}}}"#, "linux.sysctl.net.ipv4.ip_forward"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"devices":[{"type":"x","path":"/dev/x"}]}}"#, "linux.devices[0].type"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"devices":[{"type":"c","path":"/dev/x"}]}}"#, "linux.devices[0]"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"resources":{"devices":[{"allow":true,"access":"rwx"}]}}}"#, "linux.resources.devices[0].access"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"rootfsPropagation":"sideways"}}"#, "linux.rootfsPropagation"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"namespaces":[{"type":"user"}],"uidMappings":[{"containerID":0,"hostID":1,"size":1}]}}"#, "linux.gidMappings"),
        (#"{"ociVersion":"1.0.2","root":{"path":"r"},"hooks":{"poststop":[{"path":"relative"}]}}"#, "hooks.poststop[0].path"),
    ])
    func validationErrorsNameTheField(_ json: String, _ path: String) throws {
        let spec: Spec
        do {
            spec = try decode(json)
        } catch {
            #expect(error.path == path, "decode: \(error)")
            return
        }
        #expect {
            try spec.validate()
        } throws: { error in
            (error as? SpecError)?.path == path
        }
    }

    @Test func sysctlNamespaces() {
        #expect(Linux.namespaceOwning(sysctl: "net.core.somaxconn") == .network)
        #expect(Linux.namespaceOwning(sysctl: "kernel.shmmax") == .ipc)
        #expect(Linux.namespaceOwning(sysctl: "fs.mqueue.msg_max") == .ipc)
        #expect(Linux.namespaceOwning(sysctl: "kernel.hostname") == .uts)
        #expect(Linux.namespaceOwning(sysctl: "vm.swappiness") == nil)
    }

    @Test func capabilityNamesMapToKernelNumbers() {
        #expect(Capability.number("CAP_CHOWN") == 0)
        #expect(Capability.number("CAP_SYS_ADMIN") == 21)
        #expect(Capability.number("cap_net_raw") == 13)
        #expect(Capability.number("NET_BIND_SERVICE") == 10)
        #expect(Capability.number("CAP_CHECKPOINT_RESTORE") == 40)
        #expect(Capability.number("CAP_FLY") == nil)
    }

    @Test func stateEncodesTheSpecFields() throws {
        let state = State(id: "x", status: .running, pid: 42, bundle: "/b", rootfs: "/b/rootfs", created: "t")
        let object = try JSONSerialization.jsonObject(with: Data(encodeCompact(state))) as? [String: Any]
        #expect(object?["status"] as? String == "running")
        #expect(object?["pid"] as? Int == 42)
        #expect(object?["ociVersion"] as? String == Spec.currentVersion)
    }
}

/// The tree decoder must read what Foundation's JSONDecoder reads, the same way.
struct JSONTreeDecoderTests {
    @Test func decodesTheDefaultSpecLikeFoundation() throws {
        var spec = Spec.defaultSpec()
        spec.annotations = ["a": "b \"quoted\" \\ \u{00e9} \u{1F600}", "empty": ""]
        spec.linux?.sysctl = ["net.ipv4.ip_forward": "1"]
        spec.process?.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: UInt64.max, soft: 0)]
        let bytes = spec.encoded()
        let ours = try JSONTreeDecoder.decode(Spec.self, from: bytes)
        let foundation = try JSONDecoder().decode(Spec.self, from: Data(bytes))
        #expect(ours == foundation)
        #expect(ours == spec)
    }

    @Test(arguments: [
        (#"{"a":"\u00e9\ud83d\ude00\n\t\/"}"#, "\u{00e9}\u{1F600}\n\t/"),
        (#"{"a":"plain"}"#, "plain"),
    ])
    func decodesEscapes(_ json: String, _ expected: String) throws {
        let value = try JSONTreeDecoder.decode([String: String].self, from: Array(json.utf8))
        #expect(value["a"] == expected)
    }

    @Test(arguments: [#"{"a":1,}"#, #"{"a":tru}"#, #"[1,2"#, #"{"a":"x"} extra"#, #"{"a":"\q"}"#, "", #"{"a":01x}"#])
    func rejectsMalformedJSON(_ json: String) {
        #expect(throws: DecodingError.self) { try JSONTreeDecoder.decode([String: Int].self, from: Array(json.utf8)) }
    }

    @Test func integersAreCheckedForRangeAndNullIsAbsent() throws {
        #expect(throws: DecodingError.self) { try JSONTreeDecoder.decode([String: UInt8].self, from: Array(#"{"a":256}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONTreeDecoder.decode([String: UInt32].self, from: Array(#"{"a":-1}"#.utf8)) }
        #expect(try JSONTreeDecoder.decode([String: Int64].self, from: Array(#"{"a":-9223372036854775808}"#.utf8))["a"] == Int64.min)
        let root = try JSONTreeDecoder.decode(Root.self, from: Array(#"{"path":"r","readonly":null}"#.utf8))
        #expect(root.readonly == nil)
    }
}

/// The tree encoder writes what Foundation's encoder reads back to the same value.
struct JSONTreeEncoderTests {
    @Test func roundTripsThroughFoundation() throws {
        var spec = Spec.defaultSpec()
        spec.annotations = ["k/with/slash": "tab\there \"q\" \u{01} é"]
        spec.process?.rlimits = [Rlimit(type: "RLIMIT_NOFILE", hard: UInt64.max, soft: 0)]
        for indent in [nil, 2] as [Int?] {
            let bytes = try JSONTreeEncoder.encode(spec, indent: indent)
            #expect(try JSONDecoder().decode(Spec.self, from: Data(bytes)) == spec)
            #expect(try JSONTreeDecoder.decode(Spec.self, from: bytes) == spec)
        }
        let compact = String(decoding: try JSONTreeEncoder.encode(["b": 1, "a": 2]), as: UTF8.self)
        #expect(compact == #"{"a":2,"b":1}"#)
        #expect(jsonQuoted("a/b\n\u{1f}") == #""a/b\n\u001f""#)
    }
}
