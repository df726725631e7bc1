import ContainerSpec
import GoCompat
import Kube
import Testing

/// `metadata.generation` counts changes of the desired state (spec) only, as the apiserver's
/// strategies do; an update that changes nothing is no change at all.
struct GenerationTests {
    static func deployment(replicas: Int, labels: [String: String]? = nil, status: String? = nil) throws -> JSONValue {
        var value = object("web", namespace: "default", labels: labels, [("spec", try json(#"{"replicas":\#(replicas)}"#))])
        if let status { value = value.setting("status", to: try json(#"{"phase":"\#(status)"}"#)) }
        return value
    }

    @Test func aSpecChangeBumpsTheGeneration() throws {
        let temporary = try TemporaryStore()
        let made = try temporary.store.create(deployments, try Self.deployment(replicas: 1))
        #expect(try made.metadata("generation") == .number("1"))
        let scaled = try temporary.store.update(deployments, try Self.deployment(replicas: 3))
        #expect(try scaled.metadata("generation") == .number("2"))
        // A client cannot set the generation itself.
        let forged = try Self.deployment(replicas: 4).settingMetadataForTest("generation", .number("40"))
        #expect(try temporary.store.update(deployments, forged).metadata("generation") == .number("3"))
    }

    @Test func metadataAndStatusChangesKeepIt() throws {
        let temporary = try TemporaryStore()
        let made = try temporary.store.create(deployments, try Self.deployment(replicas: 1))
        let labelled = try temporary.store.update(deployments, try Self.deployment(replicas: 1, labels: ["tier": "front"]))
        #expect(labelled.resourceVersion > made.resourceVersion)
        #expect(try labelled.metadata("generation") == .number("1"))
        let status = try temporary.store.update(deployments, try Self.deployment(replicas: 1, labels: ["tier": "front"], status: "Ready"))
        #expect(status.resourceVersion > labelled.resourceVersion)
        #expect(try status.metadata("generation") == .number("1"))
        #expect(try status.value()[member: "status"] == (try json(#"{"phase":"Ready"}"#)))
        // guaranteedUpdate follows the same rules.
        let viaTransform = try temporary.store.guaranteedUpdate(made.key) { value throws(EngineError) in
            value.setting("spec", to: .object(["replicas": .number("5")], keys: ["replicas"]))
        }
        #expect(try viaTransform.metadata("generation") == .number("2"))
    }

    @Test func anUpdateThatChangesNothingWritesNothing() throws {
        let temporary = try TemporaryStore()
        let made = try temporary.store.create(deployments, try Self.deployment(replicas: 2))
        let watch = try temporary.store.watch(deployments, from: made.resourceVersion)
        let same = try temporary.store.update(deployments, try made.value())
        #expect(same == made)
        let sameWithoutVersion = try temporary.store.update(deployments, try Self.deployment(replicas: 2))
        #expect(sameWithoutVersion.resourceVersion == made.resourceVersion)
        #expect(try temporary.store.currentRevision() == made.resourceVersion)
        #expect(try watch.next(timeoutSeconds: 0.2) == nil, "no event for a change that is none")
    }
}
