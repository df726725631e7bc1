import ContainerSpec
import GoCompat
import HTTPServer
import Registry

/// The registry credentials a client sends with a request: `X-Registry-Auth` (pull, push: one
/// AuthConfig for the image's registry) and `X-Registry-Config` (build: AuthConfigs by registry),
/// base64url of JSON, as the docker CLI and docker-py encode them. The server reads no
/// config.json of its own: like dockerd, it uses what the client gives.
enum RegistryAuth {
    /// `X-Registry-Auth`: nil when absent or empty. `strict`: a header that cannot be read is a
    /// 400 (push); otherwise it is ignored, as dockerd ignores it for a pull.
    static func header(_ request: HTTPServerRequest, strict: Bool) throws(EngineError) -> Credentials? {
        guard let text = request.header("X-Registry-Auth"), !text.isEmpty else { return nil }
        guard let value = decode(text), case .object(let members, _) = value else {
            if strict { throw .invalid("invalid X-Registry-Auth header: not base64url-encoded JSON") }
            return nil
        }
        return credentials(members)
    }

    /// `X-Registry-Config`: credentials by registry (keys as config.json keys them).
    static func configHeader(_ request: HTTPServerRequest) -> [String: Credentials] {
        guard let text = request.header("X-Registry-Config"), !text.isEmpty,
              let value = decode(text), case .object(let members, let keys) = value else { return [:] }
        var result: [String: Credentials] = [:]
        for key in keys {
            guard case .object(let config, _) = members[key] ?? .null, let credentials = credentials(config) else { continue }
            result[key] = credentials
        }
        return result
    }

    static func decode(_ text: String) -> JSONValue? {
        guard let bytes = Base64.decode(text) else { return nil }
        return try? JSONParser.parse(bytes)
    }

    /// An AuthConfig's user name and password, or its `auth` (base64 of `user:password`). An
    /// `identitytoken` alone (an OAuth refresh token) is not used: Berth's registry client does
    /// not speak that grant.
    static func credentials(_ config: [String: JSONValue]) -> Credentials? {
        let username = config["username"]?.stringValue ?? ""
        let password = config["password"]?.stringValue ?? ""
        if !username.isEmpty || !password.isEmpty { return Credentials(username: username, password: password) }
        if let auth = config["auth"]?.stringValue, !auth.isEmpty, let decoded = Base64.decode(auth),
           let colon = decoded.firstIndex(of: UInt8(ascii: ":")) {
            return Credentials(username: String(decoding: decoded[..<colon], as: UTF8.self),
                               password: String(decoding: decoded[(colon + 1)...], as: UTF8.self))
        }
        return nil
    }
}
