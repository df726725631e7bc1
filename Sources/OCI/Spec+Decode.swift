extension Spec {
    /// Decodes config.json bytes; a type error or a missing field is reported with its JSON path.
    public static func decode(_ bytes: [UInt8]) throws(SpecError) -> Spec {
        do {
            return try JSONTreeDecoder.decode(Spec.self, from: bytes)
        } catch let error as DecodingError {
            throw SpecError(decoding: error)
        } catch {
            throw SpecError(path: "", reason: "cannot parse JSON: \(error)")
        }
    }

    /// Encodes with sorted keys and indentation, as `spec` writes config.json.
    public func encoded() -> [UInt8] {
        encodePretty(self)
    }
}

/// Indented JSON for files people read (config.json, state, features).
public func encodePretty<T: Encodable>(_ value: T) -> [UInt8] {
    (try? JSONTreeEncoder.encode(value, indent: 2)) ?? Array("{}".utf8)
}

/// Compact JSON for machines (state files, hooks' stdin, `list --format json`).
public func encodeCompact<T: Encodable>(_ value: T) -> [UInt8] {
    (try? JSONTreeEncoder.encode(value)) ?? Array("{}".utf8)
}

public func decodeJSON<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws(SpecError) -> T {
    do {
        return try JSONTreeDecoder.decode(T.self, from: bytes)
    } catch let error as DecodingError {
        throw SpecError(decoding: error)
    } catch {
        throw SpecError(path: "", reason: "cannot parse JSON: \(error)")
    }
}

extension SpecError {
    init(decoding error: DecodingError) {
        func render(_ path: [any CodingKey]) -> String {
            var out = ""
            for key in path {
                if let index = key.intValue {
                    out += "[\(index)]"
                } else {
                    out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return out
        }
        switch error {
        case .typeMismatch(let type, let context):
            self.init(path: render(context.codingPath), reason: "expected \(Self.jsonKind(type))")
        case .valueNotFound(let type, let context):
            self.init(path: render(context.codingPath), reason: "expected \(Self.jsonKind(type)), found null")
        case .keyNotFound(let key, let context):
            self.init(path: render(context.codingPath + [key]), reason: "required field is missing")
        case .dataCorrupted(let context):
            let path = render(context.codingPath)
            if path.isEmpty {
                self.init(path: "", reason: "not valid JSON: \(context.debugDescription)")
            } else {
                self.init(path: path, reason: "invalid value: \(context.debugDescription)")
            }
        @unknown default:
            self.init(path: "", reason: "\(error)")
        }
    }

    private static func jsonKind(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int32.Type, is Int64.Type: return "an integer"
        case is UInt.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type: return "a non-negative integer"
        case is Double.Type: return "a number"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object (\(name))"
        }
    }
}
