import Synchronization

/// A bearer token and the moment it should no longer be sent.
struct BearerToken: Sendable {
    var value: String
    var validUntil: ContinuousClock.Instant
}

/// What the client has learned about each registry's auth: the challenge it answered with (so later
/// requests carry credentials from the start instead of paying a 401 each), and bearer tokens per
/// (registry, scope) until they expire. Concurrent requests for the same scope share one token request.
final class TokenCache: Sendable {
    struct Key: Hashable, Sendable {
        var registry: String
        var scope: String
    }

    private enum Entry: Sendable {
        case ready(BearerToken)
        case pending(Task<BearerToken, any Error>, id: UInt64)
    }

    private struct State: Sendable {
        var challenges: [String: AuthChallenge] = [:]
        var tokens: [Key: Entry] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    func challenge(for registry: String) -> AuthChallenge? {
        state.withLock { $0.challenges[registry] }
    }

    func setChallenge(_ challenge: AuthChallenge, for registry: String) {
        state.withLock { $0.challenges[registry] = challenge }
    }

    /// Drops a token the registry refused (a pending request is left to finish for its waiters).
    func invalidate(_ key: Key) {
        state.withLock { state in
            if case .ready = state.tokens[key] { state.tokens[key] = nil }
        }
    }

    /// The cached token for `key`, or the one `fetch` gets (once, however many callers wait for it).
    func token(for key: Key, fetch: @escaping @Sendable () async throws -> BearerToken) async throws -> String {
        enum Found: Sendable { case token(String), wait(Task<BearerToken, any Error>, UInt64) }
        let found: Found = state.withLock { state in
            switch state.tokens[key] {
            case .ready(let token) where token.validUntil > .now:
                return .token(token.value)
            case .pending(let task, let id):
                return .wait(task, id)
            case .ready, nil:
                let id = state.nextID
                state.nextID += 1
                let task = Task { try await fetch() }
                state.tokens[key] = .pending(task, id: id)
                return .wait(task, id)
            }
        }
        switch found {
        case .token(let value):
            return value
        case .wait(let task, let id):
            do {
                let token = try await task.value
                state.withLock { state in
                    if case .pending(_, let current) = state.tokens[key], current == id { state.tokens[key] = .ready(token) }
                }
                return token.value
            } catch {
                state.withLock { state in
                    if case .pending(_, let current) = state.tokens[key], current == id { state.tokens[key] = nil }
                }
                throw error
            }
        }
    }

    /// How long a token is used: its lifetime less a margin, so it never expires in flight.
    static func validity(expiresIn: Int?) -> Duration {
        let lifetime = max(expiresIn ?? 60, 1)
        let margin = min(30, max(lifetime / 10, 5))
        return .seconds(max(lifetime - margin, lifetime / 2))
    }
}
