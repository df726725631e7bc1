import GoCompat

/// A label selector as `?labelSelector=` spells it: requirements joined by commas, all of which
/// must hold: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`.
public struct LabelSelector: Sendable, Equatable {
    public enum Operator: Sendable, Equatable { case equals, notEquals, `in`, notIn, exists, doesNotExist, greaterThan, lessThan }

    public struct Requirement: Sendable, Equatable {
        public let key: String
        public let op: Operator
        public let values: [String]

        func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .equals, .in: return value.map(values.contains) ?? false
            case .notEquals, .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .greaterThan, .lessThan:
                guard let value, let number = Int64(value), let bound = values.first.flatMap(Int64.init) else { return false }
                return op == .greaterThan ? number > bound : number < bound
            }
        }
    }

    public let requirements: [Requirement]

    public var isEmpty: Bool { requirements.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool { requirements.allSatisfy { $0.matches(labels) } }

    enum Token: Equatable { case identifier(String), not, equals, doubleEquals, notEquals, greaterThan, lessThan, comma, open, close, end }

    /// Parses the selector; the error is the apiserver's wording.
    public init(parsing text: String) throws(KubeStatus) {
        var tokens = try Self.tokens(text)
        var requirements: [Requirement] = []
        func fail(_ message: String) -> KubeStatus { .badRequest("unable to parse requirement: " + message) }
        func take() -> Token { tokens.isEmpty ? .end : tokens.removeFirst() }
        func peek() -> Token { tokens.first ?? .end }
        func describe(_ token: Token) -> String {
            switch token {
            case .identifier(let text): return text
            case .not: return "!"
            case .equals: return "="
            case .doubleEquals: return "=="
            case .notEquals: return "!="
            case .greaterThan: return ">"
            case .lessThan: return "<"
            case .comma: return ","
            case .open: return "("
            case .close: return ")"
            case .end: return "end of string"
            }
        }
        if peek() == .end { self.requirements = []; return }
        while true {
            var negated = false
            if peek() == .not { _ = take(); negated = true }
            guard case .identifier(let key) = take() else { throw fail("found '\(describe(tokens.first ?? .end))', expected: identifier") }
            try Self.checkKey(key)
            if negated {
                requirements.append(Requirement(key: key, op: .doesNotExist, values: []))
            } else {
                switch peek() {
                case .comma, .end:
                    requirements.append(Requirement(key: key, op: .exists, values: []))
                case .equals, .doubleEquals, .notEquals:
                    let op: Operator = take() == .notEquals ? .notEquals : .equals
                    var value = ""
                    if case .identifier(let text) = peek() { _ = take(); value = text }
                    try Self.checkValue(value)
                    requirements.append(Requirement(key: key, op: op, values: [value]))
                case .greaterThan, .lessThan:
                    let op: Operator = take() == .greaterThan ? .greaterThan : .lessThan
                    guard case .identifier(let value) = take(), Int64(value) != nil else {
                        throw fail("for 'Gt', 'Lt' operators, the value must be an integer")
                    }
                    requirements.append(Requirement(key: key, op: op, values: [value]))
                case .identifier(let word) where word == "in" || word == "notin":
                    _ = take()
                    guard take() == .open else { throw fail("found '\(describe(peek()))', expected: '('") }
                    var values: [String] = []
                    loop: while true {
                        switch take() {
                        case .identifier(let value):
                            try Self.checkValue(value)
                            values.append(value)
                            let next = take()
                            if next == .close { break loop }
                            guard next == .comma else { throw fail("found '\(describe(next))', expected: ',' or ')'") }
                        case .close: break loop
                        case let other: throw fail("found '\(describe(other))', expected: ',', ')' or identifier")
                        }
                    }
                    if values.isEmpty { throw fail("for 'in', 'notin' operators, values set can't be empty") }
                    requirements.append(Requirement(key: key, op: word == "in" ? .in : .notIn, values: values))
                case let other:
                    throw fail("found '\(describe(other))', expected: in, notin, =, ==, !=, gt, lt")
                }
            }
            let next = take()
            if next == .end { break }
            guard next == .comma else { throw fail("found '\(describe(next))', expected: ',' or 'end of string'") }
        }
        self.requirements = requirements
    }

    static func checkKey(_ key: String) throws(KubeStatus) {
        if let problem = Names.qualifiedName(key).first {
            throw .badRequest("unable to parse requirement: values[0][\(key)]: Invalid value: \(GoStrconv.quote(key)): \(problem)")
        }
    }

    static func checkValue(_ value: String) throws(KubeStatus) {
        if let problem = Names.labelValue(value).first {
            throw .badRequest("unable to parse requirement: values[0][\(value)]: Invalid value: \(GoStrconv.quote(value)): \(problem)")
        }
    }

    static func tokens(_ text: String) throws(KubeStatus) -> [Token] {
        var tokens: [Token] = []
        let bytes = Array(text.utf8)
        var i = 0
        let special: Set<UInt8> = Set("!=,()<> \t".utf8)
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"): i += 1
            case UInt8(ascii: ","): tokens.append(.comma); i += 1
            case UInt8(ascii: "("): tokens.append(.open); i += 1
            case UInt8(ascii: ")"): tokens.append(.close); i += 1
            case UInt8(ascii: ">"): tokens.append(.greaterThan); i += 1
            case UInt8(ascii: "<"): tokens.append(.lessThan); i += 1
            case UInt8(ascii: "!"):
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "=") { tokens.append(.notEquals); i += 2 } else { tokens.append(.not); i += 1 }
            case UInt8(ascii: "="):
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "=") { tokens.append(.doubleEquals); i += 2 } else { tokens.append(.equals); i += 1 }
            default:
                var end = i
                while end < bytes.count, !special.contains(bytes[end]) { end += 1 }
                tokens.append(.identifier(String(decoding: bytes[i..<end], as: UTF8.self)))
                i = end
            }
        }
        return tokens
    }
}

/// A field selector (`?fieldSelector=metadata.name=x,metadata.namespace!=y`): `=`, `==` and `!=`
/// on the fields a kind supports; `\,`, `\=` and `\\` escape inside values.
public struct FieldSelector: Sendable, Equatable {
    public struct Requirement: Sendable, Equatable {
        public let field: String
        public let equals: Bool
        public let value: String
    }

    public let requirements: [Requirement]

    public var isEmpty: Bool { requirements.isEmpty }

    public init(parsing text: String) throws(KubeStatus) {
        var requirements: [Requirement] = []
        for term in Self.split(text, on: ",") where !term.isEmpty {
            let (field, op, value): (String, String, String)
            if let range = Self.find(term, "!=") {
                (field, op, value) = (String(term[..<range.lowerBound]), "!=", String(term[range.upperBound...]))
            } else if let range = Self.find(term, "==") {
                (field, op, value) = (String(term[..<range.lowerBound]), "==", String(term[range.upperBound...]))
            } else if let range = Self.find(term, "=") {
                (field, op, value) = (String(term[..<range.lowerBound]), "=", String(term[range.upperBound...]))
            } else {
                throw .badRequest("invalid selector: '\(text)'; can't understand '\(term)'")
            }
            requirements.append(Requirement(field: field.trimmingSpaces, equals: op != "!=", value: Self.unescape(value.trimmingSpaces)))
        }
        self.requirements = requirements
    }

    /// Checks the fields against those `kind` supports (the apiserver refuses the others).
    public func check(for kind: KubeKind) throws(KubeStatus) {
        for requirement in requirements where !Self.supported(kind).contains(requirement.field) {
            throw .badRequest("field label not supported: \(requirement.field)")
        }
    }

    public func matches(_ object: JSONValue) -> Bool {
        requirements.allSatisfy { requirement in
            let value = Self.value(of: requirement.field, in: object)
            return (value == requirement.value) == requirement.equals
        }
    }

    static func supported(_ kind: KubeKind) -> Set<String> {
        var fields: Set<String> = ["metadata.name", "metadata.namespace"]
        if kind.kind == "Secret" { fields.insert("type") }
        if kind.kind == "Namespace" { fields.insert("status.phase") }
        // The apiserver's field labels for pods (a kubelet watches spec.nodeName) and events (describe's).
        if kind.kind == "Pod" { fields.formUnion(["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.phase", "status.podIP", "status.nominatedNodeName"]) }
        if kind.kind == "Event" {
            fields.formUnion(["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
                              "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"])
        }
        return fields
    }

    static func value(of field: String, in object: JSONValue) -> String {
        var current: JSONValue? = object
        for part in field.split(separator: ".") { current = current?[member: String(part)] }
        return current?.stringValue ?? ""
    }

    /// Splits at unescaped `separator`s, keeping escapes for `unescape`.
    static func split(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for character in text {
            if escaped { current.append(character); escaped = false; continue }
            if character == "\\" { current.append(character); escaped = true; continue }
            if character == separator { parts.append(current); current = ""; continue }
            current.append(character)
        }
        parts.append(current)
        return parts
    }

    /// The first unescaped occurrence of `operator` in `term`.
    static func find(_ term: String, _ op: String) -> Range<String.Index>? {
        var index = term.startIndex
        while index < term.endIndex {
            if term[index] == "\\" {
                index = term.index(after: index)
                if index < term.endIndex { index = term.index(after: index) }
                continue
            }
            if term[index...].hasPrefix(op) { return index..<term.index(index, offsetBy: op.count) }
            index = term.index(after: index)
        }
        return nil
    }

    static func unescape(_ text: String) -> String {
        var out = ""
        var escaped = false
        for character in text {
            if escaped { out.append(character); escaped = false } else if character == "\\" { escaped = true } else { out.append(character) }
        }
        return out
    }
}

extension String {
    var trimmingSpaces: String {
        var slice = Substring(self)
        while slice.first == " " { slice.removeFirst() }
        while slice.last == " " { slice.removeLast() }
        return String(slice)
    }
}
