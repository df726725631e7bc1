import ImageStore
import OCI

/// Docker's `GET /images/json` item (API 1.50, without the manifest list): members in Docker's
/// order (alphabetical, as its generated type has them). RepoTags and RepoDigests are never null; Labels is the config's (null when it has none,
/// as Docker passes the image config's map through). VirtualSize went away in API 1.44.
/// SharedSize and Containers are -1 unless `system df` counted them.
public struct ImageSummary: Encodable, Sendable {
    public var id: String
    public var parentID = ""
    public var repoTags: [String]
    public var repoDigests: [String]
    /// Seconds since the epoch.
    public var created: Int64
    public var size: Int64
    public var sharedSize: Int64 = -1
    public var labels: [String: String]?
    public var containers: Int = -1

    public init(id: String, repoTags: [String], repoDigests: [String], created: Int64, size: Int64,
                sharedSize: Int64 = -1, labels: [String: String]?, containers: Int = -1) {
        self.id = id
        self.repoTags = repoTags
        self.repoDigests = repoDigests
        self.created = created
        self.size = size
        self.sharedSize = sharedSize
        self.labels = labels
        self.containers = containers
    }

    /// From the store's record and the image's config (for its labels), names as `image inspect` shows them.
    public init(_ record: ImageRecord, labels: [String: String]?) {
        self.init(id: record.id.description, repoTags: familiarNames(record.tags), repoDigests: familiarNames(record.repoDigests),
                  created: Int64(imageCreated(record)), size: record.size, labels: labels)
    }

    public init(_ image: ImageStore.Image) {
        self.init(image.record, labels: image.config.config?.labels)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        // Docker's Summary is generated from its swagger file: members in alphabetical order.
        try c.encodeMembers([
            (AnyKey("Containers"), containers), (AnyKey("Created"), created), (AnyKey("Id"), id),
            (AnyKey("Labels"), labels.map(SortedMap.init)), (AnyKey("ParentId"), parentID), (AnyKey("RepoDigests"), repoDigests),
            (AnyKey("RepoTags"), repoTags), (AnyKey("SharedSize"), sharedSize), (AnyKey("Size"), size),
        ])
    }
}

/// References as Docker shows them (`busybox:latest`, `busybox@sha256:…`); unparsable ones left out.
public func familiarNames(_ references: [String]) -> [String] {
    references.compactMap { try? ImageReference(parsing: $0).familiar }
}

/// When an image was made (its config's `created`), or when it came into the store when the config has no time.
public func imageCreated(_ record: ImageRecord) -> Double {
    record.created.flatMap(Timestamp.parse) ?? record.addedAt
}
