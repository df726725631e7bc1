/// One challenge of a `WWW-Authenticate` header (RFC 7235): `Bearer realm="…",service="…",scope="…"`
/// as distribution's token auth sends it, or `Basic realm="…"` as its htpasswd auth does.
public struct AuthChallenge: Sendable, Equatable {
    /// Lower-cased: `bearer`, `basic`.
    public var scheme: String
    /// Parameter names lower-cased; values unquoted and unescaped.
    public var parameters: [String: String]

    public init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme.lowercased()
        self.parameters = parameters
    }

    public var realm: String? { parameters["realm"] }
    public var service: String? { parameters["service"] }
    public var scope: String? { parameters["scope"] }
    public var isBearer: Bool { scheme == "bearer" }
    public var isBasic: Bool { scheme == "basic" }

    /// Every challenge in the header values, in order. Values may hold commas inside quotes
    /// (`scope="repository:a:pull,push"`); several challenges may share one header.
    public static func parse(_ headerValues: [String]) -> [AuthChallenge] {
        headerValues.flatMap { parse(header: $0) }
    }

    /// The challenge to answer: Bearer when offered (it carries the scope), else Basic.
    public static func preferred(_ headerValues: [String]) -> AuthChallenge? {
        let all = parse(headerValues)
        return all.first(where: \.isBearer) ?? all.first(where: \.isBasic)
    }

    static func parse(header: String) -> [AuthChallenge] {
        var scanner = Scanner(Array(header.utf8))
        var challenges: [AuthChallenge] = []
        while true {
            scanner.skip { $0 == 0x20 || $0 == 0x09 || $0 == 0x2c }
            guard let scheme = scanner.token(), !scheme.isEmpty else { break }
            var challenge = AuthChallenge(scheme: scheme, parameters: [:])
            // auth-params: name=value pairs separated by commas, until a token that is not followed by "=".
            while true {
                let mark = scanner.index
                scanner.skip { $0 == 0x20 || $0 == 0x09 || $0 == 0x2c }
                guard let name = scanner.token(), !name.isEmpty else { break }
                scanner.skip { $0 == 0x20 || $0 == 0x09 }
                guard scanner.peek == 0x3d else {
                    // The next challenge's scheme (or a token68, which registries do not send).
                    scanner.index = mark
                    break
                }
                scanner.index += 1
                scanner.skip { $0 == 0x20 || $0 == 0x09 }
                let value = scanner.peek == 0x22 ? scanner.quoted() : (scanner.token() ?? "")
                challenge.parameters[name.lowercased()] = value
            }
            challenges.append(challenge)
        }
        return challenges
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { index >= bytes.count }
        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skip(while predicate: (UInt8) -> Bool) {
            while index < bytes.count, predicate(bytes[index]) { index += 1 }
        }

        /// An RFC 7230 token (also taking '/' so a bare URL value survives).
        mutating func token() -> String? {
            let start = index
            skip { byte in
                switch byte {
                case 0x20, 0x09, 0x2c, 0x3d, 0x22, 0x3b: false
                default: byte > 0x20 && byte < 0x7f
                }
            }
            return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
        }

        /// A quoted-string, with backslash escapes removed.
        mutating func quoted() -> String {
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == 0x22 { break }
                if byte == 0x5c, index < bytes.count { out.append(bytes[index]); index += 1; continue }
                out.append(byte)
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
