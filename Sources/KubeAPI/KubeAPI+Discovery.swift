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

    /// The named groups (storage.k8s.io). kubectl ≥ 1.30 asks for aggregated discovery first
    /// and takes this plain list when the answer's Content-Type says it is one.
    var apiGroupList: JSONValue {
        var names: [String] = []
        for kind in KubeKinds.all where !kind.group.isEmpty && !names.contains(kind.group) { names.append(kind.group) }
        return .ordered([("kind", .string("APIGroupList")), ("apiVersion", .string("v1")),
                         ("groups", .array(names.map { Self.groupEntry($0) } + [Self.metricsGroupEntry]))])
    }

    /// The aggregated discovery version `Accept` asks for first (v2, or v2beta1 as kubectl
    /// 1.27–1.29 ask), nil when the client wants the plain lists.
    static func aggregatedDiscovery(_ request: HTTPServerRequest) -> String? {
        for item in (request.header("Accept") ?? "").split(separator: ",") {
            let fields = item.split(separator: ";").map { String($0).trimmingCharacters }
            guard fields.first == "application/json" else { continue }
            var parameters: [String: String] = [:]
            for field in fields.dropFirst() {
                let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { parameters[pair[0]] = pair[1] }
            }
            if parameters["g"] == "apidiscovery.k8s.io", parameters["as"] == "APIGroupDiscoveryList",
               let version = parameters["v"], version == "v2" || version == "v2beta1" {
                return version
            }
            if parameters["g"] == nil { return nil }
        }
        return nil
    }

    /// APIGroupDiscoveryList: the core group (`/api`) or the named groups (`/apis`), each with
    /// its resources, in one answer.
    func aggregatedDiscovery(core: Bool, version: String) -> JSONValue {
        let groups = core ? [""] : Self.groups.filter { !$0.isEmpty }
        let items: [JSONValue] = groups.map { group in
          let versions: [JSONValue] = KubeKinds.versions(of: group).map { version in
            let kinds = KubeKinds.all.filter { $0.group == group && $0.version == version }
            let resources: [JSONValue] = kinds.map { kind in
                let responseKind = JSONValue.ordered([("group", .string(kind.group)), ("version", .string(kind.version)), ("kind", .string(kind.kind))])
                var members: [(String, JSONValue)] = [
                    ("resource", .string(kind.resource)), ("responseKind", responseKind),
                    ("scope", .string(kind.namespaced ? "Namespaced" : "Cluster")), ("singularResource", .string(kind.singular)),
                    ("verbs", .array(kind.verbs.map { .string($0) })),
                ]
                if !kind.shortNames.isEmpty { members.append(("shortNames", .array(kind.shortNames.map { .string($0) }))) }
                if !kind.categories.isEmpty { members.append(("categories", .array(kind.categories.map { .string($0) }))) }
                if !kind.subresources.isEmpty {
                    members.append(("subresources", .array(kind.subresources.map { name in
                        .ordered([("subresource", .string(name)), ("responseKind", responseKind),
                                  ("verbs", .array(["get", "patch", "update"].map { .string($0) }))])
                    })))
                }
                return .ordered(members)
            }
            return .ordered([("version", .string(version)), ("resources", .array(resources)), ("freshness", .string("Current"))])
          }
            var metadata: [(String, JSONValue)] = [("creationTimestamp", .null)]
            if !group.isEmpty { metadata.insert(("name", .string(group)), at: 0) }
            return .ordered([("metadata", .ordered(metadata)), ("versions", .array(versions))])
        }
        return .ordered([("kind", .string("APIGroupDiscoveryList")), ("apiVersion", .string("apidiscovery.k8s.io/" + version)),
                         ("metadata", .ordered([])), ("items", .array(items + (core ? [] : [Self.metricsDiscovery])))])
    }

    /// A group with its versions, the preferred first.
    static func groupEntry(_ group: String) -> JSONValue {
        let entries = KubeKinds.versions(of: group).map { version in
            JSONValue.ordered([("groupVersion", .string(group + "/" + version)), ("version", .string(version))])
        }
        return .ordered([("name", .string(group)), ("versions", .array(entries)), ("preferredVersion", entries.first ?? .null)])
    }

    func apiGroup(_ group: String) -> JSONValue {
        guard case .object(let members, let keys) = Self.groupEntry(group) else { return .null }
        return .ordered([("kind", .string("APIGroup")), ("apiVersion", .string("v1"))] + keys.map { ($0, members[$0]!) })
    }

    func resourceList(group: String, version: String = "v1") -> JSONValue {
        let kinds = KubeKinds.all.filter { $0.group == group && $0.version == version }
        let resources: [JSONValue] = kinds.flatMap { kind in
            var members: [(String, JSONValue)] = [
                ("name", .string(kind.resource)), ("singularName", .string(kind.singular)), ("namespaced", .bool(kind.namespaced)),
                ("kind", .string(kind.kind)), ("verbs", .array(kind.verbs.map { .string($0) })),
            ]
            if !kind.shortNames.isEmpty { members.append(("shortNames", .array(kind.shortNames.map { .string($0) }))) }
            // `kubectl get all` lists the kinds in the "all" category.
            if !kind.categories.isEmpty { members.append(("categories", .array(kind.categories.map { .string($0) }))) }
            members.append(("storageVersionHash", .string(Self.storageVersionHash(kind))))
            let subresources: [JSONValue] = kind.subresources.map { name in
                .ordered([("name", .string(kind.resource + "/" + name)), ("singularName", .string("")), ("namespaced", .bool(kind.namespaced)),
                          ("kind", .string(kind.kind)), ("verbs", .array(["get", "patch", "update"].map { .string($0) }))])
            }
            return [.ordered(members)] + subresources + Self.subresources(of: kind)
        }
        let groupVersion = group.isEmpty ? "v1" : group + "/" + version
        var members: [(String, JSONValue)] = [("kind", .string("APIResourceList"))]
        if !group.isEmpty { members.append(("apiVersion", .string("v1"))) }
        return .ordered(members + [("groupVersion", .string(groupVersion)), ("resources", .array(resources))])
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
                var entries: [(String, JSONValue)] = []
                for group in Self.groups {
                    let document = openAPIDocument(group: group).serialized
                    let hash = SHA256.hash(data: document).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined().uppercased()
                    let path = Self.openAPIPath(group)
                    entries.append((path, .ordered([("serverRelativeURL", .string("/openapi/v3/\(path)?hash=" + hash))])))
                }
                try sendJSON(writer, 200, .ordered([("paths", .ordered(entries))]))
            case let path where path.hasPrefix("/openapi/v3/"):
                guard let group = Self.groups.first(where: { "/openapi/v3/" + Self.openAPIPath($0) == path }) else { throw .pathNotFound(path) }
                send(writer, 200, openAPIDocument(group: group).serialized)
            case "/openapi/v2":
                writer.send(status: .ok, headers: [("Content-Type", OpenAPIV2.contentType)],
                            body: OpenAPIV2.document(version: "v\(Self.major).\(Self.minor).0+berth"))
            default:
                throw .pathNotFound(path)
            }
        }
    }

    /// The groups served, the core one ("") first.
    static var groups: [String] {
        var names = [""]
        for kind in KubeKinds.all where !names.contains(kind.group) { names.append(kind.group) }
        return names
    }

    /// `api/v1`, `apis/storage.k8s.io/v1`: a group-version's OpenAPI v3 path.
    static func openAPIPath(_ group: String) -> String {
        group.isEmpty ? "api/v1" : "apis/\(group)/" + (KubeKinds.versions(of: group).first ?? "v1")
    }

    /// A type name's prefix as the apiserver's OpenAPI names them (io.k8s.api.core.v1, io.k8s.api.storage.v1).
    static func schemaPrefix(_ kind: KubeKind) -> String {
        "io.k8s.api.\(kind.group.isEmpty ? "core" : String(kind.group.split(separator: ".").first!)).\(kind.version)"
    }

    /// The operation id's group part: CoreV1, StorageV1.
    static func operationGroup(_ kind: KubeKind) -> String {
        let name = kind.group.isEmpty ? "core" : String(kind.group.split(separator: ".").first!)
        return name.prefix(1).uppercased() + name.dropFirst() + kind.version.prefix(1).uppercased() + kind.version.dropFirst()
    }

    func openAPIDocument(group: String) -> JSONValue {
        var paths: [(String, JSONValue)] = []
        for kind in KubeKinds.all where kind.group == group && kind.version == KubeKinds.versions(of: group).first {
            let gvk = JSONValue.ordered([("group", .string(kind.group)), ("version", .string(kind.version)), ("kind", .string(kind.kind))])
            func parameter(_ name: String, _ place: String) -> JSONValue {
                .ordered([("name", .string(name)), ("in", .string(place)), ("schema", .ordered([("type", .string("string"))])),
                          ("required", .bool(place == "path"))])
            }
            let query = ["dryRun", "fieldManager", "fieldValidation"].map { parameter($0, "query") }
            let reference = JSONValue.ordered([("$ref", .string("#/components/schemas/\(Self.schemaPrefix(kind)).\(kind.kind)"))])
            func operation(_ action: String, _ id: String, _ extra: [JSONValue] = [], body: Bool) -> JSONValue {
                var members: [(String, JSONValue)] = [("operationId", .string(id + Self.operationGroup(kind) + (kind.namespaced ? "Namespaced" : "") + kind.kind))]
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
            let base = "/" + Self.openAPIPath(kind.group)
            let collection = kind.namespaced ? "\(base)/namespaces/{namespace}/\(kind.resource)" : "\(base)/\(kind.resource)"
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
        for kind in KubeKinds.all where kind.group == group && kind.version == KubeKinds.versions(of: group).first {
            let gvk = JSONValue.ordered([("group", .string(kind.group)), ("kind", .string(kind.kind)), ("version", .string(kind.version))])
            for (name, schema) in Schemas.components(Schemas.name(kind), gvk: gvk) where !schemas.contains(where: { $0.0 == name }) {
                schemas.append((name, schema))
            }
        }
        return .ordered([
            ("openapi", .string("3.0.0")),
            ("info", .ordered([("title", .string("Kubernetes")), ("version", .string("v\(Self.major).\(Self.minor).0+berth"))])),
            ("paths", .ordered(paths)),
            ("components", .ordered([("schemas", .ordered(schemas))])),
        ])
    }
}
