import GoCompat
import Kube

/// A Kubernetes `Status` error (metav1.Status with `status: Failure`): the HTTP code, the reason
/// clients branch on (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`…) and the message kubectl
/// prints after "Error from server (Reason): ". The front end's error shape; services throw
/// `EngineError` and the API maps it with the operation it was doing.
public struct KubeStatus: Error, Sendable, CustomStringConvertible {
    public struct Cause: Sendable, Equatable {
        public let reason: String
        public let message: String
        public let field: String
    }

    public let code: Int
    public let reason: String
    public let message: String
    /// `details`: the object's name, group and kind (a resource for NotFound/AlreadyExists/Conflict,
    /// as the apiserver's errors say it; a Kind for Invalid), and for Invalid the causes.
    public var name: String?
    public var group: String?
    public var kind: String?
    public var causes: [Cause] = []
    /// `details.retryAfterSeconds` (none of ours yet).
    public var description: String { message }

    public init(code: Int, reason: String, message: String, name: String? = nil, group: String? = nil, kind: String? = nil, causes: [Cause] = []) {
        self.code = code
        self.reason = reason
        self.message = message
        self.name = name
        self.group = group
        self.kind = kind
        self.causes = causes
    }

    /// The Status object.
    public var json: JSONValue {
        var details: [(String, JSONValue)] = []
        if let name { details.append(("name", .string(name))) }
        if let group { details.append(("group", .string(group))) }
        if let kind { details.append(("kind", .string(kind))) }
        if !causes.isEmpty {
            details.append(("causes", .array(causes.map { cause in
                .ordered([("reason", .string(cause.reason)), ("message", .string(cause.message)), ("field", .string(cause.field))])
            })))
        }
        var members: [(String, JSONValue)] = [
            ("kind", .string("Status")), ("apiVersion", .string("v1")), ("metadata", .ordered([])),
            ("status", .string("Failure")), ("message", .string(message)), ("reason", .string(reason)),
        ]
        if !details.isEmpty { members.append(("details", .ordered(details))) }
        members.append(("code", .number(String(code))))
        return .ordered(members)
    }

    // MARK: - The apiserver's errors (k8s.io/apimachinery/pkg/api/errors), with its wording

    public static func notFound(_ kind: KubeKind, _ name: String) -> KubeStatus {
        KubeStatus(code: 404, reason: "NotFound", message: "\(kind.qualifiedResource) \"\(name)\" not found",
                   name: name, group: kind.groupOrNil, kind: kind.resource)
    }

    public static func alreadyExists(_ kind: KubeKind, _ name: String) -> KubeStatus {
        KubeStatus(code: 409, reason: "AlreadyExists", message: "\(kind.qualifiedResource) \"\(name)\" already exists",
                   name: name, group: kind.groupOrNil, kind: kind.resource)
    }

    public static func conflict(_ kind: KubeKind, _ name: String, _ detail: String) -> KubeStatus {
        KubeStatus(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(kind.qualifiedResource) \"\(name)\": \(detail)",
                   name: name, group: kind.groupOrNil, kind: kind.resource)
    }

    public static let modifiedDetail = "the object has been modified; please apply your changes to the latest version and try again"

    public static func invalid(_ kind: KubeKind, _ name: String, _ errors: [FieldError]) -> KubeStatus {
        let text = errors.map(\.description)
        let joined = text.count == 1 ? text[0] : "[" + text.joined(separator: ", ") + "]"
        return KubeStatus(code: 422, reason: "Invalid", message: "\(kind.kind) \"\(name)\" is invalid: \(joined)",
                          name: name, group: kind.groupOrNil, kind: kind.kind,
                          causes: errors.map { Cause(reason: $0.type.reason, message: $0.causeMessage, field: $0.field) })
    }

    /// Invalid request options (`PatchOptions.meta.k8s.io "" is invalid: …`).
    public static func invalidOptions(_ options: String, _ errors: [FieldError]) -> KubeStatus {
        let text = errors.map(\.description)
        let joined = text.count == 1 ? text[0] : "[" + text.joined(separator: ", ") + "]"
        return KubeStatus(code: 422, reason: "Invalid", message: "\(options).meta.k8s.io \"\" is invalid: \(joined)",
                          group: "meta.k8s.io", kind: options,
                          causes: errors.map { Cause(reason: $0.type.reason, message: $0.causeMessage, field: $0.field) })
    }

    public static func forbidden(_ kind: KubeKind, _ name: String, _ detail: String) -> KubeStatus {
        KubeStatus(code: 403, reason: "Forbidden", message: "\(kind.qualifiedResource) \"\(name)\" is forbidden: \(detail)",
                   name: name, group: kind.groupOrNil, kind: kind.resource)
    }

    public static func badRequest(_ message: String) -> KubeStatus {
        KubeStatus(code: 400, reason: "BadRequest", message: message)
    }

    public static func methodNotAllowed(_ method: String, _ what: String) -> KubeStatus {
        KubeStatus(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource (\(method) \(what))")
    }

    public static let unauthorized = KubeStatus(code: 401, reason: "Unauthorized", message: "Unauthorized")

    public static func pathNotFound(_ path: String) -> KubeStatus {
        KubeStatus(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(path))")
    }

    public static func notAcceptable(_ accept: String) -> KubeStatus {
        KubeStatus(code: 406, reason: "NotAcceptable",
                   message: "only the following media types are accepted: application/json, application/yaml (asked for \(accept))")
    }

    public static func unsupportedMediaType(_ type: String) -> KubeStatus {
        KubeStatus(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: "
                   + "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got \(type))")
    }

    public static func tooLarge(_ limit: Int) -> KubeStatus {
        KubeStatus(code: 413, reason: "RequestEntityTooLarge", message: "the request is too large (more than \(limit) bytes)")
    }

    /// A watch or list from a resourceVersion the change log no longer holds (410, reason Expired).
    public static func expired(_ requested: UInt64, _ oldest: UInt64?) -> KubeStatus {
        KubeStatus(code: 410, reason: "Expired", message: "too old resource version: \(requested)" + (oldest.map { " (\($0))" } ?? ""))
    }

    public static func internalError(_ message: String) -> KubeStatus {
        KubeStatus(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }
}

/// One validation error (field.Error): `metadata.name: Invalid value: "X": detail`.
public struct FieldError: Sendable, Equatable, CustomStringConvertible {
    public enum ErrorType: Sendable, Equatable {
        /// A number is shown bare, as Go's validation prints an int (`Invalid value: -1`), a string quoted.
        case invalid(String), invalidNumber(Int), required, forbidden, tooLong, duplicate(String), duplicateNumber(Int), notSupported(String)

        var reason: String {
            switch self {
            case .invalid, .invalidNumber: "FieldValueInvalid"
            case .required: "FieldValueRequired"
            case .forbidden: "FieldValueForbidden"
            case .tooLong: "FieldValueTooLong"
            case .duplicate, .duplicateNumber: "FieldValueDuplicate"
            case .notSupported: "FieldValueNotSupported"
            }
        }
    }

    public let field: String
    public let type: ErrorType
    public let detail: String

    public init(_ field: String, _ type: ErrorType, _ detail: String) {
        self.field = field
        self.type = type
        self.detail = detail
    }

    /// What the error says without its field (a cause's message).
    public var causeMessage: String {
        switch type {
        case .invalid(let value): "Invalid value: \(GoStrconv.quote(value)): \(detail)"
        case .invalidNumber(let value): "Invalid value: \(value): \(detail)"
        case .required: "Required value" + (detail.isEmpty ? "" : ": " + detail)
        case .forbidden: "Forbidden" + (detail.isEmpty ? "" : ": " + detail)
        case .tooLong: "Too long: " + detail
        case .duplicate(let value): "Duplicate value: \(GoStrconv.quote(value))"
        case .duplicateNumber(let value): "Duplicate value: \(value)"
        case .notSupported(let value): "Unsupported value: \(GoStrconv.quote(value))" + (detail.isEmpty ? "" : ": " + detail)
        }
    }

    public var description: String { field + ": " + causeMessage }
}

extension JSONValue {
    /// An object with its members in the given order.
    public static func ordered(_ members: [(String, JSONValue)]) -> JSONValue {
        var dictionary: [String: JSONValue] = [:]
        var keys: [String] = []
        for (key, value) in members where dictionary.updateValue(value, forKey: key) == nil { keys.append(key) }
        return .object(dictionary, keys: keys)
    }

    public static func int(_ value: Int) -> JSONValue { .number(String(value)) }
}
