import ArgumentParser
import ContainerRuntime
import Engine
import Glibc
import ImageStore
import LinuxSys
import OCI
import Supervisor
import TextTemplate

/// `ps` (and `container ls`): containers in Docker's table, newest first.
struct Ps: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers")

    @Flag(name: .shortAndLong, help: "Show all containers (default shows just running)")
    var all = false
    @Flag(name: .shortAndLong, help: "Only display container IDs")
    var quiet = false
    @Option(name: [.customShort("n"), .customLong("last")], help: "Show n last created containers (includes all states)")
    var last: Int = -1
    @Flag(name: .shortAndLong, help: "Show the latest created container (includes all states)")
    var latest = false
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output")
    var noTrunc = false
    @Flag(name: .shortAndLong, help: "Display total file sizes")
    var size = false
    @Option(name: .shortAndLong, help: "Filter output based on conditions provided")
    var filter: [String] = []
    @Option(help: "Format output using a Go template, or table / json")
    var format: String?

    static let headers = ["ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "RunningFor": "CREATED",
                          "Status": "STATUS", "Ports": "PORTS", "Names": "NAMES", "CreatedAt": "CREATED AT",
                          "State": "STATE", "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS",
                          "Size": "SIZE", "LocalVolumes": "LOCAL VOLUMES"]

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        var filters = try ContainerFilters(filter)
        try filters.resolve(engine)
        var listed: [(Container, ContainerState)] = []
        for container in try engine.all() {
            listed.append((container, engine.status(container)))
        }
        let limit = latest ? 1 : last
        let showAll = all || limit > 0 || !filters.isEmpty && filters.mentionsStatus
        listed = listed.filter { showAll || $0.1.isRunning || $0.1.status == "restarting" }
        listed = listed.filter { filters.accepts($0.0, $0.1, engine: engine) }
        if limit > 0 { listed = Array(listed.prefix(limit)) }
        if quiet {
            for (container, _) in listed { print(noTrunc ? container.id : container.shortID) }
            return
        }
        let defaultTable = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
            + (size ? "\t{{.Size}}" : "")
        let formatter = ListFormatter(format: OutputFormat(format ?? "table"), defaultTable: defaultTable, headers: Self.headers)
        print(try formatter.render(listed.map { row($0.0, $0.1, engine: engine) }), terminator: "")
    }

    func row(_ container: Container, _ status: ContainerState, engine: Engine) -> TemplateValue {
        let mounts = psMounts(container, engine: engine)
        var sizeText = "0B"
        if size {
            let sizes = engine.sizes(container)
            sizeText = "\(humanSize(sizes.writable)) (virtual \(humanSize(sizes.rootFS)))"
        }
        let created = Timestamp.parse(container.created) ?? 0
        var command = ((container.config.entrypoint ?? []) + (container.config.cmd ?? [])).joined(separator: " ")
        if !noTrunc && command.count > 20 { command = String(command.prefix(19)) + "…" }
        let labels = (container.config.labels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return .object([
            ("Command", .string(goQuote(command))),
            ("CreatedAt", .string(goTime(created))),
            ("ID", .string(noTrunc ? container.id : container.shortID)),
            ("Image", .string(container.image)),
            ("Labels", .string(labels)),
            ("LocalVolumes", .string(String(mounts.filter { $0.isVolume }.count))),
            ("Mounts", .string(mounts.map { noTrunc ? $0.name : truncated($0.name, 15) }.joined(separator: ","))),
            ("Names", .string(container.name)),
            ("Networks", .string(networkName(container.options.network))),
            ("Ports", .string(status.isRunning ? displayablePorts(container, engine: engine) : "")),
            ("RunningFor", .string(humanDuration(now() - created) + " ago")),
            ("Size", .string(sizeText)),
            ("State", .string(status.status)),
            ("Status", .string(statusText(status))),
        ])
    }
}

/// The MOUNTS column's names: a volume's name, a bind mount's host path (Docker's order: as given).
func psMounts(_ container: Container, engine: Engine) -> [(name: String, isVolume: Bool)] {
    guard case .array(let mounts) = containerMountsValue(container, engine: engine) else { return [] }
    return mounts.compactMap { mount in
        guard case .object(let fields) = mount else { return nil }
        func field(_ key: String) -> String {
            if case .string(let text)? = fields.first(where: { $0.key == key })?.value { return text }
            return ""
        }
        let name = field("Name").isEmpty ? field("Source") : field("Name")
        return name.isEmpty ? nil : (name, field("Type") == "volume")
    }
}

/// Docker's truncation with an ellipsis: at most `length` characters, the last one "…".
func truncated(_ text: String, _ length: Int) -> String {
    text.count <= length ? text : String(text.prefix(length - 1)) + "…"
}

/// The PORTS column as Docker prints it: "0.0.0.0:8080->80/tcp" per published port, exposed but
/// unpublished ports as "80/tcp"; runs of consecutive ports with the same address and protocol (and
/// the same host and container numbers) folded into ranges ("8000-8002/tcp").
func displayablePorts(_ container: Container, engine: Engine) -> String {
    struct Port { var ip: String; var privatePort: Int; var publicPort: Int; var proto: String }
    var ports: [Port] = []
    var published = Set<String>()
    for mapping in engine.attachments(container).flatMap(\.ports) {
        ports.append(Port(ip: mapping.hostIP.isEmpty ? "0.0.0.0" : mapping.hostIP, privatePort: mapping.containerPort,
                          publicPort: mapping.hostPort, proto: mapping.proto))
        published.insert(mapping.containerKey)
    }
    for key in (container.config.exposedPorts ?? [:]).keys {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        let full = parts.count == 2 ? key : key + "/tcp"
        guard !published.contains(full), let number = parts.first.flatMap({ Int($0) }) else { continue }  // an image may expose "/"
        ports.append(Port(ip: "", privatePort: number, publicPort: 0, proto: parts.count == 2 ? parts[1] : "tcp"))
    }
    ports.sort { a, b in
        if a.privatePort != b.privatePort { return a.privatePort < b.privatePort }
        if a.ip != b.ip { return a.ip < b.ip }
        if a.publicPort != b.publicPort { return a.publicPort < b.publicPort }
        return a.proto < b.proto
    }
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
            remapped.append("\(port.ip):\(port.publicPort)->\(port.privatePort)/\(port.proto)")
            continue
        }
        let key = port.ip + "/" + port.proto
        if let index = groups.firstIndex(where: { $0.key == key }) {
            if port.privatePort == groups[index].last + 1 {
                groups[index].last = port.privatePort
            } else {
                closed.append(text(groups[index]))
                groups[index].first = port.privatePort
                groups[index].last = port.privatePort
            }
        } else {
            groups.append((key, port.ip, port.proto, port.privatePort, port.privatePort))
        }
    }
    return (closed + groups.map(text) + remapped).joined(separator: ", ")
}

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Docker's STATUS column: "Up 3 seconds", "Exited (0) 2 minutes ago", "Created", "Restarting (1) …".
func statusText(_ status: ContainerState) -> String {
    let state = status.state
    switch status.status {
    case "running", "paused":
        let started = Timestamp.parse(state.startedAt) ?? now()
        var text = "Up " + humanDuration(now() - started)
        if status.status == "paused" { text += " (Paused)" }
        if let health = state.health, status.status == "running" {
            text += health.status == "starting" ? " (health: starting)" : " (\(health.status))"
        }
        return text
    case "restarting":
        let finished = Timestamp.parse(state.finishedAt) ?? now()
        return "Restarting (\(state.exitCode)) \(humanDuration(now() - finished)) ago"
    case "exited":
        guard let finished = Timestamp.parse(state.finishedAt), state.finishedAt != ContainerRunState.zeroTime else {
            return "Exited (\(state.exitCode))"
        }
        return "Exited (\(state.exitCode)) \(humanDuration(now() - finished)) ago"
    default:
        return "Created"
    }
}

func networkName(_ mode: NetworkMode) -> String {
    switch mode {
    case .default: "bridge"
    case .none: "none"
    case .host: "host"
    case .named(let name): name
    case .container(let name): "container:\(name)"
    }
}

/// Go's %q for the COMMAND column.
func goQuote(_ text: String) -> String { jsonQuoted(text) }

/// `ps --filter` (and `container prune --filter`): Docker's keys. Values of one key are
/// alternatives; different keys must all match.
struct ContainerFilters {
    var ids: [String] = []
    var names: [String] = []
    var labels: [(String, String?)] = []
    var notLabels: [(String, String?)] = []
    var statuses: [String] = []
    var exited: [Int32] = []
    var ancestors: [String] = []
    var health: [String] = []
    /// `before=`/`since=` name or ID of a container; made creation times by `resolve`.
    var before: [String] = []
    var since: [String] = []
    var beforeTimes: [Double] = []
    var sinceTimes: [Double] = []
    /// `until=` (prune only): created before this time.
    var until: [Double] = []
    var volumes: [String] = []
    var networks: [String] = []
    var publish: [PortFilter] = []
    var expose: [PortFilter] = []

    /// `publish=`/`expose=`: a container port or range, with or without its protocol.
    struct PortFilter {
        var ports: ClosedRange<Int>
        var proto: String?

        init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
            guard let first = parts.first else { return nil }
            let bounds = first.split(separator: "-", maxSplits: 1).compactMap { Int($0) }
            guard bounds.count == first.split(separator: "-", maxSplits: 1).count, let low = bounds.first else { return nil }
            let high = bounds.count == 2 ? bounds[1] : low
            guard low <= high else { return nil }
            ports = low...high
            proto = parts.count == 2 ? parts[1].lowercased() : nil
        }

        func matches(_ key: String) -> Bool {
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            guard let port = parts.first.flatMap({ Int($0) }) else { return false }
            return ports.contains(port) && (proto == nil || proto == (parts.count == 2 ? parts[1] : "tcp"))
        }
    }

    init(_ filters: [String], allowUntil: Bool = false) throws {
        for filter in filters {
            guard let equals = filter.firstIndex(of: "=") else { throw ValidationError("bad format of filter (expected name=value)") }
            var key = String(filter[..<equals]).lowercased()
            let value = String(filter[filter.index(after: equals)...])
            var negated = false
            if key.hasSuffix("!") {
                key.removeLast()
                negated = true
                guard key == "label" && allowUntil else { throw ValidationError("invalid filter '\(key)!'") }
            }
            switch key {
            case "id": ids.append(value)
            case "name": names.append(value)
            case "label":
                let parsed: (String, String?)
                if let eq = value.firstIndex(of: "=") {
                    parsed = (String(value[..<eq]), String(value[value.index(after: eq)...]))
                } else {
                    parsed = (value, nil)
                }
                if negated { notLabels.append(parsed) } else { labels.append(parsed) }
            case "status":
                let known = ["created", "restarting", "running", "removing", "paused", "exited", "dead"]
                guard known.contains(value) else {
                    throw ValidationError("invalid filter 'status=\(value)': Invalid filter 'status=\(value)'")
                }
                statuses.append(value)
            case "exited":
                guard let code = Int32(value) else { throw ValidationError("invalid filter 'exited=\(value)'") }
                exited.append(code)
            case "ancestor": ancestors.append(value)
            case "health":
                guard ["starting", "healthy", "unhealthy", "none"].contains(value) else {
                    throw ValidationError("Unrecognised filter value for health: \(value)")
                }
                health.append(value)
            case "before": before.append(value)
            case "since": since.append(value)
            case "until" where allowUntil:
                guard let time = try? LogTimestamp.parse(userInput: value, now: LogTimestamp.now()) else {
                    throw ValidationError("invalid filter 'until=\(value)'")
                }
                until.append(Double(time.seconds) + Double(time.nanoseconds) / 1e9)
            case "volume": volumes.append(value)
            case "network": networks.append(value)
            case "publish", "expose":
                guard let port = PortFilter(value) else { throw ValidationError("invalid filter '\(key)=\(value)'") }
                if key == "publish" { publish.append(port) } else { expose.append(port) }
            default: throw ValidationError("invalid filter '\(key)'")
            }
        }
    }

    /// `before=`/`since=` name the containers whose creation bounds the list (Docker: an unknown
    /// one is an error).
    mutating func resolve(_ engine: Engine) throws {
        func created(_ name: String) throws -> Double {
            guard let container = try? engine.container(name) else {
                throw ValidationError("No such container: \(name)")
            }
            return Timestamp.parse(container.created) ?? 0
        }
        beforeTimes = try before.map(created)
        sinceTimes = try since.map(created)
    }

    var isEmpty: Bool {
        ids.isEmpty && names.isEmpty && labels.isEmpty && notLabels.isEmpty && statuses.isEmpty && exited.isEmpty
            && ancestors.isEmpty && health.isEmpty && before.isEmpty && since.isEmpty && until.isEmpty
            && volumes.isEmpty && networks.isEmpty && publish.isEmpty && expose.isEmpty
    }
    var mentionsStatus: Bool { !statuses.isEmpty || !exited.isEmpty }

    func accepts(_ container: Container, _ status: ContainerState, engine: Engine) -> Bool {
        if !ids.isEmpty && !ids.contains(where: { container.id.hasPrefix($0) }) { return false }
        if !names.isEmpty && !names.contains(where: { container.name.contains($0) }) { return false }
        let containerLabels = container.config.labels ?? [:]
        for (key, value) in labels {
            guard let actual = containerLabels[key] else { return false }
            if let value, actual != value { return false }
        }
        for (key, value) in notLabels {
            if let actual = containerLabels[key], value == nil || actual == value { return false }
        }
        if !statuses.isEmpty && !statuses.contains(status.status) { return false }
        if !exited.isEmpty && !(status.status == "exited" && exited.contains(status.state.exitCode)) { return false }
        if !ancestors.isEmpty && !ancestors.contains(where: { $0 == container.image || container.imageID.contains($0) }) { return false }
        if !health.isEmpty && !health.contains(status.state.health?.status ?? "none") { return false }
        let created = Timestamp.parse(container.created) ?? 0
        if beforeTimes.contains(where: { created >= $0 }) { return false }
        if sinceTimes.contains(where: { created <= $0 }) { return false }
        if until.contains(where: { created >= $0 }) { return false }
        if !volumes.isEmpty {
            // A volume's name, a bind's host path, or where either is mounted in the container.
            let attached = (try? engine.volumeAttachments(container)) ?? []
            let mounts = container.options.mounts
            let names = Set(attached.map(\.name) + attached.map(\.destination) + mounts.compactMap(\.source) + mounts.map { FS.clean($0.target) })
            if !volumes.contains(where: { names.contains($0) }) { return false }
        }
        if !networks.isEmpty {
            var known = [networkName(container.options.network)]
            for (network, _) in engine.networkEndpoints(container) { known += [network.name, network.id] }
            if !networks.contains(where: { wanted in known.contains { $0 == wanted || wanted.count >= 12 && $0.hasPrefix(wanted) } }) { return false }
        }
        if !publish.isEmpty {
            let keys = container.options.net.publish.map(\.containerKey)
                + (container.options.net.publishAll ? Array((container.config.exposedPorts ?? [:]).keys) : [])
            if !publish.contains(where: { filter in keys.contains { filter.matches($0) } }) { return false }
        }
        if !expose.isEmpty {
            let keys = Array((container.config.exposedPorts ?? [:]).keys)
            if !expose.contains(where: { filter in keys.contains { filter.matches($0) } }) { return false }
        }
        return true
    }
}

/// Runs `body` for each named container and prints what it returns (nil: the name as given), or
/// the error; exits 1 if any failed. With `ignoringMissing`, names of no container are skipped.
func eachContainer(_ names: [String], ignoringMissing: Bool = false, _ body: (Engine, Container) throws -> String?) throws {
    let engine = try GlobalOptions.engine()
    var failed = false
    for name in names {
        do {
            print(try body(engine, try engine.container(name)) ?? name)
            fflush(nil)
        } catch let error as EngineError where error.kind == .notFound && ignoringMissing {
            continue
        } catch {
            printError(describe(error))
            failed = true
        }
    }
    if failed { throw ExitCode(1) }
}

struct Stop: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop one or more running containers")

    // Unconditional: Docker's `-t -1` (wait forever) is a value, not an option.
    @Option(name: [.customShort("t"), .customLong("time"), .customLong("timeout")], parsing: .unconditional,
            help: "Seconds to wait before killing the container")
    var time: Int?
    @Option(name: .shortAndLong, help: "Signal to send to the container")
    var signal: String?
    @Argument(help: "CONTAINER")
    var containers: [String]

    func execute() async throws {
        try eachContainer(containers) { engine, container in
            var container = container
            if let signal {
                guard Signals.parse(signal) != nil else { throw ValidationError("invalid signal: \(signal)") }
                container.config.stopSignal = signal
            }
            try engine.stop(container, timeout: time)
            return nil
        }
    }
}

struct Kill: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Kill one or more running containers")

    @Option(name: .shortAndLong, help: "Signal to send to the container")
    var signal = "KILL"
    @Argument(help: "CONTAINER")
    var containers: [String]

    func execute() async throws {
        guard let number = Signals.parse(signal) else { throw ValidationError("invalid signal: \(signal)") }
        try eachContainer(containers) { engine, container in
            try engine.kill(container, signal: number)
            return nil
        }
    }
}

struct Restart: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart one or more containers")

    // Unconditional: Docker's `-t -1` (wait forever) is a value, not an option.
    @Option(name: [.customShort("t"), .customLong("time"), .customLong("timeout")], parsing: .unconditional,
            help: "Seconds to wait before killing the container")
    var time: Int?
    @Argument(help: "CONTAINER")
    var containers: [String]

    func execute() async throws {
        try eachContainer(containers) { engine, container in
            try engine.stop(container, timeout: time)
            do { _ = try engine.start(container) } catch let error as Engine.StartError { throw error.error }
            engine.recordEvent(container, "restart")
            return nil
        }
    }
}

struct Rm: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more containers")

    @Flag(name: .shortAndLong, help: "Force the removal of a running container (uses SIGKILL)")
    var force = false
    @Flag(name: .shortAndLong, help: "Remove anonymous volumes associated with the container")
    var volumes = false
    @Argument(help: "CONTAINER")
    var containers: [String]

    func execute() async throws {
        // Docker: rm -f of a missing container is not an error.
        try eachContainer(containers, ignoringMissing: force) { engine, container in
            try engine.remove(container, force: force, volumes: volumes)
            return nil
        }
    }
}

struct Wait: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "wait", abstract: "Block until one or more containers stop, then print their exit codes")

    @Argument(help: "CONTAINER")
    var containers: [String]

    func execute() async throws {
        try eachContainer(containers) { engine, container in "\(try engine.wait(container))" }
    }
}

struct Rename: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a container")

    @Argument(help: "CONTAINER")
    var container: String
    @Argument(help: "NEW_NAME")
    var newName: String

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        do {
            try engine.rename(try engine.container(container), to: newName)
        } catch {
            printError(describe(error))
            throw ExitCode(1)
        }
    }
}

/// `container prune`: removes every container that is not running.
struct ContainerPrune: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove all stopped containers")

    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation")
    var force = false
    @Option(help: "Provide filter values (e.g. 'label=<key>=<value>')")
    var filter: [String] = []

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        var filters = try ContainerFilters(filter, allowUntil: true)
        try filters.resolve(engine)
        if !force {
            print("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ", terminator: "")
            fflush(nil)
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { return }
        }
        var removed: [String] = []
        for container in try engine.all() {
            let status = engine.status(container)
            guard status.status == "exited" || status.status == "created" && !status.state.supervisorAlive,
                  filters.accepts(container, status, engine: engine) else { continue }
            do {
                try engine.remove(container, force: false)
                removed.append(container.id)
            } catch {
                printError(describe(error))
            }
        }
        if !removed.isEmpty { print("Deleted Containers:\n" + removed.joined(separator: "\n")) }
        print("Total reclaimed space: 0B")
    }
}

/// `container …`: the same verbs under Docker's management command.
struct ContainerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "container", abstract: "Manage containers",
        subcommands: [ContainerLs.self, ContainerInspect.self, Create.self, Run.self, Start.self, Stop.self, Kill.self,
                      Restart.self, Rm.self, Wait.self, Rename.self, Logs.self, ContainerPrune.self,
                      Exec.self, Attach.self, Top.self, Pause.self, Unpause.self, Update.self, Stats.self, Cp.self])
}

struct ContainerLs: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List containers", aliases: ["ps", "list"])
    @OptionGroup var ps: Ps
    func execute() async throws { try await ps.execute() }
}
