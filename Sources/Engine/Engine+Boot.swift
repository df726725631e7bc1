import ContainerRuntime
import ContainerSpec
import Glibc
import LinuxSys

extension Engine {
    /// Name of the marker, in the container's persistent directory, that a person stopped it; it
    /// outlives a host restart (the run directory under /run does not), so `boot` leaves an
    /// `unless-stopped` container down as Docker's daemon does.
    static let stoppedByUserName = "stopped-by-user"

    /// What `boot` did for one container.
    public struct BootResult: Sendable {
        public var container: Container
        public var error: StartError?
    }

    /// `system boot`: after a host restart nothing runs and /run is empty. Berth has no daemon to
    /// come back, so this (run once at boot, e.g. from rc.local or a unit) starts the containers
    /// whose restart policy asks: `always`, and `unless-stopped` unless someone stopped it.
    /// Running containers are left alone, so a second call does nothing.
    public func boot() throws(EngineError) -> [BootResult] {
        var results: [BootResult] = []
        // Build steps killed with the host: their addresses are still leased.
        if let lock = try? lockBuildNetworks() {
            sweepBuildNetworks()
            FS.close(lock)
        }
        for container in try all() {
            switch container.options.restart {
            case .always: break
            case .unlessStopped where !FS.exists(containerDirectory(container.id) + "/" + Self.stoppedByUserName): break
            default: continue
            }
            let current = status(container)
            if current.isRunning || current.status == .restarting { continue }
            // What a crash or power loss left: the runtime's record of the old run and its mount.
            try? runtime.delete(id: container.id, force: true)
            unmountRootfs(container.id)
            do {
                _ = try start(container)
                results.append(BootResult(container: container, error: nil))
            } catch {
                results.append(BootResult(container: container, error: error))
            }
        }
        return results
    }
}
