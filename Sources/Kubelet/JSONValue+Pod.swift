import GoCompat
import Kube

/// Reading a Pod's JSON (named so they cannot clash with readers other targets may add).
extension JSONValue {
    var podArray: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }

    var podInt: Int? {
        if case .number(let text) = self { return Int(text) ?? Double(text).map { Int($0) } }
        return nil
    }

    var podBool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The string at a path of members (`value.podString("spec", "nodeName")`); nil when missing or empty.
    func podString(_ path: String...) -> String? {
        var value: JSONValue? = self
        for key in path { value = value?[member: key] }
        guard let text = value?.stringValue, !text.isEmpty else { return nil }
        return text
    }

    /// Members as (key, value) in their kept order.
    var podMembers: [(String, JSONValue)] {
        if case .object(let members, let keys) = self { return keys.compactMap { key in members[key].map { (key, $0) } } }
        return []
    }
}
