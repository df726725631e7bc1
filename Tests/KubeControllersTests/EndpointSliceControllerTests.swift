import Foundation
import GoCompat
import Kube
@testable import KubeControllers
import KubeModel
import Testing

/// The EndpointSlice controller over a real store: slices per port set with each endpoint's
/// conditions, Kubernetes' labels and owner, kept in place as Pods change, and gone with their
/// Service; slices another manager keeps are left alone.
struct EndpointSliceControllerTests {
    typealias Fixture = EndpointsControllerTests

    func slices(_ store: ObjectStore) throws -> [JSONValue] {
        try store.list(KubeKinds.endpointSlice.storeResource).items.map { try $0.value() }
    }

    @Test func slicesFollowTheSelectedPodsWithTheirConditions() throws {
        let temporary = try Fixture.Store()
        let store = temporary.store
        let controller = EndpointSliceController(store: store) { _ in }
        try store.create(KubeKinds.service.storeResource, try Fixture.json(Fixture.service))
        let service = try store.get(ObjectKey(KubeKinds.service.storeResource, namespace: "default", name: "web")).value()
        try store.create(EndpointsController.pods, try Fixture.pod("a", ip: "10.42.0.12", ready: true, port: 9090))
        try store.create(EndpointsController.pods, try Fixture.pod("b", ip: "10.42.0.5", ready: true))
        try store.create(EndpointsController.pods, try Fixture.pod("c", ip: "10.42.0.7", ready: false))
        try store.create(EndpointsController.pods, try Fixture.pod("gone", ip: "10.42.0.8", ready: true)
            .settingMetadata("deletionTimestamp", to: .string("2026-01-01T00:00:00Z")))
        // Another manager's slice for the same Service.
        try store.create(KubeKinds.endpointSlice.storeResource, try Fixture.json(#"""
            {"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1","metadata":{"name":"web-mine","namespace":"default",
             "labels":{"kubernetes.io/service-name":"web","endpointslice.kubernetes.io/managed-by":"someone-else"}},"addressType":"IPv4","endpoints":[]}
            """#))
        try controller.sync()
        var ours = try slices(store).filter { $0.metadataString("name") != "web-mine" }
        #expect(ours.count == 2, "one slice per port set (8080, 9090): \(ours.count)")
        let byPort = Dictionary(uniqueKeysWithValues: ours.map { ($0[member: "ports"]?.arrayValue?.first?[member: "port"]?.intValue ?? 0, $0) })
        let slice = try #require(byPort[8080])
        #expect(slice[member: "addressType"]?.stringValue == "IPv4")
        #expect(slice.metadataString("name")?.hasPrefix("web-") == true)
        let labels = LabelSelector.labels(of: slice)
        #expect(labels["kubernetes.io/service-name"] == "web" && labels["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io")
        #expect(labels["tier"] == "front")
        #expect(slice[member: "metadata"]?[member: "ownerReferences"]?.arrayValue?.first?[member: "uid"]?.stringValue == service.metadataString("uid"))
        #expect(slice[member: "ports"] == .array([.ordered([("name", .string("http")), ("protocol", .string("TCP")), ("port", .int(8080))])]))
        let endpoints = slice[member: "endpoints"]?.arrayValue ?? []
        #expect(endpoints.map { $0[member: "addresses"]?.arrayValue?.first?.stringValue ?? "" } == ["10.42.0.5", "10.42.0.7", "10.42.0.8"])
        func conditions(_ index: Int) -> [Bool?] {
            let value = endpoints[index][member: "conditions"]
            return ["ready", "serving", "terminating"].map { name in
                if case .bool(let flag)? = value?[member: name] { return flag }
                return nil
            }
        }
        #expect(conditions(0) == [true, true, false])
        #expect(conditions(1) == [false, false, false])
        #expect(conditions(2) == [false, true, true], "a terminating Pod is serving but not ready")
        #expect(endpoints[0][member: "targetRef"]?[member: "name"]?.stringValue == "b")
        #expect(endpoints[0][member: "nodeName"]?.stringValue == "node")

        // Nothing new: nothing written. A Pod turning ready: the slice is updated in place.
        let name = slice.metadataString("name"), version = slice.metadataString("resourceVersion")
        try controller.sync()
        #expect(try slices(store).first { $0.metadataString("name") == name }?.metadataString("resourceVersion") == version)
        try store.update(EndpointsController.pods, try Fixture.pod("c", ip: "10.42.0.7", ready: true))
        try controller.sync()
        ours = try slices(store).filter { $0.metadataString("name") != "web-mine" }
        let updated = try #require(ours.first { $0.metadataString("name") == name })
        #expect(updated[member: "endpoints"]?.arrayValue?[1][member: "conditions"]?[member: "ready"] == .bool(true))

        // The Service goes: its slices too, but not another manager's.
        try store.delete(ObjectKey(KubeKinds.service.storeResource, namespace: "default", name: "web"))
        try controller.sync()
        #expect(try slices(store).map { $0.metadataString("name") ?? "" } == ["web-mine"])
    }
}
