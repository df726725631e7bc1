import Glibc
import Supervisor
import ImageStore
import OCI

/// `images --filter` and the REPOSITORY[:TAG] argument, as Docker matches them; with
/// `forPrune`, `image prune`'s filters (dangling, until, label, label!).
public struct ImageFilters: Sendable {
    public var dangling: Bool?
    public var references: [String] = []
    public var labels: [(String, String?)] = []
    /// `label!=KEY[=VALUE]` (prune): images without that label.
    public var notLabels: [(String, String?)] = []
    /// `before=`/`since=` name images whose creation bounds the list; made times by `resolve`.
    public var before: [String] = []
    public var since: [String] = []
    public var beforeTimes: [Double] = []
    public var sinceTimes: [Double] = []
    /// `until=`: created before this time (seconds since the epoch).
    public var until: [Double] = []

    public init(_ filters: [String], repository: String? = nil, forPrune: Bool = false) throws(FilterError) {
        let now = LogTimestamp.now()
        for filter in filters {
            let (rawKey, value) = try FilterError.split(filter, message: "bad format of filter (expected name=value): \(filter)")
            let key = rawKey.lowercased()
            switch key {
            case "dangling":
                guard value == "true" || value == "false" || value == "1" || value == "0" else {
                    throw FilterError(.invalid, "invalid filter 'dangling=\(value)': expected true or false")
                }
                dangling = value == "true" || value == "1"
            case "reference" where !forPrune: references.append(value)
            case "label": labels.append(FilterError.label(value))
            case "label!" where forPrune: notLabels.append(FilterError.label(value))
            case "before" where !forPrune: before.append(value)
            case "since" where !forPrune: since.append(value)
            case "until":
                guard let time = try? LogTimestamp.parse(userInput: value, now: now) else {
                    throw FilterError(.invalid, "invalid filter 'until=\(value)'")
                }
                until.append(Double(time.seconds) + Double(time.nanoseconds) / 1e9)
            default:
                throw FilterError(.invalid, forPrune ? "invalid filter '\(key)'"
                                      : "invalid filter '\(key)' (images takes dangling, reference, label, before, since and until)")
            }
        }
        if let repository { references.append(repository) }
    }

    /// Whether a filter reads the image config's labels (the caller loads them only then).
    public var needsLabels: Bool { !labels.isEmpty || !notLabels.isEmpty }

    /// `before=`/`since=`: the named images' creation times (an unknown image is an error, as in Docker).
    public mutating func resolve(_ store: ImageStore) throws(FilterError) {
        func time(_ name: String) throws(FilterError) -> Double {
            guard let record = try? store.resolve(name) else { throw FilterError(.invalid, "No such image: \(name)") }
            return imageCreated(record)
        }
        beforeTimes = []
        for name in before { beforeTimes.append(try time(name)) }
        sinceTimes = []
        for name in since { sinceTimes.append(try time(name)) }
    }

    /// `labels` are the image config's (read only when `needsLabels`).
    public func accepts(_ row: ImageRow, labels imageLabels: [String: String]) -> Bool {
        if let dangling, dangling != row.record.tags.isEmpty { return false }
        for pattern in references where !matches(pattern, row) { return false }
        return accepts(row.record, labels: imageLabels)
    }

    /// The filters that concern the image, not one of its names: labels and creation time.
    public func accepts(_ record: ImageRecord, labels imageLabels: [String: String]) -> Bool {
        for (key, value) in labels {
            guard let actual = imageLabels[key] else { return false }
            if let value, actual != value { return false }
        }
        for (key, value) in notLabels {
            if let actual = imageLabels[key], value == nil || actual == value { return false }
        }
        let created = imageCreated(record)
        if beforeTimes.contains(where: { created >= $0 }) { return false }
        if sinceTimes.contains(where: { created <= $0 }) { return false }
        if until.contains(where: { created >= $0 }) { return false }
        return true
    }

    /// A reference pattern against a name: without a tag it matches the repository; with one,
    /// repository and tag.
    public func matches(_ pattern: String, _ row: ImageRow) -> Bool {
        let withTag = "\(row.repository):\(row.tag)"
        let full = (try? ImageReference(parsing: "\(row.repository):\(row.tag)"))
        let candidates = [row.repository, withTag, full?.name ?? "", full?.description ?? ""]
        return candidates.contains(where: { fnmatch(pattern, $0, FNM_PATHNAME) == 0 })
    }
}
