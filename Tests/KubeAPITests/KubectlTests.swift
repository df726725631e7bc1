import Foundation
import TestSupport
import Testing

/// The real kubectl (1.33, and 1.27 where its requests differ) against `berth serve`: discovery,
/// ConfigMaps, Secrets and Namespaces through kubectl's verbs, its error messages, `get -w`.
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct KubectlTests {
    @Test(arguments: KubeEnv.versions)
    func versionAndAPIResources(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        let text = try server.kubectlOK("version", version: version)
        // 1.27 prints the whole version.Info, later ones the short form.
        #expect(text.contains("Server Version: v1.33.0+berth") || text.contains(#"GitVersion:"v1.33.0+berth""#), "\(text)")
        let resources = try server.kubectlOK("api-resources", "--no-headers", version: version)
        let rows = resources.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.contains(["configmaps", "cm", "v1", "true", "ConfigMap"]), "\(resources)")
        #expect(rows.contains(["namespaces", "ns", "v1", "false", "Namespace"]), "\(resources)")
        #expect(rows.contains(["secrets", "v1", "true", "Secret"]), "\(resources)")
        #expect(rows.contains(["serviceaccounts", "sa", "v1", "true", "ServiceAccount"]), "\(resources)")
        // The system namespaces exist from the start, each with its default ServiceAccount.
        let namespaces = try server.kubectlOK("get", "ns", "-o", "name", version: version)
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            #expect(namespaces.contains("namespace/\(name)\n"), "\(namespaces)")
        }
        #expect(try server.kubectlOK("get", "sa", "default", "-n", "kube-system", "-o", "name", version: version) == "serviceaccount/default\n")
    }

    @Test(arguments: KubeEnv.versions)
    func configMapsThroughTheirVerbs(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        #expect(try server.kubectlOK("create", "configmap", "lit", "--from-literal=color=blue", "--from-literal=size=3", version: version)
                == "configmap/lit created\n")
        let object = try server.object(try server.kubectlOK("get", "cm", "lit", "-o", "json", version: version))
        #expect(object.string("kind") == "ConfigMap")
        #expect(object.string("data.color") == "blue")
        #expect(object.string("data.size") == "3")
        #expect(object.string("metadata.namespace") == "default")
        #expect(UUID(uuidString: object.string("metadata.uid") ?? "") != nil)
        #expect(Int(object.string("metadata.resourceVersion") ?? "") != nil)
        #expect(object.string("metadata.creationTimestamp")?.hasSuffix("Z") == true)
        let yaml = try server.kubectlOK("get", "cm", "lit", "-o", "yaml", version: version)
        #expect(yaml.contains("  color: blue\n") && yaml.contains("kind: ConfigMap\n"), "\(yaml)")
        #expect(try server.kubectlOK("get", "cm", "lit", "-o", "name", version: version) == "configmap/lit\n")
        #expect(try server.kubectlOK("get", "cm", "lit", "-o", "jsonpath={.data.color}", version: version) == "blue")
        // The server's Table: NAME, DATA, AGE.
        let table = try server.kubectlOK("get", "configmaps", version: version)
        let lines = table.split(separator: "\n")
        #expect(lines.first?.split(separator: " ") == ["NAME", "DATA", "AGE"], "\(table)")
        #expect(lines.contains { $0.split(separator: " ").prefix(2) == ["lit", "2"] }, "\(table)")

        // Errors as kubectl prints them.
        let again = try server.kubectl(["create", "configmap", "lit", "--from-literal=a=b"], version: version)
        #expect(again.status == 1)
        #expect(again.stderr.contains(#"configmaps "lit" already exists"#), "\(again.stderr)")
        let missing = try server.kubectl(["get", "cm", "nope"], version: version)
        #expect(missing.status == 1)
        #expect(missing.stderr == "Error from server (NotFound): configmaps \"nope\" not found\n", "\(missing.stderr)")

        // label, annotate, and label selectors.
        #expect(try server.kubectlOK("label", "cm", "lit", "tier=web", version: version) == "configmap/lit labeled\n")
        // (kubectl 1.27 says "annotate", later ones "annotated".)
        #expect(try server.kubectlOK("annotate", "cm", "lit", "note=hello", version: version).hasPrefix("configmap/lit annotate"))
        try server.kubectlOK("create", "configmap", "other", "--from-literal=a=b", version: version)
        #expect(try server.kubectlOK("get", "cm", "-l", "tier=web", "-o", "name", version: version) == "configmap/lit\n")
        #expect(try server.kubectlOK("get", "cm", "-l", "tier!=web", "-o", "name", version: version) == "configmap/other\n")
        #expect(try server.kubectlOK("get", "cm", "--field-selector", "metadata.name=other", "-o", "name", version: version) == "configmap/other\n")
        let labelled = try server.object(try server.kubectlOK("get", "cm", "lit", "-o", "json", version: version))
        #expect(labelled.string("metadata.labels.tier") == "web")
        #expect(labelled.string("metadata.annotations.note") == "hello")
        #expect(Int(labelled.string("metadata.resourceVersion")!)! > Int(object.string("metadata.resourceVersion")!)!)
        #expect(labelled.string("metadata.uid") == object.string("metadata.uid"))

        #expect(try server.kubectlOK("delete", "cm", "lit", version: version) == "configmap \"lit\" deleted\n")
        #expect(try server.kubectl(["get", "cm", "lit"], version: version).status == 1)
    }

    /// Client-side apply: created, then "unchanged" when nothing changed, "configured" when it did.
    @Test(arguments: KubeEnv.versions)
    func applyIsIdempotent(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        let manifest = server.base + "/cm.yaml"
        func write(_ color: String) throws {
            try """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              labels:
                app: web
            data:
              color: \(color)
            """.write(toFile: manifest, atomically: true, encoding: .utf8)
        }
        try write("blue")
        #expect(try server.kubectlOK("apply", "-f", manifest, version: version) == "configmap/settings created\n")
        let first = try server.object(try server.kubectlOK("get", "cm", "settings", "-o", "json", version: version))
        let annotations = first.at("metadata.annotations") as? [String: Any]
        #expect((annotations?["kubectl.kubernetes.io/last-applied-configuration"] as? String)?.contains("\"color\":\"blue\"") == true)
        #expect(try server.kubectlOK("apply", "-f", manifest, version: version) == "configmap/settings unchanged\n")
        let second = try server.object(try server.kubectlOK("get", "cm", "settings", "-o", "json", version: version))
        #expect(second.string("metadata.resourceVersion") == first.string("metadata.resourceVersion"))
        try write("red")
        #expect(try server.kubectlOK("apply", "-f", manifest, version: version) == "configmap/settings configured\n")
        #expect(try server.kubectlOK("get", "cm", "settings", "-o", "jsonpath={.data.color}", version: version) == "red")
        #expect(try server.kubectlOK("delete", "-f", manifest, version: version) == "configmap \"settings\" deleted\n")
    }

    @Test(arguments: KubeEnv.versions)
    func secrets(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        #expect(try server.kubectlOK("create", "secret", "generic", "db", "--from-literal=password=s3cr3t-value", version: version)
                == "secret/db created\n")
        let object = try server.object(try server.kubectlOK("get", "secret", "db", "-o", "json", version: version))
        #expect(object.string("type") == "Opaque")
        #expect(object.string("data.password") == Data("s3cr3t-value".utf8).base64EncodedString())
        let table = try server.kubectlOK("get", "secrets", version: version).split(separator: "\n")
        #expect(table.first?.split(separator: " ") == ["NAME", "TYPE", "DATA", "AGE"])
        #expect(table.contains { $0.split(separator: " ").prefix(3) == ["db", "Opaque", "1"] })
        // stringData is written into data, base64, and not kept.
        let manifest = """
            {"apiVersion":"v1","kind":"Secret","metadata":{"name":"token"},"type":"example.com/token","stringData":{"key":"plain text"}}
            """
        try server.kubectlOK("apply", "-f", "-", version: version, stdin: manifest)
        let token = try server.object(try server.kubectlOK("get", "secret", "token", "-o", "json", version: version))
        #expect(token.string("data.key") == Data("plain text".utf8).base64EncodedString())
        #expect(token.at("stringData") == nil)
        #expect(token.string("type") == "example.com/token")
        // Data that is not base64 is refused.
        let bad = try server.kubectl(["apply", "-f", "-"], version: version,
                                     stdin: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"bad"},"data":{"k":"not base64!"}}"#)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("illegal base64 data"), "\(bad.stderr)")
        // The server never writes a Secret's value to its log.
        #expect(!server.serverLog.contains("s3cr3t"))
        #expect(!server.serverLog.contains("plain text"))
    }

    @Test(arguments: KubeEnv.versions)
    func namespaces(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        #expect(try server.kubectlOK("create", "namespace", "team-a", version: version) == "namespace/team-a created\n")
        let table = try server.kubectlOK("get", "ns", "team-a", version: version).split(separator: "\n")
        #expect(table.first?.split(separator: " ") == ["NAME", "STATUS", "AGE"])
        #expect(table.last?.split(separator: " ").prefix(2) == ["team-a", "Active"])
        #expect(try server.kubectlOK("get", "sa", "-n", "team-a", "-o", "name", version: version) == "serviceaccount/default\n")
        try server.kubectlOK("create", "configmap", "inside", "-n", "team-a", "--from-literal=a=b", version: version)
        try server.kubectlOK("create", "secret", "generic", "inside", "-n", "team-a", "--from-literal=a=b", version: version)
        #expect(try server.kubectlOK("get", "cm", "-A", "-o", "name", version: version) == "configmap/inside\n")
        // Objects go only into namespaces that exist.
        let nowhere = try server.kubectl(["create", "configmap", "x", "-n", "nowhere", "--from-literal=a=b"], version: version)
        #expect(nowhere.status == 1)
        #expect(nowhere.stderr.contains(#"namespaces "nowhere" not found"#), "\(nowhere.stderr)")
        // Deleting a namespace deletes what it holds.
        #expect(try server.kubectlOK("delete", "namespace", "team-a", version: version) == "namespace \"team-a\" deleted\n")
        #expect(try server.kubectl(["get", "ns", "team-a"], version: version).status == 1)
        #expect(try server.kubectlOK("get", "cm,secrets,sa", "-n", "team-a", "-o", "name", version: version) == "")
        let protected = try server.kubectl(["delete", "namespace", "default"], version: version)
        #expect(protected.status == 1)
        #expect(protected.stderr.contains(#"namespaces "default" is forbidden: this namespace may not be deleted"#), "\(protected.stderr)")
    }

    /// A bad manifest is refused with what is wrong and where; nothing is stored.
    @Test(arguments: KubeEnv.versions)
    func badManifests(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        let unknown = try server.kubectl(["apply", "-f", "-"], version: version,
                                         stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\ndatta:\n  a: b\n")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains(#"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "datta""#),
                "\(unknown.stderr)")
        let badName = try server.kubectl(["apply", "-f", "-"], version: version,
                                         stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\ndata:\n  a: b\n")
        #expect(badName.status == 1)
        #expect(badName.stderr.contains(#"The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain"#),
                "\(badName.stderr)")
        let badKey = try server.kubectl(["apply", "-f", "-"], version: version,
                                        stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keys\ndata:\n  \"a b\": c\n")
        #expect(badKey.status == 1)
        #expect(badKey.stderr.contains(#"data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters"#),
                "\(badKey.stderr)")
        let badLabel = try server.kubectl(["label", "ns", "default", "bad key=x"], version: version)
        #expect(badLabel.status != 0)
        #expect(try server.kubectlOK("get", "cm", "-o", "name", version: version) == "")
    }

    /// `kubectl get -w` prints the objects, then each change as it happens.
    @Test(arguments: KubeEnv.versions)
    func getWatchSeesAnUpdate(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        try server.kubectlOK("create", "configmap", "watched", "--from-literal=a=b", version: version)
        let output = server.base + "/watch.out"
        let watcher = try TestSupport.spawn([KubeEnv.kubectl(version), "get", "cm", "watched", "-w", "-o", "custom-columns=NAME:.metadata.name,A:.data.a",
                                             "--request-timeout=20s"], stdout: output, environment: server.environment)
        defer {
            kill(watcher, SIGTERM)
            var status: Int32 = 0
            waitpid(watcher, &status, 0)
        }
        func seen() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        for _ in 0..<100 where !seen().contains("watched") { usleep(100_000) }
        #expect(seen().contains("watched   b"), "\(seen())")
        try server.kubectlOK("patch", "cm", "watched", "--type=merge", "-p", #"{"data":{"a":"changed"}}"#, version: version)
        for _ in 0..<100 where !seen().contains("changed") { usleep(100_000) }
        #expect(seen().contains("watched   changed"), "\(seen())")
    }
}
