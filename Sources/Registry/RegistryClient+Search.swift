import AsyncHTTPClient
import NIOHTTP1
import OCI

/// One repository a registry's search found: Docker's `registry.SearchResult`, in its JSON (what
/// `GET /images/search` answers, and what the registry's `/v1/search` sends).
public struct SearchResult: Codable, Sendable, Equatable {
    public var starCount: Int
    public var isOfficial: Bool
    public var name: String
    public var isAutomated: Bool
    public var description: String

    public init(name: String, description: String = "", starCount: Int = 0, isOfficial: Bool = false, isAutomated: Bool = false) {
        self.name = name
        self.description = description
        self.starCount = starCount
        self.isOfficial = isOfficial
        self.isAutomated = isAutomated
    }

    enum CodingKeys: String, CodingKey {
        case starCount = "star_count", isOfficial = "is_official", name, isAutomated = "is_automated", description
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        starCount = try c.decodeIfPresent(Int.self, forKey: .starCount) ?? 0
        isOfficial = try c.decodeIfPresent(Bool.self, forKey: .isOfficial) ?? false
        isAutomated = try c.decodeIfPresent(Bool.self, forKey: .isAutomated) ?? false
    }
}

extension RegistryClient {
    /// Docker's default and largest `--limit`.
    public static let defaultSearchLimit = 25
    public static let searchLimits = 1...100

    /// Docker's reading of a search term: `host[:port]/name` (a first part with a dot or a colon, or
    /// `localhost`) searches that registry for `name`; anything else searches Docker Hub.
    public static func searchTarget(_ term: String) -> (registry: String, term: String) {
        let parts = term.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, parts[0].contains(".") || parts[0].contains(":") || parts[0] == "localhost" else {
            return (ImageReference.dockerHub, term)
        }
        let registry = ["index.docker.io", "registry-1.docker.io", "docker.io"].contains(parts[0]) ? ImageReference.dockerHub : parts[0]
        return (registry, parts[1])
    }

    /// Searches the registry `term` names (`GET /v1/search?q=…&n=…`, the only search API registries
    /// have; Docker Hub's is served by index.docker.io), as dockerd does: results as the registry
    /// orders them, unfiltered. A registry without the endpoint (distribution has none) answers
    /// 404: a `.notFound` error with that status.
    public func search(_ term: String, limit: Int = RegistryClient.defaultSearchLimit) async throws -> [SearchResult] {
        let (registry, query) = Self.searchTarget(term)
        let operation = "search \(registry) for \"\(query)\""
        guard Self.searchLimits.contains(limit) else {
            throw RegistryError(.local, operation: operation, detail: "limit \(limit) is outside the range of [1, 100]")
        }
        let base = registry == ImageReference.dockerHub ? "https://index.docker.io" : baseURL(registry)
        let name = registry == ImageReference.dockerHub && query.hasPrefix("library/") ? String(query.dropFirst(8)) : query
        // Go's url.QueryEscape, as dockerd sends it: a space is "+".
        let url = "\(base)/v1/search?q=\(Self.percentEncoded(name).replacing("%20", with: "+"))&n=\(limit)"
        var call = Call(operation: operation, method: .GET, url: url, idempotent: true, registry: registry)
        call.headers.add(name: "Accept", value: "application/json")
        let response = try await send(call)
        guard response.status == .ok else {
            var error = await failure(response, call)
            if response.status == .notFound {
                error.registryMessage = nil
                error.detail = "the registry has no search endpoint"
            }
            throw error
        }
        struct Answer: Decodable { var results: [SearchResult]? }
        let bytes = try await collect(response, call, limit: 16 << 20)
        do { return try JSONTreeDecoder.decode(Answer.self, from: bytes).results ?? [] } catch {
            throw RegistryError(.invalidResponse, operation: operation, request: call.summary, status: 200,
                                detail: "the search results are not the expected JSON: \(error)")
        }
    }
}
