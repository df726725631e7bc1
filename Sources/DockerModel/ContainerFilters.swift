import ContainerSpec
import Engine
import ImageStore
import LinuxSys
import Supervisor

/// `ps --filter` (and `container prune --filter`): Docker's keys. Values of one key are
/// alternatives; different keys must all match.
public struct ContainerFilters: Sendable {
    public var ids: [String] = []
    public var names: [String] = []
    public var labels: [(String, String?)] = []
    public var notLabels: [(String, String?)] = []
    public var statuses: [String] = []
    public var exited: [Int32] = []
    public var ancestors: [String] = []
    public var health: [String] = []
    /// `before=`/`since=` name or ID of a container; made creation times by `resolve`.
    public var before: [String] = []
    public var since: [String] = []
    public var beforeTimes: [Double] = []
    public var sinceTimes: [Double] = []
    /// `until=` (prune only): created before this time.
    public var until: [Double] = []
    public var volumes: [String] = []
    public var networks: [String] = []
    public var publish: [PortFilter] = []
    public var expose: [PortFilter] = []

    /// `publish=`/`expose=`: a container port or range, with or without its protocol.
    public struct PortFilter: Sendable, Equatable {
        public var ports: ClosedRange<Int>
        public var proto: String?

        public init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
            guard let first = parts.first else { return nil }
            let bounds = first.split(separator: "-", maxSplits: 1).compactMap { Int($0) }
            guard bounds.count == first.split(separator: "-", maxSplits: 1).count, let low = bounds.first else { return nil }
            let high = bounds.count == 2 ? bounds[1] : low
            guard low <= high else { return nil }
            ports = low...high
            proto = parts.count == 2 ? parts[1].lowercased() : nil
        }

        /// A port as "80/tcp"; a filter without a protocol means tcp (dockerd's nat.SplitProtoPort).
        public func matches(_ key: String) -> Bool {
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            guard let port = parts.first.flatMap({ Int($0) }) else { return false }
            return ports.contains(port) && (proto ?? "tcp") == (parts.count == 2 ? parts[1] : "tcp")
        }
    }

    /// What the filters look at in one container, read from the engine's records.
    public struct Candidate: Sendable {
        public var id: String
        public var name: String
        public var image: String
        public var imageID: String
        public var labels: [String: String]
        public var status: String
        public var exitCode: Int32
        public var health: String?
        public var created: Double
        /// Volume names, bind sources and mount destinations (read only when a `volume=` filter asks).
        public var mounts: Set<String> = []
        /// Network mode, and each network's name and ID (read only when a `network=` filter asks).
        public var networks: [String] = []
        /// The running container's ports as its `Ports` lists them, as "8080/tcp": `published` the
        /// host side (0 for a port exposed only), `exposed` the container side. dockerd matches
        /// publish=/expose= against these, so a container that does not run matches neither.
        public var published: [String] = []
        public var exposed: [String] = []

        public init(id: String, name: String, image: String, imageID: String, labels: [String: String] = [:],
                    status: String, exitCode: Int32 = 0, health: String? = nil, created: Double,
                    mounts: Set<String> = [], networks: [String] = [], published: [String] = [], exposed: [String] = []) {
            self.id = id
            self.name = name
            self.image = image
            self.imageID = imageID
            self.labels = labels
            self.status = status
            self.exitCode = exitCode
            self.health = health
            self.created = created
            self.mounts = mounts
            self.networks = networks
            self.published = published
            self.exposed = exposed
        }
    }

    public init(_ filters: [String], allowUntil: Bool = false, now: LogTimestamp = LogTimestamp.now()) throws(FilterError) {
        for filter in filters {
            let (rawKey, value) = try FilterError.split(filter)
            var key = rawKey.lowercased()
            var negated = false
            if key.hasSuffix("!") {
                key.removeLast()
                negated = true
                guard key == "label" && allowUntil else { throw FilterError(.invalid, "invalid filter '\(key)!'") }
            }
            switch key {
            case "id": ids.append(value)
            case "name": names.append(value)
            case "label":
                let parsed = FilterError.label(value)
                if negated { notLabels.append(parsed) } else { labels.append(parsed) }
            case "status":
                guard ContainerState.Status(rawValue: value) != nil else {
                    throw FilterError(.invalid, "invalid filter 'status=\(value)': Invalid filter 'status=\(value)'")
                }
                statuses.append(value)
            case "exited":
                guard let code = Int32(value) else { throw FilterError(.invalid, "invalid filter 'exited=\(value)'") }
                exited.append(code)
            case "ancestor": ancestors.append(value)
            case "health":
                guard ["starting", "healthy", "unhealthy", "none"].contains(value) else {
                    throw FilterError(.invalid, "Unrecognised filter value for health: \(value)")
                }
                health.append(value)
            case "before": before.append(value)
            case "since": since.append(value)
            case "until" where allowUntil:
                guard let time = try? LogTimestamp.parse(userInput: value, now: now) else {
                    throw FilterError(.invalid, "invalid filter 'until=\(value)'")
                }
                until.append(Double(time.seconds) + Double(time.nanoseconds) / 1e9)
            case "volume": volumes.append(value)
            case "network": networks.append(value)
            case "publish", "expose":
                if value.contains(":") { throw FilterError(.invalid, "filter for '\(key)' should not contain ':': \(value)") }
                guard let port = PortFilter(value) else { throw FilterError(.invalid, "invalid filter '\(key)=\(value)'") }
                if key == "publish" { publish.append(port) } else { expose.append(port) }
            default: throw FilterError(.invalid, "invalid filter '\(key)'")
            }
        }
    }

    /// `before=`/`since=` name the containers whose creation bounds the list (Docker: an unknown
    /// one is an error). `created` gives a container's creation time, nil when there is no such container.
    public mutating func resolve(_ created: (String) -> Double?) throws(FilterError) {
        func time(_ name: String) throws(FilterError) -> Double {
            guard let time = created(name) else { throw FilterError(.invalid, "No such container: \(name)") }
            return time
        }
        beforeTimes = []
        for name in before { beforeTimes.append(try time(name)) }
        sinceTimes = []
        for name in since { sinceTimes.append(try time(name)) }
    }

    public mutating func resolve(_ engine: Engine) throws(FilterError) {
        try resolve { name in (try? engine.container(name)).map { Timestamp.parse($0.created) ?? 0 } }
    }

    public var isEmpty: Bool {
        ids.isEmpty && names.isEmpty && labels.isEmpty && notLabels.isEmpty && statuses.isEmpty && exited.isEmpty
            && ancestors.isEmpty && health.isEmpty && before.isEmpty && since.isEmpty && until.isEmpty
            && volumes.isEmpty && networks.isEmpty && publish.isEmpty && expose.isEmpty
    }
    public var mentionsStatus: Bool { !statuses.isEmpty || !exited.isEmpty }

    public func accepts(_ container: Candidate) -> Bool {
        if !ids.isEmpty && !ids.contains(where: { container.id.hasPrefix($0) }) { return false }
        if !names.isEmpty && !names.contains(where: { Self.nameMatches($0, container.name) }) { return false }
        for (key, value) in labels {
            guard let actual = container.labels[key] else { return false }
            if let value, actual != value { return false }
        }
        for (key, value) in notLabels {
            if let actual = container.labels[key], value == nil || actual == value { return false }
        }
        if !statuses.isEmpty && !statuses.contains(container.status) { return false }
        if !exited.isEmpty && !(container.status == "exited" && exited.contains(container.exitCode)) { return false }
        if !ancestors.isEmpty && !ancestors.contains(where: { $0 == container.image || container.imageID.contains($0) }) { return false }
        if !health.isEmpty && !health.contains(container.health ?? "none") { return false }
        let created = container.created
        if beforeTimes.contains(where: { created >= $0 }) { return false }
        if sinceTimes.contains(where: { created <= $0 }) { return false }
        if until.contains(where: { created >= $0 }) { return false }
        if !volumes.isEmpty && !volumes.contains(where: { container.mounts.contains($0) }) { return false }
        if !networks.isEmpty {
            if !networks.contains(where: { wanted in container.networks.contains { $0 == wanted || wanted.count >= 12 && $0.hasPrefix(wanted) } }) { return false }
        }
        // dockerd keeps a container that matches either a publish= or an expose= filter.
        if !publish.isEmpty || !expose.isEmpty {
            let published = publish.contains { filter in container.published.contains { filter.matches($0) } }
            let exposed = expose.contains { filter in container.exposed.contains { filter.matches($0) } }
            if !published && !exposed { return false }
        }
        return true
    }

    /// Docker's name filter: a regular expression searched in the name, with or without its
    /// leading slash (`^web$` finds "web"); text that is no valid expression is a plain substring.
    static func nameMatches(_ pattern: String, _ name: String) -> Bool {
        guard let regex = try? Regex(pattern) else { return name.contains(pattern) }
        return name.contains(regex) || ("/" + name).contains(regex)
    }

    /// The candidate for a container, reading from the engine only what these filters look at.
    public func candidate(_ container: Container, _ status: ContainerState, engine: Engine) -> Candidate {
        var candidate = Candidate(
            id: container.id, name: container.name, image: container.image, imageID: container.imageID,
            labels: container.config.labels ?? [:], status: status.status.rawValue, exitCode: status.state.exitCode,
            health: status.state.health?.status, created: Timestamp.parse(container.created) ?? 0)
        if !volumes.isEmpty {
            // A volume's name, a bind's host path, or where either is mounted in the container.
            let attached = (try? engine.volumeAttachments(container)) ?? []
            let mounts = container.options.mounts
            var names = Set(attached.map(\.name))
            names.formUnion(attached.map(\.destination))
            names.formUnion(mounts.compactMap(\.source))
            names.formUnion(mounts.map { FS.clean($0.target) })
            candidate.mounts = names
        }
        if !networks.isEmpty {
            var known = [networkName(container.options.network)]
            for (network, _) in engine.networkEndpoints(container) { known += [network.name, network.id] }
            candidate.networks = known
        }
        if (!publish.isEmpty || !expose.isEmpty) && status.isRunning {
            let ports = portList(container, engine: engine)
            candidate.published = ports.map { "\($0.publicPort)/\($0.type)" }
            candidate.exposed = ports.map { "\($0.privatePort)/\($0.type)" }
        }
        return candidate
    }

    public func accepts(_ container: Container, _ status: ContainerState, engine: Engine) -> Bool {
        accepts(candidate(container, status, engine: engine))
    }
}

/// A network mode as `ps` and `inspect` name it.
public func networkName(_ mode: NetworkMode) -> String {
    switch mode {
    case .default: "bridge"
    case .none: "none"
    case .host: "host"
    case .named(let name): name
    case .container(let name): "container:\(name)"
    }
}
