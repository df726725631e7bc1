import ArgumentParser
import ContainerRuntime
import DockerModel
import ContainerSpec
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
        var filters = try validated { () throws(FilterError) in try ContainerFilters(filter) }
        try validated { () throws(FilterError) in try filters.resolve(engine) }
        var listed: [(Container, ContainerState)] = []
        for container in try engine.all() {
            listed.append((container, engine.status(container)))
        }
        let limit = latest ? 1 : last
        let showAll = all || limit > 0 || !filters.isEmpty && filters.mentionsStatus
        listed = listed.filter { showAll || $0.1.isRunning || $0.1.status == .restarting }
        listed = listed.filter { filters.accepts($0.0, $0.1, engine: engine) }
        if limit > 0 { listed = Array(listed.prefix(limit)) }
        if quiet {
            for (container, _) in listed { print(noTrunc ? container.id : container.shortID) }
            return
        }
        let defaultTable = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
            + (size ? "\t{{.Size}}" : "")
        let formatter = ListFormatter(format: OutputFormat(format ?? "table"), defaultTable: defaultTable, headers: Self.headers)
        print(try formatter.render(listed.map { container, status in
            try templateValue(ContainerRow(container, status, engine: engine, noTrunc: noTrunc, size: size, now: wallClock()))
        }), terminator: "")
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
        var filters = try validated { () throws(FilterError) in try ContainerFilters(filter, allowUntil: true) }
        try validated { () throws(FilterError) in try filters.resolve(engine) }
        if !force {
            print("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ", terminator: "")
            fflush(nil)
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { return }
        }
        var removed: [String] = []
        for container in try engine.all() {
            let status = engine.status(container)
            guard status.status == .exited || status.status == .created && !status.state.supervisorAlive,
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
        subcommands: [ContainerLs.self, ContainerInspectCommand.self, Create.self, Run.self, Start.self, Stop.self, Kill.self,
                      Restart.self, Rm.self, Wait.self, Rename.self, Logs.self, ContainerPrune.self,
                      Exec.self, Attach.self, Top.self, Pause.self, Unpause.self, Update.self, Stats.self, Cp.self,
                      Commit.self, Diff.self, Export.self])
}

struct ContainerLs: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List containers", aliases: ["ps", "list"])
    @OptionGroup var ps: Ps
    func execute() async throws { try await ps.execute() }
}
