import Foundation
import TestSupport
import Testing

/// The Ingress controller through the real kubectl and real traffic: two Deployments of busybox
/// httpd behind Services, an Ingress of Berth's class routing two hosts and two paths to them
/// (Exact and Prefix), the default backend, 404 and 503, TLS from a Secret chosen by SNI, an unready
/// Pod leaving the rotation, a change of route under a client loop that sees no failure, and
/// nothing listening after `kubectl delete -f`. The server runs in a network namespace of its
/// own, where the proxy listens on ports 80 and 443.
@Suite(.serialized, .enabled(if: KubeEnv.ready && BusyboxImage.failure == nil && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")))
struct IngressTests {
    /// A Deployment whose Pods serve `APP POD` at /, /APP/ and /APP/x, the file /beta, and two CGI
    /// scripts: /cgi-bin/env (the request's headers as the backend saw them) and /cgi-bin/count
    /// (the size of the request body).
    static func deployment(_ app: String, replicas: Int = 2) -> String {
        // busybox httpd passes a CGI script's header lines as written: CRLF, as HTTP has them.
        let script = #"""
            set -e
            mkdir -p /www/\#(app) /www/cgi-bin
            echo \#(app) $(hostname) > /www/index.html
            cp /www/index.html /www/\#(app)/index.html
            cp /www/index.html /www/\#(app)/x
            cp /www/index.html /www/exact
            printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nenv\n' > /www/cgi-bin/env
            printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nwc -c\n' > /www/cgi-bin/count
            chmod +x /www/cgi-bin/env /www/cgi-bin/count
            exec httpd -f -p 8080 -h /www
            """#.split(separator: "\n").map { "              " + $0 }.joined(separator: "\n")
        return """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: \(app)}
            spec:
              replicas: \(replicas)
              selector: {matchLabels: {app: \(app)}}
              template:
                metadata: {labels: {app: \(app)}}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: web
                    image: busybox:test
                    imagePullPolicy: IfNotPresent
                    command: [sh, -c]
                    args:
                    - |
            \(script)
                    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1, failureThreshold: 1}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: \(app)}
            spec:
              selector: {app: \(app)}
              ports: [{name: http, port: 80, targetPort: 8080}]
            """
    }

    static func ingress(defaultBackend: Bool, bHostTo: String = "beta") -> String {
        """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: web}
        spec:
          ingressClassName: berth
        \(defaultBackend ? "  defaultBackend: {service: {name: alpha, port: {number: 80}}}" : "")
          tls:
          - hosts: [a.example.com]
            secretName: a-tls
          rules:
          - host: a.example.com
            http:
              paths:
              - {path: /alpha, pathType: Prefix, backend: {service: {name: alpha, port: {name: http}}}}
              - {path: /exact, pathType: Exact, backend: {service: {name: beta, port: {number: 80}}}}
              - {path: /cgi-bin, pathType: Prefix, backend: {service: {name: alpha, port: {number: 80}}}}
          - host: b.example.com
            http:
              paths:
              - {path: /, pathType: Prefix, backend: {service: {name: \(bHostTo), port: {number: 80}}}}
          - host: "*.wild.example.com"
            http:
              paths:
              - {path: /, pathType: Prefix, backend: {service: {name: beta, port: {number: 80}}}}
        """
    }

    /// curl in the server's network namespace to 127.0.0.1 with `host` resolved there: status and body.
    static func fetch(_ server: KubeServer, _ host: String, _ path: String, tls: Bool = false, extra: [String] = []) throws -> (status: Int, body: String) {
        let port = tls ? 443 : 80
        let result = try sh(server.inNetwork + ["curl", "-s", "--max-time", "5", "-w", "\n%{http_code}", "--resolve", "\(host):\(port):127.0.0.1"]
            + extra + ["\(tls ? "https" : "http")://\(host)\(path)"])
        var lines = result.stdout.components(separatedBy: "\n")
        let code = Int(lines.removeLast()) ?? 0
        return (code, lines.joined(separator: "\n"))
    }

    /// The app of an answer (`alpha` of `alpha alpha-5d8f-xk2p`), or the status when not 200.
    static func app(_ server: KubeServer, _ host: String, _ path: String, tls: Bool = false, extra: [String] = []) throws -> String {
        let (status, body) = try fetch(server, host, path, tls: tls, extra: extra)
        return status == 200 ? String(body.split(separator: " ").first ?? "") : String(status)
    }

    /// The subject of the certificate the proxy presents for a TLS server name.
    static func subject(_ server: KubeServer, serverName: String) throws -> String {
        let result = try sh(server.inNetwork + ["sh", "-c", "openssl s_client -connect 127.0.0.1:443 -servername \(serverName) </dev/null 2>/dev/null | openssl x509 -noout -subject"])
        return result.stdout
    }

    static func listeners(_ server: KubeServer) throws -> String {
        try sh(server.inNetwork + ["ss", "-Hltn", "( sport = :80 or sport = :443 )"]).stdout
    }

    @Test func routesHostsAndPathsWithTLSAndFollowsChanges() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { PodTests.cleanUp(server); server.stop() }
        try PodTests.loadBusybox(server)
        // A self-signed certificate for a.example.com.
        let pki = server.base + "/pki"
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        let made = try sh(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                           "-subj", "/CN=a.example.com", "-addext", "subjectAltName=DNS:a.example.com",
                           "-keyout", pki + "/tls.key", "-out", pki + "/tls.crt"])
        try #require(made.status == 0, "openssl: \(made.stderr)")

        #expect(try server.kubectlOK("get", "ingressclass", "--no-headers").split(separator: " ", omittingEmptySubsequences: true).prefix(3)
                == ["berth", "berth.dev/ingress", "<none>"])
        #expect(try server.kubectlOK("get", "ingressclass", "berth", "-o", "jsonpath={.metadata.annotations.ingressclass\\.kubernetes\\.io/is-default-class}") == "true")
        let early = try Self.listeners(server)
        #expect(early.isEmpty, "listening before any Ingress: \(early)")

        let apps = Self.deployment("alpha") + "\n---\n" + Self.deployment("beta")
        try server.kubectlOK("apply", "-f", "-", stdin: apps)
        try server.kubectlOK("create", "secret", "tls", "a-tls", "--cert", pki + "/tls.crt", "--key", pki + "/tls.key")
        try server.kubectlOK("apply", "-f", "-", stdin: Self.ingress(defaultBackend: false))
        try server.kubectlOK("rollout", "status", "deployment/alpha", "--timeout=120s")
        try server.kubectlOK("rollout", "status", "deployment/beta", "--timeout=120s")

        // Hosts and paths.
        #expect(PodTests.eventually(20) { (try? Self.app(server, "a.example.com", "/alpha/")) == "alpha" }, "a.example.com/alpha/ does not reach alpha")
        #expect(try Self.app(server, "a.example.com", "/alpha/x") == "alpha")
        #expect(try Self.app(server, "A.EXAMPLE.COM", "/alpha/x?q=1") == "alpha")
        #expect(try Self.app(server, "a.example.com", "/exact") == "beta", "Exact /exact")
        #expect(try Self.app(server, "a.example.com", "/exact/x") == "404", "Exact /exact matched /exact/x")
        #expect(try Self.app(server, "a.example.com", "/alphabet") == "404", "Prefix /alpha matched /alphabet")
        #expect(try Self.app(server, "b.example.com", "/") == "beta")
        #expect(try Self.app(server, "b.example.com", "/beta/x") == "beta")
        #expect(try Self.app(server, "x.wild.example.com", "/") == "beta")
        #expect(try Self.app(server, "y.x.wild.example.com", "/") == "404", "a wildcard matched two labels")
        let unknown = try Self.fetch(server, "nobody.example.com", "/")
        #expect(unknown.status == 404 && unknown.body.contains("default backend - 404"), "\(unknown)")

        // Both replicas of each answer (round robin over ready endpoints).
        var pods: Set<String> = []
        for _ in 0..<20 { pods.insert(try Self.fetch(server, "b.example.com", "/").body) }
        #expect(pods.count == 2, "answers of b.example.com: \(pods)")

        // The default backend takes what no rule matches.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.ingress(defaultBackend: true))
        #expect(PodTests.eventually(10) { (try? Self.app(server, "nobody.example.com", "/")) == "alpha" }, "no default backend")

        // Forwarded headers, set by the proxy (not passed on from the client), and keep-alive.
        let env = try Self.fetch(server, "a.example.com", "/cgi-bin/env", extra: ["-H", "X-Forwarded-For: 6.6.6.6"]).body
        #expect(env.contains("HTTP_X_FORWARDED_FOR=127.0.0.1") && !env.contains("6.6.6.6"), "\(env)")
        #expect(env.contains("HTTP_X_FORWARDED_PROTO=http") && env.contains("HTTP_X_FORWARDED_HOST=a.example.com") && env.contains("HTTP_HOST=a.example.com"), "\(env)")
        let twice = try sh(server.inNetwork + ["curl", "-sv", "--max-time", "5", "--resolve", "b.example.com:80:127.0.0.1",
                                               "http://b.example.com/", "http://b.example.com/"])
        #expect(twice.status == 0 && twice.stderr.contains("Re-using existing connection") || twice.stderr.contains("Reusing existing"), "\(twice.stderr)")

        // Bodies stream both ways: 32 MiB up to a CGI that counts them, 32 MiB down.
        let big = server.base + "/big"
        try #require(try sh(["/bin/dd", "if=/dev/urandom", "of=" + big, "bs=1M", "count=32", "status=none"]).status == 0)
        let counted = try Self.fetch(server, "a.example.com", "/cgi-bin/count", extra: ["--max-time", "60", "--data-binary", "@" + big])
        #expect(counted.status == 200 && counted.body.trimmingCharacters(in: .whitespacesAndNewlines) == String(32 << 20), "\(counted.status) \(counted.body.prefix(200))")

        // TLS: the Secret's certificate for its host (curl checks it against the CA), the default one for others.
        let secure = try Self.fetch(server, "a.example.com", "/alpha/", tls: true, extra: ["--cacert", pki + "/tls.crt"])
        #expect(secure.status == 200 && secure.body.hasPrefix("alpha"), "\(secure)")
        let proto = try Self.fetch(server, "a.example.com", "/cgi-bin/env", tls: true, extra: ["--cacert", pki + "/tls.crt"]).body
        #expect(proto.contains("HTTP_X_FORWARDED_PROTO=https"), "\(proto)")
        #expect(try Self.subject(server, serverName: "a.example.com").contains("CN = a.example.com"))
        #expect(try Self.subject(server, serverName: "b.example.com").contains("Fake Certificate"))

        // kubectl's columns and the status address: the node's InternalIP (the host's address when the node has none).
        let node = try server.kubectlOK("get", "nodes", "-o", "jsonpath={.items[0].status.addresses[?(@.type==\"InternalIP\")].address}")
        #expect(PodTests.eventually(10) { !((try? server.kubectlOK("get", "ingress", "web", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}")) ?? "").isEmpty })
        let address = try server.kubectlOK("get", "ingress", "web", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}")
        if !node.isEmpty { #expect(address == node, "status address \(address), node \(node)") }
        let viaStatus = try sh(server.inNetwork + ["curl", "-s", "--max-time", "5", "--resolve", "b.example.com:80:\(address)", "http://b.example.com/"])
        #expect(viaStatus.stdout.hasPrefix("beta"), "through the status address \(address): \(viaStatus.stdout)")
        let row = try server.kubectlOK("get", "ingress", "web").split(separator: "\n")
        #expect(row.first?.split(separator: " ", omittingEmptySubsequences: true) == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"])
        #expect(row.last?.split(separator: " ", omittingEmptySubsequences: true).prefix(4) == ["web", "berth", "a.example.com,b.example.com,*.wild.example.com", Substring(address)])
        #expect(row.last?.contains("80, 443") == true, "\(row)")

        // A Pod that turns unready leaves the rotation.
        let alphaPods = try server.kubectlOK("get", "pods", "-l", "app=alpha", "-o", "name").split(separator: "\n").map(String.init)
        try #require(alphaPods.count == 2)
        try server.kubectlOK("exec", alphaPods[0], "--", "rm", "/www/index.html")
        let unreadyName = String(alphaPods[0].split(separator: "/").last!)
        #expect(PodTests.eventually(20) {
            (try? server.kubectlOK("get", "endpoints", "alpha", "-o", "jsonpath={.subsets[0].notReadyAddresses[*].targetRef.name}")) == unreadyName
        }, "the Pod did not turn unready")
        var answered: Set<String> = []
        for _ in 0..<12 { answered.insert(try Self.fetch(server, "a.example.com", "/alpha/x").body) }
        #expect(answered.count == 1 && answered.allSatisfy { !$0.contains(unreadyName) }, "answers after \(unreadyName) turned unready: \(answered)")

        // Routes change under a client loop: no request fails.
        let loop = server.base + "/loop.txt"
        let client = try TestSupport.spawn(server.inNetwork + ["sh", "-c", """
            end=$(($(date +%s) + 6)); while [ $(date +%s) -lt $end ]; do
              curl -s --max-time 5 -o /dev/null -w '%{http_code}\\n' --resolve b.example.com:80:127.0.0.1 http://b.example.com/ || echo failed
            done
            """], stdout: loop)
        usleep(1_500_000)
        try server.kubectlOK("apply", "-f", "-", stdin: Self.ingress(defaultBackend: true, bHostTo: "alpha"))
        var status: Int32 = 0
        waitpid(client, &status, 0)
        let codes = ((try? String(contentsOfFile: loop, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(codes.count > 10 && codes.allSatisfy { $0 == "200" }, "client loop during the change: \(codes.count) requests, \(Set(codes))")
        #expect(try Self.app(server, "b.example.com", "/") == "alpha", "the changed route is not taken")

        // Gone with the manifest: no route, no listener.
        try server.kubectlOK("delete", "-f", "-", stdin: Self.ingress(defaultBackend: true))
        #expect(PodTests.eventually(10) { ((try? Self.listeners(server)) ?? "x").isEmpty }, "still listening: \((try? Self.listeners(server)) ?? "")")
        let refused = try sh(server.inNetwork + ["curl", "-s", "--max-time", "3", "http://127.0.0.1/"])
        #expect(refused.status == 7, "port 80 after the Ingress went: curl \(refused.status)")
        try server.kubectlOK("delete", "-f", "-", stdin: apps)
    }

    /// An attacker's Ingress in another namespace cannot reach a Service of this one (by naming it,
    /// by a Host header of the cluster's names, or an absolute URI) nor serve this namespace's Secret.
    /// WebSocket through the proxy, as ingress-nginx carries it: the Upgrade request reaches the
    /// backend, its 101 reaches the client, and from then on both connections are one byte stream,
    /// over HTTP and HTTPS — frames both ways (one of 300 kB), ping and pong, the backend's first frame
    /// sent with its 101 and the client's first frame sent with its request (both held by the HTTP
    /// parsers at the switch). A backend that refuses the upgrade is answered as it answered. Attacks
    /// on the switch: a tab after the Connection token (the parser and the proxy agree: a switch, the
    /// request behind it is the new protocol's), a 101 that overtakes the request's body (both sides
    /// closed, never a tunnel fed HTTP), an empty Upgrade header and an HTTP/1.0 one (answered, not
    /// switched, and closed — the parser reads nothing after them).
    /// The client is websocket-client (python3-websocket); the backend a small RFC 6455 server.
    @Test func webSocketsSwitchProtocolsThroughTheProxy() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        let backend = try ServiceTests.Backend(server: server, index: 0,
                                               command: "python3 \(packageRoot)/Tests/Scripts/websocket/backend.py backend-0 8080")
        #expect(ServiceTests.eventually { (try? server.get("http://\(backend.ip):8080/")) == "backend-0" }, "the backend does not answer")
        try server.kubectlOK("apply", "-f", "-", stdin: ServiceTests.service("ws") + "\n---\n" + ServiceTests.endpoints("ws", [backend.ip]) + """

            ---
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata: {name: ws}
            spec:
              rules:
              - host: ws.example
                http:
                  paths:
                  - {path: /, pathType: Prefix, backend: {service: {name: ws, port: {number: 80}}}}
            """)
        #expect(ServiceTests.eventually { (try? Self.fetch(server, "ws.example", "/"))?.body == "backend-0" }, "no route to the backend")

        let client = try sh(server.inNetwork + ["/usr/bin/python3", packageRoot + "/Tests/Scripts/websocket/client.py", "ws.example"])
        #expect(client.status == 0, "\(client.stderr)\n\(server.serverLog)")
        #expect(client.stdout == """
            ws greeting hello from backend-0
            ws reply echo: one
            ws big 300006 True
            ws pong 10 are you there
            wss greeting hello from backend-0
            wss reply echo: one
            wss big 300006 True
            wss pong 10 are you there
            raw status HTTP/1.1 101 Switching Protocols
            raw frames True True
            tab HTTP/1.1 101 Switching Protocols hung
            body - closed
            empty HTTP/1.1 200 OK closed
            http10 HTTP/1.0 200 OK closed

            """, "\(client.stdout)")

        let refused = try Self.fetch(server, "ws.example", "/refuse", extra: ["-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
                                                                             "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="])
        #expect(refused.status == 403 && refused.body == "no websocket here\n", "\(refused)")
        // A plain request after all that still goes through.
        #expect(try Self.fetch(server, "ws.example", "/").body == "backend-0")
    }

    @Test func anotherNamespaceIsOutOfReach() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { PodTests.cleanUp(server); server.stop() }
        try PodTests.loadBusybox(server)
        let pki = server.base + "/pki"
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        let made = try sh(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                           "-subj", "/CN=victim.example.com", "-keyout", pki + "/tls.key", "-out", pki + "/tls.crt"])
        try #require(made.status == 0, "openssl: \(made.stderr)")
        try server.kubectlOK("apply", "-f", "-", stdin: Self.deployment("alpha", replicas: 1))
        try server.kubectlOK("create", "secret", "tls", "victim-tls", "--cert", pki + "/tls.crt", "--key", pki + "/tls.key")
        try server.kubectlOK("rollout", "status", "deployment/alpha", "--timeout=120s")
        try server.kubectlOK("create", "namespace", "evil")
        try server.kubectlOK("apply", "-f", "-", stdin: """
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata: {name: steal, namespace: evil}
            spec:
              tls: [{hosts: [evil.example.com], secretName: victim-tls}]
              rules:
              - host: evil.example.com
                http:
                  paths: [{path: /, pathType: Prefix, backend: {service: {name: alpha, port: {number: 80}}}}]
            """)
        // The class-less Ingress gets the default class (berth) and is served: it answers, but with 503.
        #expect(try server.kubectlOK("get", "ingress", "steal", "-n", "evil", "-o", "jsonpath={.spec.ingressClassName}") == "berth")
        #expect(PodTests.eventually(20) { (try? Self.fetch(server, "evil.example.com", "/"))?.status == 503 },
                "evil.example.com: \((try? Self.fetch(server, "evil.example.com", "/")) ?? (0, ""))")
        for host in ["alpha.default.svc.cluster.local", "alpha.default", "alpha", "10.96.0.1"] {
            let direct = try Self.fetch(server, host, "/")
            #expect(direct.status == 404, "Host \(host): \(direct.status) \(direct.body)")
        }
        let absolute = try sh(server.inNetwork + ["curl", "-s", "--max-time", "5", "-w", "\n%{http_code}", "--resolve", "evil.example.com:80:127.0.0.1",
                                                  "--request-target", "http://alpha.default.svc.cluster.local/", "http://evil.example.com/"])
        #expect(absolute.stdout.hasSuffix("404"), "absolute URI: \(absolute.stdout)")
        #expect(try !Self.subject(server, serverName: "evil.example.com").contains("victim"), "another namespace's Secret was served")
        try server.kubectlOK("delete", "namespace", "evil", "--wait=false")
        try server.kubectlOK("delete", "-f", "-", stdin: Self.deployment("alpha", replicas: 1))
    }

    /// What the apiserver refuses, with its field paths; nothing refused is stored.
    @Test func badIngressesAreRefused() throws {
        let server = try KubeServer()
        defer { server.stop() }
        func refusal(_ spec: String) throws -> String {
            let result = try server.kubectl(["apply", "-f", "-"], stdin: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: bad}\nspec:\n" + spec)
            #expect(result.status != 0, "accepted: \(spec)")
            return result.stderr
        }
        let backend = "backend: {service: {name: web, port: {number: 80}}}"
        #expect(try refusal("  rules: [{http: {paths: [{path: /, \(backend)}]}}]")
                .contains("spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"))
        #expect(try refusal("  rules: [{http: {paths: [{path: /, pathType: Regex, \(backend)}]}}]")
                .contains(#"spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix""#))
        #expect(try refusal("  rules: [{http: {paths: [{path: x, pathType: Prefix, \(backend)}]}}]")
                .contains(#"spec.rules[0].http.paths[0].path: Invalid value: "x": must be an absolute path"#))
        #expect(try refusal("  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}, resource: {kind: X, name: y}}}]}}]")
                .contains("spec.rules[0].http.paths[0].backend: Invalid value: \"\": cannot set both resource and service backends"))
        #expect(try refusal("  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http, number: 80}}}}]}}]")
                .contains("cannot set both port name & port number"))
        #expect(try refusal("  rules: [{host: \"*.*.example.com\", http: {paths: [{path: /, pathType: Prefix, \(backend)}]}}]")
                .contains(#"spec.rules[0].host: Invalid value: "*.*.example.com": a wildcard DNS-1123 subdomain"#))
        #expect(try refusal("  rules: [{host: 10.0.0.1, http: {paths: [{path: /, pathType: Prefix, \(backend)}]}}]")
                .contains(#"spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address"#))
        #expect(try refusal("  ingressClassName: berth\n").contains("either `defaultBackend` or `rules` must be specified"))
        #expect(try server.kubectl(["get", "ingress", "bad"]).status != 0, "a refused Ingress was stored")
        let changed = try server.kubectl(["patch", "ingressclass", "berth", "-p", #"{"spec":{"controller":"example.com/other"}}"#])
        #expect(changed.status != 0 && changed.stderr.contains("spec.controller: Invalid value: \"example.com/other\": field is immutable"), "\(changed.stderr)")
    }
}
