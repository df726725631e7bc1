import ContainerSpec
import ImageStore
import OCI

extension Engine {
    /// The images containers use, by image ID (a running user is the one reported when there are
    /// several), which `rmi` and `image prune` must keep.
    public func imageUses() throws(EngineError) -> [Digest: ImageUse] {
        var uses: [Digest: ImageUse] = [:]
        for container in try all() {
            guard let id = try? Digest(container.imageID) else { continue }
            let state = status(container)
            let running = state.isRunning || state.status == .restarting
            if uses[id] == nil || (running && uses[id]?.running == false) {
                uses[id] = ImageUse(containerID: container.id, running: running)
            }
        }
        return uses
    }
}
