import GoCompat
import Registry

/// Docker's registry.AuthConfig: the body of `POST /auth`, and what `X-Registry-Auth` carries
/// (base64url of it). Keys match as Go matches them (case aside).
public struct AuthConfig: Decodable, Sendable, Equatable, GoNamed {
    public var username: String?
    public var password: String?
    /// base64 of `user:password`, as config.json keeps it.
    public var auth: String?
    public var serverAddress: String?
    /// An OAuth refresh token; Berth's registry client does not speak that grant.
    public var identityToken: String?
    public static var goName: String { "registry.AuthConfig" }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case username, password, auth, serverAddress = "serveraddress", identityToken = "identitytoken"
    }

    public init(username: String? = nil, password: String? = nil, auth: String? = nil, serverAddress: String? = nil) {
        self.username = username
        self.password = password
        self.auth = auth
        self.serverAddress = serverAddress
    }

    /// The user name and password given, or those `auth` holds; nil when neither.
    public var credentials: Credentials? {
        let username = username ?? "", password = password ?? ""
        if !username.isEmpty || !password.isEmpty { return Credentials(username: username, password: password) }
        guard let auth, !auth.isEmpty, let decoded = Base64.decode(auth),
              let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return Credentials(username: String(decoding: decoded[..<colon], as: UTF8.self),
                           password: String(decoding: decoded[(colon + 1)...], as: UTF8.self))
    }
}
