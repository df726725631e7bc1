import OCI

/// A failed registry operation: what was being done, against which URL, the HTTP status and what
/// the registry said (distribution's `{"errors":[{"code","message"}]}`, shown as `denied: requested
/// access to the resource is denied`).
public struct RegistryError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// 401, or credentials the registry or its token server rejected.
        case unauthorized
        /// 403.
        case denied
        /// 404: no such repository, manifest, tag or blob.
        case notFound
        /// Content that does not hash to the digest it was asked for or announced with.
        case digestMismatch
        /// Any other HTTP status the operation did not expect.
        case unexpectedStatus
        /// A response that breaks the protocol (a missing Location, bad JSON, a wrong Content-Range…).
        case invalidResponse
        /// The connection failed (refused, reset, timed out) after the retries.
        case transport
        /// A local file could not be read, or the caller's input is unusable.
        case local
    }

    public var kind: Kind
    /// What was being done: `pull manifest 127.0.0.1:5000/app:1`, `push blob sha256:… to …`.
    public var operation: String
    /// The method and URL of the request that failed, when there was one.
    public var request: String?
    public var status: Int?
    /// The registry's error codes and messages, lower-cased codes: `denied: requested access to the resource is denied`.
    public var registryMessage: String?
    /// What went wrong, in Berth's words, when the registry did not say.
    public var detail: String?

    public init(_ kind: Kind, operation: String, request: String? = nil, status: Int? = nil,
                registryMessage: String? = nil, detail: String? = nil) {
        self.kind = kind
        self.operation = operation
        self.request = request
        self.status = status
        self.registryMessage = registryMessage
        self.detail = detail
    }

    public var description: String {
        var text = operation + ": "
        var reasons: [String] = []
        if let registryMessage, !registryMessage.isEmpty { reasons.append(registryMessage) }
        if let detail, !detail.isEmpty { reasons.append(detail) }
        if reasons.isEmpty {
            switch kind {
            case .unauthorized: reasons.append("unauthorized: authentication required")
            case .denied: reasons.append("denied: requested access to the resource is denied")
            case .notFound: reasons.append("not found")
            default: reasons.append(status.map { "HTTP \($0)" } ?? kind.rawValue)
            }
        }
        text += reasons.joined(separator: "; ")
        var context: [String] = []
        if let status { context.append("HTTP \(status)") }
        if let request { context.append(request) }
        if !context.isEmpty { text += " (" + context.joined(separator: ", ") + ")" }
        return text
    }

    /// Reads distribution's error document: `{"errors":[{"code":"DENIED","message":"…"}]}` →
    /// `denied: …`. A body that is not such a document is shown as text when it is short and printable.
    static func message(fromBody body: [UInt8]) -> String? {
        struct Document: Decodable {
            struct Entry: Decodable { var code: String?; var message: String? }
            var errors: [Entry]?
            // Token servers (and Docker Hub's auth) answer with OAuth-style members.
            var error: String?
            var details: String?
            var error_description: String?
        }
        guard !body.isEmpty else { return nil }
        if let document = try? JSONTreeDecoder.decode(Document.self, from: body) {
            if let errors = document.errors, !errors.isEmpty {
                let parts = errors.map { entry -> String in
                    let code = entry.code?.lowercased() ?? "error"
                    guard let message = entry.message, !message.isEmpty else { return code }
                    return "\(code): \(message)"
                }
                return parts.joined(separator: "; ")
            }
            if let error = document.error {
                return [error, document.error_description ?? document.details].compactMap { $0 }.joined(separator: ": ")
            }
            if let details = document.details { return details }
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self)
            .split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
        let trimmed = text.trimming(" \t")
        guard !trimmed.isEmpty, trimmed.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f }),
              !trimmed.hasPrefix("<") else { return nil }
        return body.count > 300 ? trimmed + "…" : trimmed
    }
}

extension String {
    func trimming(_ set: String) -> String {
        var s = Substring(self)
        while let first = s.first, set.contains(first) { s.removeFirst() }
        while let last = s.last, set.contains(last) { s.removeLast() }
        return String(s)
    }
}
