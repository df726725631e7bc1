import ContainerSpec
import Engine
import ImageStore

/// Docker's `GET /containers/json` item (API 1.50): members in Docker's order. Ports, Labels and
/// Mounts are never null; SizeRw and SizeRootFs only when sizes were asked for (`size=1`, `system df`).
public struct ContainerSummary: Encodable, Sendable {
    public var id: String
    /// Each name with its leading slash.
    public var names: [String]
    public var image: String
    public var imageID: String
    public var command: String
    /// Seconds since the epoch.
    public var created: Int64
    public var ports: [Port]
    public var sizeRw: Int64?
    public var sizeRootFs: Int64?
    public var labels: [String: String]
    public var state: String
    public var status: String
    public var networkMode: String
    public var networks: OrderedMap<EndpointSettings>
    public var mounts: [MountPoint]

    /// One port: IP and PublicPort are left out for a port that is exposed but not published.
    public struct Port: Encodable, Sendable, Equatable {
        public var ip: String
        public var privatePort: Int
        public var publicPort: Int
        public var type: String

        public init(ip: String, privatePort: Int, publicPort: Int, type: String) {
            self.ip = ip
            self.privatePort = privatePort
            self.publicPort = publicPort
            self.type = type
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            if !ip.isEmpty { try c.encode(ip, forKey: AnyKey("IP")) }
            try c.encode(privatePort, forKey: AnyKey("PrivatePort"))
            if publicPort != 0 { try c.encode(publicPort, forKey: AnyKey("PublicPort")) }
            try c.encode(type, forKey: AnyKey("Type"))
        }
    }

    public init(id: String, names: [String], image: String, imageID: String, command: String, created: Int64, ports: [Port],
                sizeRw: Int64? = nil, sizeRootFs: Int64? = nil, labels: [String: String], state: String, status: String,
                networkMode: String, networks: OrderedMap<EndpointSettings>, mounts: [MountPoint]) {
        self.id = id
        self.names = names
        self.image = image
        self.imageID = imageID
        self.command = command
        self.created = created
        self.ports = ports
        self.sizeRw = sizeRw
        self.sizeRootFs = sizeRootFs
        self.labels = labels
        self.state = state
        self.status = status
        self.networkMode = networkMode
        self.networks = networks
        self.mounts = mounts
    }

    /// From the engine's record and what is true now, the way `ps` builds its rows: the ports only
    /// while the container runs; `size` measures its files.
    public init(_ container: Container, engine: Engine, size: Bool = false, now: Double = wallClock()) {
        let status = engine.status(container)
        var sizes: (writable: Int64, rootFS: Int64)?
        if size { sizes = engine.sizes(container) }
        self.init(
            id: container.id, names: ["/" + container.name], image: container.image, imageID: container.imageID,
            command: listedCommand(container),
            created: Int64(Timestamp.parse(container.created) ?? 0),
            ports: status.isRunning ? portList(container, engine: engine) : [],
            sizeRw: sizes?.writable, sizeRootFs: sizes?.rootFS, labels: container.config.labels ?? [:],
            state: status.status.rawValue, status: statusText(status, now: now), networkMode: DockerModel.networkMode(container.options),
            networks: NetworkSettings(container, engine: engine).networks, mounts: MountPoint.list(container, engine: engine))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encodeMembers([
            (AnyKey("Id"), id), (AnyKey("Names"), names), (AnyKey("Image"), image), (AnyKey("ImageID"), imageID),
            (AnyKey("Command"), command), (AnyKey("Created"), created), (AnyKey("Ports"), ports),
        ])
        try c.encodeIfPresent(sizeRw, forKey: AnyKey("SizeRw"))
        try c.encodeIfPresent(sizeRootFs, forKey: AnyKey("SizeRootFs"))
        try c.encodeMembers([
            (AnyKey("Labels"), SortedMap(labels)), (AnyKey("State"), state), (AnyKey("Status"), status),
        ])
        var host = c.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("HostConfig"))
        try host.encode(networkMode, forKey: AnyKey("NetworkMode"))
        var settings = c.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("NetworkSettings"))
        try settings.encode(networks, forKey: AnyKey("Networks"))
        try c.encode(mounts, forKey: AnyKey("Mounts"))
    }
}

/// HostConfig.NetworkMode as inspect and the container list show it ("default" when none was given).
public func networkMode(_ options: RunOptions) -> String {
    options.network == .default ? "default" : networkName(options.network)
}

/// The Command of `ps` and `GET /containers/json`, as dockerd makes it: the path, then each
/// argument, those with a space in single quotes (`sh -c 'echo hi'`).
public func listedCommand(_ container: Container) -> String {
    let argv = (container.config.entrypoint ?? []) + (container.config.cmd ?? [])
    guard let path = argv.first else { return "" }
    return ([path] + argv.dropFirst().map { $0.contains(" ") ? "'\($0)'" : $0 }).joined(separator: " ")
}
