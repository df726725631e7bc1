import Engine

/// Docker's `GET /volumes/{name}` (`volume inspect`): Labels and Options null when unset.
public struct VolumeInspect: Encodable, Sendable {
    public var createdAt: String
    public var driver: String
    public var labels: SortedMap<String>?
    public var mountpoint: String
    public var name: String
    public var options: SortedMap<String>?
    public var scope = "local"
    /// Only in `system df`: the volume's bytes and how many containers use it.
    public var usageData: UsageData?

    public struct UsageData: Encodable, Sendable, Equatable {
        public var size: Int64
        public var refCount: Int
        public init(size: Int64, refCount: Int) {
            self.size = size
            self.refCount = refCount
        }
        enum CodingKeys: String, CodingKey { case refCount = "RefCount", size = "Size" }
    }

    public init(name: String, driver: String, mountpoint: String, createdAt: String, labels: [String: String]?, options: [String: String]?) {
        self.createdAt = createdAt
        self.driver = driver
        self.labels = labels.map(SortedMap.init)
        self.mountpoint = mountpoint
        self.name = name
        self.options = options.map(SortedMap.init)
    }

    public init(_ volume: Volume) {
        self.init(name: volume.name, driver: volume.driver, mountpoint: volume.mountpoint, createdAt: volume.created,
                  labels: volume.reportedLabels, options: volume.options)
    }

    enum CodingKeys: String, CodingKey {
        case createdAt = "CreatedAt", driver = "Driver", labels = "Labels", mountpoint = "Mountpoint", name = "Name"
        case options = "Options", scope = "Scope", usageData = "UsageData"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(driver, forKey: .driver)
        try c.encode(labels, forKey: .labels)
        try c.encode(mountpoint, forKey: .mountpoint)
        try c.encode(name, forKey: .name)
        try c.encode(options, forKey: .options)
        try c.encode(scope, forKey: .scope)
        try c.encodeIfPresent(usageData, forKey: .usageData)
    }
}

/// One line of `volume ls`, with the fields the docker CLI's volume context offers (all strings).
public struct VolumeRow: Encodable, Sendable {
    public var availability = "N/A"
    public var driver: String
    public var group = "N/A"
    /// `k=v,k2=v2`, keys sorted.
    public var labels: String
    public var links = "N/A"
    public var mountpoint: String
    public var name: String
    public var scope = "local"
    public var size = "N/A"
    public var status = "N/A"

    public init(name: String, driver: String, mountpoint: String, labels: [String: String]?) {
        let labels = labels ?? [:]
        self.driver = driver
        self.labels = labels.keys.sorted().map { "\($0)=\(labels[$0] ?? "")" }.joined(separator: ",")
        self.mountpoint = mountpoint
        self.name = name
    }

    public init(_ volume: Volume) {
        self.init(name: volume.name, driver: volume.driver, mountpoint: volume.mountpoint, labels: volume.reportedLabels)
    }

    /// A `system df -v` line: LINKS and SIZE from the volume's usage.
    public init(_ volume: VolumeInspect) {
        self.init(name: volume.name, driver: volume.driver, mountpoint: volume.mountpoint, labels: volume.labels?.entries)
        if let usage = volume.usageData {
            links = String(usage.refCount)
            size = usage.size < 0 ? "N/A" : humanSize(usage.size, significantDigits: 4)
        }
    }

    enum CodingKeys: String, CodingKey {
        case availability = "Availability", driver = "Driver", group = "Group", labels = "Labels", links = "Links"
        case mountpoint = "Mountpoint", name = "Name", scope = "Scope", size = "Size", status = "Status"
    }
}
