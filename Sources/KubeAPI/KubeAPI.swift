import ContainerSpec
import Engine
import GoCompat
import HTTPServer
import Kube
import KubeModel
import NIOHTTP1

/// The Kubernetes API front end (`berth serve` on https://127.0.0.1:6443): kubectl's contract
/// over the object store. Parses a request, authenticates its bearer token, routes it by path
/// (discovery, or a resource's collection or object), and answers with objects, Tables, watch
/// streams, or `Status` errors.
public final class KubeAPI: Sendable {
    let store: ObjectStore
    let token: [UInt8]
    /// `host:port` as clients reach the server (discovery's serverAddressByClientCIDRs).
    let serverAddress: String
    /// A watch that asked for bookmarks gets one after this long without an event.
    let bookmarkSeconds: Double
    /// Where the local-path provisioner makes volumes (`<root>/kube/volumes`); nil: it makes none.
    let volumesDirectory: String?
    /// What the Node's ephemeral-storage measures (the engine root).
    let root: String
    /// The engine Pods' containers run on (pods/log, exec, attach, portforward); nil serves objects only.
    let engine: Engine?

    /// Headers on every response (the apiserver's: no caching of API answers).
    public static let commonHeaders: [(String, String)] = [("Cache-Control", "no-cache, private")]
    /// The largest request body accepted (the apiserver's limit is 3 MiB).
    static let bodyLimit = 3 << 20

    public init(store: ObjectStore, token: String, serverAddress: String, bookmarkSeconds: Double = 10,
                root: String = "/", volumesDirectory: String? = nil, engine: Engine? = nil) {
        self.store = store
        self.root = root
        self.volumesDirectory = volumesDirectory
        self.engine = engine
        self.bookmarkSeconds = bookmarkSeconds
        self.token = Array(token.utf8)
        self.serverAddress = serverAddress
    }

    public var handler: HTTPHandler {
        { [self] request, writer in serve(request, writer) }
    }

    func serve(_ request: HTTPServerRequest, _ writer: ResponseWriter) {
        var path = request.path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        do throws(KubeStatus) {
            try authenticate(request, path: path)
            try route(request, path: path, writer)
        } catch {
            fail(writer, error)
        }
    }

    // MARK: - Authentication

    /// Paths anyone may read without a token (the apiserver's system:public-info-viewer role).
    static func isPublic(_ path: String) -> Bool {
        path == "/version" || ["/healthz", "/livez", "/readyz"].contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// A bearer token must be ours; without one only public paths answer. A wrong token is 401
    /// everywhere, as the apiserver's authenticator fails before anonymous access is considered.
    func authenticate(_ request: HTTPServerRequest, path: String) throws(KubeStatus) {
        guard let header = request.header("Authorization") else {
            if Self.isPublic(path) { return }
            throw .unauthorized
        }
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else { throw .unauthorized }
        let given = Array(header.dropFirst(prefix.count).utf8)
        // Constant time in the token's length: no early exit on the first differing byte.
        var difference = UInt8(given.count == token.count ? 0 : 1)
        for index in token.indices { difference |= token[index] ^ (index < given.count ? given[index] : 0) }
        guard difference == 0 else { throw .unauthorized }
    }

    // MARK: - Routing

    /// What a resource path names: a kind's collection (in a namespace, or all), or one object.
    struct Target {
        let kind: KubeKind
        let namespace: String?
        let name: String?
        /// `status` (PUT/PATCH/GET of an object's status), or another subresource after the name.
        var subresource: String? = nil

        var description: String {
            var text = kind.resource
            if let namespace { text = "namespaces/\(namespace)/" + text }
            if let name { text += "/" + name }
            if let subresource { text += "/" + subresource }
            return text
        }
    }

    func route(_ request: HTTPServerRequest, path: String, _ writer: ResponseWriter) throws(KubeStatus) {
        switch path {
        case "/version": return try onlyGet(request) { () throws(KubeStatus) in try sendJSON(writer, 200, versionInfo) }
        case "/healthz", "/livez", "/readyz":
            return try onlyGet(request) { () throws(KubeStatus) in writer.send(status: .ok, headers: [("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")], body: Array("ok".utf8)) }
        case "/api", "/apis":
            return try onlyGet(request) { () throws(KubeStatus) in
                if let version = Self.aggregatedDiscovery(request) {
                    return writer.send(status: .ok, headers: [("Content-Type", "application/json;g=apidiscovery.k8s.io;v=\(version);as=APIGroupDiscoveryList")],
                                       body: aggregatedDiscovery(core: path == "/api", version: version).serialized + [10])
                }
                try sendJSON(writer, 200, path == "/api" ? apiVersions : apiGroupList)
            }
        case "/api/v1": return try onlyGet(request) { () throws(KubeStatus) in try sendJSON(writer, 200, resourceList(group: "")) }
        default: break
        }
        if path.hasPrefix("/healthz/") || path.hasPrefix("/livez/") || path.hasPrefix("/readyz/") {
            return writer.send(status: .ok, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array("ok".utf8))
        }
        if path.hasPrefix("/openapi/") { return try openAPI(request, path: path, writer) }
        if try metricsAPI(request, path: path, writer) { return }
        var group = ""
        var version = "v1"
        var parts: [String]
        if path.hasPrefix("/apis/") {
            // /apis/GROUP, /apis/GROUP/VERSION (discovery), /apis/GROUP/VERSION/… (resources).
            let segments = path.dropFirst("/apis/".count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            group = segments[0]
            let versions = KubeKinds.versions(of: group)
            guard !versions.isEmpty else { throw .pathNotFound(path) }
            if segments.count == 1 { return try onlyGet(request) { () throws(KubeStatus) in try sendJSON(writer, 200, apiGroup(group)) } }
            guard versions.contains(segments[1]) else { throw .pathNotFound(path) }
            version = segments[1]
            if segments.count == 2 {
                return try onlyGet(request) { () throws(KubeStatus) in try sendJSON(writer, 200, resourceList(group: group, version: version)) }
            }
            parts = Array(segments.dropFirst(2))
        } else {
            guard path.hasPrefix("/api/v1/") else { throw .pathNotFound(path) }
            parts = path.dropFirst("/api/v1/".count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        }
        // The legacy watch prefix: /api/v1/watch/namespaces/NS/configmaps.
        var watch = false
        if parts.first == "watch" {
            watch = true
            parts.removeFirst()
        }
        if group.isEmpty, try podSubresource(request, parts, writer) { return }
        let target = try resolve(parts, group: group, version: version, path: path)
        try serveResource(request, target, watch: watch || Self.isTrue(request.parameter("watch")), writer)
    }

    /// The target of `/api/v1/<parts>`.
    func resolve(_ parts: [String], group: String = "", version: String = "v1", path: String) throws(KubeStatus) -> Target {
        func kind(_ resource: String) throws(KubeStatus) -> KubeKind {
            guard let kind = KubeKinds.kind(group: group, version: version, resource: resource) else { throw .pathNotFound(path) }
            return kind
        }
        switch parts.count {
        case 1: return Target(kind: try kind(parts[0]), namespace: nil, name: nil)
        case 2:
            let kind = try kind(parts[0])
            guard !kind.namespaced else { throw .pathNotFound(path) }
            return Target(kind: kind, namespace: nil, name: parts[1])
        case 3 where parts[0] == "namespaces":
            let kind = try kind(parts[2])
            guard kind.namespaced else { throw .pathNotFound(path) }
            return Target(kind: kind, namespace: parts[1], name: nil)
        case 4 where parts[0] == "namespaces":
            let kind = try kind(parts[2])
            guard kind.namespaced else { throw .pathNotFound(path) }
            return Target(kind: kind, namespace: parts[1], name: parts[3])
        case 3:
            let kind = try kind(parts[0])
            guard !kind.namespaced, kind.subresources.contains(parts[2]) else { throw .pathNotFound(path) }
            return Target(kind: kind, namespace: nil, name: parts[1], subresource: parts[2])
        case 5 where parts[0] == "namespaces":
            let kind = try kind(parts[2])
            guard kind.namespaced, kind.subresources.contains(parts[4]) else { throw .pathNotFound(path) }
            return Target(kind: kind, namespace: parts[1], name: parts[3], subresource: parts[4])
        default:
            throw .pathNotFound(path)
        }
    }

    func serveResource(_ request: HTTPServerRequest, _ target: Target, watch: Bool, _ writer: ResponseWriter) throws(KubeStatus) {
        let method = request.method
        if target.name == nil {
            switch method {
            case .GET where watch: return try self.watch(request, target, writer)
            case .GET: return try list(request, target, writer)
            case .POST:
                guard !target.kind.namespaced || target.namespace != nil else { throw .methodNotAllowed("POST", target.description) }
                return try create(request, target, writer)
            case .DELETE:
                guard target.kind.verbs.contains("deletecollection") else { throw .methodNotAllowed("DELETE", target.description) }
                return try deleteCollection(request, target, writer)
            default: throw .methodNotAllowed(method.rawValue, target.description)
            }
        }
        if target.subresource == "scale" { return try scale(request, target, writer) }
        if target.subresource != nil && target.subresource != "status" { throw .pathNotFound(request.path) }
        if target.subresource == "status" && ![.GET, .PUT, .PATCH].contains(method) {
            throw .methodNotAllowed(method.rawValue, target.description)
        }
        switch method {
        case .GET: return try get(request, target, writer)
        case .PUT: return try update(request, target, writer)
        case .PATCH: return try patch(request, target, writer)
        case .DELETE: return try delete(request, target, writer)
        default: throw .methodNotAllowed(method.rawValue, target.description)
        }
    }

    func onlyGet(_ request: HTTPServerRequest, _ body: () throws(KubeStatus) -> Void) throws(KubeStatus) {
        guard request.method == .GET || request.method == .HEAD else { throw .methodNotAllowed(request.method.rawValue, request.path) }
        try body()
    }

    static func isTrue(_ value: String?) -> Bool {
        guard let value else { return false }
        return value == "1" || value.lowercased() == "true"
    }

    // MARK: - Content negotiation

    /// How a read answers: the object(s) as JSON, or a Table (meta.k8s.io v1 or v1beta1).
    enum Representation: Equatable { case json, table(version: String) }

    /// The first representation in `Accept` that the server can give (clients list theirs in
    /// preference order); 406 when there is none.
    func representation(_ request: HTTPServerRequest, tables: Bool) throws(KubeStatus) -> Representation {
        guard let accept = request.header("Accept"), !accept.isEmpty else { return .json }
        for item in accept.split(separator: ",") {
            let fields = item.split(separator: ";").map { String($0).trimmingCharacters }
            guard let type = fields.first?.lowercased() else { continue }
            var parameters: [String: String] = [:]
            for field in fields.dropFirst() {
                let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { parameters[pair[0].lowercased()] = pair[1] }
            }
            guard type == "application/json" || type == "*/*" || type == "application/*" else { continue }
            switch parameters["as"] {
            case nil: return .json
            case "Table" where tables && parameters["g"] == "meta.k8s.io" && (parameters["v"] == "v1" || parameters["v"] == "v1beta1"):
                return .table(version: parameters["v"]!)
            default: continue
            }
        }
        throw .notAcceptable(accept)
    }

    // MARK: - Responses

    func sendJSON(_ writer: ResponseWriter, _ code: Int, _ value: JSONValue, warnings: [String] = []) throws(KubeStatus) {
        send(writer, code, value.serialized, warnings: warnings)
    }

    func send(_ writer: ResponseWriter, _ code: Int, _ body: [UInt8], warnings: [String] = []) {
        var headers = [("Content-Type", "application/json")]
        // RFC 7234 warnings, as the apiserver sends them and kubectl prints them ("Warning: …").
        // One header holding them all: the server's header list keeps one value per name.
        if !warnings.isEmpty { headers.append(("Warning", warnings.map { "299 - " + FieldErrorText.quote($0) }.joined(separator: ", "))) }
        writer.send(status: HTTPResponseStatus(statusCode: code), headers: headers, body: body + [10])
    }

    func fail(_ writer: ResponseWriter, _ status: KubeStatus) {
        if writer.hasStarted { return }
        send(writer, status.code, status.json.serialized)
    }

    /// An error from the store, as the API says it for `target`.
    func status(_ error: EngineError, _ target: Target, name: String? = nil, creating: Bool = false) -> KubeStatus {
        let name = name ?? target.name ?? ""
        switch error.kind {
        case .notFound: return .notFound(target.kind, name)
        case .conflict: return creating ? .alreadyExists(target.kind, name) : .conflict(target.kind, name, KubeStatus.modifiedDetail)
        case .invalidArgument: return .badRequest(error.message)
        case .expired: return KubeStatus(code: 410, reason: "Expired", message: error.message)
        case .forbidden: return KubeStatus(code: 403, reason: "Forbidden", message: error.message)
        case .unavailable: return KubeStatus(code: 503, reason: "ServiceUnavailable", message: error.message)
        case .internal: return .internalError(error.message)
        }
    }

    /// The request body as JSON: sent as JSON (kubectl sends JSON, also for YAML manifests), YAML or protobuf.
    func readBody(_ request: HTTPServerRequest) throws(KubeStatus) -> JSONValue {
        let bytes: [UInt8]
        do { bytes = try request.body.readAll(limit: Self.bodyLimit) } catch {
            switch error {
            case .tooLarge(let limit): throw .tooLarge(limit)
            case .incomplete: throw .badRequest("the request body ended early")
            }
        }
        let type = (request.header("Content-Type") ?? "application/json").split(separator: ";").first.map { String($0).trimmingCharacters.lowercased() } ?? ""
        if type == "application/vnd.kubernetes.protobuf" { return try KubeProtobuf.decode(bytes) }
        if type == "application/yaml" { return try KubeYAML.parse(bytes) }
        if type.contains("yaml") || type.contains("protobuf") || type.contains("cbor") {
            throw .unsupportedMediaType(type)
        }
        do { return try JSONParser.parse(bytes) } catch {
            throw .badRequest("the request body is not valid JSON: \(error.message) (at byte \(error.offset))")
        }
    }

    /// A body that may be JSON or YAML (an apply configuration): JSON when it parses as JSON,
    /// else YAML, whose errors name the line and column.
    static func jsonOrYAML(_ bytes: [UInt8]) throws(KubeStatus) -> JSONValue {
        if let first = bytes.first(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }), first == UInt8(ascii: "{"),
           let value = try? JSONParser.parse(bytes) {
            return value
        }
        return try KubeYAML.parse(bytes)
    }
}

/// Quoting for Warning headers and messages.
enum FieldErrorText {
    static func quote(_ text: String) -> String {
        "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }
}

extension String {
    var trimmingCharacters: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
