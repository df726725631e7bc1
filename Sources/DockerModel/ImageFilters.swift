import Glibc
import ImageStore
import OCI

/// `images --filter` and the REPOSITORY[:TAG] argument, as Docker matches them.
public struct ImageFilters: Sendable {
    public var dangling: Bool?
    public var references: [String] = []
    public var labels: [(String, String?)] = []

    public init(_ filters: [String], repository: String? = nil) throws(FilterError) {
        for filter in filters {
            let (rawKey, value) = try FilterError.split(filter, message: "bad format of filter (expected name=value): \(filter)")
            let key = rawKey.lowercased()
            switch key {
            case "dangling":
                guard value == "true" || value == "false" || value == "1" || value == "0" else {
                    throw FilterError(.invalid, "invalid filter 'dangling=\(value)': expected true or false")
                }
                dangling = value == "true" || value == "1"
            case "reference": references.append(value)
            case "label": labels.append(FilterError.label(value))
            default: throw FilterError(.invalid, "invalid filter '\(key)' (images takes dangling, reference and label)")
            }
        }
        if let repository { references.append(repository) }
    }

    /// `labels` are the image config's (read only when `self.labels` is not empty).
    public func accepts(_ row: ImageRow, labels imageLabels: [String: String]) -> Bool {
        if let dangling, dangling != row.record.tags.isEmpty { return false }
        for pattern in references {
            let withTag = "\(row.repository):\(row.tag)"
            let full = (try? ImageReference(parsing: "\(row.repository):\(row.tag)"))
            let candidates = [row.repository, withTag, full?.name ?? "", full?.description ?? ""]
            // A pattern without a tag matches the repository; with one, repository and tag.
            if !candidates.contains(where: { fnmatch(pattern, $0, FNM_PATHNAME) == 0 }) { return false }
        }
        for (key, value) in labels {
            guard let actual = imageLabels[key] else { return false }
            if let value, actual != value { return false }
        }
        return true
    }
}
