import ContainerSpec
import LinuxSys

/// `--volumes-from CONTAINER[:ro|rw]`: at create, the named containers' binds and volumes (named,
/// anonymous and the image VOLUMEs they got; not their tmpfs) become the new container's, as
/// Docker's daemon copies their mount points. A read-only source stays read-only; `ro` makes every
/// one read-only. The new container's own mounts win at the same destination, and a later
/// `--volumes-from` wins over an earlier one.
extension Engine {
    func volumesFromMounts(_ options: RunOptions) throws(EngineError) -> [MountRequest] {
        var byDestination: [String: MountRequest] = [:]
        var order: [String] = []
        for spec in options.volumesFrom ?? [] {
            let (name, mode) = try RunOptions.Parse.volumesFrom(spec)
            let source = try container(name)
            let readOnly = mode.split(separator: ",").contains("ro")
            let volumes = try volumeAttachments(source)
            var copied: [MountRequest] = []
            var covered = Set<String>()
            for mount in source.options.mounts where mount.kind != .tmpfs {
                let target = FS.clean(mount.target)
                covered.insert(target)
                var request = mount
                request.target = target
                request.readOnly = mount.readOnly || readOnly
                if mount.kind == .volume {
                    // The volume it got, anonymous ones included, by name (never copied into again: see `volumeUses`).
                    guard let volume = volumes.first(where: { $0.destination == target }) else { continue }
                    request.source = volume.name
                }
                request.fromContainer = source.id
                copied.append(request)
            }
            for volume in volumes where !covered.contains(volume.destination) {
                var request = MountRequest(kind: .volume, source: volume.name, target: volume.destination, readOnly: readOnly)
                request.fromContainer = source.id
                copied.append(request)
            }
            for request in copied {
                if byDestination[request.target] == nil { order.append(request.target) }
                byDestination[request.target] = request
            }
        }
        let own = Set(options.mounts.map { FS.clean($0.target) })
        return order.filter { !own.contains($0) }.compactMap { byDestination[$0] }
    }
}
