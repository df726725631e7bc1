import ContainerSpec
import DockerModel
import GoCompat
import LinuxSys
import Registry

extension DockerAPI {
    /// The endpoints that only talk to a registry: search and login.
    static var registryRoutes: [Route] {
        [
            imageRoute(.GET, "images/search") { _, call in try searchImages(call) },
            imageRoute(.POST, "auth") { _, call in try authenticate(call) },
        ]
    }

    /// `GET /images/search?term=&limit=&filters=`: the registry's search (`registry/term`, or
    /// Docker Hub's), filtered as `berth search` filters it, in the registry's order. A registry
    /// without the search endpoint (distribution has none) is dockerd's "Unexpected status code".
    static func searchImages(_ call: APICall) throws {
        guard let term = call.query("term"), !term.isEmpty else { throw EngineError.invalid("term is required") }
        let limit = try call.integer("limit") ?? RegistryClient.defaultSearchLimit
        guard RegistryClient.searchLimits.contains(limit) else {
            throw EngineError.invalid("limit \(limit) is outside the range of [1, 100]")
        }
        let filters = try SearchFilters(try QueryFilters.parse(call.query("filters")))
        let registry = RegistryClient.searchTarget(term).registry
        let credentials = try RegistryAuth.header(call.request, strict: false)
        let client = registryClient(credentials.map { [registry: $0] } ?? [:])
        let results: [SearchResult]
        do { results = try awaitResult { try await client.search(term, limit: limit) } } catch let error as RegistryError {
            // dockerd's words for a registry's refusal come first (`berth search` prints the same).
            guard let status = error.status, error.kind != .unauthorized, error.kind != .denied else { throw error }
            throw EngineError.system("Unexpected status code \(status): \(error.description)")
        }
        try call.writer.json(results.filter(filters.accepts))
    }

    /// `POST /auth`: the AuthConfig's credentials checked against its registry as `berth login`
    /// checks them (nothing is stored: the client keeps them). Refused credentials are a 401 with
    /// dockerd's words; a body that is no AuthConfig is json.Decoder's error, a 500 as in dockerd.
    static func authenticate(_ call: APICall) throws {
        let bytes = try call.bodyBytes()
        let config: AuthConfig
        do {
            guard bytes.contains(where: { !RequestBody.isJSONSpace($0) }) else { throw EngineError.system("EOF") }
            config = try GoJSON.decode(AuthConfig.self, from: try JSONParser.parseFirst(bytes).value)
        } catch let error as GoError {
            throw EngineError.system(error.message)
        } catch let error as JSONSyntaxError {
            // A value cut short is io.ErrUnexpectedEOF to a json.Decoder.
            throw EngineError.system(error.offset >= bytes.count ? "unexpected EOF" : error.message)
        }
        let registry = RegistryClient.registryName(server: config.serverAddress ?? "")
        let credentials = config.credentials ?? Credentials(username: "", password: "")
        let client = registryClient([:])
        do { try awaitResult { try await client.login(registry: registry, credentials) } } catch let error as RegistryError {
            guard error.kind == .unauthorized, error.status == 401 else { throw error }
            let message = "login attempt to \(client.loginURL(registry)) failed with status: 401 Unauthorized"
            call.writer.error(EngineError.invalid(message), status: .unauthorized)
            return
        }
        call.writer.jsonText(#"{"IdentityToken":"","Status":"Login Succeeded"}"#)
    }

    /// Waits on the handler's thread for async work (a registry call) and hands back its result.
    static func awaitResult<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let box = ResultBox<T>()
        Task {
            do { box.set(.success(try await work())) } catch { box.set(.failure(error)) }
        }
        return try box.wait().get()
    }
}

/// One result passed from a task to the thread waiting for it.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = ConditionLock()
    private var result: Result<T, any Error>?

    func set(_ value: Result<T, any Error>) {
        lock.withLock {
            result = value
            lock.broadcast()
        }
    }

    func wait() -> Result<T, any Error> {
        lock.withLock {
            while result == nil { lock.wait() }
            return result!
        }
    }
}
