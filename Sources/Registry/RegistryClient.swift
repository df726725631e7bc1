import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import OCI

/// A manifest as the registry sent it: the exact bytes (their digest is the manifest's identity),
/// the media type it was served with, and that digest.
public struct FetchedManifest: Sendable {
    public var bytes: [UInt8]
    public var mediaType: String
    public var digest: Digest

    public init(bytes: [UInt8], mediaType: String, digest: Digest) {
        self.bytes = bytes
        self.mediaType = mediaType
        self.digest = digest
    }

    public var descriptor: Descriptor { Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count)) }
}

/// A client of the OCI distribution API (Docker registry v2) on AsyncHTTPClient.
///
/// - Plain `http://` for loopback registries (`localhost`, `127.0.0.0/8`, `::1`) and those in
///   `insecureRegistries`, as Docker does; `https://` with the system's CAs otherwise; `docker.io`
///   is served by `registry-1.docker.io`.
/// - Auth: the first request goes anonymously; a 401's `WWW-Authenticate` challenge is answered
///   (Bearer: a token from the realm for the repository scope, with the stored credentials as Basic
///   auth when there are some; Basic: the stored credentials), and remembered, so later requests to
///   the registry carry auth from the start. Tokens are cached per (registry, scope) until shortly
///   before they expire.
/// - GET and HEAD are retried (3 attempts, 200 ms · 2ⁿ apart) on connection errors, 429 and 5xx;
///   a blob download cut in the middle resumes where it stopped.
/// - Deadlines apply until the response head; bodies stream with the HTTP client's idle read timeout.
public final class RegistryClient: Sendable {
    let credentialStore: CredentialStore?
    /// Credentials handed over by the caller, by registry (the Engine API's `X-Registry-Auth`);
    /// they win over the store's.
    let givenCredentials: [String: Credentials]
    let insecureRegistries: Set<String>
    let httpClient: HTTPClient
    let userAgent: String
    let tokens = TokenCache()

    let maxAttempts = 3
    let retryDelay: Duration = .milliseconds(200)
    /// The longest a manifest (or index) may be; distribution refuses larger ones at 4 MiB.
    let manifestLimit = 8 << 20

    /// `given`: credentials by registry, keyed as config.json keys them (`127.0.0.1:5000`,
    /// `https://index.docker.io/v1/`), used before `credentials`' (a server answering for its
    /// clients passes theirs here and no store).
    public init(credentials: CredentialStore?, given: [String: Credentials] = [:], insecureRegistries: Set<String> = [],
                httpClient: HTTPClient = .registry, userAgent: String = "berth/0.1") {
        self.credentialStore = credentials
        var normalized: [String: Credentials] = [:]
        for (key, value) in given { normalized[CredentialStore.registryName(ofKey: key)] = value }
        self.givenCredentials = normalized
        self.insecureRegistries = insecureRegistries
        self.httpClient = httpClient
        self.userAgent = userAgent
    }

    // MARK: Manifests

    /// GET the manifest (or index) `ref` names by its digest when it has one, else by its tag.
    /// Fetched by digest, the bytes must hash to it; a `Docker-Content-Digest` header must match them.
    public func manifest(_ ref: ImageReference) async throws -> FetchedManifest {
        try await fetchManifest(ref, reference: ref.manifestReference, expected: ref.digest)
    }

    /// GET the manifest `digest` names in `ref`'s repository (for an index's entries).
    public func manifest(_ ref: ImageReference, digest: Digest) async throws -> FetchedManifest {
        try await fetchManifest(ref, reference: digest.description, expected: digest)
    }

    private func fetchManifest(_ ref: ImageReference, reference: String, expected: Digest?) async throws -> FetchedManifest {
        let operation = "pull manifest \(ref.name)\(reference.contains(":") ? "@" : ":")\(reference)"
        var call = Call(operation: operation, method: .GET, url: manifestURL(ref, reference), idempotent: true,
                        registry: ref.registry, scope: [Self.pullScope(ref.repository)])
        call.headers.add(name: "Accept", value: MediaType.manifestAccept.joined(separator: ", "))
        let response = try await send(call)
        guard response.status == .ok else { throw await failure(response, call) }
        let bytes = try await collect(response, call, limit: manifestLimit)
        let digest = try Self.checkedDigest(of: bytes, expected: expected, announced: response.headers.first(name: "Docker-Content-Digest"), call)
        let served = Self.mediaType(response.headers)
        var mediaType = served ?? ""
        if served.map({ !MediaType.isManifest($0) && !MediaType.isIndex($0) }) ?? true {
            struct Probe: Decodable { var mediaType: String? }
            if let declared = (try? JSONTreeDecoder.decode(Probe.self, from: bytes))?.mediaType { mediaType = declared }
        }
        return FetchedManifest(bytes: bytes, mediaType: mediaType, digest: digest)
    }

    /// HEAD the manifest: its digest, media type and size without its body; nil when the registry has
    /// no such tag or digest. A registry that leaves out `Docker-Content-Digest` is asked with a GET.
    public func manifestDescriptor(_ ref: ImageReference) async throws -> Descriptor? {
        let operation = "check manifest \(ref.name)\(ref.digest == nil ? ":" : "@")\(ref.manifestReference)"
        var call = Call(operation: operation, method: .HEAD, url: manifestURL(ref, ref.manifestReference), idempotent: true,
                        registry: ref.registry, scope: [Self.pullScope(ref.repository)])
        call.headers.add(name: "Accept", value: MediaType.manifestAccept.joined(separator: ", "))
        let response = try await send(call)
        if response.status == .notFound { return nil }
        guard response.status == .ok else { throw await failure(response, call) }
        guard let announced = response.headers.first(name: "Docker-Content-Digest"), let digest = try? Digest(announced),
              let length = response.headers.first(name: "Content-Length").flatMap({ Int64($0) }),
              let mediaType = Self.mediaType(response.headers), MediaType.isManifest(mediaType) || MediaType.isIndex(mediaType)
        else {
            let fetched = try await manifest(ref)
            return fetched.descriptor
        }
        if let wanted = ref.digest, wanted != digest {
            throw RegistryError(.digestMismatch, operation: operation, request: call.summary, status: 200,
                                detail: "the registry announced \(digest), not the digest asked for")
        }
        return Descriptor(mediaType: mediaType, digest: digest, size: length)
    }

    // MARK: Tags

    /// Every tag of the repository (`/v2/<name>/tags/list`), following `Link: <…>; rel="next"` pages.
    public func tags(_ ref: ImageReference) async throws -> [String] {
        try await tags(ref, pageSize: nil)
    }

    func tags(_ ref: ImageReference, pageSize: Int?) async throws -> [String] {
        struct Page: Decodable { var tags: [String]? }
        let base = baseURL(ref.registry)
        var url = "\(base)/v2/\(ref.repository)/tags/list" + (pageSize.map { "?n=\($0)" } ?? "")
        var all: [String] = []
        for _ in 0..<100_000 {
            let call = Call(operation: "list tags of \(ref.name)", method: .GET, url: url, idempotent: true,
                            registry: ref.registry, scope: [Self.pullScope(ref.repository)])
            let response = try await send(call)
            guard response.status == .ok else { throw await failure(response, call) }
            let bytes = try await collect(response, call, limit: 64 << 20)
            do { all += try JSONTreeDecoder.decode(Page.self, from: bytes).tags ?? [] } catch {
                throw RegistryError(.invalidResponse, operation: call.operation, request: call.summary, status: 200,
                                    detail: "the tag list is not the expected JSON: \(error)")
            }
            guard let next = Self.nextLink(response.headers["Link"]) else { return all }
            url = Self.resolve(next, against: url)
        }
        return all
    }

    /// The target of a `rel="next"` link: `</v2/app/tags/list?last=b&n=2>; rel="next"`.
    static func nextLink(_ values: [String]) -> String? {
        for value in values {
            for link in value.split(separator: ",") {
                let parts = link.split(separator: ";").map { String($0).trimming(" \t") }
                guard let target = parts.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
                let isNext = parts.dropFirst().contains { parameter in
                    let pair = parameter.split(separator: "=", maxSplits: 1).map { String($0).trimming(" \t\"") }
                    return pair.count == 2 && pair[0].lowercased() == "rel" && pair[1].split(separator: " ").contains("next")
                }
                if isNext { return String(target.dropFirst().dropLast()) }
            }
        }
        return nil
    }

    // MARK: Login

    /// The registry a login names (`docker login SERVER`, AuthConfig's `serveraddress`), as
    /// Docker reads it: `https://127.0.0.1:5000/v2/` → `127.0.0.1:5000`; Docker Hub's spellings
    /// (and nothing) → `docker.io`.
    public static func registryName(server: String) -> String {
        var text = Substring(server)
        for scheme in ["https://", "http://"] where text.hasPrefix(scheme) { text = text.dropFirst(scheme.count) }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        return ["", "index.docker.io", "registry-1.docker.io", "docker.io"].contains(String(text)) ? ImageReference.dockerHub : String(text)
    }

    /// What `login` checks credentials against (dockerd's messages name it).
    public func loginURL(_ registry: String) -> String { baseURL(registry) + "/v2/" }

    /// Checks `credentials` the way `docker login` does: GET /v2/ and answer its challenge with them
    /// (for Bearer, a token from the realm, then /v2/ again with it). Throws an `.unauthorized`
    /// error when they are refused. Saving them is the caller's choice (`CredentialStore.save`).
    public func login(registry: String, _ credentials: Credentials) async throws {
        let operation = "log in to \(registry) as \(credentials.username)"
        let url = loginURL(registry)
        let probe = Call(operation: operation, method: .GET, url: url, idempotent: true, registry: nil)
        let first = try await send(probe)
        if first.status == .ok { _ = await errorBody(first); return }
        guard first.status == .unauthorized else { throw await failure(first, probe) }
        _ = await errorBody(first)
        guard let challenge = AuthChallenge.preferred(first.headers["WWW-Authenticate"]) else {
            throw RegistryError(.invalidResponse, operation: operation, request: probe.summary, status: 401,
                                detail: "the registry asked for authentication without a Basic or Bearer challenge")
        }
        var check = probe
        if challenge.isBearer {
            let token = try await fetchToken(challenge, registry: registry, scopes: [], credentials: credentials, operation: operation)
            check.authorization = "Bearer \(token.value)"
        } else {
            check.authorization = credentials.basicAuthorization
        }
        let second = try await send(check)
        if second.status == .ok {
            _ = await errorBody(second)
            tokens.setChallenge(challenge, for: registry)
            return
        }
        var error = await failure(second, check)
        if second.status == .unauthorized {
            error.detail = "the registry did not accept the credentials of \(credentials.username)"
        }
        throw error
    }

    // MARK: URLs

    /// `http://` or `https://` and the host serving `registry`.
    func baseURL(_ registry: String) -> String {
        let host = registry == ImageReference.dockerHub ? "registry-1.docker.io" : registry
        return (usesPlainHTTP(registry) ? "http://" : "https://") + host
    }

    func usesPlainHTTP(_ registry: String) -> Bool {
        let host = Self.hostName(registry)
        return Self.isLoopback(host) || insecureRegistries.contains(registry) || insecureRegistries.contains(host)
    }

    /// The host without its port (and without brackets for IPv6).
    static func hostName(_ registry: String) -> String {
        if registry.hasPrefix("["), let close = registry.firstIndex(of: "]") {
            return String(registry[registry.index(after: registry.startIndex)..<close])
        }
        let colons = registry.filter { $0 == ":" }.count
        if colons == 1, let colon = registry.firstIndex(of: ":") { return String(registry[..<colon]) }
        return registry
    }

    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    func manifestURL(_ ref: ImageReference, _ reference: String) -> String {
        "\(baseURL(ref.registry))/v2/\(ref.repository)/manifests/\(reference)"
    }

    func blobURL(_ ref: ImageReference, _ digest: Digest) -> String {
        "\(baseURL(ref.registry))/v2/\(ref.repository)/blobs/\(digest)"
    }

    static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }
    static func pushScope(_ repository: String) -> String { "repository:\(repository):pull,push" }

    /// `scheme://host[:port]` of an absolute URL.
    static func origin(_ url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        return String(url[..<hostEnd]).lowercased()
    }

    /// A Location or Link target made absolute against the URL of the request that returned it.
    static func resolve(_ reference: String, against url: String) -> String {
        if reference.contains("://") { return reference }
        guard let origin = origin(url) else { return reference }
        if reference.hasPrefix("//") {
            let scheme = url.prefix { $0 != ":" }
            return "\(scheme):\(reference)"
        }
        if reference.hasPrefix("/") { return origin + reference }
        var path = String(url.dropFirst(origin.count))
        if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
        let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "/"
        return origin + directory + reference
    }

    static func appendingQuery(_ url: String, _ query: String) -> String {
        url + (url.contains("?") ? "&" : "?") + query
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5a, 0x61...0x7a, 0x30...0x39, 0x2d, 0x2e, 0x5f, 0x7e: out.append(byte)
            default: out += [0x25, hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Digests

    /// The digest of `bytes`, checked against the digest asked for and the one the registry announced.
    static func checkedDigest(of bytes: [UInt8], expected: Digest?, announced: String?, _ call: Call) throws -> Digest {
        let digest = try digest(of: bytes, algorithm: expected?.algorithm ?? .sha256)
        if let expected, digest != expected {
            throw RegistryError(.digestMismatch, operation: call.operation, request: call.summary, status: 200,
                                detail: "the registry sent \(bytes.count) bytes whose digest is \(digest), not \(expected)")
        }
        if let announced, !announced.isEmpty {
            guard let claimed = try? Digest(announced) else {
                throw RegistryError(.invalidResponse, operation: call.operation, request: call.summary, status: 200,
                                    detail: "Docker-Content-Digest \"\(announced)\" is not a digest")
            }
            let actual = claimed.algorithm == digest.algorithm ? digest : try Self.digest(of: bytes, algorithm: claimed.algorithm)
            if actual != claimed {
                throw RegistryError(.digestMismatch, operation: call.operation, request: call.summary, status: 200,
                                    detail: "Docker-Content-Digest says \(claimed) but the \(bytes.count) bytes sent hash to \(actual)")
            }
        }
        return digest
    }

    /// The Content-Type without parameters, nil when absent.
    static func mediaType(_ headers: HTTPHeaders) -> String? {
        guard let value = headers.first(name: "Content-Type") else { return nil }
        let type = String(value.split(separator: ";", maxSplits: 1).first ?? "").trimming(" \t")
        return type.isEmpty ? nil : type
    }
}

extension HTTPClient {
    /// The client registries are reached with. A connection that cannot be made fails its request
    /// at once: the shared client retries connecting until the request's deadline, so a refused
    /// port or an unknown host took three attempts of 60 s each, where Docker fails in milliseconds.
    /// Connecting may take at most 10 s; a timeout is still retried by `send`.
    public static let registry: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}
