import Testing
@testable import ContainerNetwork

@Suite("PortMappingTests")
struct PortMappingTests {
    @Test(arguments: [
        ("80", [PortMapping(hostPort: 0, containerPort: 80)]),
        ("8080:80", [PortMapping(hostPort: 8080, containerPort: 80)]),
        ("127.0.0.1:8080:80/udp", [PortMapping(hostIP: "127.0.0.1", hostPort: 8080, containerPort: 80, proto: "udp")]),
        ("127.0.0.1::80", [PortMapping(hostIP: "127.0.0.1", hostPort: 0, containerPort: 80)]),
        ("0.0.0.0:81:80", [PortMapping(hostPort: 81, containerPort: 80)]),
        ("8000-8001:80-81/tcp", [PortMapping(hostPort: 8000, containerPort: 80), PortMapping(hostPort: 8001, containerPort: 81)]),
    ])
    func parses(_ spec: String, _ expected: [PortMapping]) throws {
        #expect(try PortMapping.parse(spec) == expected)
    }

    @Test func aBracketedIPv6AddressIsKept() throws {
        #expect(try PortMapping.parse("[::1]:8080:80") == [PortMapping(hostIP: "::1", hostPort: 8080, containerPort: 80)])
    }

    @Test func restoreInputRefusesLineBreaksAndQuotes() {
        let rules = HostPorts.rules([PortMapping(hostIP: "1.2.3.4\n-A INPUT -j ACCEPT", hostPort: 1, containerPort: 1)],
                                    containerIP: "10.0.0.2", containerID: "abc")
        #expect(throws: NetworkError.self) { _ = try HostPorts.startRestore(rules.map { "-A " + $0 }) }
        let quoted = HostPorts.rules([PortMapping(hostPort: 1, containerPort: 1)], containerIP: "10.0.0.2", containerID: "a\"b")
        #expect(throws: NetworkError.self) { _ = try HostPorts.startRestore(quoted.map { "-A " + $0 }) }
    }

    @Test func aHostRangeForOnePortIsAPool() throws {
        let parsed = try PortMapping.parse("8000-8010:80")
        #expect(parsed.count == 1)
        #expect(parsed.first?.hostPort == 0 && parsed.first?.hostPortRange == 8000...8010)
    }

    @Test(arguments: [
        ("abc", "invalid containerPort: abc"),
        ("80/xyz", "invalid proto: xyz"),
        ("1.2.3:80:80", "invalid IP address: 1.2.3"),
        ("8000-8002:80-81", "invalid ranges specified for container and host Ports: 80-81 and 8000-8002"),
        ("70000:80", "invalid hostPort: 70000"),
        ("1:2:3:4", "invalid port format: 1:2:3:4"),
        ("9000:80-81", "invalid ranges specified for container and host Ports: 80-81 and 9000"),
        // Rule injection through the bracketed address (it reaches iptables-restore's input).
        ("[::1\n-A INPUT -j ACCEPT]:8080:80", "invalid IP address: \"::1\\n-A INPUT -j ACCEPT\""),
        ("[not-an-ip]:8080:80", "invalid IP address: \"not-an-ip\""),
        ("[]:8080:80", "invalid IP address: \"\""),
    ])
    func refuses(_ spec: String, _ message: String) {
        #expect(throws: NetworkError.self) { try PortMapping.parse(spec) }
        do { _ = try PortMapping.parse(spec) } catch { #expect(error.message == message) }
    }
}

@Suite("SubnetTests")
struct SubnetTests {
    @Test func parseAndContain() throws {
        let subnet = try IPv4Subnet(parsing: "10.86.3.0/24")
        #expect(subnet.firstHost.description == "10.86.3.1")
        #expect(subnet.contains(IPv4Address("10.86.3.200")!))
        #expect(!subnet.contains(IPv4Address("10.86.4.1")!))
        #expect(throws: NetworkError.self) { try IPv4Subnet(parsing: "10.86.3.1/24") }
        #expect(throws: NetworkError.self) { try IPv4Subnet(parsing: "10.86.3.0") }
        #expect(throws: NetworkError.self) { try IPv4Subnet(parsing: "300.1.1.0/24") }
        #expect(IPv4Address("10.1.2.3")!.reverseName == "3.2.1.10.in-addr.arpa")
    }

    @Test func choiceAvoidsTakenSubnets() throws {
        let taken = [try IPv4Subnet(parsing: "10.87.0.0/16"), try IPv4Subnet(parsing: "10.86.0.0/23")]
        #expect(IPv4Subnet.choose(defaultNetwork: true, avoiding: [])?.description == "10.87.0.0/16")
        #expect(IPv4Subnet.choose(defaultNetwork: true, avoiding: taken)?.description == "10.86.2.0/24")
        #expect(IPv4Subnet.choose(defaultNetwork: false, avoiding: [try IPv4Subnet(parsing: "10.0.0.0/8")])?.description == nil)
    }

    @Test func hostRoutesAreRead() {
        // This machine has at least one non-default route (its own link's subnet).
        #expect(!IPv4Subnet.hostRoutes().isEmpty)
    }
}
