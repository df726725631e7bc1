import GoCompat

extension JSONValue {
    /// The member `key` of an object; nil for a missing member or a value that is not an object.
    public subscript(member key: String) -> JSONValue? {
        if case .object(let members, _) = self { return members[key] }
        return nil
    }

    /// The object with member `key` set (appended after the others when new) or, for nil, removed.
    /// A value that is not an object becomes one.
    public func setting(_ key: String, to value: JSONValue?) -> JSONValue {
        var (members, keys): ([String: JSONValue], [String]) = ([:], [])
        if case .object(let m, let k) = self { (members, keys) = (m, k) }
        if let value {
            if members.updateValue(value, forKey: key) == nil { keys.append(key) }
        } else if members.removeValue(forKey: key) != nil {
            keys.removeAll { $0 == key }
        }
        return .object(members, keys: keys)
    }

    /// `setting` on the object at `metadata`, made when missing.
    public func settingMetadata(_ key: String, to value: JSONValue?) -> JSONValue {
        setting("metadata", to: (self[member: "metadata"] ?? .object([:], keys: [])).setting(key, to: value))
    }

    /// A member of `metadata` that is a string; nil when missing, empty or not a string.
    public func metadataString(_ key: String) -> String? {
        guard let text = self[member: "metadata"]?[member: key]?.stringValue, !text.isEmpty else { return nil }
        return text
    }

    /// The elements of an array; nil for anything else.
    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// A number that is a whole Int (`8080`, not `8080.5`); nil for anything else.
    public var intValue: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }
}
