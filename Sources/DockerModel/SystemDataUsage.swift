import Engine
import ImageStore
import OCI

/// Docker's `GET /system/df`: the layers' bytes, every image (with SharedSize and Containers counted),
/// every container (with its sizes), every volume (with UsageData). Berth keeps no build cache
/// records, so BuildCache is empty; BuilderSize (deprecated) is left out, as Docker's omitempty does.
public struct SystemDataUsage: Encodable, Sendable {
    public var layersSize: Int64
    public var images: [ImageSummary]
    public var containers: [ContainerSummary]
    public var volumes: [VolumeInspect]
    public var buildCache: [BuildCacheRecord] = []

    /// Docker's build cache record; none are kept, the type is here for the array's shape.
    public struct BuildCacheRecord: Encodable, Sendable {
        public var id: String
        public var size: Int64
        public var inUse: Bool
        public var shared: Bool
        enum CodingKeys: String, CodingKey { case id = "ID", size = "Size", inUse = "InUse", shared = "Shared" }
    }

    public init(layersSize: Int64, images: [ImageSummary], containers: [ContainerSummary], volumes: [VolumeInspect]) {
        self.layersSize = layersSize
        self.images = images
        self.containers = containers
        self.volumes = volumes
    }

    /// Measures the store: each unpacked layer once, each container's upper directory, each volume's files.
    public init(engine: Engine, now: Double = wallClock()) throws {
        let store = engine.images
        let containers = try engine.all()
        let layerSizes = (try? store.layerSizes()) ?? [:]
        let loaded = try store.images().map { record in (record, try? store.load(record)) }
        // A layer more than one image stacks on is "shared" by each of them.
        var users: [Digest: Int] = [:]
        for (_, image) in loaded {
            for diffID in Set(image?.config.rootfs.diffIDs ?? []) { users[diffID, default: 0] += 1 }
        }
        var imageUsers: [String: Int] = [:]
        for container in containers { imageUsers[container.imageID, default: 0] += 1 }
        var summaries: [ImageSummary] = []
        for (record, image) in loaded {
            var summary = ImageSummary(record, labels: image?.config.config?.labels)
            var shared: Int64 = 0
            for diffID in Set(image?.config.rootfs.diffIDs ?? []) where (users[diffID] ?? 0) > 1 { shared += layerSizes[diffID] ?? 0 }
            summary.sharedSize = shared
            summary.containers = imageUsers[record.id.description] ?? 0
            summaries.append(summary)
        }
        images = summaries
        var total: Int64 = 0
        for diffID in users.keys { total += layerSizes[diffID] ?? 0 }
        layersSize = total
        self.containers = containers.map { ContainerSummary($0, engine: engine, size: true, now: now) }
        var references: [String: Int] = [:]
        for container in containers {
            for name in Set(((try? engine.volumeAttachments(container)) ?? []).map(\.name)) { references[name, default: 0] += 1 }
        }
        volumes = try engine.volumes().map { volume in
            var inspect = VolumeInspect(volume)
            inspect.usageData = .init(size: engine.volumeSize(volume.name), refCount: references[volume.name] ?? 0)
            return inspect
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encodeMembers([
            (AnyKey("LayersSize"), layersSize), (AnyKey("Images"), images), (AnyKey("Containers"), containers),
            (AnyKey("Volumes"), volumes), (AnyKey("BuildCache"), buildCache),
        ])
    }

    /// The `system df` summary, a line per kind, as the docker CLI computes it from this object
    /// (sizes with go-units' HumanSize: four significant digits).
    public var rows: [DiskUsageRow] {
        func humanSize(_ bytes: Int64) -> String { DockerModel.humanSize(bytes, significantDigits: 4) }
        func reclaimable(_ bytes: Int64, of total: Int64) -> String {
            total > 0 ? "\(humanSize(bytes)) (\(bytes * 100 / total)%)" : humanSize(bytes)
        }
        let usedImages = images.filter { $0.containers > 0 }
        let imagesInUse = usedImages.reduce(Int64(0)) { $0 + ($1.size == -1 || $1.sharedSize == -1 ? 0 : $1.size - $1.sharedSize) }
        let activeStates = Set([ContainerState.Status.running, .paused, .restarting].map(\.rawValue))
        let active = containers.filter { activeStates.contains($0.state) }
        let containersSize = containers.reduce(Int64(0)) { $0 + ($1.sizeRw ?? 0) }
        let activeSize = active.reduce(Int64(0)) { $0 + ($1.sizeRw ?? 0) }
        let usages = volumes.compactMap(\.usageData)
        let volumesSize = usages.reduce(Int64(0)) { $0 + max($1.size, 0) }
        let unusedVolumes = usages.filter { $0.refCount == 0 }.reduce(Int64(0)) { $0 + max($1.size, 0) }
        let cacheSize = buildCache.filter { !$0.shared }.reduce(Int64(0)) { $0 + $1.size }
        let cacheFree = buildCache.filter { !$0.inUse }.reduce(Int64(0)) { $0 + $1.size }
        return [
            DiskUsageRow(type: "Images", totalCount: images.count, active: usedImages.count,
                         size: humanSize(layersSize), reclaimable: reclaimable(layersSize - imagesInUse, of: layersSize)),
            DiskUsageRow(type: "Containers", totalCount: containers.count, active: active.count,
                         size: humanSize(containersSize), reclaimable: reclaimable(containersSize - activeSize, of: containersSize)),
            DiskUsageRow(type: "Local Volumes", totalCount: volumes.count, active: usages.filter { $0.refCount > 0 }.count,
                         size: humanSize(volumesSize), reclaimable: reclaimable(unusedVolumes, of: volumesSize)),
            DiskUsageRow(type: "Build Cache", totalCount: buildCache.count, active: buildCache.filter(\.inUse).count,
                         size: humanSize(cacheSize), reclaimable: humanSize(cacheFree)),
        ]
    }
}

/// One line of `system df`: every value a string, keys sorted (as `{{json .}}` prints them).
public struct DiskUsageRow: Encodable, Sendable, Equatable {
    public var active: String
    public var reclaimable: String
    public var size: String
    public var totalCount: String
    public var type: String

    public init(type: String, totalCount: Int, active: Int, size: String, reclaimable: String) {
        self.active = String(active)
        self.reclaimable = reclaimable
        self.size = size
        self.totalCount = String(totalCount)
        self.type = type
    }

    enum CodingKeys: String, CodingKey {
        case active = "Active", reclaimable = "Reclaimable", size = "Size", totalCount = "TotalCount", type = "Type"
    }
}
