import ContainerSpec
import Engine
import LinuxSys
import OCI
import Registry

/// imagePullPolicy: Always pulls (through the Engine's image store and the registry client),
/// IfNotPresent pulls when the image is missing, Never refuses a missing image. A failed pull is
/// not tried again before its back-off has passed (10 s doubling to 5 min: ImagePullBackOff).
extension Kubelet {
    /// nil when the image is there now; otherwise why the container waits.
    func acquireImage(_ image: String, policy: String) -> Waiting? {
        let present = (try? engine.images.resolve(image)) != nil
        switch policy {
        case "Never":
            return present ? nil : Waiting(reason: "ErrImageNeverPull", message: "Container image \"\(image)\" is not present with pull policy of Never")
        case "IfNotPresent":
            if present { return nil }
        default:
            break
        }
        let now = MonotonicClock.seconds()
        if let backoff = pullBackoffs[image], now < backoff.until {
            // Always with the image present: a registry that cannot be reached leaves it in use.
            return present ? nil : Waiting(reason: "ImagePullBackOff", message: "Back-off pulling image \"\(image)\"")
        }
        do {
            try pull(image)
            pullBackoffs[image] = nil
            return nil
        } catch {
            let delay = min(max((pullBackoffs[image]?.delay ?? 5) * 2, 10), 300)
            pullBackoffs[image] = (now + delay, delay)
            return present ? nil : Waiting(reason: "ErrImagePull", message: error.message)
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
        if let failure { throw .unavailable("failed to pull and unpack image \"\(image)\": \(failure)") }
    }
}
