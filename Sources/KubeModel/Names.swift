/// Kubernetes' name rules (apimachinery's validation): what each message says is what the
/// apiserver says, so kubectl prints the same error.
public enum Names {
    static func isAlphanumeric(_ c: UInt8, upper: Bool) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
            || (upper && c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
    }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
    static func isLabelShape(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first, upper: false), isAlphanumeric(last, upper: false) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0, upper: false) || $0 == UInt8(ascii: "-") }
    }

    static let dns1123LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        + "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
        + "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1123SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
        + "and must start and end with an alphanumeric character (e.g. 'example.com', "
        + "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

    /// Problems with `name` as a DNS-1123 label (a Namespace's name); empty when it is one.
    public static func dns1123Label(_ name: String) -> [String] {
        var problems: [String] = []
        if name.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        if !isLabelShape(Array(name.utf8)[...]) { problems.append(dns1123LabelMessage) }
        return problems
    }

    /// Problems with `name` as a DNS-1123 subdomain (most objects' names).
    public static func dns1123Subdomain(_ name: String) -> [String] {
        var problems: [String] = []
        if name.utf8.count > 253 { problems.append("must be no more than 253 characters") }
        let parts = Array(name.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if name.isEmpty || !parts.allSatisfy(isLabelShape) { problems.append(dns1123SubdomainMessage) }
        return problems
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, up to 63: a label key's name part and a label value.
    static func isQualifiedShape(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first, upper: true), isAlphanumeric(last, upper: true) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0, upper: true) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    static let qualifiedNameMessage = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
    static let qualifiedRegex = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"

    /// Problems with a label or annotation key: `[prefix/]name`, the prefix a DNS subdomain.
    public static func qualifiedName(_ key: String) -> [String] {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        var problems: [String] = []
        let name: Substring
        switch parts.count {
        case 1: name = parts[0]
        case 2:
            name = parts[1]
            if parts[0].isEmpty {
                problems.append("prefix part must be non-empty")
            } else {
                problems += dns1123Subdomain(String(parts[0])).map { "prefix part " + $0 }
            }
        default:
            return ["a qualified name " + qualifiedNameMessage + " with an optional DNS subdomain prefix and '/' (e.g. 'MyName',  or 'my.name',  or "
                    + "'123-abc', regex used for validation is '" + qualifiedRegex + "') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty {
            problems.append("name part must be non-empty")
        } else {
            if name.utf8.count > 63 { problems.append("name part must be no more than 63 characters") }
            if !isQualifiedShape(Array(name.utf8)[...]) {
                problems.append("name part " + qualifiedNameMessage + " (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '"
                                + qualifiedRegex + "')")
            }
        }
        return problems
    }

    /// Problems with a label value: empty, or a qualified name's shape up to 63 characters.
    public static func labelValue(_ value: String) -> [String] {
        if value.isEmpty { return [] }
        var problems: [String] = []
        if value.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        if !isQualifiedShape(Array(value.utf8)[...]) {
            problems.append("a valid label must be an empty string or " + qualifiedNameMessage
                            + " (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(" + qualifiedRegex + ")?')")
        }
        return problems
    }

    /// Problems with a ConfigMap's or Secret's data key: `[-._a-zA-Z0-9]+`, up to 253, not `.` or `..`.
    public static func configKey(_ key: String) -> [String] {
        var problems: [String] = []
        if key.utf8.count > 253 { problems.append("must be no more than 253 characters") }
        let ok = !key.isEmpty && key.utf8.allSatisfy {
            isAlphanumeric($0, upper: true) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
        if !ok {
            problems.append("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
                            + "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
        }
        if key == "." { problems.append("must not be '.'") }
        if key == ".." { problems.append("must not be '..'") }
        if key.hasPrefix("..") && key != ".." { problems.append("must not start with '..'") }
        return problems
    }

    /// A `generateName` made whole: the prefix and five random characters from the apiserver's
    /// alphabet (no vowels, no look-alikes).
    public static func generate(_ prefix: String) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        let base = prefix.utf8.count > 58 ? String(prefix.prefix(58)) : prefix
        return base + String((0..<5).map { _ in alphabet.randomElement()! })
    }
}
