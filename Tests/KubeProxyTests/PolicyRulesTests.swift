import GoCompat
@testable import KubeProxy
import Testing

/// NetworkPolicies resolved to per-Pod allows, and their rule text, checked without a kernel
/// (the kernel's side, with real traffic, is NetworkPolicyTests).
struct PolicyRulesTests {
    static func json(_ text: String) -> JSONValue { try! JSONParser.parse(Array(text.utf8)) }

    static func pod(_ name: String, _ namespace: String, _ ip: String, labels: String = "{}", ports: String = "[]") -> JSONValue {
        json("""
            {"metadata":{"name":"\(name)","namespace":"\(namespace)","labels":\(labels)},
             "spec":{"containers":[{"name":"c","ports":\(ports)}]},"status":{"phase":"Running","podIP":"\(ip)"}}
            """)
    }

    static func policy(_ name: String, _ namespace: String = "default", spec: String) -> JSONValue {
        json(#"{"metadata":{"name":"\#(name)","namespace":"\#(namespace)"},"spec":\#(spec)}"#)
    }

    static let pods = [
        pod("web", "default", "10.42.0.2", labels: #"{"app":"web"}"#, ports: #"[{"name":"http","containerPort":8080}]"#),
        pod("client", "default", "10.42.0.3", labels: #"{"role":"client"}"#),
        pod("other", "other", "10.42.0.4", labels: #"{"role":"client"}"#),
    ]
    static let namespaces = [json(#"{"metadata":{"name":"default"}}"#), json(#"{"metadata":{"name":"other","labels":{"team":"a"}}}"#)]

    @Test func aSelectedPodIsIsolatedOnlyInItsDirections() {
        let targets = NetworkPolicies.targets(policies: [Self.policy("deny", spec: #"{"podSelector":{"matchLabels":{"app":"web"}}}"#)],
                                              pods: Self.pods, namespaces: Self.namespaces)
        #expect(targets.count == 1)
        #expect(targets.first?.ip == "10.42.0.2")
        #expect(targets.first?.ingress == [], "no rules: every connection in is denied")
        #expect(targets.first?.egress == nil, "policyTypes defaults to Ingress alone without egress rules")
    }

    @Test func peersAndNamedPortsResolveToAddressesAndNumbers() {
        let spec = #"""
            {"podSelector":{"matchLabels":{"app":"web"}},"ingress":[
              {"from":[{"podSelector":{"matchLabels":{"role":"client"}}}],"ports":[{"port":"http","protocol":"TCP"}]},
              {"from":[{"namespaceSelector":{"matchLabels":{"team":"a"}},"podSelector":{}}]},
              {"from":[{"ipBlock":{"cidr":"192.168.0.0/16","except":["192.168.1.0/24"]}}],"ports":[{"port":7000,"endPort":7010,"protocol":"UDP"}]}]}
            """#
        let target = NetworkPolicies.targets(policies: [Self.policy("p", spec: spec)], pods: Self.pods, namespaces: Self.namespaces).first
        let ingress = target?.ingress ?? []
        // Only the client of the policy's own namespace for the podSelector alone; the other namespace's by its label.
        #expect(ingress.contains(PolicyTarget.Allow(peer: .address("10.42.0.3"), ports: [PolicyTarget.Port(proto: "tcp", port: 8080, endPort: nil)])))
        #expect(!ingress.contains { $0.peer == .address("10.42.0.4") && $0.ports != nil })
        #expect(ingress.contains(PolicyTarget.Allow(peer: .address("10.42.0.4"), ports: nil)))
        #expect(ingress.contains(PolicyTarget.Allow(peer: .block("192.168.0.0/16", except: ["192.168.1.0/24"]),
                                                    ports: [PolicyTarget.Port(proto: "udp", port: 7000, endPort: 7010)])))
        let lines = PolicyRules.lines(target.map { [$0] } ?? [], saved: "")
        #expect(lines.contains("-I FORWARD 1 " + PolicyRules.jump))
        #expect(lines.contains { $0.contains("-s 10.42.0.3/32 -p tcp -m tcp --dport 8080 -j MARK --set-xmark 0x10000/0x10000") })
        #expect(lines.contains { $0.contains("-s 192.168.0.0/16 -p udp -m udp --dport 7000:7010 -j BERTH-NPB-") })
        #expect(lines.contains { $0.hasPrefix("-A BERTH-NPB-") && $0.hasSuffix("-s 192.168.1.0/24 -j RETURN") })
        #expect(lines.contains { $0.contains("-m mark ! --mark 0x10000/0x10000") && $0.hasSuffix("-j DROP") })
    }

    @Test func policiesAddUpAndANamedPortAPodLacksAllowsNothing() {
        let first = Self.policy("a", spec: #"{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{"ipBlock":{"cidr":"10.0.0.0/8"}}]}]}"#)
        let second = Self.policy("b", spec: #"{"podSelector":{"matchLabels":{"role":"client"}},"policyTypes":["Egress"],"egress":[{"ports":[{"port":"nosuch"}]}]}"#)
        let targets = NetworkPolicies.targets(policies: [first, second], pods: Self.pods, namespaces: Self.namespaces)
        let client = targets.first { $0.pod == "client" }
        #expect(client?.egress == [PolicyTarget.Allow(peer: .block("10.0.0.0/8", except: []), ports: nil)])
        #expect(client?.ingress == nil)
        #expect(targets.count == 2, "the other namespace's Pod is not selected: \(targets.map(\.label))")
    }

    @Test func withoutTargetsEveryChainAndTheJumpGo() {
        let saved = """
            *filter
            :FORWARD DROP [0:0]
            :BERTH-NETPOL - [0:0]
            :BERTH-NPI-0123456789ABCDEF - [0:0]
            -A FORWARD -m conntrack --ctstate NEW -m comment --comment berth-network-policies -j BERTH-NETPOL
            -A BERTH-NETPOL -d 10.42.0.2/32 -j BERTH-NPI-0123456789ABCDEF
            COMMIT
            """
        let lines = PolicyRules.lines([], saved: saved)
        #expect(lines.first == "-D FORWARD -m conntrack --ctstate NEW -m comment --comment berth-network-policies -j BERTH-NETPOL")
        #expect(lines.contains("-X BERTH-NETPOL") && lines.contains("-X BERTH-NPI-0123456789ABCDEF"))
        #expect(PolicyRules.jumpIsFirst(saved))
        #expect(PolicyRules.lines([], saved: "").isEmpty)
    }
}
