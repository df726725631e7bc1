import ContainerRuntime
import ContainerSpec
import GoCompat
import DockerModel
import Engine
import HTTPServer
import NIOHTTP1

/// The Docker Engine API over Berth's engine: what `docker`, docker-py and compose speak. A front
/// end like BerthCLI: each handler parses the request, calls the engine, and answers with a
/// DockerModel object, so `GET /containers/{id}/json` and `berth inspect` show the same thing.
/// The engine is daemonless, so containers made here and by the CLI are the same containers.
public final class DockerAPI: Sendable {
    /// The newest API version served, and the oldest (Docker 28's range).
    public static let apiVersion = SystemVersion.apiVersion
    public static let minAPIVersion = SystemVersion.minimumAPIVersion

    let engine: Engine
    let attaches = PendingAttaches()
    let execs = ExecRegistry()
    /// Exit codes seen by launcher attaches, for `wait?condition=removed` after a `--rm`.
    let exitCodes = ExitCodes()
    let routes: [Route]

    public init(engine: Engine) {
        self.engine = engine
        var routes: [Route] = []
        routes += Self.systemRoutes
        routes += Self.containerRoutes
        routes += Self.streamRoutes
        routes += Self.imageRoutes + Self.registryRoutes
        routes += Self.extraRoutes
        routes += Self.commitRoutes
        routes += Self.networkRoutes + Self.volumeRoutes + Self.execRoutes + Self.statsRoutes + Self.archiveRoutes
        self.routes = routes
    }

    /// The headers on every answer, as dockerd sends them.
    public static var commonHeaders: [(String, String)] {
        [("Api-Version", apiVersion), ("Docker-Experimental", "false"), ("Ostype", "linux"),
         ("Server", "Docker/\(berthVersion) (linux)")]
    }

    /// The server's handler: strips the `/vX.Y` prefix, checks the version, finds the route.
    public var handler: HTTPHandler {
        { [self] request, writer in self.handle(request, writer) }
    }

    func handle(_ request: HTTPServerRequest, _ writer: ResponseWriter) {
        var path = request.path
        var version = Self.apiVersion
        if let (requested, rest) = Self.splitVersion(path) {
            if Self.compare(requested, Self.minAPIVersion) < 0 {
                writer.error(EngineError.invalid("client version \(requested) is too old. Minimum supported API version is \(Self.minAPIVersion), please upgrade your client to a newer version"))
                return
            }
            if Self.compare(requested, Self.apiVersion) > 0 {
                writer.error(EngineError.invalid("client version \(requested) is too new. Maximum supported API version is \(Self.apiVersion)"))
                return
            }
            version = requested
            path = rest
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var methodMatched = false
        for route in routes {
            guard let parameters = route.match(segments) else { continue }
            methodMatched = true
            guard route.methods.contains(request.method) || (request.method == .HEAD && route.methods.contains(.GET)) else { continue }
            let call = APICall(request: request, writer: writer, parameters: parameters, version: version)
            do {
                try route.handler(self, call)
            } catch {
                if writer.hasStarted { return }
                writer.error(error)
            }
            return
        }
        if methodMatched {
            writer.error(EngineError(.invalidArgument, "method \(request.method.rawValue) is not allowed for \(path)"), status: .methodNotAllowed)
        } else {
            writer.error(EngineError.notFound("page not found"))
        }
    }

    /// `/v1.43/containers/json` → ("1.43", "/containers/json").
    static func splitVersion(_ path: String) -> (String, String)? {
        guard path.hasPrefix("/v") else { return nil }
        let afterV = path.dropFirst(2)
        let versionEnd = afterV.firstIndex(of: "/") ?? afterV.endIndex
        let version = afterV[..<versionEnd]
        guard !version.isEmpty, version.allSatisfy({ $0.isNumber || $0 == "." }), version.first!.isNumber else { return nil }
        return (String(version), String(afterV[versionEnd...]))
    }

    /// Compares dotted versions numerically ("1.9" < "1.24").
    static func compare(_ a: String, _ b: String) -> Int {
        let left = a.split(separator: ".").map { Int($0) ?? 0 }
        let right = b.split(separator: ".").map { Int($0) ?? 0 }
        for index in 0..<max(left.count, right.count) {
            let x = index < left.count ? left[index] : 0
            let y = index < right.count ? right[index] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }
}

/// One route: methods, a path pattern (`containers/{id}/json`; `{name*}` takes the rest, for image
/// names with slashes) and its handler.
struct Route: Sendable {
    let methods: [HTTPMethod]
    let pattern: [String]
    let handler: @Sendable (DockerAPI, APICall) throws -> Void

    init(_ methods: [HTTPMethod], _ pattern: String, _ handler: @escaping @Sendable (DockerAPI, APICall) throws -> Void) {
        self.methods = methods
        self.pattern = pattern.split(separator: "/").map(String.init)
        self.handler = handler
    }

    init(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping @Sendable (DockerAPI, APICall) throws -> Void) {
        self.init([method], pattern, handler)
    }

    func match(_ segments: [String]) -> [String: String]? {
        var parameters: [String: String] = [:]
        var index = 0
        for (position, part) in pattern.enumerated() {
            if part.hasPrefix("{") && part.hasSuffix("*}") {
                // A greedy name: everything up to the pattern's remaining fixed suffix.
                let suffix = Array(pattern[(position + 1)...])
                guard segments.count - index > suffix.count else { return nil }
                let end = segments.count - suffix.count
                guard Array(segments[end...]) == suffix else { return nil }
                parameters[String(part.dropFirst().dropLast(2))] = segments[index..<end].joined(separator: "/")
                return parameters
            }
            guard index < segments.count else { return nil }
            if part.hasPrefix("{") && part.hasSuffix("}") {
                parameters[String(part.dropFirst().dropLast())] = segments[index]
            } else if part != segments[index] {
                return nil
            }
            index += 1
        }
        return index == segments.count ? parameters : nil
    }
}

/// A request with its route's parameters.
struct APICall: Sendable {
    let request: HTTPServerRequest
    let writer: ResponseWriter
    let parameters: [String: String]
    /// The API version the client asked for (the newest when it named none).
    let version: String

    func parameter(_ name: String) -> String { parameters[name] ?? "" }
    func query(_ name: String) -> String? { request.parameter(name) }

    /// Go's strconv.ParseBool on a query parameter ("1", "true", "True" …); absent or empty = false.
    func flag(_ name: String, default value: Bool = false) throws(EngineError) -> Bool {
        guard let text = query(name), !text.isEmpty else { return value }
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: throw .invalid("invalid value for \(name): strconv.ParseBool: parsing \(GoStrconv.quote(text)): invalid syntax")
        }
    }

    func integer(_ name: String) throws(EngineError) -> Int? {
        guard let text = query(name), !text.isEmpty else { return nil }
        guard let value = Int(text) else {
            throw .invalid("invalid value for \(name): strconv.Atoi: parsing \(GoStrconv.quote(text)): invalid syntax")
        }
        return value
    }

    /// The API version is at least `version`.
    func atLeast(_ version: String) -> Bool { DockerAPI.compare(self.version, version) >= 0 }
}
