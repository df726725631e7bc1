import ImageStore
import OCI

/// One line of `images`: an image under one of its names, with the fields Docker's `--format` offers.
public struct ImageRow: Sendable, Encodable {
    public var repository: String
    public var tag: String
    public var digest: String
    public var id: String
    public var record: ImageRecord
    /// The time CreatedSince counts from (seconds since the epoch).
    public var now: Double
    /// What `system df -v` counted: the bytes of layers other images share, and the containers using it
    /// ("N/A" when nil, as `images` shows them).
    public var sharedSize: Int64?
    public var containers: Int?

    public init(repository: String, tag: String, digest: String, id: String, record: ImageRecord, now: Double) {
        self.repository = repository
        self.tag = tag
        self.digest = digest
        self.id = id
        self.record = record
        self.now = now
    }

    /// The rows of one image: one per tag, one per digest of an untagged repository, or `<none>`.
    public static func rows(for record: ImageRecord, noTrunc: Bool, now: Double) -> [ImageRow] {
        let id = noTrunc ? record.id.description : record.id.shortID
        var rows: [ImageRow] = []
        var repositoriesWithTags = Set<String>()
        let digestsByRepository = Dictionary(grouping: record.repoDigests) { String($0.split(separator: "@")[0]) }
        for tag in record.tags {
            guard let reference = try? ImageReference(parsing: tag) else { continue }
            repositoriesWithTags.insert(reference.name)
            let digest = digestsByRepository[reference.name]?.first.map { String($0.split(separator: "@")[1]) } ?? "<none>"
            rows.append(ImageRow(repository: reference.familiarName, tag: reference.tag ?? "<none>", digest: digest, id: id, record: record, now: now))
        }
        for (name, digests) in digestsByRepository.sorted(by: { $0.key < $1.key }) where !repositoriesWithTags.contains(name) {
            guard let reference = try? ImageReference(parsing: digests[0]) else { continue }
            rows.append(ImageRow(repository: reference.familiarName, tag: "<none>", digest: reference.digest?.description ?? "<none>",
                                     id: id, record: record, now: now))
        }
        if rows.isEmpty {
            rows.append(ImageRow(repository: "<none>", tag: "<none>", digest: "<none>", id: id, record: record, now: now))
        }
        return rows
    }

    enum CodingKeys: String, CodingKey {
        case containers = "Containers", createdAt = "CreatedAt", createdSince = "CreatedSince", digest = "Digest", id = "ID"
        case repository = "Repository", sharedSize = "SharedSize", size = "Size", tag = "Tag", uniqueSize = "UniqueSize"
        case virtualSize = "VirtualSize"
    }

    /// The docker CLI's image context: every value a string, keys sorted (as `{{json .}}` prints them).
    public func encode(to encoder: any Encoder) throws {
        let created = imageCreated(record)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(containers.map(String.init) ?? "N/A", forKey: .containers)
        try container.encode(goTime(created), forKey: .createdAt)
        try container.encode(humanDuration(Double(Int(now)) - created) + " ago", forKey: .createdSince)
        try container.encode(digest, forKey: .digest)
        try container.encode(id, forKey: .id)
        try container.encode(repository, forKey: .repository)
        // SIZE has three significant digits, the others go-units' HumanSize's four, as the docker CLI prints them.
        try container.encode(sharedSize.map { humanSize($0, significantDigits: 4) } ?? "N/A", forKey: .sharedSize)
        try container.encode(humanSize(record.size), forKey: .size)
        try container.encode(tag, forKey: .tag)
        try container.encode(sharedSize.map { humanSize(record.size - $0, significantDigits: 4) } ?? "N/A", forKey: .uniqueSize)
        try container.encode(humanSize(record.size, significantDigits: 4), forKey: .virtualSize)
    }
}
