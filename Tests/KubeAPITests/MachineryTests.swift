import Foundation
import TestSupport
import Testing

/// The API machinery through the real kubectl and curl: strategic merge patch (kubectl apply,
/// edit, label, annotate, patch), the status subresource, metadata.generation.
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct MachineryTests {
    static let pod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          labels: {app: web, tier: front}
        spec:
          containers:
          - name: web
            image: busybox:1.36
            env: [{name: A, value: "1"}, {name: B, value: "2"}]
            ports: [{containerPort: 80}]
          - name: side
            image: busybox
          volumes:
          - name: v
            emptyDir: {}

        """

    /// Client-side apply computes a strategic merge patch from the last-applied annotation: a
    /// re-apply is unchanged, a removed label goes, a changed image merges into its container by
    /// name, a removed list item (by merge key) goes; a Pod's other spec fields are immutable.
    @Test(arguments: KubeEnv.versions)
    func applyMergesByKeys(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        #expect(try server.kubectlOK("apply", "-f", "-", version: version, stdin: Self.pod) == "pod/web created\n")
        #expect(try server.kubectlOK("apply", "-f", "-", version: version, stdin: Self.pod) == "pod/web unchanged\n")
        let table = try server.kubectlOK("get", "pods", version: version)
        #expect(table.split(separator: "\n").first?.split(separator: " ") == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], "\(table)")
        #expect(table.split(separator: "\n").last?.split(separator: " ").prefix(4) == ["web", "0/2", "Pending", "0"], "\(table)")
        let wide = try server.kubectlOK("get", "pods", "-o", "wide", version: version)
        #expect(wide.split(separator: "\n").first?.split(separator: " ") == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"], "\(wide)")
        let changed = Self.pod.replacingOccurrences(of: "busybox:1.36", with: "busybox:1.37").replacingOccurrences(of: ", tier: front", with: "")
        #expect(try server.kubectlOK("apply", "-f", "-", version: version, stdin: changed) == "pod/web configured\n")
        var object = try server.object(try server.kubectlOK("get", "pod", "web", "-o", "json", version: version))
        #expect(object.at("metadata.labels") as? [String: String] == ["app": "web"])
        let containers = try #require(object.at("spec.containers") as? [[String: Any]])
        #expect(containers.map { $0["name"] as? String } == ["web", "side"])
        #expect(containers.map { $0["image"] as? String } == ["busybox:1.37", "busybox"])
        // Defaults the apiserver sets stay (the patch does not replace the container).
        #expect(containers[0]["imagePullPolicy"] as? String == "IfNotPresent" && containers[1]["imagePullPolicy"] as? String == "Always")
        #expect((containers[0]["env"] as? [[String: Any]])?.count == 2)
        // The spec changed: generation 2.
        #expect(object.at("metadata.generation") as? Int == 2)
        // Removing an env item is a spec change a Pod refuses, as on a cluster.
        let noB = changed.replacingOccurrences(of: #", {name: B, value: "2"}"#, with: "")
        let refused = try server.kubectl(["apply", "-f", "-"], version: version, stdin: noB)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains(#"The Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than"#), "\(refused.stderr)")

        // A ServiceAccount's secrets merge by name: the one removed from the file goes, the other stays.
        let account = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: bot}\nsecrets: [{name: s1}, {name: s2}]\n"
        try server.kubectlOK("apply", "-f", "-", version: version, stdin: account)
        try server.kubectlOK("apply", "-f", "-", version: version, stdin: account.replacingOccurrences(of: ", {name: s2}", with: ""))
        #expect(try server.kubectlOK("get", "sa", "bot", "-o", "jsonpath={.secrets}", version: version) == #"[{"name":"s1"}]"#)

        // label, annotate, edit (EDITOR), patch --type strategic.
        #expect(try server.kubectlOK("label", "pod", "web", "x=y", version: version) == "pod/web labeled\n")
        // kubectl 1.27 says "annotate".
        #expect(try server.kubectlOK("annotate", "pod", "web", "note=hi", version: version) == (version == "1.27" ? "pod/web annotate\n" : "pod/web annotated\n"))
        #expect(try server.kubectlOK("label", "pod", "web", "x-", version: version) == "pod/web unlabeled\n")
        let edited = try server.kubectl(["edit", "pod", "web"], version: version, extra: ["EDITOR": "sed -i s/busybox:1.37/busybox:1.35/"])
        #expect(edited.status == 0 && edited.stdout == "pod/web edited\n", "\(edited.stdout)\(edited.stderr)")
        #expect(try server.kubectlOK("patch", "pod", "web", "--type", "strategic", "-p", #"{"spec":{"containers":[{"name":"side","image":"busybox:1.34"}]}}"#,
                                     version: version) == "pod/web patched\n")
        object = try server.object(try server.kubectlOK("get", "pod", "web", "-o", "json", version: version))
        #expect(object.at("metadata.labels") as? [String: String] == ["app": "web"])
        #expect(object.string("metadata.annotations.note") == "hi")
        #expect((object.at("spec.containers") as? [[String: Any]])?.map { $0["image"] as? String } == ["busybox:1.35", "busybox:1.34"])
    }

    /// The directives through curl: `$patch: delete` of a list item by key, `$deleteFromPrimitiveList`,
    /// `$setElementOrder`, `$retainKeys`, `$patch: replace`; a list item without its merge key is 400.
    @Test func strategicDirectives() throws {
        let server = try KubeServer()
        defer { server.stop() }
        try server.kubectlOK("apply", "-f", "-", stdin: Self.pod)
        let path = "/api/v1/namespaces/default/pods/web"
        let smp = "Content-Type: application/strategic-merge-patch+json"
        var result = try server.request("PATCH", path, headers: [smp], body: #"""
            {"metadata":{"finalizers":["a/x","b/y"]},"spec":{"containers":[{"name":"web","image":"busybox:1.37"}]}}
            """#)
        #expect(result.status == 200, "\(result.body)")
        var object = try server.object(result.body)
        #expect((object.at("spec.containers") as? [[String: Any]])?.map { $0["image"] as? String } == ["busybox:1.37", "busybox"])
        // Reordering a Pod's containers is a spec change a Pod refuses; a ServiceAccount's secrets reorder.
        result = try server.request("PATCH", path, headers: [smp], body: #"{"spec":{"$setElementOrder/containers":[{"name":"side"},{"name":"web"}]}}"#)
        #expect(result.status == 422, "\(result.body)")
        try server.kubectlOK("apply", "-f", "-", stdin: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: bot}\nsecrets: [{name: s1}, {name: s2}, {name: s3}]\n")
        result = try server.request("PATCH", "/api/v1/namespaces/default/serviceaccounts/bot", headers: [smp],
                                    body: #"{"$setElementOrder/secrets":[{"name":"s3"},{"name":"s1"}],"secrets":[{"name":"s2","$patch":"delete"},{"name":"s3","namespace":"n"}]}"#)
        #expect((try server.object(result.body).at("secrets") as? [[String: String]]) == [["name": "s3", "namespace": "n"], ["name": "s1"]], "\(result.body)")
        result = try server.request("PATCH", path, headers: [smp], body: #"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a/x"],"finalizers":["c/z"]}}"#)
        object = try server.object(result.body)
        #expect(object.at("metadata.finalizers") as? [String] == ["b/y", "c/z"], "\(result.body)")
        result = try server.request("PATCH", path, headers: [smp], body: #"{"metadata":{"finalizers":[{"$patch":"replace"}]}}"#)
        #expect((try server.object(result.body).at("metadata.finalizers") as? [String] ?? []).isEmpty, "\(result.body)")
        // A ConfigMap's data replaced whole with `$patch: replace`; a key removed with null.
        try server.kubectlOK("create", "configmap", "c", "--from-literal=a=1", "--from-literal=b=2")
        result = try server.request("PATCH", "/api/v1/namespaces/default/configmaps/c", headers: [smp], body: #"{"data":{"$patch":"replace","z":"9"}}"#)
        #expect(try server.object(result.body).at("data") as? [String: String] == ["z": "9"], "\(result.body)")
        result = try server.request("PATCH", path, headers: [smp], body: #"{"spec":{"containers":[{"image":"x"}]}}"#)
        #expect(result.status == 400, "\(result.body)")
        #expect(result.body.contains("does not contain declared merge key: name"), "\(result.body)")
    }

    /// fieldValidation below the top level: Strict refuses an unknown member of a container
    /// (400, kubectl's default), Warn stores the Pod without it and says so, Ignore is silent.
    @Test(arguments: KubeEnv.versions)
    func nestedFieldValidation(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: typo}\nspec:\n  containers: [{name: c, image: busybox, imagee: x, ports: [{containerPort: 80, hostPorrt: 1}]}]\n"
        let strict = try server.kubectl(["apply", "-f", "-"], version: version, stdin: pod)
        #expect(strict.status == 1)
        #expect(strict.stderr.contains(#"Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imagee", unknown field "spec.containers[0].ports[0].hostPorrt""#), "\(strict.stderr)")
        let warned = try server.kubectl(["apply", "--validate=warn", "-f", "-"], version: version, stdin: pod)
        #expect(warned.status == 0 && warned.stderr.contains(#"Warning: unknown field "spec.containers[0].imagee""#), "\(warned.stderr)")
        let object = try server.object(try server.kubectlOK("get", "pod", "typo", "-o", "json", version: version))
        #expect((object.at("spec.containers") as? [[String: Any]])?.first?["imagee"] == nil)
        let result = try server.request("POST", "/api/v1/namespaces/default/pods?fieldValidation=Ignore",
                                        body: #"{"metadata":{"name":"quiet"},"spec":{"containers":[{"name":"c","image":"busybox","imagee":"x"}]}}"#)
        #expect(result.status == 201, "\(result.body)")
    }

    /// Aggregated discovery (kubectl ≥ 1.30 asks for v2, older for v2beta1) and `kubectl explain`
    /// from the OpenAPI v3 schemas of the served types.
    @Test(arguments: KubeEnv.versions)
    func discoveryAndExplain(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        for (path, accept) in [("/api", "v2"), ("/apis", "v2beta1")] {
            let result = try server.request("GET", path, headers: ["Accept: application/json;g=apidiscovery.k8s.io;v=\(accept);as=APIGroupDiscoveryList,application/json"])
            let list = try server.object(result.body)
            #expect(list.string("kind") == "APIGroupDiscoveryList" && list.string("apiVersion") == "apidiscovery.k8s.io/\(accept)", "\(result.body)")
            let items = list["items"] as? [[String: Any]] ?? []
            let resources = items.flatMap { (($0["versions"] as? [[String: Any]])?.first?["resources"] as? [[String: Any]]) ?? [] }
            let names = resources.compactMap { $0["resource"] as? String }
            let groups = items.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }
            #expect(path == "/api" ? names.contains("pods") && names.contains("nodes") : Set(groups).isSuperset(of: ["events.k8s.io", "storage.k8s.io"]), "\(groups)")
            if path == "/apis" {
                let storage = items.first { ($0["metadata"] as? [String: Any])?["name"] as? String == "storage.k8s.io" }
                let storageNames = ((storage?["versions"] as? [[String: Any]])?.first?["resources"] as? [[String: Any]] ?? []).compactMap { $0["resource"] as? String }
                #expect(storageNames == ["storageclasses"], "\(storageNames)")
            }
        }
        // kubectl takes the aggregated answer: it needs no /api/v1 request.
        let verbose = try server.kubectl(["api-resources", "-v=6"], version: version)
        #expect(verbose.status == 0 && verbose.stdout.contains("storageclasses"))
        #expect(!verbose.stderr.contains("/api/v1?"), "\(verbose.stderr)")
        let explained = try server.kubectlOK("explain", "pod.spec.containers.ports", version: version)
        #expect(explained.contains("FIELD: ports <[]ContainerPort>"), "\(explained)")
        #expect(explained.contains("containerPort\t<integer> -required-"), "\(explained)")
        let spec = try server.kubectlOK("explain", "pod.spec", version: version)
        #expect(spec.contains("containers\t<[]Container> -required-") && spec.contains("restartPolicy\t<string>"), "\(spec)")
        let missing = try server.kubectl(["explain", "pod.spec.nothing"], version: version)
        #expect(missing.status == 1 && missing.stderr.contains(#"field "nothing" does not exist"#), "\(missing.stderr)")
        #expect(try server.kubectlOK("explain", "storageclass", version: version).contains("provisioner\t<string> -required-"))
        // Pods are in the "all" category.
        try server.kubectlOK("apply", "-f", "-", version: version, stdin: Self.pod)
        #expect(try server.kubectlOK("get", "all", "-o", "name", version: version) == "pod/web\n")
    }

    /// A label-selector watch sees an object that starts matching as ADDED and one that stops as DELETED.
    @Test func selectorWatchTransitions() throws {
        let server = try KubeServer()
        defer { server.stop() }
        let base = "/api/v1/namespaces/default/configmaps"
        let start = try #require(try server.object(try server.request("GET", base).body).string("metadata.resourceVersion"))
        let merge = "Content-Type: application/merge-patch+json"
        #expect(try server.request("POST", base, body: #"{"metadata":{"name":"s"},"data":{"a":"1"}}"#).status == 201)
        for patch in [#"{"metadata":{"labels":{"app":"a"}}}"#, #"{"data":{"a":"2"}}"#, #"{"metadata":{"labels":{"app":null}}}"#,
                      #"{"data":{"a":"3"}}"#, #"{"metadata":{"labels":{"app":"a"}}}"#] {
            #expect(try server.request("PATCH", base + "/s", headers: [merge], body: patch).status == 200)
        }
        #expect(try server.request("DELETE", base + "/s").status == 200)
        let (status, stream) = try server.request("GET", base + "?watch=1&resourceVersion=\(start)&timeoutSeconds=1&labelSelector=app%3Da")
        #expect(status == 200)
        let events = try stream.split(separator: "\n").map { try server.object(String($0)) }
        #expect(events.map { $0["type"] as? String } == ["ADDED", "MODIFIED", "DELETED", "ADDED", "DELETED"], "\(stream)")
        #expect(events.map { $0.string("object.data.a") } == ["1", "2", "2", "3", "3"], "\(stream)")
        // The DELETED for the object that stopped matching carries its last matching state, at the change's resourceVersion.
        #expect(events[2].string("object.metadata.labels.app") == "a", "\(stream)")
        let versions = events.compactMap { Int($0.string("object.metadata.resourceVersion") ?? "") }
        #expect(versions.count == 5 && versions == versions.sorted() && Set(versions).count == 5, "\(versions)")
    }

    /// Pod status changes through /status only; the object's PUT/PATCH keep the stored status.
    @Test func statusSubresource() throws {
        let server = try KubeServer()
        defer { server.stop() }
        try server.kubectlOK("apply", "-f", "-", stdin: Self.pod)
        let resources = try server.object(try server.request("GET", "/api/v1").body)
        let names = (resources["resources"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        #expect(names.contains("pods/status"), "\(names)")
        // The main resource ignores status.
        #expect(try server.kubectlOK("patch", "pod", "web", "--type", "merge", "-p", #"{"status":{"phase":"Failed"}}"#) == "pod/web patched (no change)\n")
        // /status takes status and ignores spec.
        let patched = try server.kubectlOK("patch", "pod", "web", "--subresource", "status", "--type", "merge", "-p",
                                           #"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]},"spec":{"containers":[{"name":"web","image":"evil"}]}}"#)
        #expect(patched == "pod/web patched\n", "\(patched)")
        var object = try server.object(try server.kubectlOK("get", "pod", "web", "-o", "json"))
        #expect(object.string("status.phase") == "Running")
        #expect((object.at("spec.containers") as? [[String: Any]])?.first?["image"] as? String == "busybox:1.36")
        #expect(object.at("metadata.generation") as? Int == 1)
        // Conditions merge by type through a strategic patch of /status.
        let result = try server.request("PATCH", "/api/v1/namespaces/default/pods/web/status", headers: ["Content-Type: application/strategic-merge-patch+json"],
                                         body: #"{"status":{"conditions":[{"type":"Initialized","status":"True"}]}}"#)
        #expect(result.status == 200, "\(result.body)")
        object = try server.object(try server.request("GET", "/api/v1/namespaces/default/pods/web/status").body)
        #expect((object.at("status.conditions") as? [[String: Any]])?.compactMap { $0["type"] as? String } == ["Ready", "Initialized"])
        // PUT of the whole object with another status keeps the stored one.
        object["status"] = ["phase": "Succeeded"]
        let body = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let put = try server.request("PUT", "/api/v1/namespaces/default/pods/web", body: body)
        #expect(put.status == 200, "\(put.body)")
        #expect(try server.object(put.body).string("status.phase") == "Running", "\(put.body)")
        #expect(try server.request("DELETE", "/api/v1/namespaces/default/pods/web/status").status == 405)
        #expect(try server.request("GET", "/api/v1/namespaces/default/configmaps/x/status").status == 404)
    }
}

/// Server-side apply and managedFields through kubectl and curl.
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct ServerSideApplyTests {
    /// `apply --server-side` creates and re-applies; a field dropped from the configuration goes;
    /// a field another manager set conflicts (409, kubectl's message) until `--force-conflicts`.
    @Test(arguments: KubeEnv.versions)
    func applyOwnsFields(version: String) throws {
        let server = try KubeServer()
        defer { server.stop() }
        let config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {team: a}}\ndata: {one: \"1\", two: \"2\"}\n"
        #expect(try server.kubectlOK("apply", "--server-side", "-f", "-", version: version, stdin: config) == "configmap/c serverside-applied\n")
        let first = try server.kubectlOK("get", "cm", "c", "-o", "jsonpath={.metadata.resourceVersion}", version: version)
        #expect(try server.kubectlOK("apply", "--server-side", "-f", "-", version: version, stdin: config) == "configmap/c serverside-applied\n")
        // Nothing changed: the same resourceVersion.
        #expect(try server.kubectlOK("get", "cm", "c", "-o", "jsonpath={.metadata.resourceVersion}", version: version) == first)
        var object = try server.object(try server.kubectlOK("get", "cm", "c", "-o", "json", "--show-managed-fields", version: version))
        var entries = try #require(object.at("metadata.managedFields") as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries.first?["manager"] as? String == "kubectl" && entries.first?["operation"] as? String == "Apply")
        #expect(entries.first?["fieldsType"] as? String == "FieldsV1")
        let fields = entries.first?["fieldsV1"] as? [String: Any]
        #expect((fields?["f:data"] as? [String: Any])?.keys.sorted() == ["f:one", "f:two"], "\(entries)")
        #expect(((fields?["f:metadata"] as? [String: Any])?["f:labels"] as? [String: Any])?.keys.sorted() == ["f:team"], "\(entries)")
        // Without managed fields by default, as kubectl prints objects.
        #expect(!(try server.kubectlOK("get", "cm", "c", "-o", "yaml", version: version)).contains("managedFields"))

        // Dropping a field from the configuration removes it.
        try server.kubectlOK("apply", "--server-side", "-f", "-", version: version, stdin: config.replacingOccurrences(of: #", two: "2""#, with: ""))
        object = try server.object(try server.kubectlOK("get", "cm", "c", "-o", "json", version: version))
        #expect(object.at("data") as? [String: String] == ["one": "1"])

        // kubectl-label (an Update) takes a label; another value applied conflicts.
        try server.kubectlOK("label", "cm", "c", "team=b", "--overwrite", version: version)
        let conflict = try server.kubectl(["apply", "--server-side", "-f", "-"], version: version, stdin: config)
        #expect(conflict.status == 1)
        #expect(conflict.stderr.hasPrefix(#"error: Apply failed with 1 conflict: conflict with "kubectl-label" using v1: .metadata.labels.team"#), "\(conflict.stderr)")
        #expect(try server.kubectlOK("apply", "--server-side", "--force-conflicts", "-f", "-", version: version, stdin: config) == "configmap/c serverside-applied\n")
        object = try server.object(try server.kubectlOK("get", "cm", "c", "-o", "json", "--show-managed-fields", version: version))
        #expect(object.string("metadata.labels.team") == "a")
        #expect(object.at("data") as? [String: String] == ["one": "1", "two": "2"])
        entries = try #require(object.at("metadata.managedFields") as? [[String: Any]])
        // The label's manager lost its only field: its entry is gone.
        #expect(entries.compactMap { $0["manager"] as? String } == ["kubectl"], "\(entries)")
    }

    /// Through curl: the 409's causes, fieldManager required, force only for apply, Update
    /// entries per manager, shared ownership of equal values, keyed list items.
    @Test func conflictsAndManagers() throws {
        let server = try KubeServer()
        defer { server.stop() }
        let path = "/api/v1/namespaces/default/configmaps/c"
        let apply = "Content-Type: application/apply-patch+yaml"
        var result = try server.request("PATCH", path, headers: [apply], body: #"{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"1"}}"#)
        #expect(result.status == 422, "\(result.body)")
        #expect(try server.object(result.body).string("message") == #"PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch"#)
        result = try server.request("PATCH", path + "?fieldManager=one", headers: [apply], body: #"{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"1","b":"2"}}"#)
        #expect(result.status == 201, "\(result.body)")
        // The same value applied by another manager is shared, not a conflict.
        result = try server.request("PATCH", path + "?fieldManager=two", headers: [apply], body: #"{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"1"}}"#)
        #expect(result.status == 200, "\(result.body)")
        result = try server.request("PATCH", path + "?fieldManager=two", headers: [apply], body: #"{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"9","b":"8"}}"#)
        #expect(result.status == 409, "\(result.body)")
        let status = try server.object(result.body)
        #expect(status.string("reason") == "Conflict")
        // An applier is named by its name alone (an updater with its API version).
        #expect(status.string("message") == "Apply failed with 2 conflicts: conflicts with \"one\":\n- .data.a\n- .data.b", "\(result.body)")
        let causes = (status.at("details.causes") as? [[String: String]]) ?? []
        #expect(Set(causes.compactMap { $0["field"] }) == [".data.a", ".data.b"])
        #expect(causes.allSatisfy { $0["reason"] == "FieldManagerConflict" && $0["message"] == #"conflict with "one""# })
        // "one" stops applying a: two's shared ownership keeps it.
        result = try server.request("PATCH", path + "?fieldManager=one", headers: [apply], body: #"{"apiVersion":"v1","kind":"ConfigMap","data":{"b":"2"}}"#)
        #expect(try server.object(result.body).at("data") as? [String: String] == ["a": "1", "b": "2"], "\(result.body)")
        // force is for apply only; a merge patch is an Update by its manager (the User-Agent's name without one).
        result = try server.request("PATCH", path + "?force=true", headers: ["Content-Type: application/merge-patch+json"], body: #"{"data":{"c":"3"}}"#)
        #expect(result.status == 422 && result.body.contains("force: Forbidden: may not be specified for non-apply patch"), "\(result.body)")
        result = try server.request("PATCH", path, headers: ["Content-Type: application/merge-patch+json"], body: #"{"data":{"b":"7","c":"3"}}"#)
        let entries = (try server.object(result.body).at("metadata.managedFields") as? [[String: Any]]) ?? []
        let curl = try #require(entries.first { $0["manager"] as? String == "curl" }, "\(entries)")
        #expect(curl["operation"] as? String == "Update")
        #expect(((curl["fieldsV1"] as? [String: Any])?["f:data"] as? [String: Any])?.keys.sorted() == ["f:b", "f:c"])
        // "one" owned only b, which curl took: its entry is gone; "two" still shares a.
        #expect(entries.compactMap { $0["manager"] as? String }.sorted() == ["curl", "two"], "\(entries)")

        // A Pod's containers are owned item by item: k:{"name":…} with ".".
        let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"web","image":"busybox"}]}}"#
        result = try server.request("PATCH", "/api/v1/namespaces/default/pods/p?fieldManager=mine", headers: [apply], body: pod)
        #expect(result.status == 201, "\(result.body)")
        let podEntries = (try server.object(result.body).at("metadata.managedFields") as? [[String: Any]]) ?? []
        let containers = ((podEntries.first?["fieldsV1"] as? [String: Any])?["f:spec"] as? [String: Any])?["f:containers"] as? [String: Any]
        #expect(containers?.keys.sorted() == [#"k:{"name":"web"}"#], "\(podEntries)")
        #expect((containers?[#"k:{"name":"web"}"#] as? [String: Any])?.keys.sorted() == [".", "f:image", "f:name"])
        // The kubelet's status writes are an Update of the status subresource.
        result = try server.request("PATCH", "/api/v1/namespaces/default/pods/p/status?fieldManager=kubelet",
                                    headers: ["Content-Type: application/merge-patch+json"], body: #"{"status":{"phase":"Running"}}"#)
        let statusEntry = ((try server.object(result.body).at("metadata.managedFields") as? [[String: Any]]) ?? []).first { $0["manager"] as? String == "kubelet" }
        #expect(statusEntry?["subresource"] as? String == "status", "\(result.body)")
        #expect(((statusEntry?["fieldsV1"] as? [String: Any])?["f:status"] as? [String: Any])?.keys.sorted() == ["f:phase"])
    }
}
