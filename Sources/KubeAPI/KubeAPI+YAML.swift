import GoCompat
import KubeModel
import Yams

/// YAML request bodies (`application/yaml` on create and update, and server-side apply's
/// `application/apply-patch+yaml` when its text is YAML rather than JSON), read into the JSON the
/// API works on, as the apiserver's YAML-to-JSON conversion does: plain scalars resolve to null,
/// booleans, integers and floats; quoted ones stay strings; keys become strings. Errors name
/// the line and column.
enum KubeYAML {
    /// The most values a body of `size` bytes may hold: every value written out takes at least a
    /// byte, so more can only come from aliases, which can make a small text huge ("billion laughs").
    static func valueLimit(_ size: Int) -> Int { max(size, 1024) }

    static func parse(_ bytes: [UInt8]) throws(KubeStatus) -> JSONValue {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .badRequest("error converting YAML to JSON: the body is not UTF-8") }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw .badRequest("error converting YAML to JSON: " + describe(error))
        } catch {
            throw .badRequest("error converting YAML to JSON: \(error)")
        }
        guard let node else { throw .badRequest("error converting YAML to JSON: the body holds no YAML document") }
        var count = 0
        return try json(node, &count, limit: valueLimit(bytes.count))
    }

    /// `yaml: line L, column C: problem`, Yams' marks being 1-based as editors count.
    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            return "yaml: line \(mark.line), column \(mark.column): \(problem)" + (context.map { " (\($0.text))" } ?? "")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // (Its own description quotes the whole document: a Secret's too.)
            let keys = duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            return "yaml: line \(context.mark.line), column \(context.mark.column): mapping key \(keys) already defined in this mapping"
        case .reader(let problem, let offset, _, _): return "yaml: at byte \(offset.map(String.init) ?? "?"): \(problem)"
        default: return "yaml: the document cannot be read"
        }
    }

    static func position(_ mark: Mark?) -> String {
        guard let mark else { return "" }
        return "line \(mark.line), column \(mark.column): "
    }

    static func json(_ node: Node, _ count: inout Int, limit: Int) throws(KubeStatus) -> JSONValue {
        count += 1
        guard count <= limit else {
            throw .badRequest("error converting YAML to JSON: yaml: \(position(node.mark))the document expands to more than \(limit) values (aliases)")
        }
        switch node {
        case .scalar(let scalar): return try value(scalar)
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for item in sequence { items.append(try json(item, &count, limit: limit)) }
            return .array(items)
        case .mapping(let mapping):
            var members: [(String, JSONValue)] = []
            var seen: Set<String> = []
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else {
                    throw .badRequest("error converting YAML to JSON: yaml: \(position(key.mark))a mapping key must be a scalar")
                }
                let name: String
                switch try self.value(scalar) {
                case .string(let text): name = text
                case .number(let text): name = text
                case .bool(let flag): name = flag ? "true" : "false"
                case .null: name = "null"
                default: name = scalar.string
                }
                guard seen.insert(name).inserted else {
                    throw .badRequest("error converting YAML to JSON: yaml: \(position(key.mark))mapping key \"\(name)\" already defined")
                }
                members.append((name, try json(value, &count, limit: limit)))
            }
            return .ordered(members)
        case .alias:
            throw .badRequest("error converting YAML to JSON: yaml: \(position(node.mark))an alias to an unknown anchor")
        }
    }

    /// A scalar as YAML 1.1's resolver reads it (the apiserver's go-yaml): quoted text is a string.
    static func value(_ scalar: Node.Scalar) throws(KubeStatus) -> JSONValue {
        guard scalar.style == .plain || scalar.style == .any else { return .string(scalar.string) }
        let text = scalar.string
        switch Resolver.default.resolveTag(of: Node.scalar(scalar)) {
        case .null: return .null
        case .bool: return Bool.construct(from: scalar).map(JSONValue.bool) ?? .string(text)
        case .int:
            if let number = Int.construct(from: scalar) { return .number(String(number)) }
            return .string(text)
        case .float:
            guard let number = Double.construct(from: scalar), number.isFinite else {
                throw .badRequest("error converting YAML to JSON: yaml: \(position(scalar.mark))\(text) is not a number JSON can hold")
            }
            return .number(number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number))
        default: return .string(text)
        }
    }
}
