import ContainerSpec
import Engine
import LinuxSys
import OCI
import Registry

/// imagePullPolicy: Always pulls (through the Engine's image store and the registry client),
/// IfNotPresent pulls when the image is missing, Never refuses a missing image.
extension Kubelet {
    func ensureImage(_ image: String, policy: String) throws(EngineError) {
        let present = (try? engine.images.resolve(image)) != nil
        switch policy {
        case "Never":
            if !present { throw .notFound("Container image \"\(image)\" is not present with pull policy of Never") }
        case "IfNotPresent":
            if !present { try pull(image) }
        default:
            // Always: a registry that cannot be reached leaves a present image in use, as a
            // kubelet with a cached image would run it once the pull's back-off passes.
            do { try pull(image) } catch where present {}
        }
    }

    func pull(_ image: String) throws(EngineError) {
        let reference: ImageReference
        do { reference = try ImageReference(parsing: image) } catch { throw .invalid("pull \(image): \(error)") }
        final class Outcome: @unchecked Sendable {
            let lock = ConditionLock()
            var done = false
            var failure: String?
        }
        let outcome = Outcome()
        let store = engine.images
        Task {
            var failure: String?
            do {
                let client = RegistryClient(credentials: nil, userAgent: "berth-kubelet")
                _ = try await store.pull(reference, client: client)
            } catch {
                failure = "\(error)"
            }
            outcome.lock.withLock {
                outcome.failure = failure
                outcome.done = true
                outcome.lock.broadcast()
            }
        }
        let failure = outcome.lock.withLock { () -> String? in
            while !outcome.done { _ = outcome.lock.wait() }
            return outcome.failure
        }
        if let failure { throw .unavailable("failed to pull image \"\(image)\": \(failure)") }
    }
}
