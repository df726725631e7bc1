/// One line of `DELETE /images/{name}` and of `POST /images/prune`'s `ImagesDeleted`:
/// `{"Untagged":"busybox:latest"}` or `{"Deleted":"sha256:…"}`.
public enum ImageDeleteItem: Encodable, Sendable, Equatable {
    case untagged(String)
    case deleted(String)

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        switch self {
        case .untagged(let name): try c.encode(name, forKey: AnyKey("Untagged"))
        case .deleted(let id): try c.encode(id, forKey: AnyKey("Deleted"))
        }
    }
}

/// `POST /images/prune`'s answer; `ImagesDeleted` is null when nothing went (Go's nil slice).
public struct ImagePruneReport: Encodable, Sendable {
    public var deleted: [ImageDeleteItem]
    public var spaceReclaimed: Int64

    public init(deleted: [ImageDeleteItem], spaceReclaimed: Int64) {
        self.deleted = deleted
        self.spaceReclaimed = spaceReclaimed
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        if deleted.isEmpty { try c.encodeNil(forKey: AnyKey("ImagesDeleted")) } else { try c.encode(deleted, forKey: AnyKey("ImagesDeleted")) }
        try c.encode(spaceReclaimed, forKey: AnyKey("SpaceReclaimed"))
    }
}
