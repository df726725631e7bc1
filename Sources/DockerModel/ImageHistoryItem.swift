import ImageStore
import OCI

/// One entry of `GET /images/{name}/history` (`Comment`, `Created`, `CreatedBy`, `Id`, `Size`,
/// `Tags`), newest first: the image's own ID and tags on the
/// top entry only (`<missing>` and null below, as dockerd has no IDs for the layers under a
/// pulled image), `Created` in Unix seconds, the layer's unpacked size (0 for config-only entries).
public struct ImageHistoryItem: Encodable, Sendable {
    public var id: String
    public var created: Int64
    public var createdBy: String
    public var tags: [String]?
    public var size: Int64
    public var comment: String

    enum CodingKeys: String, CodingKey {
        case id = "Id", created = "Created", createdBy = "CreatedBy", tags = "Tags", size = "Size", comment = "Comment"
    }

    public func encode(to encoder: any Encoder) throws {
        // Docker's type is generated from its swagger file: members in alphabetical order.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(comment, forKey: .comment)
        try c.encode(created, forKey: .created)
        try c.encode(createdBy, forKey: .createdBy)
        try c.encode(id, forKey: .id)
        try c.encode(size, forKey: .size)
        if let tags { try c.encode(tags, forKey: .tags) } else { try c.encodeNil(forKey: .tags) }
    }

    /// The image's history, newest first. `sizes`: the store's unpacked layer sizes.
    public static func items(_ image: ImageStore.Image, sizes: [Digest: Int64]) -> [ImageHistoryItem] {
        let diffIDs = image.config.rootfs.diffIDs
        var layer = 0
        var items: [ImageHistoryItem] = []
        // Sizes belong to the entries that made a layer, in order.
        for entry in image.config.history ?? [] {
            var size: Int64 = 0
            if entry.emptyLayer != true, layer < diffIDs.count {
                size = sizes[diffIDs[layer]] ?? 0
                layer += 1
            }
            items.append(ImageHistoryItem(id: "<missing>", created: Int64(entry.created.flatMap(Timestamp.parse) ?? 0),
                                          createdBy: entry.createdBy ?? "", tags: nil, size: size, comment: entry.comment ?? ""))
        }
        items.reverse()
        if items.isEmpty {
            items.append(ImageHistoryItem(id: "", created: Int64(imageCreated(image.record)), createdBy: "", tags: nil,
                                          size: image.record.size, comment: ""))
        }
        items[0].id = image.id.description
        let tags = familiarNames(image.record.tags)
        items[0].tags = tags.isEmpty ? nil : tags
        return items
    }
}
