import Foundation
import TestSupport
import Testing

/// The API's edges through curl and restarts: its files and their modes, the token, what
/// survives a restart, Status errors, dry runs, optimistic concurrency, patches, watch streams,
/// Tables.
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct APIServerTests {
    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    /// Keys, token and kubeconfig are root's alone; the certificates are made once and kept.
    @Test func filesModesAndReuse() throws {
        let server = try KubeServer()
        defer { server.stop() }
        let pki = server.kubeDirectory + "/pki"
        #expect(Self.mode(server.kubeDirectory) == 0o700)
        #expect(Self.mode(pki) == 0o700)
        for file in [pki + "/ca.key", pki + "/apiserver.key", server.kubeDirectory + "/token", server.kubeconfig] {
            #expect(Self.mode(file) == 0o600, "\(file)")
        }
        #expect(Self.mode(pki + "/ca.crt") == 0o644)
        #expect(Self.mode(pki + "/apiserver.crt") == 0o644)
        // The serving certificate is the CA's, for 127.0.0.1 and localhost (openssl checks it as kubectl does).
        let verified = try sh(["/usr/bin/openssl", "verify", "-CAfile", pki + "/ca.crt", "-verify_ip", "127.0.0.1", pki + "/apiserver.crt"])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let byName = try sh(["/usr/bin/openssl", "verify", "-CAfile", pki + "/ca.crt", "-verify_hostname", "localhost", pki + "/apiserver.crt"])
        #expect(byName.status == 0, "\(byName.stdout)\(byName.stderr)")
        // `berth kube config` prints the kubeconfig.
        let printed = try sh([KubeEnv.berth, "--root", server.root, "kube", "config"])
        #expect(printed.status == 0)
        #expect(printed.stdout == (try String(contentsOfFile: server.kubeconfig, encoding: .utf8)))
        #expect(printed.stdout.contains("server: https://127.0.0.1:\(server.port)\n"))
        #expect(printed.stdout.contains("token: \(server.token)\n"))
        #expect(printed.stdout.contains("current-context: berth\n"))

        let before = try [pki + "/ca.crt", pki + "/ca.key", pki + "/apiserver.crt", server.kubeDirectory + "/token"].map {
            try String(contentsOfFile: $0, encoding: .utf8)
        }
        server.terminate()
        try server.start()
        let after = try [pki + "/ca.crt", pki + "/ca.key", pki + "/apiserver.crt", server.kubeDirectory + "/token"].map {
            try String(contentsOfFile: $0, encoding: .utf8)
        }
        #expect(before == after)
        try server.kubectlOK("get", "ns", "default")
    }

    @Test func tokenIsRequired() throws {
        let server = try KubeServer()
        defer { server.stop() }
        for token in [nil, "wrong-token"] as [String?] {
            let (status, body) = try server.request("GET", "/api/v1/namespaces/default/configmaps", token: .some(token))
            #expect(status == 401)
            let object = try server.object(body)
            #expect(object.string("kind") == "Status")
            #expect(object.string("reason") == "Unauthorized")
            #expect(object["code"] as? Int == 401)
        }
        // Health and version are public without a token (never with a wrong one).
        #expect(try server.request("GET", "/healthz", token: .some(nil)).status == 200)
        #expect(try server.request("GET", "/version", token: .some(nil)).status == 200)
        #expect(try server.request("GET", "/version", token: .some("wrong")).status == 401)
        #expect(try server.request("GET", "/api/v1/namespaces/default/configmaps").status == 200)
        // kubectl with another token: the server refuses it.
        let stranger = try sh([KubeEnv.kubectl("1.33"), "--server", server.url(""), "--insecure-skip-tls-verify", "--token", "not-the-token", "get", "cm"],
                              environment: ["HOME": server.home])
        #expect(stranger.status == 1)
        #expect(stranger.stderr.contains("error: You must be logged in to the server (the server has asked for the client to provide credentials)"), "\(stranger.stderr)")
    }

    /// Objects outlive the server: same uid, same resourceVersion.
    @Test func restartKeepsObjects() throws {
        let server = try KubeServer()
        defer { server.stop() }
        try server.kubectlOK("create", "configmap", "kept", "--from-literal=a=b")
        try server.kubectlOK("create", "namespace", "kept-ns")
        let before = try server.object(try server.kubectlOK("get", "cm", "kept", "-o", "json"))
        #expect(server.terminate() == 0)
        try server.start()
        let after = try server.object(try server.kubectlOK("get", "cm", "kept", "-o", "json"))
        #expect(after.string("metadata.uid") == before.string("metadata.uid"))
        #expect(after.string("metadata.resourceVersion") == before.string("metadata.resourceVersion"))
        #expect(after.string("data.a") == "b")
        #expect(try server.kubectlOK("get", "ns", "kept-ns", "-o", "name") == "namespace/kept-ns\n")
        // The system namespaces are not made twice, and revisions keep growing.
        try server.kubectlOK("label", "cm", "kept", "x=y")
        let labelled = try server.object(try server.kubectlOK("get", "cm", "kept", "-o", "json"))
        #expect(Int(labelled.string("metadata.resourceVersion")!)! > Int(before.string("metadata.resourceVersion")!)!)
    }

    @Test func statusErrorsAndConcurrency() throws {
        let server = try KubeServer()
        defer { server.stop() }
        let base = "/api/v1/namespaces/default/configmaps"
        let (created, body) = try server.request("POST", base, body: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1"},"data":{"a":"1"}}"#)
        #expect(created == 201)
        let object = try server.object(body)
        let version = try #require(object.string("metadata.resourceVersion"))

        let (exists, existsBody) = try server.request("POST", base, body: #"{"metadata":{"name":"c1"}}"#)
        #expect(exists == 409)
        #expect(try server.object(existsBody).string("reason") == "AlreadyExists")
        #expect(try server.object(existsBody).string("details.kind") == "configmaps")

        // PUT with the current resourceVersion succeeds; with the old one again, 409 Conflict.
        let update = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1","resourceVersion":"\#(version)"},"data":{"a":"2"}}"#
        let (updated, updatedBody) = try server.request("PUT", base + "/c1", body: update)
        #expect(updated == 200)
        #expect(try server.object(updatedBody).string("data.a") == "2")
        let (conflict, conflictBody) = try server.request("PUT", base + "/c1", body: update)
        #expect(conflict == 409)
        let conflictStatus = try server.object(conflictBody)
        #expect(conflictStatus.string("reason") == "Conflict")
        #expect(conflictStatus.string("message") == #"Operation cannot be fulfilled on configmaps "c1": the object has been modified; please apply your changes to the latest version and try again"#)

        // 422 Invalid with causes.
        let (invalid, invalidBody) = try server.request("POST", base, body: #"{"metadata":{"name":"-bad-"}}"#)
        #expect(invalid == 422)
        let invalidStatus = try server.object(invalidBody)
        #expect(invalidStatus.string("reason") == "Invalid")
        let causes = invalidStatus.at("details.causes") as? [[String: Any]]
        #expect(causes?.first?["field"] as? String == "metadata.name")
        #expect(causes?.first?["reason"] as? String == "FieldValueInvalid")

        // 400 for a body that is not JSON, 404 for unknown paths and objects, 405 for a wrong method.
        #expect(try server.request("POST", base, body: "{not json").status == 400)
        let (missing, missingBody) = try server.request("GET", base + "/nope")
        #expect(missing == 404)
        #expect(try server.object(missingBody).string("reason") == "NotFound")
        #expect(try server.request("GET", "/api/v1/widgets").status == 404)
        let (method, methodBody) = try server.request("POST", base + "/c1", body: "{}")
        #expect(method == 405)
        #expect(try server.object(methodBody).string("reason") == "MethodNotAllowed")

        // dryRun=All answers as if written and writes nothing.
        let (dry, dryBody) = try server.request("POST", base + "?dryRun=All", body: #"{"metadata":{"name":"dry"}}"#)
        #expect(dry == 201)
        #expect(try server.object(dryBody).string("metadata.name") == "dry")
        #expect(try server.request("GET", base + "/dry").status == 404)
        #expect(try server.request("DELETE", base + "/c1?dryRun=All").status == 200)
        #expect(try server.request("GET", base + "/c1").status == 200)

        // JSON patch and merge patch.
        let (patched, patchedBody) = try server.request("PATCH", base + "/c1", headers: ["Content-Type: application/json-patch+json"],
                                                        body: #"[{"op":"add","path":"/data/b","value":"3"},{"op":"remove","path":"/data/a"}]"#)
        #expect(patched == 200)
        #expect(try server.object(patchedBody).at("data") as? [String: String] == ["b": "3"])
        let (merged, mergedBody) = try server.request("PATCH", base + "/c1", headers: ["Content-Type: application/merge-patch+json"],
                                                      body: #"{"data":{"b":null,"c":"4"},"metadata":{"labels":{"k":"v"}}}"#)
        #expect(merged == 200)
        let mergedObject = try server.object(mergedBody)
        #expect(mergedObject.at("data") as? [String: String] == ["c": "4"])
        #expect(mergedObject.string("metadata.labels.k") == "v")
        // A failed JSON patch test changes nothing.
        let (failed, _) = try server.request("PATCH", base + "/c1", headers: ["Content-Type: application/json-patch+json"],
                                             body: #"[{"op":"test","path":"/data/c","value":"other"},{"op":"remove","path":"/data"}]"#)
        #expect(failed != 200)
        #expect(try server.object(try server.request("GET", base + "/c1").body).string("data.c") == "4")
    }

    /// Watch streams: changes after a resourceVersion as newline-delimited events, bookmarks.
    @Test func watchStreams() throws {
        let server = try KubeServer()
        defer { server.stop() }
        let base = "/api/v1/namespaces/default/configmaps"
        let (_, listBody) = try server.request("GET", base)
        let list = try server.object(listBody)
        #expect(list.string("kind") == "ConfigMapList")
        let start = try #require(list.string("metadata.resourceVersion"))
        #expect(try server.request("POST", base, body: #"{"metadata":{"name":"w1","labels":{"app":"a"}},"data":{"a":"1"}}"#).status == 201)
        #expect(try server.request("POST", base, body: #"{"metadata":{"name":"w2"}}"#).status == 201)
        #expect(try server.request("PATCH", base + "/w1", headers: ["Content-Type: application/merge-patch+json"], body: #"{"data":{"a":"2"}}"#).status == 200)
        #expect(try server.request("DELETE", base + "/w1").status == 200)
        let (status, stream) = try server.request("GET", base + "?watch=1&resourceVersion=\(start)&timeoutSeconds=2&allowWatchBookmarks=true&labelSelector=app%3Da")
        #expect(status == 200)
        let events = try stream.split(separator: "\n").map { try server.object(String($0)) }
        #expect(events.map { $0["type"] as? String } == ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"], "\(stream)")
        #expect(events.prefix(3).allSatisfy { $0.string("object.metadata.name") == "w1" })
        #expect(events[1].string("object.data.a") == "2")
        // Each event's resourceVersion grows; the bookmark's is where a new watch resumes.
        let versions = events.compactMap { Int($0.string("object.metadata.resourceVersion") ?? "") }
        #expect(versions == versions.sorted() && versions.count == 4)
        // From "0": the current objects as ADDED first.
        let (_, fromNow) = try server.request("GET", base + "?watch=true&resourceVersion=0&timeoutSeconds=1")
        let current = try fromNow.split(separator: "\n").map { try server.object(String($0)) }
        #expect(current.map { $0.string("object.metadata.name") } == ["w2"])
        #expect(current.first?["type"] as? String == "ADDED")
    }

    /// Server-side printing, as `kubectl get` asks for it.
    @Test func tables() throws {
        let server = try KubeServer()
        defer { server.stop() }
        try server.kubectlOK("create", "configmap", "t1", "--from-literal=a=1", "--from-literal=b=2")
        let accept = "Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        let (status, body) = try server.request("GET", "/api/v1/namespaces/default/configmaps", headers: [accept])
        #expect(status == 200)
        let table = try server.object(body)
        #expect(table.string("kind") == "Table")
        #expect(table.string("apiVersion") == "meta.k8s.io/v1")
        let columns = (table["columnDefinitions"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(columns == ["Name", "Data", "Age"])
        let rows = table["rows"] as? [[String: Any]]
        #expect(rows?.count == 1)
        let cells = rows?.first?["cells"] as? [Any]
        #expect(cells?.first as? String == "t1")
        #expect(cells?[1] as? Int == 2)
        #expect((rows?.first?["object"] as? [String: Any])?["kind"] as? String == "PartialObjectMetadata")
        // Only protobuf accepted: 406.
        #expect(try server.request("GET", "/api/v1/namespaces/default/configmaps", headers: ["Accept: application/vnd.kubernetes.protobuf"]).status == 406)
    }
}
