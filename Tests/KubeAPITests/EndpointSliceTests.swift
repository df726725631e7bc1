import Foundation
import TestSupport
import Testing

/// EndpointSlices kept for a Service's Pods, and a Service of type LoadBalancer as k3s' ServiceLB
/// serves it on one node: real Pods, the real kubectl, real traffic from an outside address.
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct EndpointSliceTests {
    static let manifest = """
        apiVersion: v1
        kind: Pod
        metadata: {name: web-a, labels: {app: web}}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: web
            image: busybox:test
            imagePullPolicy: IfNotPresent
            command: [sh, -c, "mkdir -p /www && echo web-a > /www/index.html && exec httpd -f -p 8080 -h /www"]
            ports: [{name: http, containerPort: 8080}]
            readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-b, labels: {app: web}}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: web
            image: busybox:test
            imagePullPolicy: IfNotPresent
            command: [sleep, "3600"]
            ports: [{name: http, containerPort: 8080}]
            readinessProbe: {exec: {command: ["false"]}, periodSeconds: 1}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          type: LoadBalancer
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: http}]
        """

    @Test func slicesListThePodsAndTheLoadBalancerAnswersOnTheHostsAddress() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { server.stop() }
        let forward = try sh(server.inNetwork + ["sysctl", "-w", "net.ipv4.ip_forward=1"])
        try #require(forward.status == 0, "sysctl: \(forward.stderr)")
        // The host's address (192.0.2.1) and a client outside (192.0.2.2).
        let outside = try OutsideNetwork(server: server)
        try PodTests.loadBusybox(server)
        try server.kubectlOK("apply", "-f", "-", stdin: Self.manifest)
        try #require(PodTests.eventually(120) {
            (try? server.kubectlOK("get", "pod", "web-a", "-o", #"jsonpath={.status.conditions[?(@.type=="Ready")].status}"#)) == "True"
                && (try? server.kubectlOK("get", "pod", "web-b", "-o", "jsonpath={.status.podIP}"))?.isEmpty == false
        }, "pods not up: \((try? server.kubectlOK("get", "pods")) ?? "")")
        let a = try server.kubectlOK("get", "pod", "web-a", "-o", "jsonpath={.status.podIP}")
        let b = try server.kubectlOK("get", "pod", "web-b", "-o", "jsonpath={.status.podIP}")

        // One slice, both Pods, each with its conditions; kubectl's table as on 1.33.
        #expect(PodTests.eventually(20) {
            let text = (try? server.kubectlOK("get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "jsonpath={.items[*].endpoints[*].addresses[0]}")) ?? ""
            return Set(text.split(separator: " ").map(String.init)) == [a, b]
        }, "the slice does not list both Pods")
        let slice = try server.object(try server.kubectlOK("get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "json"))
        let items = try #require(slice["items"] as? [[String: Any]])
        try #require(items.count == 1, "\(items.count) slices")
        let item = items[0]
        #expect(item.string("addressType") == "IPv4")
        #expect((item.at("metadata.labels") as? [String: String])?["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io")
        #expect(((item.at("metadata.ownerReferences") as? [[String: Any]])?.first?["kind"] as? String) == "Service")
        let ports = item["ports"] as? [[String: Any]] ?? []
        #expect(ports.count == 1 && ports.first?["name"] as? String == "http" && ports.first?["port"] as? Int == 8080
                && ports.first?["protocol"] as? String == "TCP", "\(ports)")
        let endpoints = item["endpoints"] as? [[String: Any]] ?? []
        func conditions(_ ip: String) -> [String: Bool] {
            (endpoints.first { ($0["addresses"] as? [String])?.first == ip }?["conditions"] as? [String: Bool]) ?? [:]
        }
        #expect(conditions(a) == ["ready": true, "serving": true, "terminating": false], "\(endpoints)")
        #expect(conditions(b) == ["ready": false, "serving": false, "terminating": false], "\(endpoints)")
        let name = item.string("metadata.name") ?? ""
        #expect(name.hasPrefix("web-"))
        let table = try server.kubectlOK("get", "endpointslices")
        let rows = table.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], "\(table)")
        let sorted = [a, b].sorted { $0.split(separator: ".").compactMap { Int($0) }.lexicographicallyPrecedes($1.split(separator: ".").compactMap { Int($0) }) }
        #expect(rows.dropFirst().first?.prefix(4) == [name, "IPv4", "8080", sorted.joined(separator: ",")], "\(table)")

        // LoadBalancer: the host's address in the status and the EXTERNAL-IP column, a node port
        // allocated, and the service port answering there, from the host and from outside.
        #expect(PodTests.eventually(20) {
            (try? server.kubectlOK("get", "svc", "web", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}")) == "192.0.2.1"
        }, "no load balancer address: \((try? server.kubectlOK("get", "svc", "web", "-o", "yaml")) ?? "")")
        let nodePort = Int(try server.kubectlOK("get", "svc", "web", "-o", "jsonpath={.spec.ports[0].nodePort}")) ?? 0
        #expect((30000...32767).contains(nodePort))
        let svcRow = try server.kubectlOK("get", "svc", "web", "--no-headers").split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        #expect(Array(svcRow.prefix(5).enumerated().filter { $0.offset != 2 }.map(\.element)) == ["web", "LoadBalancer", "192.0.2.1", "80:\(nodePort)/TCP"], "\(svcRow)")
        #expect(PodTests.eventually(20) { (try? server.get("http://192.0.2.1/")) == "web-a\n" }, "the load balancer's port does not answer on the host")
        #expect(try outside.reaches("http://192.0.2.1/", from: "192.0.2.2"), "the load balancer's port does not answer from outside")
        #expect(try outside.reaches("http://192.0.2.1:\(nodePort)/", from: "192.0.2.2"), "the node port does not answer from outside")

        // Everything goes with the manifest: the slice with its Service, the address with the rules.
        try server.kubectlOK("delete", "-f", "-", stdin: Self.manifest)
        #expect(PodTests.eventually(60) {
            ((try? server.kubectlOK("get", "endpointslices,pods,svc", "--no-headers")) ?? "x").isEmpty
                && ((try? PodTests.podContainers(server)) ?? ["x"]).isEmpty
        }, "left after delete -f: \((try? server.kubectlOK("get", "endpointslices,pods,svc", "--no-headers")) ?? "")")
        #expect(PodTests.eventually(10) { (try? sh(server.inNetwork + ["iptables-save", "-t", "nat"]).stdout.contains("BERTH-SVC-")) == false },
                "Service chains left")
        #expect(PodTests.eventually(10) {
            ((try? sh(server.inNetwork + ["ip", "-o", "link", "show", "type", "veth"]).stdout) ?? "x").split(separator: "\n").allSatisfy { $0.contains("vout0") }
        }, "veths left")
    }
}
