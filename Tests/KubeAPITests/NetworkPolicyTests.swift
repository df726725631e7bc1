import Foundation
import TestSupport
import Testing

/// NetworkPolicy with real Pods on the pod bridge, real traffic and the real kubectl: the attacks a
/// policy is written against (a Pod of another namespace, a Pod without the label, a port not
/// listed, an outside address through a node port, egress to a network not allowed) are blocked,
/// what the policies allow passes, policies add up, and deleting them restores access and leaves
/// no rule. The server runs in a network namespace of its own, with `bridge-nf-call-iptables`
/// off there at first: the policies must turn it on to see traffic between Pods on one bridge.
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct NetworkPolicyTests {
    static let namespace = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: other}
        """

    static let pods = """
        apiVersion: v1
        kind: Pod
        metadata: {name: web, labels: {app: web}}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: web
            image: busybox:test
            imagePullPolicy: IfNotPresent
            command: [sh, -c, "mkdir -p /www && echo web > /www/index.html && httpd -p 9090 -h /www && exec httpd -f -p 8080 -h /www"]
            ports: [{name: http, containerPort: 8080}]
            readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client, labels: {role: client}}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - {name: c, image: busybox:test, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: stranger}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: c
            image: busybox:test
            imagePullPolicy: IfNotPresent
            command: [sh, -c, "mkdir -p /www && echo stranger > /www/index.html && exec httpd -f -p 8080 -h /www"]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: outsider, namespace: other, labels: {role: client}}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - {name: c, image: busybox:test, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          type: NodePort
          selector: {app: web}
          ports: [{port: 80, targetPort: http}]
        """

    /// Only Pods labelled role=client of this namespace, only on the named port.
    static let clientsOnly = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web-from-clients}
        spec:
          podSelector: {matchLabels: {app: web}}
          ingress:
          - from: [{podSelector: {matchLabels: {role: client}}}]
            ports: [{port: http}]
        """

    /// A second policy for the same Pod: the union adds the other namespace's clients (any port)
    /// and an outside network but one half of it.
    static let otherNamespaceAndLab = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web-from-other}
        spec:
          podSelector: {matchLabels: {app: web}}
          policyTypes: [Ingress]
          ingress:
          - from:
            - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}
              podSelector: {matchLabels: {role: client}}
          - from: [{ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}}]
            ports: [{port: 8000, endPort: 8090, protocol: TCP}]
        """

    /// The client may reach the pod network but the stranger, and nothing outside it.
    static func clientEgress(except stranger: String) -> String {
        """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: client-egress}
        spec:
          podSelector: {matchLabels: {role: client}}
          policyTypes: [Egress]
          egress:
          - to: [{ipBlock: {cidr: 10.42.0.0/16, except: [\(stranger)/32]}}]
        """
    }

    /// wget from a Pod (kubectl exec): whether it got an answer. A failed exec is no answer to
    /// count: the test stops there.
    static func reaches(_ server: KubeServer, _ pod: String, namespace: String = "default", _ url: String,
                        sourceLocation: SourceLocation = #_sourceLocation) throws -> Bool {
        // busybox's static wget crashes on this image; an HTTP request by nc does the same.
        let target = url.dropFirst("http://".count).split(separator: "/").first.map(String.init) ?? ""
        let parts = target.split(separator: ":").map(String.init)
        let request = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 \(parts[0]) \(parts.count > 1 ? parts[1] : "80") | head -1; echo end"
        let result = try server.kubectl(["exec", "-n", namespace, pod, "--", "sh", "-c", request])
        try #require(result.stdout.hasSuffix("end\n"), "kubectl exec \(pod) failed: \(result.stderr)", sourceLocation: sourceLocation)
        return result.stdout.contains(" 200 OK")
    }

    static func policyRules(_ server: KubeServer) throws -> [String] {
        try sh(server.inNetwork + ["iptables-save", "-t", "filter"]).stdout.split(separator: "\n").map(String.init).filter {
            $0.contains("BERTH-NETPOL") || $0.contains("BERTH-NP")
        }
    }

    @Test func policiesBlockTheAttacksAndAllowWhatTheySay() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        for setting in ["net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=0"] {
            let result = try sh(server.inNetwork + ["sysctl", "-w", setting])
            try #require(result.status == 0, "sysctl \(setting): \(result.stderr)")
        }
        let outside = try OutsideNetwork(server: server)
        try PodTests.loadBusybox(server)
        try server.kubectlOK("apply", "-f", "-", stdin: Self.namespace)
        try server.kubectlOK("apply", "-f", "-", stdin: Self.pods)
        for (pod, namespace) in [("web", "default"), ("client", "default"), ("stranger", "default"), ("outsider", "other")] {
            try #require(PodTests.eventually(120) {
                (try? server.kubectlOK("get", "pod", pod, "-n", namespace, "-o", #"jsonpath={.status.conditions[?(@.type=="Ready")].status}"#)) == "True"
            }, "\(namespace)/\(pod) not ready: \((try? server.kubectlOK("get", "pods", "-A")) ?? "")")
        }
        func ip(_ pod: String, _ namespace: String = "default") throws -> String {
            try server.kubectlOK("get", "pod", pod, "-n", namespace, "-o", "jsonpath={.status.podIP}")
        }
        let web = try ip("web"), stranger = try ip("stranger")
        let nodePort = try server.kubectlOK("get", "svc", "web", "-o", "jsonpath={.spec.ports[0].nodePort}")
        let webURL = "http://\(web):8080/", web9090 = "http://\(web):9090/"

        // Without a policy everything passes.
        #expect(try Self.reaches(server, "stranger", webURL))
        #expect(try Self.reaches(server, "outsider", namespace: "other", webURL))
        #expect(try Self.reaches(server, "client", "http://192.0.2.2:8080/"))
        #expect(PodTests.eventually(20) { (try? outside.reaches("http://192.0.2.1:\(nodePort)/", from: "192.0.2.2")) == true },
                "the node port does not answer the outside address")
        #expect(try Self.policyRules(server).isEmpty, "policy rules without a policy")

        // One policy: only labelled clients of this namespace, only on the named port.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.clientsOnly)
        #expect(PodTests.eventually(20) { (try? Self.reaches(server, "stranger", webURL)) == false }, "a Pod without the label still reaches web")
        #expect(try sh(server.inNetwork + ["cat", "/proc/sys/net/bridge/bridge-nf-call-iptables"]).stdout.hasPrefix("1"),
                "bridge-nf-call-iptables was not turned on")
        #expect(try Self.reaches(server, "client", webURL), "the labelled client is refused")
        #expect(try !Self.reaches(server, "client", web9090), "a port the policy does not list is open")
        #expect(try !Self.reaches(server, "outsider", namespace: "other", webURL), "a labelled Pod of another namespace reaches web")
        #expect(try !outside.reaches("http://192.0.2.1:\(nodePort)/", from: "192.0.2.2"), "an outside address reaches web through the node port")
        // The node itself (the kubelet's probes) is not subject to policies, as on Kubernetes.
        #expect(try server.get(webURL) == "web\n", "the host no longer reaches web")

        // Docker's side is unchanged: containers on a bridge network of the Docker API reach each
        // other by name while the policies (and bridge-nf-call-iptables) are on.
        let docker = server.inNetwork + ["/usr/bin/env", "DOCKER_HOST=unix://" + server.dockerSocket, "docker"]
        defer {
            _ = try? sh(docker + ["rm", "-f", "np-server"])
            _ = try? sh(docker + ["network", "rm", "np-net"])
        }
        for command in [["network", "create", "np-net"],
                        ["run", "-d", "--name", "np-server", "--network", "np-net", "busybox:test", "httpd", "-f", "-p", "8080", "-h", "/etc"]] {
            let result = try sh(docker + command)
            try #require(result.status == 0, "docker \(command.joined(separator: " ")): \(result.stderr)")
        }
        // By address: busybox-static's own name lookups are not what this is about.
        let address = try sh(docker + ["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "np-server"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let fetched = try sh(docker + ["run", "--rm", "--network", "np-net", "busybox:test", "sh", "-c",
                                       "for i in 1 2 3 4 5 6 7 8 9 10; do printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 2 \(address) 8080 | grep -q ' 200 OK' && exit 0; sleep 0.5; done; exit 1"])
        #expect(fetched.status == 0, "a container does not reach another on its Docker network: \(fetched.stderr)")
        #expect(try sh(docker + ["rm", "-f", "np-server"]).status == 0)
        #expect(try sh(docker + ["network", "rm", "np-net"]).status == 0)

        // A second policy adds to the first.
        try server.kubectlOK("apply", "-f", "-", stdin: Self.otherNamespaceAndLab)
        #expect(PodTests.eventually(20) { (try? Self.reaches(server, "outsider", namespace: "other", web9090)) == true },
                "the second policy does not let the other namespace's client in")
        #expect(try Self.reaches(server, "client", webURL), "the first policy's client lost its access")
        #expect(try !Self.reaches(server, "stranger", webURL), "the union let the stranger in")
        #expect(try outside.reaches("http://192.0.2.1:\(nodePort)/", from: "192.0.2.2"), "the ipBlock's address is refused")
        #expect(try !outside.reaches("http://192.0.2.1:\(nodePort)/", from: "192.0.2.200"), "an address the ipBlock excepts gets in")

        // Egress: the client reaches the pod network but the stranger, and nothing outside it.
        let egress = Self.clientEgress(except: stranger)
        #expect(try Self.reaches(server, "client", "http://\(stranger):8080/"))
        try server.kubectlOK("apply", "-f", "-", stdin: egress)
        #expect(PodTests.eventually(20) { (try? Self.reaches(server, "client", "http://192.0.2.2:8080/")) == false },
                "egress to a network the policy does not allow passes")
        #expect(try !Self.reaches(server, "client", "http://\(stranger):8080/"), "egress to the excepted address passes")
        #expect(try Self.reaches(server, "client", webURL), "egress to an allowed Pod is refused")
        #expect(try Self.reaches(server, "stranger", "http://192.0.2.2:8080/"), "a Pod the egress policy does not select is refused")

        // Deleting a policy gives its access back; `kubectl delete -f` of all leaves no rule.
        try server.kubectlOK("delete", "networkpolicy", "client-egress")
        #expect(PodTests.eventually(20) { (try? Self.reaches(server, "client", "http://192.0.2.2:8080/")) == true }, "egress still blocked")
        try server.kubectlOK("delete", "-f", "-", stdin: Self.clientsOnly + "\n---\n" + Self.otherNamespaceAndLab)
        #expect(PodTests.eventually(20) { (try? Self.reaches(server, "stranger", webURL)) == true }, "access not restored")
        #expect(try Self.reaches(server, "outsider", namespace: "other", webURL))
        #expect(PodTests.eventually(10) { (try? Self.policyRules(server).isEmpty) == true },
                "rules left after the policies went: \((try? Self.policyRules(server)) ?? [])")
        try server.kubectlOK("delete", "-f", "-", stdin: Self.pods)
        #expect(PodTests.eventually(60) { ((try? PodTests.podContainers(server)) ?? ["x"]).isEmpty }, "pod containers left")
        // The namespace after its Pods (their last Events would otherwise land in it while it terminates).
        try server.kubectlOK("delete", "-f", "-", "--timeout=60s", stdin: Self.namespace)
        #expect(PodTests.eventually(10) {
            let links = (try? sh(server.inNetwork + ["ip", "-o", "link", "show", "type", "veth"]).stdout) ?? "x"
            return links.split(separator: "\n").allSatisfy { $0.contains("vout0") }
        }, "veths left: \((try? sh(server.inNetwork + ["ip", "-o", "link", "show", "type", "veth"]).stdout) ?? "")")
    }

    /// What the apiserver refuses, with its field paths; and the table kubectl prints.
    @Test func badPoliciesAreRefusedAndTheTableIsKubernetes() throws {
        let server = try KubeServer()
        defer { server.stop() }
        let refused = try server.kubectl(["apply", "-f", "-"], stdin: """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: bad}
            spec:
              podSelector: {}
              policyTypes: [Sideways]
              ingress:
              - from: [{}, {ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}, podSelector: {}}, {ipBlock: {cidr: nonsense}}]
                ports: [{port: 70000}, {port: 80, endPort: 79}, {protocol: ICMP}]
            """)
        #expect(refused.status != 0)
        for expected in ["spec.policyTypes[0]: Unsupported value: \"Sideways\"", "spec.ingress[0].from[0]: Required value: must specify a peer",
                         "spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer",
                         "spec.ingress[0].from[2].ipBlock.cidr: Invalid value: \"nonsense\"", "spec.ingress[0].ports[0].port: Invalid value: ",
                         "spec.ingress[0].ports[1].endPort: Invalid value: ", "spec.ingress[0].ports[2].protocol: Unsupported value: \"ICMP\""] {
            #expect(refused.stderr.contains(expected), "missing \(expected) in \(refused.stderr)")
        }
        #expect(try server.kubectl(["get", "netpol", "bad"]).status != 0, "a refused policy was stored")
        try server.kubectlOK("apply", "-f", "-", stdin: Self.clientsOnly + "\n---\n" + """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny-all}
            spec:
              podSelector: {}
              egress: [{}]
            """)
        let table = try server.kubectlOK("get", "networkpolicies")
        let rows = table.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.first == ["NAME", "POD-SELECTOR", "AGE"], "\(table)")
        #expect(rows.dropFirst().map { Array($0.prefix(2)) } == [["deny-all", "<none>"], ["web-from-clients", "app=web"]], "\(table)")
        // Kubernetes' defaults: policyTypes from the rules given, a port's protocol TCP.
        #expect(try server.kubectlOK("get", "netpol", "deny-all", "-o", "jsonpath={.spec.policyTypes}") == #"["Ingress","Egress"]"#)
        #expect(try server.kubectlOK("get", "netpol", "web-from-clients", "-o", "jsonpath={.spec.policyTypes} {.spec.ingress[0].ports[0].protocol}")
                == #"["Ingress"] TCP"#)
    }
}
