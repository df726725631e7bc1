import Crypto
import Glibc
import GoCompat
import HTTPServer
import KubeModel

/// Discovery: what the server is and serves (`/version`, `/api`, `/apis`, `/api/v1`), and the
/// OpenAPI v3 documents kubectl reads to learn that the server validates fields itself.
extension KubeAPI {
    /// The Kubernetes version whose API this is.
    static let major = "1", minor = "33"

    var versionInfo: JSONValue {
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let architecture = ["x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"][machine] ?? machine
        return .ordered([
            ("major", .string(Self.major)), ("minor", .string(Self.minor)), ("emulationMajor", .string(Self.major)),
            ("emulationMinor", .string(Self.minor)), ("minCompatibilityMajor", .string(Self.major)),
            ("minCompatibilityMinor", .string(String(Int(Self.minor)! - 1))),
            ("gitVersion", .string("v\(Self.major).\(Self.minor).0+berth")), ("gitCommit", .string("")),
            ("gitTreeState", .string("clean")), ("buildDate", .string("")), ("goVersion", .string("")),
            ("compiler", .string("swift")), ("platform", .string("linux/" + architecture)),
        ])
    }

    var apiVersions: JSONValue {
        .ordered([
            ("kind", .string("APIVersions")), ("versions", .array([.string("v1")])),
            ("serverAddressByClientCIDRs", .array([.ordered([("clientCIDR", .string("0.0.0.0/0")), ("serverAddress", .string(serverAddress))])])),
        ])
    }

    /// The groups besides the core one: metrics.k8s.io (kubectl top). kubectl ≥ 1.30 asks for
    /// aggregated discovery first and takes this plain list when the answer's Content-Type says it is one.
    var apiGroupList: JSONValue {
        .ordered([("kind", .string("APIGroupList")), ("apiVersion", .string("v1")), ("groups", .array([Self.metricsGroupEntry]))])
    }

    var coreResourceList: JSONValue {
        let resources: [JSONValue] = KubeKinds.all.filter { $0.group.isEmpty }.map { kind -> [JSONValue] in
            var members: [(String, JSONValue)] = [
                ("name", .string(kind.resource)), ("singularName", .string(kind.singular)), ("namespaced", .bool(kind.namespaced)),
                ("kind", .string(kind.kind)), ("verbs", .array(kind.verbs.map { .string($0) })),
            ]
            if !kind.shortNames.isEmpty { members.append(("shortNames", .array(kind.shortNames.map { .string($0) }))) }
            members.append(("storageVersionHash", .string(Self.storageVersionHash(kind))))
            return [.ordered(members)] + Self.subresources(of: kind)
        }.flatMap { $0 }
        return .ordered([("kind", .string("APIResourceList")), ("groupVersion", .string("v1")), ("resources", .array(resources))])
    }

    /// A kind's subresources as the apiserver lists them after it: the Pod's streams.
    static func subresources(of kind: KubeKind) -> [JSONValue] {
        guard kind.kind == "Pod" else { return [] }
        return [("attach", "PodAttachOptions", ["create", "get"]), ("exec", "PodExecOptions", ["create", "get"]), ("log", "Pod", ["get"]),
                ("portforward", "PodPortForwardOptions", ["create", "get"])].map { name, subkind, verbs in
            .ordered([("name", .string("pods/" + name)), ("singularName", .string("")), ("namespaced", .bool(true)), ("kind", .string(subkind)),
                      ("verbs", .array(verbs.map { .string($0) }))])
        }
    }

    /// The apiserver's hash of a kind's storage version: clients only compare it for change.
    static func storageVersionHash(_ kind: KubeKind) -> String {
        let digest = SHA256.hash(data: Array("\(kind.group)/\(kind.version)/\(kind.kind)".utf8))
        return String(GoBase64.encode(Array(digest.prefix(8))).prefix(11))
    }

    // MARK: - OpenAPI

    /// `/openapi/v2` (protobuf) is what kubectl ≤ 1.29 reads; `/openapi/v3` lists a document per group-version; `/openapi/v3/api/v1` is the core group's.
    /// Each kind's PATCH operation names its kind and takes `fieldValidation`: that is how kubectl
    /// (`--validate=strict`, the default) learns the server validates fields, and it then sends
    /// `fieldValidation=Strict` instead of validating against the schema itself.
    func openAPI(_ request: HTTPServerRequest, path: String, _ writer: ResponseWriter) throws(KubeStatus) {
        try onlyGet(request) { () throws(KubeStatus) in
            switch path {
            case "/openapi/v3":
                let document = openAPICore.serialized
                let hash = SHA256.hash(data: document).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined().uppercased()
                try sendJSON(writer, 200, .ordered([("paths", .ordered([
                    ("api/v1", .ordered([("serverRelativeURL", .string("/openapi/v3/api/v1?hash=" + hash))])),
                ]))]))
            case "/openapi/v3/api/v1":
                send(writer, 200, openAPICore.serialized)
            case "/openapi/v2":
                writer.send(status: .ok, headers: [("Content-Type", OpenAPIV2.contentType)],
                            body: OpenAPIV2.document(version: "v\(Self.major).\(Self.minor).0+berth"))
            default:
                throw .pathNotFound(path)
            }
        }
    }

    var openAPICore: JSONValue {
        var paths: [(String, JSONValue)] = []
        for kind in KubeKinds.all where kind.group.isEmpty {
            let gvk = JSONValue.ordered([("group", .string(kind.group)), ("version", .string(kind.version)), ("kind", .string(kind.kind))])
            func parameter(_ name: String, _ place: String) -> JSONValue {
                .ordered([("name", .string(name)), ("in", .string(place)), ("schema", .ordered([("type", .string("string"))])),
                          ("required", .bool(place == "path"))])
            }
            let query = ["dryRun", "fieldManager", "fieldValidation"].map { parameter($0, "query") }
            let reference = JSONValue.ordered([("$ref", .string("#/components/schemas/io.k8s.api.core.v1.\(kind.kind)"))])
            func operation(_ action: String, _ id: String, _ extra: [JSONValue] = [], body: Bool) -> JSONValue {
                var members: [(String, JSONValue)] = [("operationId", .string(id + "CoreV1" + (kind.namespaced ? "Namespaced" : "") + kind.kind))]
                members.append(("parameters", .array(extra)))
                if body {
                    members.append(("requestBody", .ordered([("content", .ordered([("application/json", .ordered([("schema", reference)]))]))])))
                }
                members.append(("responses", .ordered([("200", .ordered([("description", .string("OK")), ("content", .ordered([
                    ("application/json", .ordered([("schema", reference)])),
                ]))]))])))
                members.append(("x-kubernetes-action", .string(action)))
                members.append(("x-kubernetes-group-version-kind", gvk))
                return .ordered(members)
            }
            let collection = kind.namespaced ? "/api/v1/namespaces/{namespace}/\(kind.resource)" : "/api/v1/\(kind.resource)"
            let scope = kind.namespaced ? [parameter("namespace", "path")] : []
            paths.append((collection, .ordered([
                ("get", operation("list", "list", body: false)),
                ("post", operation("post", "create", query, body: true)),
                ("parameters", .array(scope)),
            ])))
            paths.append((collection + "/{name}", .ordered([
                ("get", operation("get", "read", body: false)),
                ("put", operation("put", "replace", query, body: true)),
                ("patch", operation("patch", "patch", query + [parameter("force", "query")], body: true)),
                ("delete", operation("delete", "delete", [parameter("dryRun", "query")], body: false)),
                ("parameters", .array(scope + [parameter("name", "path")])),
            ])))
        }
        var schemas: [(String, JSONValue)] = []
        for kind in KubeKinds.all where kind.group.isEmpty {
            schemas.append(("io.k8s.api.core.v1.\(kind.kind)", .ordered([
                ("type", .string("object")),
                ("x-kubernetes-group-version-kind", .array([.ordered([("group", .string(kind.group)), ("version", .string(kind.version)),
                                                                       ("kind", .string(kind.kind))])])),
            ])))
        }
        return .ordered([
            ("openapi", .string("3.0.0")),
            ("info", .ordered([("title", .string("Kubernetes")), ("version", .string("v\(Self.major).\(Self.minor).0+berth"))])),
            ("paths", .ordered(paths)),
            ("components", .ordered([("schemas", .ordered(schemas))])),
        ])
    }
}
