@testable import KubeProxy
import Testing

/// The rule text for Services, checked without a kernel (the kernel's side is ServiceTests).
struct ServiceRulesTests {
    static func port(endpoints: Int, affinity: Int? = nil) -> ServicePort {
        ServicePort(namespace: "default", service: "web", portName: "http", proto: "tcp", clusterIP: "10.96.0.20", port: 80,
                    nodePort: nil, affinitySeconds: affinity,
                    endpoints: (0..<endpoints).map { ServicePort.Endpoint(ip: "10.42.0.\($0 + 2)", port: 8080) })
    }

    @Test func endpointsAreChosenWithEqualChances() {
        let nat = ServiceRules.lines([Self.port(endpoints: 3)], saved: [:])["nat"]!
        let picks = nat.filter { $0.contains("-m statistic") }
        #expect(picks.count == 2)
        #expect(picks[0].contains("--probability 0.3333333333"))
        #expect(picks[1].contains("--probability 0.5000000000"))
        #expect(nat.filter { $0.contains("-j DNAT --to-destination 10.42.0.") }.count == 3)
        #expect(nat.contains { $0.hasPrefix("-A BERTH-SERVICES -d 10.96.0.20/32 -p tcp -m tcp --dport 80 ") })
    }

    @Test func aPortWithoutEndpointsIsRefused() {
        let lines = ServiceRules.lines([Self.port(endpoints: 0)], saved: [:])
        #expect(!lines["nat"]!.contains { $0.contains("10.96.0.20") })
        #expect(lines["filter"]!.contains { $0.contains("-d 10.96.0.20/32") && $0.hasSuffix("-j REJECT --reject-with icmp-port-unreachable") })
    }

    @Test func affinityRemembersTheClient() {
        let nat = ServiceRules.lines([Self.port(endpoints: 2, affinity: 60)], saved: [:])["nat"]!
        #expect(nat.filter { $0.contains("--rcheck --seconds 60 --reap") }.count == 2)
        #expect(nat.filter { $0.contains("-m recent --set") && $0.contains("DNAT") }.count == 2)
    }

    @Test func chainsOfGoneServicesAreDeletedAndJumpsAddedOnce() {
        let saved = """
            *nat
            :PREROUTING ACCEPT [0:0]
            :BERTH-SVC-0123456789ABCDEF - [0:0]
            -A PREROUTING -m comment --comment berth-kubernetes-services -j BERTH-SERVICES
            COMMIT
            """
        let nat = ServiceRules.lines([], saved: ["nat": saved])["nat"]!
        #expect(nat.contains(":BERTH-SVC-0123456789ABCDEF - [0:0]"))
        #expect(nat.last == "-X BERTH-SVC-0123456789ABCDEF")
        #expect(!nat.contains { $0.hasPrefix("-I PREROUTING") })
        #expect(nat.contains { $0.hasPrefix("-I OUTPUT 1 ") && $0.hasSuffix("-j BERTH-SERVICES") })
    }

    /// A load balancer's address (ServiceLB's: the node's) answers the service port as the cluster IP does.
    @Test func aLoadBalancersAddressLeadsToTheService() {
        var port = Self.port(endpoints: 1)
        port.externalIPs = ["192.0.2.1"]
        let nat = ServiceRules.lines([port], saved: [:])["nat"]!
        #expect(nat.contains { $0.hasPrefix("-A BERTH-SERVICES -d 192.0.2.1/32 -p tcp -m tcp --dport 80 ") && $0.contains("-j BERTH-SVC-") })
        port.endpoints = []
        let filter = ServiceRules.lines([port], saved: [:])["filter"]!
        #expect(filter.contains { $0.contains("-d 192.0.2.1/32") && $0.hasSuffix("-j REJECT --reject-with icmp-port-unreachable") })
    }
}
