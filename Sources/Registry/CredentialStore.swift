import GoCompat
import OCI

/// Registry credentials in Docker's `config.json` (`{"auths": {"127.0.0.1:5000": {"auth": base64("user:pass")}}}`),
/// so `docker login` and `berth login` share them. Keys may be `host[:port]`, `https://host[:port]`
/// or, for Docker Hub, `https://index.docker.io/v1/`. The file is replaced atomically (temporary
/// file, fsync, rename) with mode 0600, and every member Berth does not manage is written back as it was.
/// Credential helpers (`credsStore`, `credHelpers`) are not run.
public struct CredentialStore: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json` (as the Docker CLI looks).
    public static func defaultPath() -> String {
        if let directory = LocalFiles.environment("DOCKER_CONFIG") { return directory + "/config.json" }
        return (LocalFiles.environment("HOME") ?? "/root") + "/.docker/config.json"
    }

    /// The key Docker writes for Docker Hub.
    static let dockerHubKey = "https://index.docker.io/v1/"

    /// The registry a config.json key names: scheme and path dropped, Docker Hub's aliases folded to `docker.io`.
    static func registryName(ofKey key: String) -> String {
        var text = Substring(key.lowercased())
        for scheme in ["https://", "http://"] where text.hasPrefix(scheme) { text = text.dropFirst(scheme.count) }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        switch text {
        case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com", "docker.io": return ImageReference.dockerHub
        default: return String(text)
        }
    }

    public func credentials(for registry: String) throws -> Credentials? {
        let document = try load()
        guard let auths = document["auths"]?.objectValue else { return nil }
        guard let key = Self.matchingKey(in: auths, for: registry), let entry = auths[key]?.objectValue else { return nil }
        if let auth = entry["auth"]?.stringValue, !auth.isEmpty {
            guard let decoded = Base64.decode(auth), let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else {
                throw RegistryError(.local, operation: "read credentials for \(registry) from \(path)",
                                    detail: "auths[\"\(key)\"].auth is not base64 of user:password")
            }
            return Credentials(username: String(decoding: decoded[..<colon], as: UTF8.self),
                               password: String(decoding: decoded[(colon + 1)...], as: UTF8.self))
        }
        if let username = entry["username"]?.stringValue, let password = entry["password"]?.stringValue {
            return Credentials(username: username, password: password)
        }
        return nil
    }

    public func save(_ credentials: Credentials, for registry: String) throws {
        var document = try load()
        var auths = document["auths"]?.objectValue ?? [:]
        let key = Self.matchingKey(in: auths, for: registry)
            ?? (Self.registryName(ofKey: registry) == ImageReference.dockerHub ? Self.dockerHubKey : registry)
        var entry = auths[key]?.objectValue ?? [:]
        entry["auth"] = .string(Base64.encode(Array("\(credentials.username):\(credentials.password)".utf8)))
        entry["username"] = nil
        entry["password"] = nil
        auths[key] = JSONValue(members: entry)
        document["auths"] = JSONValue(members: auths)
        try store(document)
    }

    /// Forgets every entry for `registry`; false when there was none.
    public func remove(registry: String) throws -> Bool {
        var document = try load()
        guard var auths = document["auths"]?.objectValue else { return false }
        let name = Self.registryName(ofKey: registry)
        let keys = auths.keys.filter { Self.registryName(ofKey: $0) == name }
        guard !keys.isEmpty else { return false }
        for key in keys { auths[key] = nil }
        document["auths"] = JSONValue(members: auths)
        try store(document)
        return true
    }

    /// The exact key when present, else the first (in sorted order) that names the same registry.
    static func matchingKey(in auths: [String: JSONValue], for registry: String) -> String? {
        if auths[registry] != nil { return registry }
        let name = registryName(ofKey: registry)
        return auths.keys.sorted().first { registryName(ofKey: $0) == name }
    }

    private func load() throws -> [String: JSONValue] {
        let bytes: [UInt8]?
        do { bytes = try LocalFiles.readIfExists(path) } catch {
            throw RegistryError(.local, operation: "read credentials from \(path)", detail: error.description)
        }
        guard let bytes, bytes.contains(where: { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }) else { return [:] }
        do {
            guard case .object(let members, _) = try JSONTreeDecoder.decode(JSONValue.self, from: bytes) else {
                throw RegistryError(.local, operation: "read credentials from \(path)", detail: "not a JSON object")
            }
            return members
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError(.local, operation: "read credentials from \(path)", detail: "not valid JSON: \(error)")
        }
    }

    private func store(_ document: [String: JSONValue]) throws {
        do {
            var bytes = try JSONTreeEncoder.encode(JSONValue(members: document), indent: 2)
            bytes.append(0x0a)
            try LocalFiles.writeAtomically(bytes, to: path, mode: 0o600)
        } catch let error as LocalFileError {
            throw RegistryError(.local, operation: "write credentials to \(path)", detail: error.description)
        }
    }
}
