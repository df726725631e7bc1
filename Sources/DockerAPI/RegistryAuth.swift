import ContainerSpec
import DockerModel
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
        guard let value = decode(text), case .object = value, let config = try? GoJSON.decode(AuthConfig.self, from: value) else {
            if strict { throw .invalid("invalid X-Registry-Auth header: not base64url-encoded JSON") }
            return nil
        }
        return config.credentials
    }

    /// `X-Registry-Config`: credentials by registry (keys as config.json keys them).
    static func configHeader(_ request: HTTPServerRequest) -> [String: Credentials] {
        guard let text = request.header("X-Registry-Config"), !text.isEmpty,
              let value = decode(text), case .object(let members, let keys) = value else { return [:] }
        var result: [String: Credentials] = [:]
        for key in keys {
            guard let config = try? GoJSON.decode(AuthConfig.self, from: members[key] ?? .null), let credentials = config.credentials else { continue }
            result[key] = credentials
        }
        return result
    }

    static func decode(_ text: String) -> JSONValue? {
        guard let bytes = Base64.decode(text) else { return nil }
        return try? JSONParser.parse(bytes)
    }
}
