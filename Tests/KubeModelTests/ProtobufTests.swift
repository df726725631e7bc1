import Foundation
import GoCompat
import KubeModel
import TestSupport
import Testing

/// A protobuf body built by hand: tags, varints, length-delimited fields.
enum Wire {
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value, bytes: [UInt8] = []
        repeat {
            bytes.append(UInt8(value & 0x7F) | (value >= 0x80 ? 0x80 : 0))
            value >>= 7
        } while value > 0
        return bytes
    }
    static func int(_ number: Int, _ value: Int64) -> [UInt8] { varint(UInt64(number << 3)) + varint(UInt64(bitPattern: value)) }
    static func bytes(_ number: Int, _ value: [UInt8]) -> [UInt8] { varint(UInt64(number << 3 | 2)) + varint(UInt64(value.count)) + value }
    static func string(_ number: Int, _ value: String) -> [UInt8] { bytes(number, Array(value.utf8)) }
    static func body(_ apiVersion: String, _ kind: String, _ raw: [UInt8]) -> [UInt8] {
        [0x6b, 0x38, 0x73, 0x00] + bytes(1, string(1, apiVersion) + string(2, kind)) + bytes(2, raw)
    }
}

@Suite struct ProtobufTests {
    static func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    /// IntOrString (both forms), Quantity maps, a negative int32, a Time, an embedded message JSON
    /// inlines (a Volume's source), packed repeated integers, and a field the schema does not know (skipped).
    @Test func typesOfTheWire() throws {
        let container = Wire.string(1, "c") + Wire.string(2, "busybox")
            + Wire.bytes(8, Wire.bytes(2, Wire.string(1, "cpu") + Wire.bytes(2, Wire.string(1, "100m"))))
            + Wire.bytes(11, Wire.bytes(1, Wire.bytes(2, Wire.bytes(2, Wire.int(1, 1) + Wire.string(3, "http")))) + Wire.int(4, 3))
            + Wire.bytes(10, Wire.bytes(1, Wire.bytes(3, Wire.bytes(1, Wire.int(1, 0) + Wire.int(2, 8080)))))
            + Wire.int(99, 7) // unknown: skipped
        let volume = Wire.string(1, "v") + Wire.bytes(2, Wire.bytes(2, Wire.string(1, "Memory")))
        let security = Wire.bytes(14, Wire.int(2, 0) + Wire.bytes(4, Wire.varint(1) + Wire.varint(300)))
        let podSpec = Wire.bytes(1, volume) + Wire.bytes(2, container) + Wire.int(4, -1) + security
        let meta = Wire.string(1, "web") + Wire.bytes(8, []) + Wire.bytes(9, Wire.int(1, 1_700_000_000))
        let raw = Wire.bytes(1, meta) + Wire.bytes(2, podSpec)
        let object = try KubeProtobuf.decode(Wire.body("v1", "Pod", raw))
        let expected = try Self.json(#"""
            {"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","creationTimestamp":null,"deletionTimestamp":"2023-11-14T22:13:20Z"},
             "spec":{"volumes":[{"name":"v","emptyDir":{"medium":"Memory"}}],
                     "containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"100m"}},
                                    "readinessProbe":{"httpGet":{"port":"http"},"periodSeconds":3},
                                    "livenessProbe":{"tcpSocket":{"port":8080}}}],
                     "terminationGracePeriodSeconds":-1,"securityContext":{"runAsUser":0,"supplementalGroups":[1,300]}}}
            """#)
        #expect(object == expected)
    }

    /// A known field of the wrong wire type, a truncated body, a length past the end, bad UTF-8:
    /// 400 naming where; a kind without a schema: 415.
    @Test func badBodiesAreRefused() throws {
        func status(_ body: [UInt8]) -> KubeStatus? {
            do { _ = try KubeProtobuf.decode(body); return nil } catch { return error }
        }
        let wrongType = status(Wire.body("apps/v1", "Deployment", Wire.bytes(2, Wire.string(1, "three"))))
        #expect(wrongType?.code == 400)
        #expect(wrongType?.message.contains("spec.replicas") == true)
        #expect(status(Wire.body("v1", "ConfigMap", [0x0a, 0x05, 0x01]))?.code == 400)
        #expect(status(Wire.body("v1", "ConfigMap", Wire.bytes(1, [0x0a, 0x7f])))?.code == 400)
        #expect(status(Wire.body("v1", "ConfigMap", Wire.bytes(1, Wire.bytes(1, [0xff, 0xfe]))))?.message.contains("metadata.name") == true)
        #expect(status(Wire.body("example.com/v1", "Widget", []))?.code == 415)
        #expect(status(Array("{}".utf8))?.code == 400)
    }

    @Test func timesAreRFC3339() {
        #expect(KubeProtobuf.rfc3339(0) == "1970-01-01T00:00:00Z")
        #expect(KubeProtobuf.rfc3339(951_782_400) == "2000-02-29T00:00:00Z")
        #expect(KubeProtobuf.rfc3339(-1) == "1969-12-31T23:59:59Z")
    }
}

/// kubectl 1.33's typed clients send protobuf, 1.27's send JSON: for every `kubectl create`
/// subcommand of the kinds Berth serves or will serve, the object decoded from 1.33's body must be
/// the one 1.27 sends. Both talk to a small capture server that records the body and refuses the
/// request (so nothing needs serving).
enum CaptureEnv {
    static let kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl."
    static let python = "/usr/bin/python3"
    static var ready: Bool {
        ["1.33", "1.27"].allSatisfy { FileManager.default.isExecutableFile(atPath: kubectl + $0) }
            && FileManager.default.isExecutableFile(atPath: python)
    }
}

@Suite(.serialized, .enabled(if: CaptureEnv.ready))
struct ProtobufDifferentialTests {
    static let kubectl = CaptureEnv.kubectl
    static let python = CaptureEnv.python

    static let commands: [[String]] = [
        ["create", "deployment", "web", "--image=busybox", "--replicas=2", "--port=8080", "--", "sh", "-c", "sleep 1d"],
        ["create", "deployment", "two", "--image=busybox", "--image=nginx"],
        ["create", "service", "clusterip", "web", "--tcp=80:8080", "--tcp=443:https"],
        ["create", "service", "clusterip", "headless", "--clusterip=None"],
        ["create", "service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"],
        ["create", "service", "loadbalancer", "lb", "--tcp=80:8080"],
        ["create", "service", "externalname", "ext", "--external-name=example.com", "--tcp=80"],
        ["create", "job", "j", "--image=busybox", "--", "echo", "hi"],
        ["create", "cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *", "--restart=OnFailure", "--", "echo", "hi"],
        ["create", "ingress", "ing", "--class=berth", "--rule=a.example.com/path*=svc:80,tls=secret", "--rule=b.example.com/=svc2:http",
         "--default-backend=def:80", "--annotation=x=y"],
        ["create", "configmap", "cm", "--from-literal=a=b", "--from-literal=c=d"],
        ["create", "secret", "generic", "s", "--from-literal=a=b", "--type=example.com/t"],
        ["create", "secret", "docker-registry", "r", "--docker-server=reg.example.com", "--docker-username=u", "--docker-password=p"],
        ["create", "namespace", "ns"],
        ["create", "serviceaccount", "sa"],
        ["create", "job", "fromcj", "--from=cronjob/cj"],
    ]

    /// Records each POST's Content-Type and body (base64) as a JSON line, and answers 400. GETs get
    /// the discovery of batch/v1 and one CronJob with a rich pod template (for `create job --from`).
    static let server = #"""
        import base64, http.server, json, sys
        container = {"name": "c", "image": "busybox", "command": ["sh", "-c", "exit 0"], "args": ["a"], "workingDir": "/w",
                     "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
                     "env": [{"name": "A", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                             {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": True}}},
                             {"name": "C", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}}],
                     "envFrom": [{"prefix": "P_", "configMapRef": {"name": "cm"}}],
                     "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1"}},
                     "volumeMounts": [{"name": "v", "mountPath": "/v", "readOnly": True, "subPath": "x"}],
                     "readinessProbe": {"httpGet": {"path": "/", "port": "http", "httpHeaders": [{"name": "H", "value": "v"}]}, "periodSeconds": 3},
                     "livenessProbe": {"tcpSocket": {"port": 80}, "initialDelaySeconds": 1, "failureThreshold": 5},
                     "startupProbe": {"exec": {"command": ["true"]}, "timeoutSeconds": 2},
                     "lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}}, "postStart": {"httpGet": {"port": 8080, "scheme": "HTTP"}}},
                     "securityContext": {"runAsUser": 0, "privileged": False, "readOnlyRootFilesystem": True,
                                         "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
                     "imagePullPolicy": "IfNotPresent", "terminationMessagePolicy": "FallbackToLogsOnError", "stdin": True, "tty": True}
        # (No field newer than kubectl 1.27: it would drop it.)
        sidecar = {"name": "init", "image": "busybox", "resources": {"limits": {"memory": "1Gi"}}}
        pod = {"restartPolicy": "Never", "containers": [container], "initContainers": [sidecar], "terminationGracePeriodSeconds": 0,
               "activeDeadlineSeconds": 60, "nodeSelector": {"k": "v"}, "serviceAccountName": "sa", "automountServiceAccountToken": False,
               "shareProcessNamespace": True, "hostname": "h", "subdomain": "s", "enableServiceLinks": False, "priority": -5,
               "securityContext": {"runAsNonRoot": True, "fsGroup": 2000, "supplementalGroups": [1, 300000], "sysctls": [{"name": "a", "value": "b"}]},
               "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 30}],
               "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["a", "b"]}], "dnsConfig": {"nameservers": ["1.1.1.1"], "options": [{"name": "ndots", "value": "2"}]},
               "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "a", "operator": "In", "values": ["b"]}]}]}}},
               "volumes": [{"name": "v", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}},
                           {"name": "cm", "configMap": {"name": "cm", "defaultMode": 420, "items": [{"key": "a", "path": "b", "mode": 256}]}},
                           {"name": "sec", "secret": {"secretName": "s", "optional": True}},
                           {"name": "pvc", "persistentVolumeClaim": {"claimName": "c", "readOnly": True}},
                           {"name": "host", "hostPath": {"path": "/tmp", "type": "Directory"}},
                           {"name": "down", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
                           {"name": "proj", "projected": {"sources": [{"configMap": {"name": "cm"}}, {"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}}]}}]}
        canned = {
            "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
            "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [{"name": "batch", "versions": [{"groupVersion": "batch/v1", "version": "v1"}],
                                                                          "preferredVersion": {"groupVersion": "batch/v1", "version": "v1"}}]},
            "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": []},
            "/apis/batch/v1": {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "batch/v1", "resources": [
                {"name": "cronjobs", "singularName": "cronjob", "namespaced": True, "kind": "CronJob", "verbs": ["create", "get", "list"]},
                {"name": "jobs", "singularName": "job", "namespaced": True, "kind": "Job", "verbs": ["create", "get", "list"]}]},
            "/apis/batch/v1/namespaces/default/cronjobs/cj": {"apiVersion": "batch/v1", "kind": "CronJob",
                "metadata": {"name": "cj", "namespace": "default", "uid": "u1"},
                "spec": {"schedule": "* * * * *", "jobTemplate": {"metadata": {"labels": {"a": "b"}},
                         "spec": {"backoffLimit": 2, "parallelism": 0, "template": {"metadata": {"labels": {"app": "x"}}, "spec": pod}}}}},
        }
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args): pass
            def do_GET(self):
                found = canned.get(self.path.split("?")[0])
                body = json.dumps(found).encode() if found else b'{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}'
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def do_POST(self):
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with open(sys.argv[2], "a") as out:
                    out.write(json.dumps({"type": self.headers.get("Content-Type", ""), "body": base64.b64encode(data).decode()}) + "\n")
                body = b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"captured","reason":"BadRequest","code":400}'
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#

    /// JSON without null members (1.27 writes `creationTimestamp: null`; protobuf has no nulls).
    static func withoutNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members, let keys):
            return .ordered(keys.compactMap { key in
                guard let member = members[key] else { return nil }
                if case .null = member { return nil }
                return (key, withoutNulls(member))
            })
        case .array(let items): return .array(items.map(withoutNulls))
        default: return value
        }
    }

    @Test func kubectlCreateSendsTheSameObjectAsProtobufAndAsJSON() throws {
        let directory = NSTemporaryDirectory() + "berth-protobuf-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.server.write(toFile: directory + "/capture.py", atomically: true, encoding: .utf8)
        let captures = directory + "/captures.jsonl"
        let pid = try spawn([Self.python, directory + "/capture.py", "0", captures], stdout: directory + "/port")
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        var port = ""
        for _ in 0..<100 where port.isEmpty {
            usleep(50_000)
            port = ((try? String(contentsOfFile: directory + "/port", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try #require(!port.isEmpty, "the capture server did not start")
        try """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "http://127.0.0.1:\(port)"}}]
            users: [{name: u, user: {token: t}}]
            contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]
            current-context: c
            """.write(toFile: directory + "/kubeconfig", atomically: true, encoding: .utf8)

        /// The one body `kubectl.VERSION ARGS` posted, and its Content-Type.
        func posted(_ version: String, _ arguments: [String]) throws -> (type: String, body: [UInt8]) {
            _ = unlink(captures)
            _ = try sh([Self.kubectl + version] + arguments, environment: ["HOME": directory, "KUBECONFIG": directory + "/kubeconfig"])
            let lines = ((try? String(contentsOfFile: captures, encoding: .utf8)) ?? "").split(separator: "\n")
            try #require(lines.count == 1, "kubectl \(version) \(arguments.joined(separator: " ")) posted \(lines.count) bodies")
            let record = try JSONParser.parse(Array(lines[0].utf8))
            let body = Array(Data(base64Encoded: record[member: "body"]?.stringValue ?? "") ?? Data())
            return (record[member: "type"]?.stringValue ?? "", body)
        }

        for command in Self.commands {
            let name = command.joined(separator: " ")
            let new = try posted("1.33", command)
            let old = try posted("1.27", command)
            #expect(new.type == "application/vnd.kubernetes.protobuf", "\(name)")
            #expect(old.type == "application/json", "\(name)")
            var decoded = try KubeProtobuf.decode(new.body)
            let sent = try JSONParser.parse(old.body)
            if command.contains("--from=cronjob/cj") {
                // kubectl 1.33 marks the CronJob as the Job's controller; 1.27 did not: not a decoding difference.
                let references = decoded[member: "metadata"]?[member: "ownerReferences"]?.arrayValue ?? []
                #expect(references.first?[member: "controller"] == .bool(true))
                decoded = decoded.settingMetadata("ownerReferences", to: .array(references.map { $0.setting("controller", to: nil) }))
            }
            #expect(Self.withoutNulls(decoded) == Self.withoutNulls(sent), "kubectl \(name): \(String(decoding: decoded.serialized, as: UTF8.self)) vs \(String(decoding: sent.serialized, as: UTF8.self))")
        }
    }
}
