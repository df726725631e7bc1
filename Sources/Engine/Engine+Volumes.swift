import CLinuxSys
import ContainerRuntime
import ContainerSpec
import Glibc
import LinuxSys
import OCI
import Supervisor

/// Volumes as Docker's local driver keeps them: a record in the engine database and a directory
/// `<root>/volumes/<name>/_data` that containers get bind-mounted. Named volumes are made by
/// `volume create` or on first use (`-v name:/x`, `--mount type=volume,source=name`); anonymous
/// ones for `-v /x`, `--mount type=volume` without a source and the image's VOLUMEs, one per container.
extension Engine {
    public static let localDriver = "local"
    /// The options Docker's local driver accepts (`-o type=tmpfs -o device=tmpfs -o o=size=1m`).
    static let localDriverOptions: Set<String> = ["type", "device", "o", "size"]

    var volumesDirectory: String { root + "/volumes" }
    public func volumePath(_ name: String) -> String { volumesDirectory + "/" + name + "/_data" }

    // MARK: - volume create/ls/inspect/rm/prune

    /// `volume create`: a new volume, or the existing one of that name (Docker answers the same).
    /// Without a name, 64 random hex digits.
    public func createVolume(name: String?, driver: String = Engine.localDriver, labels: [String: String] = [:],
                             options: [String: String] = [:]) throws(EngineError) -> Volume {
        let name = name.flatMap { $0.isEmpty ? nil : $0 } ?? Self.newID()
        try RunOptions.Parse.volumeName(name)
        guard driver == Self.localDriver else {
            throw .notFound("create \(name): error looking up volume plugin \(driver): plugin \"\(driver)\" not found")
        }
        if let bad = options.keys.sorted().first(where: { !Self.localDriverOptions.contains($0) }) {
            throw .invalid("create \(name): invalid option: \"\(bad)\"")
        }
        if options["type"] != nil || options["device"] != nil || options["o"] != nil {
            for required in ["type", "device"] where (options[required] ?? "").isEmpty {
                throw .invalid("create \(name): missing required option: \"\(required)\"")
            }
        }
        let volume = newVolume(name, anonymous: false, labels: labels, options: options)
        let existed = (try? volumeRecords.get(name)) != nil
        let created = withMountpoint(try volumeRecords.create(volume, makeDirectory: makeVolumeDirectory))
        if !existed { recordVolumeEvent(name, "create") }
        return created
    }

    /// Every volume, by name.
    public func volumes() throws(EngineError) -> [Volume] {
        try volumeRecords.all().map(withMountpoint)
    }

    public func volume(_ name: String) throws(EngineError) -> Volume {
        guard let volume = try volumeRecords.get(name) else { throw .notFound("get \(name): no such volume") }
        return withMountpoint(volume)
    }

    /// IDs of the containers (running or not) that use the volume.
    public func volumeUsers(_ name: String) throws(EngineError) -> [String] { try volumeRecords.users(name) }

    /// Names of the volumes some container uses; the rest are Docker's "dangling".
    public func volumesInUse() throws(EngineError) -> Set<String> { try volumeRecords.namesInUse() }

    /// `volume rm`: refused while any container uses it (`force` does not change that, as in
    /// Docker; it only makes a missing volume no error).
    public func removeVolume(_ name: String, force: Bool = false) throws(EngineError) {
        let trash = volumesDirectory + "/.removing-" + Self.newID().prefix(16)
        do {
            try volumeRecords.remove(name) { [volumesDirectory] name in
                let path = volumesDirectory + "/" + name
                // A filesystem from `-o type=…` goes first: the rename must not carry it, and
                // removing the trash must not delete a bound host directory's files.
                while Self.isMountPoint(path + "/_data") {
                    if umount2(path + "/_data", Int32(MNT_DETACH)) != 0 { throw SysError("umount", path + "/_data") }
                }
                if Glibc.rename(path, trash) != 0 && errno != ENOENT { throw SysError("rename", path) }
            }
        } catch let error where error.kind == .notFound && force {
            return
        }
        recordVolumeEvent(name, "destroy")
        FS.removeAll(trash)
    }

    /// Bytes in the volume's files (what `volume prune` reports reclaimed).
    public func volumeSize(_ name: String) -> Int64 { VolumeCopy.size(of: volumePath(name)) }

    // MARK: - Containers' volumes

    /// The volumes recorded for the container, in the order they were attached.
    public func volumeAttachments(_ container: Container) throws(EngineError) -> [VolumeAttachment] {
        try volumeRecords.attachments(containerID: container.id)
    }

    /// `rm` with `-v` (and `run --rm`): the container, then its anonymous volumes that no other
    /// container uses. Named volumes stay.
    public func remove(_ container: Container, force: Bool, volumes: Bool) throws(EngineError) {
        let anonymous = volumes ? try volumeAttachments(container).filter(\.anonymous) : []
        try remove(container, force: force)
        for attachment in anonymous {
            do { try removeVolume(attachment.name, force: true) } catch where error.kind == .conflict { continue }
        }
    }

    /// One volume a container mounts: where, which (nil: a new anonymous one), and whether the
    /// image's content there is copied into it when it is empty.
    struct VolumeUse {
        var destination: String
        var name: String?
        var copy: Bool
    }

    /// The container's volumes: `-v`/`--mount` volumes in order, then the image's VOLUMEs that no
    /// user mount covers (the same rule as `SpecBuilder.volumeTargets`).
    static func volumeUses(_ container: Container) -> [VolumeUse] {
        var uses: [VolumeUse] = []
        var covered = Set<String>()
        for request in container.options.mounts {
            let target = FS.clean(request.target)
            covered.insert(target)
            if request.kind == .volume {
                // Another container's volume (`--volumes-from`) is used as it is, as Docker does.
                uses.append(VolumeUse(destination: target, name: request.source,
                                      copy: !request.options.contains("nocopy") && request.fromContainer == nil))
            }
        }
        for path in (container.config.volumes ?? [:]).keys.sorted() {
            let target = FS.clean(path)
            guard target.hasPrefix("/"), target != "/", covered.insert(target).inserted else { continue }
            uses.append(VolumeUse(destination: target, name: nil, copy: true))
        }
        return uses
    }

    /// Makes and records the container's volumes (at create; again at start, which finds them).
    @discardableResult
    func attachVolumes(_ container: Container) throws(EngineError) -> [VolumeAttachment] {
        let uses = Self.volumeUses(container)
        guard !uses.isEmpty else { return [] }
        let created = Self.volumeTime()
        return try volumeRecords.attach(
            containerID: container.id,
            wants: uses.map { VolumeDatabase.Want(destination: $0.destination, name: $0.name) },
            make: { [root, eventsPath] name, anonymous in
                // Made on first use (a name never created, or anonymous): Docker's create event.
                EventLog.append(EventMessage(type: "volume", id: name, action: "create", attributes: ["driver": Engine.localDriver]), to: eventsPath)
                return Volume(name: name, driver: Engine.localDriver, mountpoint: root + "/volumes/" + name + "/_data", created: created,
                              labels: nil, options: nil, anonymous: anonymous)
            },
            makeDirectory: makeVolumeDirectory)
    }

    /// At start, with the rootfs mounted: each volume's host directory by destination (what
    /// `SpecInput.volumeSources` wants), after copying the image's content into empty ones.
    func prepareVolumes(_ container: Container) throws(EngineError) -> [String: String] {
        let uses = Self.volumeUses(container)
        guard !uses.isEmpty else { return [:] }
        var sources: [String: String] = [:]
        for attachment in try attachVolumes(container) {
            let path = volumePath(attachment.name)
            if let options = try volumeRecords.get(attachment.name)?.options, options["type"] != nil {
                try mountVolumeFilesystem(attachment.name, options: options)
            }
            if uses.first(where: { $0.destination == attachment.destination })?.copy ?? true {
                try VolumeCopy.copyUp(rootfs: rootfsPath(container.id), path: attachment.destination, into: path)
            }
            sources[attachment.destination] = path
            let readOnly = container.options.mounts.first { FS.clean($0.target) == attachment.destination }?.readOnly ?? false
            recordVolumeEvent(attachment.name, "mount", ["container": container.id, "destination": attachment.destination,
                                                         "propagation": "", "read/write": readOnly ? "false" : "true"])
        }
        return sources
    }

    /// Docker's local driver with options: `-o type=tmpfs -o device=tmpfs -o o=size=1m`, or
    /// `-o type=none -o o=bind -o device=/srv/data`. The filesystem is mounted on the volume's
    /// directory when a container first needs it (through an fd of that directory, so a symlink
    /// put there meanwhile is not followed), and stays mounted until `volume rm` — Docker instead
    /// unmounts when its last container stops.
    func mountVolumeFilesystem(_ name: String, options: [String: String]) throws(EngineError) {
        let path = volumePath(name)
        if Self.isMountPoint(path) { return }
        var flags: UInt = 0
        var data: [String] = []
        let known: [String: UInt] = [
            "ro": UInt(MS_RDONLY), "bind": UInt(MS_BIND), "rbind": UInt(MS_BIND | MS_REC), "nosuid": UInt(MS_NOSUID),
            "nodev": UInt(MS_NODEV), "noexec": UInt(MS_NOEXEC), "sync": UInt(MS_SYNCHRONOUS), "noatime": UInt(MS_NOATIME),
            "nodiratime": UInt(MS_NODIRATIME), "relatime": UInt(MS_RELATIME), "strictatime": UInt(MS_STRICTATIME),
            "rw": 0, "suid": 0, "dev": 0, "exec": 0, "async": 0, "defaults": 0,
        ]
        for option in (options["o"] ?? "").split(separator: ",").map(String.init) where !option.isEmpty {
            if let flag = known[option] { flags |= flag } else { data.append(option) }
        }
        let type = options["type"] ?? "none"
        let fd = berth_open(path, BERTH_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
        guard fd >= 0 else { throw .system("open volume \(name)", SysError("open", path)) }
        defer { FS.close(fd) }
        do {
            try MountSys.mount(source: options["device"], target: "/proc/self/fd/\(fd)", type: type, flags: flags,
                               data: data.joined(separator: ","), describe: path)
        } catch {
            throw .system("mount volume \(name) (type \(type), device \(options["device"] ?? ""))", error)
        }
    }

    /// Whether `path` is itself a mount point (its mount's root is there), by /proc/self/mountinfo.
    static func isMountPoint(_ path: String) -> Bool {
        guard let text = try? FS.readText("/proc/self/mountinfo") else { return false }
        let escaped = path.split(separator: " ", omittingEmptySubsequences: false).joined(separator: "\\040")
        return text.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ", maxSplits: 5)
            return fields.count > 4 && fields[4] == escaped
        }
    }

    // MARK: - Helpers

    private func newVolume(_ name: String, anonymous: Bool, labels: [String: String]?, options: [String: String]?) -> Volume {
        Volume(name: name, driver: Self.localDriver, mountpoint: volumePath(name), created: Self.volumeTime(),
               labels: labels, options: options, anonymous: anonymous)
    }

    private func withMountpoint(_ volume: Volume) -> Volume {
        var volume = volume
        volume.mountpoint = volumePath(volume.name)
        return volume
    }

    /// `<root>/volumes/<name>/_data`; nothing changes when it exists. Runs inside the record's transaction.
    private var makeVolumeDirectory: @Sendable (String) throws -> Void {
        { [volumesDirectory] name in
            try FS.mkdirAll(volumesDirectory, mode: 0o701)
            let dir = volumesDirectory + "/" + name
            if Glibc.mkdir(dir, 0o755) != 0 && errno != EEXIST { throw SysError("mkdir", dir) }
            if Glibc.mkdir(dir + "/_data", 0o755) != 0 && errno != EEXIST { throw SysError("mkdir", dir + "/_data") }
        }
    }

    /// Docker's CreatedAt: RFC 3339 to the second.
    static func volumeTime() -> String {
        Clock.format(seconds: time(nil), nanoseconds: 0)
    }
}

extension Engine {
    /// Docker's container sizes (`ps -s`, `inspect -s`): the bytes of the container's own changes
    /// (its overlay upper directory) and those plus its image's.
    public func sizes(_ container: Container) -> (writable: Int64, rootFS: Int64) {
        let writable = VolumeCopy.size(of: containerDirectory(container.id) + "/upper")
        let image = (try? images.resolve(container.imageID).size) ?? 0
        return (writable, writable + image)
    }
}
