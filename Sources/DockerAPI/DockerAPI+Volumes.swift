import ContainerSpec
import DockerModel
import Engine
import HTTPServer

extension DockerAPI {
    static var volumeRoutes: [Route] {
        [
            Route(.GET, "volumes") { api, call in try api.listVolumes(call) },
            Route(.POST, "volumes/create") { api, call in
                let body = try VolumeCreateRequest(body: try call.bodyBytes())
                let volume = try api.engine.createVolume(name: body.name, driver: body.driverName, labels: body.labels ?? [:], options: body.driverOpts ?? [:])
                try call.writer.json(VolumeInspect(volume), status: .created)
            },
            Route(.GET, "volumes/{name}") { api, call in
                try call.writer.json(VolumeInspect(try api.engine.volume(call.parameter("name"))))
            },
            Route(.DELETE, "volumes/{name}") { api, call in
                try api.engine.removeVolume(call.parameter("name"), force: try call.flag("force"))
                call.writer.send(status: .noContent)
            },
            Route(.POST, "volumes/prune") { api, call in try api.pruneVolumes(call) },
        ]
    }

    static func volumeFilters(_ call: APICall, prune: Bool) throws -> VolumeFilters {
        do { return try VolumeFilters(try QueryFilters.parse(call.query("filters")), prune: prune) } catch let error as FilterError {
            throw EngineError.invalid(error.message)
        }
    }

    /// `GET /volumes`: `{"Volumes":[…],"Warnings":null}`, by name.
    func listVolumes(_ call: APICall) throws {
        let filters = try Self.volumeFilters(call, prune: false)
        let inUse = try engine.volumesInUse()
        let shown = try engine.volumes().filter { filters.accepts($0, inUse: inUse.contains($0.name)) }
        try call.writer.json(VolumeList(volumes: shown.map(VolumeInspect.init)))
    }

    /// `POST /volumes/prune`: unused volumes, only anonymous ones from API 1.42 on unless the
    /// `all` filter says otherwise (as dockerd); `{"VolumesDeleted":[…],"SpaceReclaimed":N}`.
    func pruneVolumes(_ call: APICall) throws {
        let filters = try Self.volumeFilters(call, prune: true)
        let everything = filters.all || !call.atLeast("1.42")
        var deleted: [String] = []
        var reclaimed: Int64 = 0
        let inUse = try engine.volumesInUse()
        for volume in try engine.volumes() where !inUse.contains(volume.name) && (everything || volume.anonymous) {
            guard filters.accepts(volume, inUse: false) else { continue }
            let size = engine.volumeSize(volume.name)
            do { try engine.removeVolume(volume.name) } catch {
                // Taken by a container created meanwhile, or removed by someone else.
                if error.kind == .conflict || error.kind == .notFound { continue }
                throw error
            }
            deleted.append(volume.name)
            reclaimed += size
        }
        try call.writer.json(PruneResponse(key: "VolumesDeleted", deleted: deleted, reclaimed: reclaimed))
    }
}

/// `GET /volumes`'s answer.
struct VolumeList: Encodable {
    var volumes: [VolumeInspect]
    enum CodingKeys: String, CodingKey { case volumes = "Volumes", warnings = "Warnings" }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(volumes, forKey: .volumes)
        // Go's nil slice: dockerd's local driver gives no warnings.
        try c.encodeNil(forKey: .warnings)
    }
}
