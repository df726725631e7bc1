import OCI

/// What the runtime keeps on disk for one container in `<root>/<id>/state.json`: enough for any
/// later command (start, kill, delete, state) to act without the caller's help, even after the
/// creating process was killed at any point.
struct ContainerRecord: Codable, Sendable {
    var id: String
    /// Host pid of the container's init; 0 until it exists.
    var pid: Int32
    /// Start time of that pid (clock ticks since boot), to tell it from a later process reusing the pid.
    var pidStartTime: UInt64
    var bundle: String
    var rootfs: String
    var created: String
    var owner: String
    /// What later commands need of the config (only this, so each save stays small and fast).
    var annotations: [String: String]?
    var poststartHooks: [Hook]?
    var poststopHooks: [Hook]?
    /// Cgroup directories that belong to the container, one per hierarchy.
    var cgroupPaths: [String]
    /// True once create finished; a record without it is an interrupted create, cleaned by delete.
    var createFinished: Bool
}
