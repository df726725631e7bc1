import GoCompat
import Kube

/// The PATCH bodies: JSON merge patch (RFC 7386) and JSON patch (RFC 6902); strategic merge
/// patch is StrategicMerge.
public enum Patches {
    /// RFC 7386: objects merge member by member, `null` removes, anything else replaces.
    public static func mergePatch(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let members, let keys) = patch else { return patch }
        var result: JSONValue = if case .object = target { target } else { .object([:], keys: []) }
        for key in keys {
            guard let value = members[key] else { continue }
            if case .null = value {
                result = result.setting(key, to: nil)
            } else {
                result = result.setting(key, to: mergePatch(result[member: key] ?? .null, value))
            }
        }
        return result
    }

    /// The value without `$`-directive members (a patch's values as they are stored).
    static func strippingDirectives(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members, let keys):
            return .ordered(keys.filter { !$0.hasPrefix("$") }.compactMap { key in members[key].map { (key, strippingDirectives($0)) } })
        case .array(let items): return .array(items.map(strippingDirectives))
        default: return value
        }
    }

    /// RFC 6902, with the apiserver's (evanphx/json-patch) messages for what fails.
    public static func jsonPatch(_ target: JSONValue, _ patch: JSONValue) throws(KubeStatus) -> JSONValue {
        guard case .array(let operations) = patch else {
            throw .badRequest("json: cannot unmarshal \(patch.kind == "an object" ? "object" : "value") into Go value of type jsonpatch.Patch")
        }
        var document = target
        for operation in operations {
            guard let op = operation[member: "op"]?.stringValue else { throw .internalError("Unexpected kind: unknown") }
            guard let path = operation[member: "path"]?.stringValue else { throw .internalError("\(op) operation missing path") }
            let pointer = try Self.pointer(path)
            switch op {
            case "add":
                guard let value = operation[member: "value"] else { throw .internalError("add operation missing value") }
                document = try add(document, pointer, value, path: path)
            case "remove":
                document = try remove(document, pointer, path: path).0
            case "replace":
                guard let value = operation[member: "value"] else { throw .internalError("replace operation missing value") }
                _ = try get(document, pointer, path: path)
                document = try set(document, pointer, value, path: path)
            case "move":
                guard let from = operation[member: "from"]?.stringValue else { throw .internalError("move operation missing from") }
                let (removed, value) = try remove(document, try Self.pointer(from), path: from)
                document = try add(removed, pointer, value, path: path)
            case "copy":
                guard let from = operation[member: "from"]?.stringValue else { throw .internalError("copy operation missing from") }
                document = try add(document, pointer, try get(document, try Self.pointer(from), path: from), path: path)
            case "test":
                let expected = operation[member: "value"] ?? .null
                if try get(document, pointer, path: path) != expected {
                    throw .internalError("testing value \(path) failed: test failed")
                }
            default:
                throw .internalError("Unexpected kind: \(op)")
            }
        }
        return document
    }

    static func pointer(_ path: String) throws(KubeStatus) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw .internalError("JSON pointer must be empty or start with a \"/\": \(path)") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).replacing("~1", with: "/").replacing("~0", with: "~")
        }
    }

    static func missing(_ path: String) -> KubeStatus {
        .internalError("doc is missing path: \"\(path)\": missing value")
    }

    static func get(_ document: JSONValue, _ pointer: [String], path: String) throws(KubeStatus) -> JSONValue {
        var current = document
        for token in pointer {
            switch current {
            case .object(let members, _):
                guard let next = members[token] else { throw missing(path) }
                current = next
            case .array(let items):
                guard let index = Int(token), items.indices.contains(index) else { throw missing(path) }
                current = items[index]
            default: throw missing(path)
            }
        }
        return current
    }

    /// Replaces the value at `pointer` (which must exist, or be a new member of an existing object).
    static func set(_ document: JSONValue, _ pointer: [String], _ value: JSONValue, path: String) throws(KubeStatus) -> JSONValue {
        guard let token = pointer.first else { return value }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(let members, _):
            if rest.isEmpty { return document.setting(token, to: value) }
            guard let child = members[token] else { throw missing(path) }
            return document.setting(token, to: try set(child, rest, value, path: path))
        case .array(var items):
            guard let index = Int(token), items.indices.contains(index) else { throw missing(path) }
            items[index] = rest.isEmpty ? value : try set(items[index], rest, value, path: path)
            return .array(items)
        default: throw missing(path)
        }
    }

    static func add(_ document: JSONValue, _ pointer: [String], _ value: JSONValue, path: String) throws(KubeStatus) -> JSONValue {
        guard let token = pointer.first else { return value }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(let members, _):
            if rest.isEmpty { return document.setting(token, to: value) }
            guard let child = members[token] else { throw missing(path) }
            return document.setting(token, to: try add(child, rest, value, path: path))
        case .array(var items):
            if rest.isEmpty {
                if token == "-" { items.append(value); return .array(items) }
                guard let index = Int(token), index >= 0, index <= items.count else {
                    throw .internalError("add operation does not apply: doc is missing path: \"\(path)\": missing value")
                }
                items.insert(value, at: index)
                return .array(items)
            }
            guard let index = Int(token), items.indices.contains(index) else { throw missing(path) }
            items[index] = try add(items[index], rest, value, path: path)
            return .array(items)
        default: throw missing(path)
        }
    }

    static func remove(_ document: JSONValue, _ pointer: [String], path: String) throws(KubeStatus) -> (JSONValue, JSONValue) {
        guard let token = pointer.first else { throw missing(path) }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(let members, _):
            guard let child = members[token] else { throw missing(path) }
            if rest.isEmpty { return (document.setting(token, to: nil), child) }
            let (changed, removed) = try remove(child, rest, path: path)
            return (document.setting(token, to: changed), removed)
        case .array(var items):
            guard let index = Int(token), items.indices.contains(index) else { throw missing(path) }
            if rest.isEmpty {
                let removed = items.remove(at: index)
                return (.array(items), removed)
            }
            let (changed, removed) = try remove(items[index], rest, path: path)
            items[index] = changed
            return (.array(items), removed)
        default: throw missing(path)
        }
    }
}
