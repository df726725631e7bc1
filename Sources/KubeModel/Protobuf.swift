import GoCompat

/// Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), which
/// kubectl ≥ 1.33's typed clients send (`kubectl create configmap|secret|namespace|serviceaccount`):
/// the `k8s\0` magic, then a runtime.Unknown (typeMeta 1 {apiVersion 1, kind 2}, raw 2) whose raw
/// bytes are the object, decoded here into the JSON the API works on. The field numbers are
/// k8s.io/api's generated.proto ones for the kinds served.
public enum KubeProtobuf {
    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]

    /// One field as read off the wire.
    enum Value { case varint(UInt64), bytes(ArraySlice<UInt8>), fixed }

    static func fields(_ bytes: ArraySlice<UInt8>) throws(KubeStatus) -> [(Int, Value)] {
        var fields: [(Int, Value)] = []
        var index = bytes.startIndex
        func varint() throws(KubeStatus) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < bytes.endIndex, shift < 64 else { throw .badRequest("the protobuf body is truncated or malformed") }
                let byte = bytes[index]
                index += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
        }
        while index < bytes.endIndex {
            let tag = try varint()
            let number = Int(tag >> 3)
            switch tag & 7 {
            case 0: fields.append((number, .varint(try varint())))
            case 2:
                let length = Int(try varint())
                guard length >= 0, length <= bytes.endIndex - index else { throw .badRequest("the protobuf body is truncated or malformed") }
                fields.append((number, .bytes(bytes[index..<index + length])))
                index += length
            case 1:
                guard bytes.endIndex - index >= 8 else { throw .badRequest("the protobuf body is truncated or malformed") }
                index += 8
                fields.append((number, .fixed))
            case 5:
                guard bytes.endIndex - index >= 4 else { throw .badRequest("the protobuf body is truncated or malformed") }
                index += 4
                fields.append((number, .fixed))
            default: throw .badRequest("the protobuf body has an unknown wire type \(tag & 7)")
            }
        }
        return fields
    }

    static func string(_ value: Value) -> String? {
        if case .bytes(let bytes) = value { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    /// A map<string, string|bytes> field's entries (each a message {key 1, value 2}) into an object.
    static func map(_ entries: [Value], bytesValues: Bool) throws(KubeStatus) -> JSONValue {
        var members: [(String, JSONValue)] = []
        for entry in entries {
            guard case .bytes(let bytes) = entry else { continue }
            var key = "", value: ArraySlice<UInt8> = []
            for (number, field) in try fields(bytes) {
                if number == 1, let text = string(field) { key = text }
                if number == 2, case .bytes(let raw) = field { value = raw }
            }
            members.append((key, .string(bytesValues ? GoBase64.encode(Array(value)) : String(decoding: value, as: UTF8.self))))
        }
        return .ordered(members)
    }

    /// A message's fields by a schema: number → (JSON name, how to read it).
    /// `int` drops a zero (an omitempty number), `pointerInt` keeps it (`backoffLimit: 0`); `bool`
    /// keeps false, `flag` drops it; `inline` is an embedded struct whose members are the parent's
    /// in JSON (a Volume's VolumeSource); a Quantity is its string, an IntOrString its int or string.
    enum Field: Sendable {
        case string, int, pointerInt, bool, flag, stringMap, bytesMap, strings, quantity, quantityMap, intOrString
        case message([Int: (String, Field)]), messages([Int: (String, Field)]), inline([Int: (String, Field)])
    }

    static func message(_ bytes: ArraySlice<UInt8>, _ schema: [Int: (String, Field)]) throws(KubeStatus) -> JSONValue {
        var grouped: [Int: [Value]] = [:]
        var order: [Int] = []
        for (number, value) in try fields(bytes) where schema[number] != nil {
            if grouped[number] == nil { order.append(number) }
            grouped[number, default: []].append(value)
        }
        var members: [(String, JSONValue)] = []
        for number in order {
            let (name, field) = schema[number]!
            let values = grouped[number]!
            let last = values.last!
            switch field {
            case .string:
                if let text = string(last), !text.isEmpty { members.append((name, .string(text))) }
            case .int:
                if case .varint(let number) = last, number != 0 { members.append((name, .number(String(Int64(bitPattern: number))))) }
            case .pointerInt:
                if case .varint(let number) = last { members.append((name, .number(String(Int64(bitPattern: number))))) }
            case .bool:
                if case .varint(let number) = last { members.append((name, .bool(number != 0))) }
            case .flag:
                if case .varint(let number) = last, number != 0 { members.append((name, .bool(true))) }
            case .quantity:
                if case .bytes(let raw) = last, let text = try message(raw, [1: ("string", .string)])[member: "string"] { members.append((name, text)) }
            case .quantityMap:
                var entries: [(String, JSONValue)] = []
                for value in values {
                    guard case .bytes(let entry) = value else { continue }
                    let decoded = try message(entry, [1: ("key", .string), 2: ("value", .quantity)])
                    if let key = decoded[member: "key"]?.stringValue, let quantity = decoded[member: "value"] { entries.append((key, quantity)) }
                }
                members.append((name, .ordered(entries)))
            case .intOrString:
                if case .bytes(let raw) = last {
                    let decoded = try message(raw, [1: ("type", .pointerInt), 2: ("intVal", .pointerInt), 3: ("strVal", .string)])
                    members.append((name, decoded[member: "type"]?.intValue == 1 ? decoded[member: "strVal"] ?? .string("") : decoded[member: "intVal"] ?? .int(0)))
                }
            case .inline(let inner):
                if case .bytes(let raw) = last, case .object(let inlined, let keys) = try message(raw, inner) {
                    members += keys.map { ($0, inlined[$0]!) }
                }
            case .stringMap: members.append((name, try map(values, bytesValues: false)))
            case .bytesMap: members.append((name, try map(values, bytesValues: true)))
            case .strings: members.append((name, .array(values.compactMap(string).map { .string($0) })))
            case .message(let inner):
                if case .bytes(let raw) = last { members.append((name, try message(raw, inner))) }
            case .messages(let inner):
                var items: [JSONValue] = []
                for value in values { if case .bytes(let raw) = value { items.append(try message(raw, inner)) } }
                members.append((name, .array(items)))
            }
        }
        return .ordered(members)
    }

    static let ownerReference: [Int: (String, Field)] = [
        5: ("apiVersion", .string), 1: ("kind", .string), 3: ("name", .string), 4: ("uid", .string), 6: ("controller", .bool),
        7: ("blockOwnerDeletion", .bool),
    ]
    static let objectMeta: [Int: (String, Field)] = [
        1: ("name", .string), 2: ("generateName", .string), 3: ("namespace", .string), 5: ("uid", .string),
        6: ("resourceVersion", .string), 7: ("generation", .int), 11: ("labels", .stringMap), 12: ("annotations", .stringMap),
        13: ("ownerReferences", .messages(ownerReference)), 14: ("finalizers", .strings),
    ]
    static let schemas: [String: [Int: (String, Field)]] = [
        "ConfigMap": [1: ("metadata", .message(objectMeta)), 2: ("data", .stringMap), 3: ("binaryData", .bytesMap), 4: ("immutable", .bool)],
        "Secret": [1: ("metadata", .message(objectMeta)), 2: ("data", .bytesMap), 3: ("type", .string), 4: ("stringData", .stringMap),
                   5: ("immutable", .bool)],
        "Namespace": [1: ("metadata", .message(objectMeta)), 2: ("spec", .message([1: ("finalizers", .strings)])),
                      3: ("status", .message([1: ("phase", .string)]))],
        "ServiceAccount": [
            1: ("metadata", .message(objectMeta)),
            2: ("secrets", .messages([1: ("kind", .string), 2: ("namespace", .string), 3: ("name", .string), 4: ("uid", .string),
                                      5: ("apiVersion", .string), 6: ("resourceVersion", .string), 7: ("fieldPath", .string)])),
            3: ("imagePullSecrets", .messages([1: ("name", .string)])), 4: ("automountServiceAccountToken", .bool),
        ],
    ]

    /// The object in a protobuf body, as JSON (kind and apiVersion first).
    public static func decode(_ body: [UInt8]) throws(KubeStatus) -> JSONValue {
        guard body.starts(with: magic) else { throw .badRequest("the protobuf body does not start with the k8s magic") }
        var apiVersion = "", kind = ""
        var raw: ArraySlice<UInt8> = []
        for (number, value) in try fields(body[4...]) {
            if number == 1, case .bytes(let typeMeta) = value {
                for (inner, field) in try fields(typeMeta) {
                    if inner == 1, let text = string(field) { apiVersion = text }
                    if inner == 2, let text = string(field) { kind = text }
                }
            }
            if number == 2, case .bytes(let bytes) = value { raw = bytes }
        }
        guard let schema = schemas[kind] ?? workloadSchemas[kind] else {
            throw KubeStatus(code: 415, reason: "UnsupportedMediaType", message: "the server cannot decode \(kind.isEmpty ? "this object" : kind) from protobuf; send JSON")
        }
        guard case .object(let members, let keys) = try message(raw, schema) else { return .null }
        return .ordered([("kind", .string(kind)), ("apiVersion", .string(apiVersion))] + keys.map { ($0, members[$0]!) })
    }
}
