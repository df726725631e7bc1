import ContainerSpec
import Engine
import GoCompat

/// `POST /containers/{id}/update`: Docker's container.UpdateConfig (Resources, and RestartPolicy
/// beside its fields). Zero means "leave as it is", as dockerd reads it.
public struct ContainerUpdateRequest: Decodable, Sendable, GoNamed {
    public var resources: ContainerCreateRequest.Resources
    public var restartPolicy: ContainerCreateRequest.RestartPolicy?
    public static var goName: String { "container.UpdateConfig" }

    enum CodingKeys: String, CodingKey, CaseIterable { case restartPolicy = "RestartPolicy" }

    public init(from decoder: any Decoder) throws {
        resources = try ContainerCreateRequest.Resources(from: decoder)
        restartPolicy = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(ContainerCreateRequest.RestartPolicy.self, forKey: .restartPolicy)
    }

    public init(body: [UInt8]) throws(EngineError) {
        self = try RequestBody.decode(Self.self, from: body, .optional)
    }

    /// What dockerd warns of at update (its answer's Warnings): OomKillDisable, which update
    /// never changes, checked against this request's memory limit as dockerd checks it.
    public func warnings(host: HostInfo) -> [String] {
        guard resources.oomKillDisable == true else { return [] }
        var options = RunOptions()
        options.oomKillDisable = true
        options.memory = resources.memory.nonZero
        return SpecBuilder.warnings(options, host: host)
    }

    /// The change as `berth update`'s flags make it (the same parsers and checks).
    public func resourceUpdate() throws(EngineError) -> Engine.ResourceUpdate {
        typealias Parse = RunOptions.Parse
        try resources.refuseUnsupported()
        if let devices = resources.devices, !devices.isEmpty { throw .unsupported("Devices", devices.first?.pathOnHost ?? "") }
        if let limits = resources.ulimits, !limits.isEmpty { throw .unsupported("Ulimits", limits.first?.name ?? "") }
        // OomKillDisable: dockerd's update only warns of it (see `warnings`); the setting stays as created.
        var change = Engine.ResourceUpdate()
        change.memory = resources.memory.nonZero
        change.memorySwap = resources.memorySwap.nonZero
        change.memoryReservation = resources.memoryReservation.nonZero
        change.nanoCPUs = resources.nanoCpus.nonZero
        change.cpuShares = try resources.cpuShares.nonZero.map { v throws(EngineError) in try Parse.cpuShares(v) }
        change.cpuPeriod = try resources.cpuPeriod.nonZero.map { v throws(EngineError) in try Parse.cpuPeriod(v) }
        change.cpuQuota = resources.cpuQuota.nonZero
        change.cpusetCpus = resources.cpusetCpus.nonEmpty
        change.cpusetMems = resources.cpusetMems.nonEmpty
        // A pointer in Docker's type: present (0 and -1 too) is a change.
        change.pidsLimit = resources.pidsLimit
        if let policy = restartPolicy, policy.name.nonEmpty != nil {
            change.restart = try ContainerCreateRequest.restartPolicy(policy)
        }
        return change
    }
}
