import Foundation
import TestSupport
import Testing

/// Request bodies other than JSON: kubectl 1.33's protobuf (its typed clients' `kubectl create`),
/// YAML on create and update (`application/yaml`) and YAML server-side apply configurations.
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct RequestBodyTests {
    /// The object without what differs between two creations (uid, times, versions, namespace,
    /// what the cluster allocates), as JSON.
    static func comparable(_ server: KubeServer, _ resource: String, _ name: String, namespace: String) throws -> NSDictionary {
        let text = try server.kubectlOK("get", resource, name, "-n", namespace, "-o", "json")
        var object = try server.object(text)
        var metadata = object["metadata"] as? [String: Any] ?? [:]
        for key in ["uid", "resourceVersion", "creationTimestamp", "namespace"] { metadata[key] = nil }
        metadata["managedFields"] = (metadata["managedFields"] as? [[String: Any]] ?? []).map { entry in
            var entry = entry
            entry["time"] = nil
            return entry
        }
        object["metadata"] = metadata
        object["status"] = nil
        if var spec = object["spec"] as? [String: Any], resource == "service" {
            for key in ["clusterIP", "clusterIPs"] { spec[key] = nil }
            spec["ports"] = (spec["ports"] as? [[String: Any]] ?? []).map { port in
                var port = port
                port["nodePort"] = nil
                return port
            }
            object["spec"] = spec
        }
        return object as NSDictionary
    }

    /// `kubectl create` with 1.33 (protobuf) and with 1.27 (JSON) in two namespaces: the same
    /// objects (before, 1.33's failed with 415 and client-go does not retry in JSON).
    @Test func kubectlCreateIsTheSameInProtobufAndJSON() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        try server.kubectlOK("create", "namespace", "new")
        try server.kubectlOK("create", "namespace", "old")
        let commands: [(String, String, [String])] = [
            ("deployment", "web", ["create", "deployment", "web", "--image=busybox:test", "--replicas=0", "--port=8080", "--", "sh", "-c", "sleep 1d"]),
            ("deployment", "two", ["create", "deployment", "two", "--image=busybox:test", "--image=busybox:other", "--replicas=0"]),
            ("service", "web", ["create", "service", "clusterip", "web", "--tcp=80:8080", "--tcp=443:https"]),
            ("service", "headless", ["create", "service", "clusterip", "headless", "--clusterip=None"]),
            ("service", "np", ["create", "service", "nodeport", "np", "--tcp=80:8080"]),
            ("service", "lb", ["create", "service", "loadbalancer", "lb", "--tcp=80:8080"]),
            ("service", "ext", ["create", "service", "externalname", "ext", "--external-name=example.com"]),
            ("configmap", "cm", ["create", "configmap", "cm", "--from-literal=a=b"]),
            ("secret", "s", ["create", "secret", "generic", "s", "--from-literal=a=b"]),
            ("serviceaccount", "sa", ["create", "serviceaccount", "sa"]),
        ]
        for (resource, name, command) in commands {
            // (-n first: after `--` it would be the container's command.)
            let new = try server.kubectl(["-n", "new"] + command, version: "1.33")
            #expect(new.status == 0, "kubectl 1.33 \(command.joined(separator: " ")): \(new.stderr)")
            let old = try server.kubectl(["-n", "old"] + command, version: "1.27")
            #expect(old.status == 0, "kubectl 1.27 \(command.joined(separator: " ")): \(old.stderr)")
            guard new.status == 0 && old.status == 0 else { continue }
            let fromProtobuf = try Self.comparable(server, resource, name, namespace: "new")
            let fromJSON = try Self.comparable(server, resource, name, namespace: "old")
            #expect(fromProtobuf == fromJSON, "\(command.joined(separator: " ")):\n\(fromProtobuf)\nvs\n\(fromJSON)")
        }
    }

    @Test func yamlBodiesCreateAndUpdateAndNameTheLineOfAnError() throws {
        let server = try KubeServer()
        defer { server.stop() }
        let path = "/api/v1/namespaces/default/configmaps"
        let yaml = ["Content-Type: application/yaml"]
        let created = try server.request("POST", path, headers: yaml, body: """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              labels: {tier: web}
            data:
              answer: "42"
              enabled: 'true'
              text: |
                two
                lines
            """)
        #expect(created.status == 201, "\(created.body)")
        let object = try server.object(try server.kubectlOK("get", "configmap", "settings", "-o", "json"))
        #expect(object.string("data.answer") == "42")
        #expect(object.string("data.enabled") == "true")
        #expect(object.string("data.text") == "two\nlines")
        #expect(object.string("metadata.labels.tier") == "web")
        let version = try #require(object.string("metadata.resourceVersion"))

        // An update in YAML.
        let updated = try server.request("PUT", path + "/settings", headers: yaml, body: """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, resourceVersion: "\(version)"}
            data: {answer: "43"}
            """)
        #expect(updated.status == 200, "\(updated.body)")
        #expect(try server.kubectlOK("get", "configmap", "settings", "-o", "jsonpath={.data.answer}") == "43")

        // A plain number where a string belongs is refused as in JSON (422/400), naming the field.
        let typed = try server.request("POST", path, headers: yaml, body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typed}\ndata: {n: 1}\n")
        #expect(typed.status == 400, "\(typed.body)")

        // Bad YAML: 400 naming the line and column, nothing created.
        let bad = try server.request("POST", path, headers: yaml, body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n data: x: y\n")
        #expect(bad.status == 400)
        let message = try server.object(bad.body).string("message") ?? ""
        #expect(message.contains("line 5"), "\(message)")
        #expect(message.contains("column"), "\(message)")
        let duplicate = try server.request("POST", path, headers: yaml, body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: twice}\ndata: {a: x}\ndata: {b: y}\n")
        #expect(duplicate.status == 400)
        let duplicateMessage = try server.object(duplicate.body).string("message") ?? ""
        #expect(duplicateMessage.contains("line 4, column 1") && duplicateMessage.contains("\"data\" already defined"), "\(duplicate.body)")
        #expect(!duplicateMessage.contains("twice"), "the error quotes the body: \(duplicateMessage)")

        // Aliases that expand exponentially ("billion laughs") are refused, quickly.
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let previous = Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(level - 1)))
            let current = Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(level)))
            bomb += "\(current): &\(current) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        bomb += "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\n"
        let started = Date()
        let exploded = try server.request("POST", path, headers: yaml, body: bomb)
        #expect(exploded.status == 400, "\(exploded.body)")
        #expect(Date().timeIntervalSince(started) < 10)
        for name in ["broken", "twice", "bomb", "typed"] {
            #expect(try server.kubectl(["get", "configmap", name]).status != 0)
        }
        #expect(try server.kubectlOK("get", "configmap", "settings", "-o", "jsonpath={.data.answer}") == "43")
    }

    /// Server-side apply with a YAML configuration (curl), then `kubectl apply --server-side` of
    /// the same manifest by both kubectl versions.
    @Test func serverSideApplyTakesYAML() throws {
        let server = try KubeServer()
        defer { server.stop() }
        let path = "/api/v1/namespaces/default/configmaps/applied?fieldManager=curl"
        let apply = ["Content-Type: application/apply-patch+yaml"]
        let first = try server.request("PATCH", path, headers: apply, body: """
            # a comment, as manifests have
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: applied
            data:
              a: one
              b: "2"
            """)
        #expect(first.status == 201, "\(first.body)")
        let second = try server.request("PATCH", path, headers: apply, body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: {a: uno}\n")
        #expect(second.status == 200, "\(second.body)")
        let object = try server.object(try server.kubectlOK("get", "configmap", "applied", "-o", "json"))
        // b was the manager's and is no longer in its configuration: removed, as apply does.
        #expect(object.at("data") as? [String: String] == ["a": "uno"])
        let bad = try server.request("PATCH", path, headers: apply, body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied\ndata: {a: x}\n")
        #expect(bad.status == 400)
        #expect((try server.object(bad.body).string("message") ?? "").contains("line"), "\(bad.body)")
        #expect(try server.kubectlOK("get", "configmap", "applied", "-o", "jsonpath={.data.a}") == "uno")

        for version in KubeEnv.versions {
            let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa-\(version.replacing(".", with: "-"))\ndata:\n  k: v\n"
            let out = try server.kubectl(["apply", "--server-side", "-f", "-"], version: version, stdin: manifest)
            #expect(out.status == 0, "\(version): \(out.stderr)")
            #expect(out.stdout.contains("serverside-applied"), "\(version): \(out.stdout)")
            #expect(try server.kubectlOK("get", "configmap", "ssa-\(version.replacing(".", with: "-"))", "-o", "jsonpath={.data.k}") == "v")
        }
    }
}
