import Foundation
import GoCompat
import Kube
@testable import KubeControllers
import KubeModel
import Testing

/// The endpoints controller over a real store: Services with selectors get the Pods they select,
/// ready or not, with named target ports resolved per Pod; the Endpoints follow the Pods and go
/// with their Service; a Service without a selector keeps what its user wrote.
struct EndpointsControllerTests {
    final class Store {
        let root = NSTemporaryDirectory() + "berth-endpoints-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let store: ObjectStore
        init() throws { store = try ObjectStore.open(root: root) }
        deinit { try? FileManager.default.removeItem(atPath: root) }
    }

    static func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    static func pod(_ name: String, ip: String?, ready: Bool, labels: String = #"{"app":"web"}"#, port: Int = 8080, extra: String = "") throws -> JSONValue {
        let status = ip.map { #","status":{"phase":"Running","podIP":"\#($0)","conditions":[{"type":"Ready","status":"\#(ready ? "True" : "False")"}]}"# } ?? ""
        return try json(#"""
            {"kind":"Pod","apiVersion":"v1","metadata":{"name":"\#(name)","namespace":"default","labels":\#(labels)},
             "spec":{"nodeName":"node"\#(extra),"containers":[{"name":"c","image":"busybox","ports":[{"name":"http","containerPort":\#(port)}]}]}\#(status)}
            """#)
    }

    static let service = #"""
        {"kind":"Service","apiVersion":"v1","metadata":{"name":"web","namespace":"default","labels":{"tier":"front"}},
         "spec":{"selector":{"app":"web"},"clusterIP":"10.96.0.20","ports":[{"name":"http","port":80,"targetPort":"http","protocol":"TCP"}]}}
        """#

    func endpoints(_ store: ObjectStore) throws -> JSONValue? {
        try? store.get(ObjectKey(KubeKinds.endpoints.storeResource, namespace: "default", name: "web")).value()
    }

    func ips(_ endpoints: JSONValue?, _ member: String) -> [String] {
        (endpoints?[member: "subsets"]?.arrayValue ?? []).flatMap { ($0[member: member]?.arrayValue ?? []).compactMap { $0[member: "ip"]?.stringValue } }
    }

    @Test func endpointsFollowTheSelectedPods() throws {
        let temporary = try Store()
        let store = temporary.store
        let controller = EndpointsController(store: store) { _ in }
        try store.create(KubeKinds.service.storeResource, try Self.json(Self.service))
        try store.create(EndpointsController.pods, try Self.pod("a", ip: "10.42.0.12", ready: true, port: 9090))
        try store.create(EndpointsController.pods, try Self.pod("b", ip: "10.42.0.5", ready: true))
        try store.create(EndpointsController.pods, try Self.pod("c", ip: "10.42.0.7", ready: false))
        try store.create(EndpointsController.pods, try Self.pod("pending", ip: nil, ready: false))
        try store.create(EndpointsController.pods, try Self.pod("other", ip: "10.42.0.9", ready: true, labels: #"{"app":"db"}"#))
        try controller.sync()
        var written = try #require(try endpoints(store))
        #expect(written[member: "metadata"]?[member: "labels"]?[member: "tier"]?.stringValue == "front")
        // Two port sets (8080 and 9090): two subsets; ready and not-ready addresses apart, by IP.
        let subsets = written[member: "subsets"]?.arrayValue ?? []
        #expect(subsets.count == 2)
        let byPort = Dictionary(uniqueKeysWithValues: subsets.map { ($0[member: "ports"]?.arrayValue?.first?[member: "port"]?.intValue ?? 0, $0) })
        #expect(ips(.ordered([("subsets", .array([byPort[8080] ?? .null]))]), "addresses") == ["10.42.0.5"])
        #expect(ips(.ordered([("subsets", .array([byPort[8080] ?? .null]))]), "notReadyAddresses") == ["10.42.0.7"])
        #expect(ips(.ordered([("subsets", .array([byPort[9090] ?? .null]))]), "addresses") == ["10.42.0.12"])
        #expect(byPort[8080]?[member: "ports"]?.arrayValue?.first?[member: "name"]?.stringValue == "http")
        let target = byPort[8080]?[member: "addresses"]?.arrayValue?.first?[member: "targetRef"]
        #expect(target?[member: "kind"]?.stringValue == "Pod" && target?[member: "name"]?.stringValue == "b")

        // A pass with nothing new writes nothing.
        let version = written.metadataString("resourceVersion")
        try controller.sync()
        #expect(try endpoints(store)?.metadataString("resourceVersion") == version)

        // c turns ready, b goes away: the Endpoints follow.
        try store.update(EndpointsController.pods, try Self.pod("c", ip: "10.42.0.7", ready: true))
        try store.delete(ObjectKey(EndpointsController.pods, namespace: "default", name: "b"))
        try controller.sync()
        written = try #require(try endpoints(store))
        #expect(Set(ips(written, "addresses")) == ["10.42.0.7", "10.42.0.12"] && ips(written, "notReadyAddresses").isEmpty)

        // The Service goes: its Endpoints too.
        try store.delete(ObjectKey(KubeKinds.service.storeResource, namespace: "default", name: "web"))
        try controller.sync()
        #expect(try endpoints(store) == nil)
    }

    @Test func aServiceWithoutSelectorKeepsItsUsersEndpoints() throws {
        let temporary = try Store()
        let store = temporary.store
        try store.create(KubeKinds.service.storeResource, try Self.json(#"""
            {"kind":"Service","apiVersion":"v1","metadata":{"name":"web","namespace":"default"},"spec":{"ports":[{"port":80}]}}
            """#))
        try store.create(KubeKinds.endpoints.storeResource, try Self.json(#"""
            {"kind":"Endpoints","apiVersion":"v1","metadata":{"name":"web","namespace":"default"},
             "subsets":[{"addresses":[{"ip":"192.0.2.1"}],"ports":[{"port":80}]}]}
            """#))
        try store.create(EndpointsController.pods, try Self.pod("a", ip: "10.42.0.12", ready: true))
        // A fresh controller (as after a restart) also keeps them.
        try EndpointsController(store: store) { _ in }.sync()
        #expect(ips(try endpoints(store), "addresses") == ["192.0.2.1"])
    }

    @Test func hostnameAndSubdomainNameAnEndpoint() throws {
        let pod = try Self.pod("db-0", ip: "10.42.0.3", ready: true, extra: #","hostname":"db-0","subdomain":"web""#)
        let subsets = EndpointsController.subsets(service: try Self.json(Self.service), pods: [pod])
        #expect(subsets.first?[member: "addresses"]?.arrayValue?.first?[member: "hostname"]?.stringValue == "db-0")
    }
}
