import GoCompat

/// Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), which
/// kubectl ≥ 1.33's typed clients send (`kubectl create deployment|service|job|cronjob|ingress|
/// configmap|secret|namespace|serviceaccount`): the `k8s\0` magic, then a runtime.Unknown
/// (typeMeta 1 {apiVersion 1, kind 2}, raw 2) whose raw bytes are the object. One generic decoder
/// reads it into the JSON the API works on, driven by the schema tables in
/// `Protobuf+Schemas.swift` (k8s.io/api's generated.proto field numbers).
///
/// As the apiserver's generated unmarshallers do, fields the schema does not know are skipped; a
/// known field with the wrong wire type is a 400 naming the field's path.
public enum KubeProtobuf {
    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]

    /// One field as read off the wire.
    enum Value { case varint(UInt64), bytes(ArraySlice<UInt8>), fixed64(UInt64), fixed32(UInt32) }

    static func malformed(_ path: String) -> KubeStatus {
        .badRequest("the protobuf body is truncated or malformed" + (path.isEmpty ? "" : " at \(path)"))
    }

    static func fields(_ bytes: ArraySlice<UInt8>, path: String = "") throws(KubeStatus) -> [(Int, Value)] {
        var fields: [(Int, Value)] = []
        var index = bytes.startIndex
        func varint() throws(KubeStatus) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < bytes.endIndex, shift < 64 else { throw malformed(path) }
                let byte = bytes[index]
                index += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
        }
        func little(_ count: Int) throws(KubeStatus) -> UInt64 {
            guard bytes.endIndex - index >= count else { throw malformed(path) }
            var result: UInt64 = 0
            for offset in 0..<count { result |= UInt64(bytes[index + offset]) << (8 * UInt64(offset)) }
            index += count
            return result
        }
        while index < bytes.endIndex {
            let tag = try varint()
            let number = Int(tag >> 3)
            guard number > 0 else { throw malformed(path) }
            switch tag & 7 {
            case 0: fields.append((number, .varint(try varint())))
            case 1: fields.append((number, .fixed64(try little(8))))
            case 2:
                let length = try varint()
                guard length <= UInt64(bytes.endIndex - index) else { throw malformed(path) }
                fields.append((number, .bytes(bytes[index..<index + Int(length)])))
                index += Int(length)
            case 5: fields.append((number, .fixed32(UInt32(try little(4)))))
            default: throw .badRequest("the protobuf body has an unknown wire type \(tag & 7)" + (path.isEmpty ? "" : " at \(path)"))
            }
        }
        return fields
    }

    static func wrongType(_ path: String, _ expected: String) -> KubeStatus {
        .badRequest("the protobuf body's field \(path) is not \(expected)")
    }

    static func bytes(_ value: Value, _ path: String) throws(KubeStatus) -> ArraySlice<UInt8> {
        guard case .bytes(let bytes) = value else { throw wrongType(path, "length-delimited") }
        return bytes
    }

    static func text(_ value: Value, _ path: String) throws(KubeStatus) -> String {
        let raw = try bytes(value, path)
        guard let text = String(validating: raw, as: UTF8.self) else { throw .badRequest("the protobuf body's field \(path) is not valid UTF-8") }
        return text
    }

    static func integer(_ value: Value, _ path: String) throws(KubeStatus) -> Int64 {
        guard case .varint(let number) = value else { throw wrongType(path, "a varint") }
        return Int64(bitPattern: number)
    }

    /// A scalar's JSON value, or nil when it is the zero value that JSON's omitempty drops.
    static func scalar(_ type: Schema.Scalar, _ value: Value, keepZero: Bool, _ path: String) throws(KubeStatus) -> JSONValue? {
        switch type {
        case .string:
            let text = try text(value, path)
            return text.isEmpty && !keepZero ? nil : .string(text)
        case .int:
            let number = try integer(value, path)
            return number == 0 && !keepZero ? nil : .number(String(number))
        case .bool:
            let number = try integer(value, path)
            return number == 0 && !keepZero ? nil : .bool(number != 0)
        case .bytes: return .string(GoBase64.encode(Array(try bytes(value, path))))
        case .quantity:
            // resource.Quantity {string 1}
            var text = ""
            for (number, field) in try fields(try bytes(value, path), path: path) where number == 1 { text = try self.text(field, path) }
            return .string(text)
        case .intOrString:
            // intstr.IntOrString {type 1 (0 int, 1 string), intVal 2, strVal 3}
            var kind: Int64 = 0, int: Int64 = 0, string = ""
            for (number, field) in try fields(try bytes(value, path), path: path) {
                switch number {
                case 1: kind = try integer(field, path + ".type")
                case 2: int = try integer(field, path + ".intVal")
                case 3: string = try text(field, path + ".strVal")
                default: break
                }
            }
            return kind == 1 ? .string(string) : .number(String(Int32(truncatingIfNeeded: int)))
        case .time:
            // metav1.Time {seconds 1, nanos 2}; the zero time is an empty message, null in JSON as
            // Go writes it (a template's `creationTimestamp: null`).
            let raw = try bytes(value, path)
            if raw.isEmpty { return .null }
            var seconds: Int64 = 0
            for (number, field) in try fields(raw, path: path) where number == 1 { seconds = try integer(field, path + ".seconds") }
            return .string(rfc3339(seconds))
        }
    }

    /// A map<string, V> field's entries (each a message {key 1, value 2}) into an object.
    static func map(_ entries: [Value], _ type: Schema.Scalar, _ path: String) throws(KubeStatus) -> JSONValue {
        var members: [(String, JSONValue)] = []
        for entry in entries {
            var key = "", value: JSONValue = type == .quantity ? .string("") : .string("")
            for (number, field) in try fields(try bytes(entry, path), path: path) {
                if number == 1 { key = try text(field, path) }
                if number == 2 { value = try scalar(type, field, keepZero: true, path + "[\(key)]") ?? .null }
            }
            members.append((key, value))
        }
        return .ordered(members)
    }

    /// A message's fields by its schema, appended to `members` (an inline message's go into its parent's).
    static func message(_ raw: ArraySlice<UInt8>, _ name: String, _ path: String, into members: inout [(String, JSONValue)]) throws(KubeStatus) {
        guard let schema = Schema.messages[name] else { throw .internalError("no protobuf schema for \(name)") }
        var grouped: [Int: [Value]] = [:]
        var order: [Int] = []
        // Unknown fields are skipped, as the generated unmarshallers skip them.
        for (number, value) in try fields(raw, path: path) where schema[number] != nil {
            if grouped[number] == nil { order.append(number) }
            grouped[number, default: []].append(value)
        }
        for number in order {
            let field = schema[number]!
            let values = grouped[number]!
            let at = path.isEmpty ? field.name : path + "." + field.name
            switch field.type {
            case .scalar(let type, let keepZero):
                if let value = try scalar(type, values.last!, keepZero: keepZero, at) { members.append((field.name, value)) }
            case .scalars(let type):
                var items: [JSONValue] = []
                for value in values {
                    // Repeated integers may come packed (one length-delimited run of varints).
                    if type == .int, case .bytes(let run) = value {
                        var index = run.startIndex
                        while index < run.endIndex {
                            var result: UInt64 = 0, shift: UInt64 = 0
                            while true {
                                guard index < run.endIndex, shift < 64 else { throw malformed(at) }
                                let byte = run[index]
                                index += 1
                                result |= UInt64(byte & 0x7F) << shift
                                if byte & 0x80 == 0 { break }
                                shift += 7
                            }
                            items.append(.number(String(Int64(bitPattern: result))))
                        }
                    } else if let item = try scalar(type, value, keepZero: true, at + "[\(items.count)]") {
                        items.append(item)
                    }
                }
                members.append((field.name, .array(items)))
            case .map(let type): members.append((field.name, try map(values, type, at)))
            case .message(let inner):
                var nested: [(String, JSONValue)] = []
                try message(try bytes(values.last!, at), inner, at, into: &nested)
                members.append((field.name, .ordered(nested)))
            case .inline(let inner):
                try message(try bytes(values.last!, at), inner, path, into: &members)
            case .messages(let inner):
                var items: [JSONValue] = []
                for value in values {
                    var nested: [(String, JSONValue)] = []
                    try message(try bytes(value, at), inner, at + "[\(items.count)]", into: &nested)
                    items.append(.ordered(nested))
                }
                members.append((field.name, .array(items)))
            }
        }
    }

    /// The object in a protobuf body, as JSON (kind and apiVersion first).
    public static func decode(_ body: [UInt8]) throws(KubeStatus) -> JSONValue {
        guard body.starts(with: magic) else { throw .badRequest("the protobuf body does not start with the k8s magic") }
        var apiVersion = "", kind = ""
        var raw: ArraySlice<UInt8> = []
        for (number, value) in try fields(body[4...]) {
            if number == 1 {
                for (inner, field) in try fields(try bytes(value, "typeMeta")) {
                    if inner == 1 { apiVersion = try text(field, "typeMeta.apiVersion") }
                    if inner == 2 { kind = try text(field, "typeMeta.kind") }
                }
            }
            if number == 2 { raw = try bytes(value, "raw") }
        }
        guard let name = Schema.message(apiVersion: apiVersion, kind: kind) else {
            throw KubeStatus(code: 415, reason: "UnsupportedMediaType",
                             message: "the server cannot decode \(kind.isEmpty ? "this object" : "\(apiVersion) \(kind)") from protobuf; send JSON")
        }
        var members: [(String, JSONValue)] = [("kind", .string(kind)), ("apiVersion", .string(apiVersion))]
        try message(raw, name, "", into: &members)
        return .ordered(members)
    }
}

/// Times as metav1.Time writes them in JSON.
extension KubeProtobuf {
    /// RFC 3339 in UTC to the second, from seconds since the epoch (proleptic Gregorian, as Go's time).
    public static func rfc3339(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let yearText = String(year)
        return String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText + "-\(two(month))-\(two(day))"
            + "T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
    }
}
