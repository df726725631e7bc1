import Engine
import Glibc
import ImageStore
import OCI
import Supervisor

/// One line of `ps`, with the fields the docker CLI's container context offers (all strings, as
/// `ps --format '{{json .}}'` prints them).
public struct ContainerRow: Encodable, Sendable {
    public var command: String
    public var createdAt: String
    public var id: String
    public var image: String
    public var labels: String
    public var localVolumes: String
    public var mounts: String
    public var names: String
    public var networks: String
    public var ports: String
    public var runningFor: String
    public var size: String
    public var state: String
    public var status: String

    enum CodingKeys: String, CodingKey {
        case command = "Command", createdAt = "CreatedAt", id = "ID", image = "Image", labels = "Labels"
        case localVolumes = "LocalVolumes", mounts = "Mounts", names = "Names", networks = "Networks", ports = "Ports"
        case runningFor = "RunningFor", size = "Size", state = "State", status = "Status"
    }

    /// `size`: measure the container's files (`ps -s`); otherwise Size is "0B".
    public init(_ container: Container, _ status: ContainerState, engine: Engine, noTrunc: Bool, size: Bool, now: Double) {
        let mounts = psMounts(container, engine: engine)
        var sizeText = "0B"
        if size {
            let sizes = engine.sizes(container)
            sizeText = "\(humanSize(sizes.writable)) (virtual \(humanSize(sizes.rootFS)))"
        }
        let created = Timestamp.parse(container.created) ?? 0
        var command = listedCommand(container)
        if !noTrunc && command.count > 20 { command = String(command.prefix(19)) + "…" }
        self.command = goQuote(command)
        createdAt = goTime(created)
        id = noTrunc ? container.id : container.shortID
        image = container.image
        labels = (container.config.labels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        localVolumes = String(mounts.filter { $0.isVolume }.count)
        self.mounts = mounts.map { noTrunc ? $0.name : truncated($0.name, 15) }.joined(separator: ",")
        names = container.name
        networks = networkName(container.options.network)
        ports = status.isRunning ? displayablePorts(container, engine: engine) : ""
        runningFor = humanDuration(now - created) + " ago"
        self.size = sizeText
        state = status.status.rawValue
        self.status = statusText(status, now: now)
    }
}

/// The MOUNTS column's names: a volume's name, a bind mount's host path (Docker's order: as given).
public func psMounts(_ container: Container, engine: Engine) -> [(name: String, isVolume: Bool)] {
    MountPoint.list(container, engine: engine).compactMap { mount in
        let name = (mount.name ?? "").isEmpty ? mount.source : mount.name ?? ""
        return name.isEmpty ? nil : (name, mount.type == "volume")
    }
}

/// Docker's truncation with an ellipsis: at most `length` characters, the last one "…".
public func truncated(_ text: String, _ length: Int) -> String {
    text.count <= length ? text : String(text.prefix(length - 1)) + "…"
}

/// A container's ports as `GET /containers/json` lists them: each published mapping (address
/// 0.0.0.0 when bound to all), then each exposed port that is not published (no address, public
/// port 0); sorted by container port, address, host port, protocol.
public func portList(_ container: Container, engine: Engine) -> [ContainerSummary.Port] {
    typealias Port = ContainerSummary.Port
    var ports: [Port] = []
    var published = Set<String>()
    for mapping in engine.attachments(container).flatMap(\.ports) {
        ports.append(Port(ip: mapping.hostIP.isEmpty ? "0.0.0.0" : mapping.hostIP, privatePort: mapping.containerPort,
                          publicPort: mapping.hostPort, type: mapping.proto))
        published.insert(mapping.containerKey)
    }
    for key in (container.config.exposedPorts ?? [:]).keys {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        let full = parts.count == 2 ? key : key + "/tcp"
        guard !published.contains(full), let number = parts.first.flatMap({ Int($0) }) else { continue }  // an image may expose "/"
        ports.append(Port(ip: "", privatePort: number, publicPort: 0, type: parts.count == 2 ? parts[1] : "tcp"))
    }
    ports.sort { a, b in
        if a.privatePort != b.privatePort { return a.privatePort < b.privatePort }
        if a.ip != b.ip { return a.ip < b.ip }
        if a.publicPort != b.publicPort { return a.publicPort < b.publicPort }
        return a.type < b.type
    }
    return ports
}

/// The PORTS column as Docker prints it: "0.0.0.0:8080->80/tcp" per published port, exposed but
/// unpublished ports as "80/tcp"; runs of consecutive ports with the same address and protocol (and
/// the same host and container numbers) folded into ranges ("8000-8002/tcp").
public func displayablePorts(_ container: Container, engine: Engine) -> String {
    let ports = portList(container, engine: engine)
    // Ranges are kept per (address, protocol) in the order first seen; a host port that differs
    // from the container's is printed on its own, after the ranges.
    var groups: [(key: String, ip: String, proto: String, first: Int, last: Int)] = []
    var closed: [String] = []
    var remapped: [String] = []
    func text(_ group: (key: String, ip: String, proto: String, first: Int, last: Int)) -> String {
        let range = group.first == group.last ? "\(group.first)" : "\(group.first)-\(group.last)"
        return (group.ip.isEmpty ? range : "\(group.ip):\(range)->\(range)") + "/" + group.proto
    }
    for port in ports {
        if !port.ip.isEmpty && port.publicPort != port.privatePort {
            remapped.append("\(port.ip):\(port.publicPort)->\(port.privatePort)/\(port.type)")
            continue
        }
        let key = port.ip + "/" + port.type
        if let index = groups.firstIndex(where: { $0.key == key }) {
            if port.privatePort == groups[index].last + 1 {
                groups[index].last = port.privatePort
            } else {
                closed.append(text(groups[index]))
                groups[index].first = port.privatePort
                groups[index].last = port.privatePort
            }
        } else {
            groups.append((key, port.ip, port.type, port.privatePort, port.privatePort))
        }
    }
    return (closed + groups.map(text) + remapped).joined(separator: ", ")
}

/// The wall clock, in seconds since the epoch.
public func wallClock() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Docker's STATUS column: "Up 3 seconds", "Exited (0) 2 minutes ago", "Created", "Restarting (1) …".
public func statusText(_ status: ContainerState, now: Double = wallClock()) -> String {
    let state = status.state
    switch status.status {
    case .running, .paused:
        let started = Timestamp.parse(state.startedAt) ?? now
        var text = "Up " + humanDuration(now - started)
        if status.status == .paused { text += " (Paused)" }
        if let health = state.health, status.status == .running {
            text += health.status == "starting" ? " (health: starting)" : " (\(health.status))"
        }
        return text
    case .restarting:
        let finished = Timestamp.parse(state.finishedAt) ?? now
        return "Restarting (\(state.exitCode)) \(humanDuration(now - finished)) ago"
    case .exited:
        guard let finished = Timestamp.parse(state.finishedAt), state.finishedAt != ContainerRunState.zeroTime else {
            return "Exited (\(state.exitCode))"
        }
        return "Exited (\(state.exitCode)) \(humanDuration(now - finished)) ago"
    default:
        return "Created"
    }
}

/// Go's %q for the COMMAND column.
public func goQuote(_ text: String) -> String { jsonQuoted(text) }

