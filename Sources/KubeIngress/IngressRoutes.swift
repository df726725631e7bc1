import FoundationEssentials
import GoCompat
import Kube
import KubeModel

/// What the proxy routes by, made from the store's Ingresses (of Berth's class), Services, Endpoints
/// and Secrets at one revision. Immutable: the controller makes a new one on each change and the
/// proxy reads the current one per request, so a change never touches an open connection.
public struct IngressRoutes: Sendable {
    /// A backend as the Ingress names it, resolved in the Ingress's own namespace only.
    public struct Backend: Sendable, Equatable {
        public let namespace: String
        public let service: String
        /// The Service's ready endpoints for the port asked for (ip, port).
        public let endpoints: [Endpoint]
    }

    public struct Endpoint: Sendable, Equatable {
        public let host: String
        public let port: Int
    }

    enum PathType: Sendable { case exact, prefix }

    struct PathRule: Sendable {
        let path: String
        let type: PathType
        let backend: Backend
    }

    /// A certificate and key in PEM, from a Secret of type kubernetes.io/tls.
    public struct Certificate: Sendable, Hashable {
        public let chain: [UInt8]
        public let key: [UInt8]
    }

    public enum Decision: Sendable, Equatable {
        case backend(Backend)
        /// No rule and no default backend (ingress-nginx's default backend answers 404).
        case notFound
    }

    /// Paths by host: exact hosts, `*.suffix` wildcards (keyed by the suffix, with its dot), and
    /// the rules without a host (every host).
    var exactHosts: [String: [PathRule]] = [:]
    var wildcardHosts: [String: [PathRule]] = [:]
    var anyHost: [PathRule] = []
    var defaultBackend: Backend?
    /// TLS certificates by host (exact or `*.suffix`).
    var certificates: [String: Certificate] = [:]

    public static let empty = IngressRoutes()

    /// Where a request for `host` (no port, any case) and `path` (no query) goes: the rules of the
    /// exact host, else of a matching wildcard, else those without a host; the longest matching
    /// path wins (Exact before Prefix on a tie); no match: the default backend, else 404.
    public func route(host: String, path: String) -> Decision {
        let host = host.lowercased()
        var groups: [[PathRule]] = []
        if let rules = exactHosts[host] { groups.append(rules) }
        if let dot = host.firstIndex(of: "."), let rules = wildcardHosts[String(host[dot...])] { groups.append(rules) }
        groups.append(anyHost)
        for rules in groups {
            if let best = Self.longestMatch(rules, path) { return .backend(best.backend) }
        }
        if let defaultBackend { return .backend(defaultBackend) }
        return .notFound
    }

    /// The certificate for a TLS server name (exact, then `*.` wildcard for one label).
    public func certificate(for serverName: String?) -> Certificate? {
        guard let name = serverName?.lowercased() else { return nil }
        if let exact = certificates[name] { return exact }
        if let dot = name.firstIndex(of: ".") { return certificates["*" + name[dot...]] }
        return nil
    }

    static func longestMatch(_ rules: [PathRule], _ path: String) -> PathRule? {
        var best: PathRule?
        for rule in rules where matches(rule, path) {
            guard let current = best else { best = rule; continue }
            if rule.path.count > current.path.count || (rule.path.count == current.path.count && rule.type == .exact && current.type == .prefix) {
                best = rule
            }
        }
        return best
    }

    /// Exact: the same string. Prefix: by path elements split on `/` (a trailing slash ignored),
    /// so `/foo` matches `/foo`, `/foo/` and `/foo/bar` but not `/foobar`.
    static func matches(_ rule: PathRule, _ path: String) -> Bool {
        switch rule.type {
        case .exact:
            return path == rule.path
        case .prefix:
            let prefix = rule.path.split(separator: "/")
            if prefix.isEmpty { return true }
            let elements = path.split(separator: "/")
            return elements.count >= prefix.count && zip(prefix, elements).allSatisfy { $0 == $1 }
        }
    }

    /// The routes for the Ingresses given (already those of Berth's class), oldest first so an
    /// older Ingress keeps a host and path a newer one also claims (as ingress-nginx does).
    public static func make(ingresses: [JSONValue], services: [JSONValue], endpoints: [JSONValue], secrets: [JSONValue]) -> IngressRoutes {
        func key(_ object: JSONValue) -> String { (object.metadataString("namespace") ?? "") + "/" + (object.metadataString("name") ?? "") }
        let servicesByKey = Dictionary(services.map { (key($0), $0) }) { first, _ in first }
        let endpointsByKey = Dictionary(endpoints.map { (key($0), $0) }) { first, _ in first }
        let secretsByKey = Dictionary(secrets.map { (key($0), $0) }) { first, _ in first }
        var routes = IngressRoutes()
        let ordered = ingresses.sorted {
            ($0.metadataString("creationTimestamp") ?? "", key($0)) < ($1.metadataString("creationTimestamp") ?? "", key($1))
        }
        for ingress in ordered {
            let namespace = ingress.metadataString("namespace") ?? "default"
            let spec = ingress[member: "spec"]
            // Every lookup below is in the Ingress's namespace: a rule can only reach its own Services and Secrets.
            func backend(_ value: JSONValue?) -> Backend? {
                guard let service = value?[member: "service"], let name = service[member: "name"]?.stringValue else { return nil }
                return Backend(namespace: namespace, service: name,
                               endpoints: readyEndpoints(service: servicesByKey[namespace + "/" + name], endpoints: endpointsByKey[namespace + "/" + name],
                                                         port: service[member: "port"]))
            }
            if routes.defaultBackend == nil, let value = spec?[member: "defaultBackend"], let found = backend(value) {
                routes.defaultBackend = found
            }
            for rule in spec?[member: "rules"]?.arrayItems ?? [] {
                let host = (rule[member: "host"]?.stringValue ?? "").lowercased()
                for entry in rule[member: "http"]?[member: "paths"]?.arrayItems ?? [] {
                    guard let target = backend(entry[member: "backend"]) else { continue }
                    var path = entry[member: "path"]?.stringValue ?? ""
                    if path.isEmpty { path = "/" }
                    let type: PathType = entry[member: "pathType"]?.stringValue == "Exact" ? .exact : .prefix
                    let made = PathRule(path: path, type: type, backend: target)
                    func add(_ list: inout [PathRule]) {
                        // The first (oldest) Ingress keeps a path another one repeats.
                        if !list.contains(where: { $0.path == path && $0.type == type }) { list.append(made) }
                    }
                    if host.isEmpty {
                        add(&routes.anyHost)
                    } else if host.hasPrefix("*.") {
                        add(&routes.wildcardHosts[String(host.dropFirst()), default: []])
                    } else {
                        add(&routes.exactHosts[host, default: []])
                    }
                }
            }
            for tls in spec?[member: "tls"]?.arrayItems ?? [] {
                guard let secretName = tls[member: "secretName"]?.stringValue,
                      let certificate = tlsCertificate(secretsByKey[namespace + "/" + secretName]) else { continue }
                for host in (tls[member: "hosts"]?.arrayItems ?? []).compactMap(\.stringValue) where routes.certificates[host.lowercased()] == nil {
                    routes.certificates[host.lowercased()] = certificate
                }
            }
        }
        return routes
    }

    /// The ready addresses of a Service's Endpoints for the Service port named by number or name
    /// (Endpoints name their ports after the Service's). None for a missing Service or an
    /// ExternalName one (which would lead out of the namespace).
    static func readyEndpoints(service: JSONValue?, endpoints: JSONValue?, port: JSONValue?) -> [Endpoint] {
        guard let service, service[member: "spec"]?[member: "type"]?.stringValue != "ExternalName", let endpoints else { return [] }
        let ports = service[member: "spec"]?[member: "ports"]?.arrayItems ?? []
        let servicePort: JSONValue?
        if let number = port?[member: "number"]?.intValue, number != 0 {
            servicePort = ports.first { $0[member: "port"]?.intValue == number }
        } else if let name = port?[member: "name"]?.stringValue {
            servicePort = ports.first { $0[member: "name"]?.stringValue == name }
        } else {
            servicePort = nil
        }
        guard let servicePort else { return [] }
        let portName = servicePort[member: "name"]?.stringValue ?? ""
        var found: [Endpoint] = []
        for subset in endpoints[member: "subsets"]?.arrayItems ?? [] {
            let subsetPorts = subset[member: "ports"]?.arrayItems ?? []
            let match = subsetPorts.first { ($0[member: "name"]?.stringValue ?? "") == portName }
                ?? (subsetPorts.count == 1 && portName.isEmpty ? subsetPorts.first : nil)
            guard let number = match?[member: "port"]?.intValue else { continue }
            for address in subset[member: "addresses"]?.arrayItems ?? [] {
                if let ip = address[member: "ip"]?.stringValue { found.append(Endpoint(host: ip, port: number)) }
            }
        }
        return found
    }

    /// A Secret of type kubernetes.io/tls's tls.crt and tls.key, decoded.
    static func tlsCertificate(_ secret: JSONValue?) -> Certificate? {
        guard let secret, secret[member: "type"]?.stringValue == "kubernetes.io/tls",
              let chain = secret[member: "data"]?[member: "tls.crt"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
              let key = secret[member: "data"]?[member: "tls.key"]?.stringValue.flatMap({ Data(base64Encoded: $0) }) else { return nil }
        return Certificate(chain: Array(chain), key: Array(key))
    }
}
