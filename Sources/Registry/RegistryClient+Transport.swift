import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import OCI
import Glibc

extension RegistryClient {
    /// One logical request: sent, authenticated and retried by `send`.
    struct Call: Sendable {
        var operation: String
        var method: HTTPMethod
        var url: String
        var headers = HTTPHeaders()
        /// Makes the body afresh for each attempt (a 401 or a retry sends it again).
        var body: (@Sendable () -> HTTPClientRequest.Body)?
        /// Whether the request may be repeated after a connection error, 429 or 5xx.
        var idempotent: Bool
        /// The registry whose auth applies; nil for a URL that gets no registry credentials (token realms, storage redirects).
        var registry: String?
        var scope: [String] = []
        /// An Authorization value to send instead of the registry's (login).
        var authorization: String?
        /// Until the response head arrives.
        var timeout: TimeAmount = .seconds(60)

        init(operation: String, method: HTTPMethod, url: String, idempotent: Bool, registry: String?, scope: [String] = []) {
            self.operation = operation
            self.method = method
            self.url = url
            self.idempotent = idempotent
            self.registry = registry
            self.scope = scope
        }

        var summary: String { "\(method.rawValue) \(url)" }
    }

    /// Sends `call`, answering one 401 challenge and retrying connection errors, 429 and 5xx (when the
    /// call is idempotent). Returns the response, whatever its status besides those; the caller reads or drains its body.
    func send(_ call: Call) async throws -> HTTPClientResponse {
        var attempt = 0
        var answeredChallenge = false
        while true {
            try Task.checkCancellation()
            var request = HTTPClientRequest(url: call.url)
            request.method = call.method
            request.headers = call.headers
            request.headers.replaceOrAdd(name: "User-Agent", value: userAgent)
            var sentCredentials = false
            if let authorization = call.authorization {
                request.headers.replaceOrAdd(name: "Authorization", value: authorization)
            } else if let registry = call.registry,
                      let authorization = try await authorization(registry: registry, scope: call.scope, operation: call.operation) {
                request.headers.replaceOrAdd(name: "Authorization", value: authorization)
                sentCredentials = true
            }
            if let body = call.body { request.body = body() }

            let response: HTTPClientResponse
            do {
                response = try await httpClient.execute(request, timeout: call.timeout)
            } catch {
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                if call.idempotent, attempt + 1 < maxAttempts, Self.isTransient(error) {
                    try await backoff(attempt, retryAfter: nil)
                    attempt += 1
                    continue
                }
                throw RegistryError(.transport, operation: call.operation, request: call.summary,
                                    detail: "\(Self.describe(error))\(attempt > 0 ? " (after \(attempt + 1) attempts)" : "")")
            }

            let status = response.status.code
            if status == 401, let registry = call.registry, call.authorization == nil {
                let body = await errorBody(response)
                let challenge = AuthChallenge.preferred(response.headers["WWW-Authenticate"])
                if !answeredChallenge, let challenge, challenge.isBearer && challenge.realm != nil || challenge.isBasic {
                    answeredChallenge = true
                    tokens.setChallenge(challenge, for: registry)
                    tokens.invalidate(TokenCache.Key(registry: registry, scope: call.scope.joined(separator: " ")))
                    let credentials = try self.credentials(for: registry, operation: call.operation)
                    // Asking again is pointless for Basic auth without credentials, or when this very request
                    // carried them. (One that went anonymous may meet a challenge a concurrent request has
                    // just learnt; its credentials have not been refused yet.) A bearer token may have
                    // expired, so Bearer is always answered once.
                    let pointless = challenge.isBasic && (credentials == nil || sentCredentials)
                    if !pointless { continue }
                }
                throw try unauthorized(registry: registry, call: call, body: body)
            }
            if (status == 429 || (500...599).contains(status)), call.idempotent, attempt + 1 < maxAttempts {
                _ = await errorBody(response)
                let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }
                try await backoff(attempt, retryAfter: retryAfter)
                attempt += 1
                continue
            }
            return response
        }
    }

    private func backoff(_ attempt: Int, retryAfter: Int?) async throws {
        var delay = retryDelay * (1 << attempt)
        if let retryAfter, retryAfter > 0 { delay = max(delay, .seconds(min(retryAfter, 10))) }
        try await Task.sleep(for: delay)
    }

    private func unauthorized(registry: String, call: Call, body: [UInt8]) throws -> RegistryError {
        let credentials = try self.credentials(for: registry, operation: call.operation)
        let hint = credentials.map { "the registry did not accept the credentials of \($0.username) for \(registry)" }
            ?? "no credentials for \(registry) (berth login \(registry))"
        return RegistryError(.unauthorized, operation: call.operation, request: call.summary, status: 401,
                             registryMessage: RegistryError.message(fromBody: body) ?? "unauthorized: authentication required",
                             detail: hint)
    }

    func credentials(for registry: String, operation: String) throws -> Credentials? {
        if let given = givenCredentials[registry] { return given }
        guard let credentialStore else { return nil }
        do { return try credentialStore.credentials(for: registry) } catch let error as RegistryError {
            var error = error
            error.operation = "\(operation): \(error.operation)"
            throw error
        }
    }

    /// The Authorization header for a request to `registry` in `scope`, from what its last challenge asked for.
    private func authorization(registry: String, scope: [String], operation: String) async throws -> String? {
        guard let challenge = tokens.challenge(for: registry) else { return nil }
        if challenge.isBasic { return try credentials(for: registry, operation: operation)?.basicAuthorization }
        guard challenge.isBearer else { return nil }
        let key = TokenCache.Key(registry: registry, scope: scope.joined(separator: " "))
        let token = try await tokens.token(for: key) { [self] in
            let credentials = try self.credentials(for: registry, operation: operation)
            return try await self.fetchToken(challenge, registry: registry, scopes: scope, credentials: credentials, operation: operation)
        }
        return "Bearer \(token)"
    }

    /// GET realm?service=…&scope=… (distribution's token auth), with Basic credentials when there are some.
    func fetchToken(_ challenge: AuthChallenge, registry: String, scopes: [String], credentials: Credentials?,
                    operation: String) async throws -> BearerToken {
        guard let realm = challenge.realm, realm.hasPrefix("https://") || realm.hasPrefix("http://") else {
            throw RegistryError(.invalidResponse, operation: operation,
                                detail: "the Bearer challenge of \(registry) has no http(s) realm: \(challenge.realm ?? "none")")
        }
        var query: [String] = []
        if let service = challenge.service { query.append("service=" + Self.percentEncoded(service)) }
        for scope in scopes { query.append("scope=" + Self.percentEncoded(scope)) }
        if let credentials { query.append("account=" + Self.percentEncoded(credentials.username)) }
        let url = query.isEmpty ? realm : Self.appendingQuery(realm, query.joined(separator: "&"))
        var call = Call(operation: "\(operation): get a token from \(realm)", method: .GET, url: url, idempotent: true, registry: nil)
        call.authorization = credentials?.basicAuthorization
        let response = try await send(call)
        guard response.status == .ok else {
            var error = await failure(response, call)
            if response.status == .unauthorized || response.status == .forbidden {
                error.kind = .unauthorized
                error.detail = credentials.map { "the token server did not accept the credentials of \($0.username) for \(registry)" }
                    ?? "the token server requires credentials for \(registry) (berth login \(registry))"
                if error.registryMessage == nil { error.registryMessage = "unauthorized: authentication required" }
            }
            throw error
        }
        struct Answer: Decodable { var token: String?; var access_token: String?; var expires_in: Int? }
        let bytes = try await collect(response, call, limit: 1 << 20)
        guard let answer = try? JSONTreeDecoder.decode(Answer.self, from: bytes),
              let token = [answer.token, answer.access_token].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            throw RegistryError(.invalidResponse, operation: call.operation, request: call.summary, status: 200,
                                detail: "the token server's answer has no token or access_token")
        }
        return BearerToken(value: token, validUntil: .now + TokenCache.validity(expiresIn: answer.expires_in))
    }

    // MARK: Bodies and errors

    /// The whole body, refusing one longer than `limit`.
    func collect(_ response: HTTPClientResponse, _ call: Call, limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        if let length = response.headers.first(name: "Content-Length").flatMap({ Int($0) }) {
            guard length <= limit else {
                throw RegistryError(.invalidResponse, operation: call.operation, request: call.summary, status: Int(response.status.code),
                                    detail: "the response is \(length) bytes, more than the \(limit) accepted")
            }
            bytes.reserveCapacity(length)
        }
        do {
            for try await var chunk in response.body {
                guard bytes.count + chunk.readableBytes <= limit else {
                    throw RegistryError(.invalidResponse, operation: call.operation, request: call.summary, status: Int(response.status.code),
                                        detail: "the response is more than the \(limit) bytes accepted")
                }
                if let piece = chunk.readBytes(length: chunk.readableBytes) { bytes += piece }
            }
        } catch let error as RegistryError {
            throw error
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw RegistryError(.transport, operation: call.operation, request: call.summary, status: Int(response.status.code),
                                detail: "reading the response: \(Self.describe(error))")
        }
        return bytes
    }

    /// Up to 64 KiB of the body, for an error message; never throws (a broken error body is no news).
    func errorBody(_ response: HTTPClientResponse) async -> [UInt8] {
        var bytes: [UInt8] = []
        do {
            for try await var chunk in response.body {
                if let piece = chunk.readBytes(length: min(chunk.readableBytes, max(0, 65_536 - bytes.count))) { bytes += piece }
                if bytes.count >= 65_536 { break }
            }
        } catch {}
        return bytes
    }

    /// The error for a response whose status the operation did not expect, with the registry's own words.
    func failure(_ response: HTTPClientResponse, _ call: Call) async -> RegistryError {
        let body = call.method == .HEAD ? [] : await errorBody(response)
        let status = Int(response.status.code)
        let kind: RegistryError.Kind = switch status {
        case 401: .unauthorized
        case 403: .denied
        case 404: .notFound
        default: .unexpectedStatus
        }
        var message = RegistryError.message(fromBody: body)
        if message == nil, status == 403 { message = "denied: requested access to the resource is denied" }
        let reason = message == nil ? "\(status) \(response.status.reasonPhrase)" : nil
        return RegistryError(kind, operation: call.operation, request: call.summary, status: status, registryMessage: message,
                             detail: kind == .notFound && message == nil ? "not found" : reason)
    }

    /// Worth another attempt: a timeout or a connection lost midway. A refused connection or a
    /// name that does not resolve will be the same a moment later (Docker does not retry them).
    static func isTransient(_ error: any Error) -> Bool {
        if error is SocketAddressError { return false }
        if let error = error as? IOError, [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH].contains(error.errnoCode) { return false }
        return true
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        return String(describing: error)
    }
}
