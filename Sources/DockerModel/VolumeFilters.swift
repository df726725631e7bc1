import Engine

/// `volume ls --filter`: name (a regular expression, matched anywhere), label, dangling, driver;
/// `volume prune --filter`: label, label!, all.
public struct VolumeFilters: Sendable {
    public var names: [String] = []
    public var labels: [(String, String?)] = []
    public var notLabels: [(String, String?)] = []
    public var dangling: Bool?
    public var drivers: [String] = []
    /// `prune -a` (also `--filter all=true`): named volumes too.
    public var all = false

    public init(_ filters: [String], prune: Bool = false) throws(FilterError) {
        for filter in filters {
            let (rawKey, value) = try FilterError.split(filter)
            let key = rawKey.lowercased()
            switch key {
            case "name" where !prune: names.append(value)
            case "driver" where !prune: drivers.append(value)
            case "label": labels.append(FilterError.label(value))
            case "label!" where prune: notLabels.append(FilterError.label(value))
            case "dangling" where !prune, "all" where prune:
                guard let flag = ["true": true, "1": true, "false": false, "0": false][value.lowercased()] else {
                    throw FilterError(.invalid, "invalid filter '\(key)=\(value)'")
                }
                if key == "all" { all = flag } else { dangling = flag }
            default:
                throw FilterError(.invalid, "Invalid filter '\(key)'")
            }
        }
    }

    public func accepts(name: String, driver: String, labels reported: [String: String]?, inUse: Bool) -> Bool {
        if let dangling, dangling == inUse { return false }
        if !names.isEmpty, !names.contains(where: { pattern in
            (try? Regex(pattern)).map { name.contains($0) } ?? false
        }) { return false }
        if !drivers.isEmpty, !drivers.contains(driver) { return false }
        let labels = reported ?? [:]
        for (key, value) in self.labels {
            guard let actual = labels[key], value == nil || actual == value else { return false }
        }
        for (key, value) in notLabels {
            if let actual = labels[key], value == nil || actual == value { return false }
        }
        return true
    }

    public func accepts(_ volume: Volume, inUse: Bool) -> Bool {
        accepts(name: volume.name, driver: volume.driver, labels: volume.reportedLabels, inUse: inUse)
    }
}
