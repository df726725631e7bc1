// The state of a container as the runtime spec defines it (`state` prints it),
// with the fields runc adds (`rootfs`, `created`, `owner`) so tools that read runc's output read ours.

public enum ContainerStatus: String, Codable, Sendable {
    case creating, created, running, stopped, paused
}

public struct State: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var id: String
    public var status: ContainerStatus
    public var pid: Int32
    public var bundle: String
    public var rootfs: String
    public var created: String
    public var owner: String
    public var annotations: [String: String]?

    public init(ociVersion: String = Spec.currentVersion, id: String, status: ContainerStatus, pid: Int32,
                bundle: String, rootfs: String, created: String, owner: String = "",
                annotations: [String: String]? = nil) {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = owner
        self.annotations = annotations
    }
}
