import GoCompat
@testable import KubeIngress
import Testing

/// Routing as Kubernetes defines it: hosts exact, then `*.` wildcard (one label), then rules
/// without a host; Prefix by path elements; the longest path wins, Exact before Prefix on a tie;
/// the default backend, else 404; backends and Secrets only from the Ingress's own namespace.
struct IngressRoutesTests {
    static func object(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    static func service(_ namespace: String, _ name: String) -> String {
        #"{"metadata":{"name":"\#(name)","namespace":"\#(namespace)"},"spec":{"ports":[{"name":"http","port":80,"targetPort":8080}]}}"#
    }

    static func endpoints(_ namespace: String, _ name: String, _ ip: String, notReady: String = "10.0.0.99") -> String {
        #"{"metadata":{"name":"\#(name)","namespace":"\#(namespace)"},"subsets":[{"addresses":[{"ip":"\#(ip)"}],"notReadyAddresses":[{"ip":"\#(notReady)"}],"ports":[{"name":"http","port":8080}]}]}"#
    }

    static func backend(_ name: String, port: String = #"{"number":80}"#) -> String {
        #"{"service":{"name":"\#(name)","port":\#(port)}}"#
    }

    static func routes() throws -> IngressRoutes {
        let ingress = try object(#"""
            {"metadata":{"name":"web","namespace":"a","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{
              "defaultBackend":\#(backend("fallback")),
              "rules":[
                {"host":"foo.example.com","http":{"paths":[
                  {"path":"/","pathType":"Prefix","backend":\#(backend("root"))},
                  {"path":"/app","pathType":"Prefix","backend":\#(backend("app", port: #"{"name":"http"}"#))},
                  {"path":"/app","pathType":"Exact","backend":\#(backend("exact"))},
                  {"path":"/app/v2/","pathType":"Prefix","backend":\#(backend("v2"))}]}},
                {"host":"*.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":\#(backend("wild"))}]}},
                {"host":"steal.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":\#(backend("secret"))}]}}],
              "tls":[{"hosts":["foo.example.com"],"secretName":"foo-tls"},{"hosts":["bar.example.com"],"secretName":"b-tls"}]}}
            """#)
        let names = ["root", "app", "exact", "v2", "wild", "fallback"]
        let services = try names.map { try object(service("a", $0)) } + [try object(service("b", "secret"))]
        let endpoints = try names.enumerated().map { try object(Self.endpoints("a", $1, "10.0.0.\($0 + 1)")) } + [try object(Self.endpoints("b", "secret", "10.0.1.1"))]
        let secrets = try [
            object(#"{"metadata":{"name":"foo-tls","namespace":"a"},"type":"kubernetes.io/tls","data":{"tls.crt":"Y2VydA==","tls.key":"a2V5"}}"#),
            object(#"{"metadata":{"name":"b-tls","namespace":"b"},"type":"kubernetes.io/tls","data":{"tls.crt":"Y2VydA==","tls.key":"a2V5"}}"#),
        ]
        return IngressRoutes.make(ingresses: [ingress], services: services, endpoints: endpoints, secrets: secrets)
    }

    static func service(of decision: IngressRoutes.Decision) -> String {
        if case .backend(let backend) = decision { return backend.namespace + "/" + backend.service }
        return "404"
    }

    @Test(arguments: [
        ("foo.example.com", "/", "a/root"), ("FOO.example.com", "/x", "a/root"),
        ("foo.example.com", "/app", "a/exact"), ("foo.example.com", "/app/", "a/app"), ("foo.example.com", "/app/x", "a/app"),
        ("foo.example.com", "/appx", "a/root"), ("foo.example.com", "/app/v2", "a/v2"), ("foo.example.com", "/app/v2/z", "a/v2"),
        ("bar.example.com", "/", "a/wild"), ("a.b.example.com", "/", "a/fallback"), ("example.com", "/", "a/fallback"),
        ("other.test", "/", "a/fallback"),
    ])
    func routesByHostAndPath(host: String, path: String, expected: String) throws {
        #expect(Self.service(of: try Self.routes().route(host: host, path: path)) == expected, "\(host)\(path)")
    }

    @Test func onlyReadyEndpointsOfTheNamedPort() throws {
        guard case .backend(let backend) = try Self.routes().route(host: "foo.example.com", path: "/app/x") else { Issue.record("no backend"); return }
        #expect(backend.endpoints == [IngressRoutes.Endpoint(host: "10.0.0.2", port: 8080)])
    }

    /// A rule naming a Service that exists only in another namespace gets no endpoints there, and a
    /// Secret of another namespace gives no certificate.
    @Test func otherNamespacesAreOutOfReach() throws {
        let routes = try Self.routes()
        guard case .backend(let backend) = routes.route(host: "steal.example.com", path: "/") else { Issue.record("no backend"); return }
        #expect(backend.namespace == "a" && backend.endpoints.isEmpty, "\(backend)")
        #expect(routes.certificate(for: "foo.example.com") != nil)
        #expect(routes.certificate(for: "bar.example.com") == nil, "a Secret of namespace b served for an Ingress of namespace a")
    }

    @Test func withoutRulesOrDefaultEverythingIs404() {
        #expect(IngressRoutes.empty.route(host: "x", path: "/") == .notFound)
    }

    @Test(arguments: [("example.com:8080", "example.com"), ("example.com", "example.com"), ("[::1]:80", "[::1]"), ("[::1]", "[::1]")])
    func hostWithoutPort(given: String, expected: String) {
        #expect(ProxyHandler.withoutPort(given) == expected)
    }
}
