import ArgumentParser
import ContainerSpec
import DockerModel
import Engine
import Glibc
import LinuxSys
import ContainerNetwork
import TextTemplate

/// `network create/ls/inspect/rm/prune/connect/disconnect`, with Docker's flags, output and exit
/// statuses (1 when the engine refuses, as the docker CLI exits on a daemon error).
struct NetworkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network", abstract: "Manage networks",
        subcommands: [NetworkCreate.self, NetworkLs.self, NetworkInspectCommand.self, NetworkRm.self, NetworkPrune.self,
                      NetworkConnect.self, NetworkDisconnect.self])
}

private func daemonError(_ error: any Error) -> ExitCode {
    printError(daemonText(error))
    return ExitCode(1)
}

/// Docker's `host` and `none` networks, listed beside the bridges (they have no bridge of their own).
private let pseudoNetworks = PredefinedNetwork.all

struct NetworkCreate: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a network")

    @Option(name: .shortAndLong, help: "Driver to manage the Network (bridge)")
    var driver = "bridge"
    @Option(help: "Subnet in CIDR format that represents a network segment")
    var subnet: [String] = []
    @Option(help: "IPv4 Gateway for the master subnet")
    var gateway: [String] = []
    @Option(name: .customLong("ip-range"), help: "Allocate container ip from a sub-range")
    var ipRange: [String] = []
    @Flag(name: .customLong("internal"), help: "Restrict external access to the network")
    var isInternal = false
    @Flag(help: "Enable manual container attachment")
    var attachable = false
    @Option(help: "Set metadata on a network")
    var label: [String] = []
    @Argument(help: "NETWORK")
    var name: String

    func execute() async throws {
        var options = Engine.NetworkCreateOptions(name: name)
        options.driver = driver
        if subnet.count > 1 || gateway.count > 1 || ipRange.count > 1 {
            printError(daemonPrefix + "only one IPv4 subnet is supported for now")
            throw ExitCode(1)
        }
        if (!gateway.isEmpty || !ipRange.isEmpty) && subnet.isEmpty {
            printError(daemonPrefix + "every ip-range or gateway must have a corresponding subnet")
            throw ExitCode(1)
        }
        options.subnet = subnet.first
        options.gateway = gateway.first
        options.internal = isInternal
        options.ipRange = ipRange.first
        options.attachable = attachable
        for item in label {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            options.labels[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        let engine = try GlobalOptions.engine()
        do { print(try engine.createNetwork(options).id) } catch { throw daemonError(error) }
    }
}

struct NetworkLs: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List networks", aliases: ["list"])

    @Flag(name: .shortAndLong, help: "Only display network IDs")
    var quiet = false
    @Flag(help: "Do not truncate the output")
    var noTrunc = false
    @Option(name: .shortAndLong, help: "Provide filter values (e.g. 'driver=bridge', 'name=x', 'label=k')")
    var filter: [String] = []
    @Option(help: "Format output: table, table TEMPLATE, json, or a Go template")
    var format: String?

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        let networks: [BridgeNetwork]
        do { networks = try engine.networks() } catch { throw daemonError(error) }
        var rows: [(name: String, id: String, driver: String, labels: [String: String], created: String)] =
            networks.map { ($0.name, $0.id, "bridge", $0.labels, $0.created) }
        rows += pseudoNetworks.map { ($0.name, $0.id, $0.driver, [:], networks.first?.created ?? "") }
        rows.sort { $0.name < $1.name }
        let filters: NetworkFilters
        do { filters = try NetworkFilters(filter) } catch {
            printError(error.kind == .badFormat ? error.message : daemonPrefix + error.message)
            throw ExitCode(1)
        }
        rows = rows.filter { filters.accepts(name: $0.name, id: $0.id, driver: $0.driver, labels: $0.labels) }
        let id: (String) -> String = { noTrunc ? $0 : String($0.prefix(12)) }
        if quiet {
            for row in rows { print(id(row.id)) }
            return
        }
        let formatter = ListFormatter(format: OutputFormat(format ?? "table"), defaultTable: "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
                                      headers: ["ID": "NETWORK ID"])
        print(try formatter.render(rows.map { row in
            try templateValue(NetworkRow(name: row.name, id: id(row.id), driver: row.driver, labels: row.labels, created: row.created,
                                             internal: networks.first { $0.id == row.id }?.internal ?? false))
        }), terminator: "")
    }
}

struct NetworkInspectCommand: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more networks")

    @Option(name: .shortAndLong, help: "Format output using a Go template, or json")
    var format: String?
    @Argument(help: "NETWORK")
    var networks: [String]

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        try inspectEach(networks, format: format) { name in try templateValue(NetworkInspect(try engine.network(name), engine: engine)) }
    }
}

struct NetworkRm: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more networks", aliases: ["remove"])

    @Flag(name: .shortAndLong, help: "Do not error if the network does not exist")
    var force = false
    @Argument(help: "NETWORK")
    var networks: [String]

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        var failed = false
        for name in networks {
            do {
                if pseudoNetworks.contains(where: { $0.name == name }) {
                    throw EngineError.forbidden("\(name) is a pre-defined network and cannot be removed")
                }
                try engine.removeNetwork(try engine.network(name))
                print(name)
            } catch let error as EngineError where force && error.kind == .notFound {
                continue
            } catch {
                printError(daemonText(error))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

struct NetworkPrune: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove all unused networks")

    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation")
    var force = false

    func execute() async throws {
        if !force {
            print("WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ", terminator: "")
            fflush(nil)
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { return }
        }
        let engine = try GlobalOptions.engine()
        do {
            let removed = try engine.pruneNetworks()
            if !removed.isEmpty { print("Deleted Networks:\n" + removed.map { $0 + "\n" }.joined(), terminator: "") }
        } catch {
            throw daemonError(error)
        }
    }
}

struct NetworkConnect: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "connect", abstract: "Connect a container to a network")

    @Option(help: "Add network-scoped alias for the container")
    var alias: [String] = []
    @Option(help: "IPv4 address (e.g., 172.30.100.104)")
    var ip: String?
    @Argument(help: "NETWORK") var network: String
    @Argument(help: "CONTAINER") var container: String

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        do {
            if let ip, IPv4Address(ip) == nil { throw EngineError.invalid("invalid IPv4 address: \(ip)") }
            try engine.connect(try engine.container(container), to: try engine.network(network), aliases: alias, ipv4: ip)
        } catch {
            throw daemonError(error)
        }
    }
}

struct NetworkDisconnect: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "disconnect", abstract: "Disconnect a container from a network")

    @Flag(name: .shortAndLong, help: "Force the container to disconnect from a network")
    var force = false
    @Argument(help: "NETWORK") var network: String
    @Argument(help: "CONTAINER") var container: String

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        do {
            try engine.disconnect(try engine.container(container), from: try engine.network(network), force: force)
        } catch {
            throw daemonError(error)
        }
    }
}

/// `port CONTAINER [PRIVATE_PORT[/PROTO]]`: the published ports of a running container.
struct Port: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "port", abstract: "List port mappings or a specific mapping for the container")

    @Argument(help: "CONTAINER") var container: String
    @Argument(help: "PRIVATE_PORT[/PROTO]") var privatePort: String?

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        let target: Container
        do { target = try engine.container(container) } catch {
            printError(daemonText(error))
            throw ExitCode(1)
        }
        let ports = engine.attachments(target).flatMap(\.ports)
        var wanted: (port: Int, proto: String)?
        if let privatePort {
            let parts = privatePort.split(separator: "/").map(String.init)
            guard let first = parts.first, let port = Int(first) else {
                printError("Error: invalid port (\(privatePort)): invalid syntax")
                throw ExitCode(1)
            }
            wanted = (port, parts.count > 1 ? parts[1] : "tcp")
        }
        let shown = ports.filter { wanted == nil || ($0.containerPort == wanted?.port && $0.proto == wanted?.proto) }
        if let wanted, shown.isEmpty {
            printError("Error: No public port '\(wanted.port)/\(wanted.proto)' published for \(container)")
            throw ExitCode(1)
        }
        for port in shown.sorted(by: { ($0.containerPort, $0.proto) < ($1.containerPort, $1.proto) }) {
            let host = (port.hostIP.isEmpty ? "0.0.0.0" : port.hostIP) + ":\(port.hostPort)"
            print(wanted == nil ? "\(port.containerKey) -> \(host)" : host)
        }
    }
}
