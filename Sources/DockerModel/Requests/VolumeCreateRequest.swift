import ContainerSpec
import Engine
import GoCompat

/// `POST /volumes/create`: Docker's volume.CreateOptions. `Engine.createVolume(name:driver:labels:options:)`
/// takes its fields as they are (an empty name is a generated one, an empty driver `local`).
public struct VolumeCreateRequest: Decodable, Sendable, GoNamed {
    public var name: String?
    public var driver: String?
    public var driverOpts: [String: String]?
    public var labels: [String: String]?
    /// Swarm's cluster volumes.
    public var clusterVolumeSpec: EmptyObject?
    public static var goName: String { "volume.CreateOptions" }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name = "Name", driver = "Driver", driverOpts = "DriverOpts", labels = "Labels", clusterVolumeSpec = "ClusterVolumeSpec"
    }

    public init(body: [UInt8]) throws(EngineError) {
        self = try RequestBody.decode(Self.self, from: body, .optional)
        if clusterVolumeSpec != nil { throw .unsupported("ClusterVolumeSpec", "{}") }
    }

    /// The driver, `local` when none is named.
    public var driverName: String { driver.nonEmpty ?? Engine.localDriver }
}
