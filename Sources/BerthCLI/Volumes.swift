import ArgumentParser
import DockerModel
import Engine
import Glibc
import LinuxSys
import TextTemplate

/// `volume create/ls/inspect/rm/prune`, with Docker's flags, output and exit statuses (1 when the
/// engine refuses, as the docker CLI exits on a daemon error).
struct VolumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume", abstract: "Manage volumes",
        subcommands: [VolumeCreate.self, VolumeLs.self, VolumeInspectCommand.self, VolumeRm.self, VolumePrune.self])
}

/// Prints an engine error the way the docker CLI prints a daemon error, and exits 1.
private func daemonError(_ error: any Error) -> ExitCode {
    printError(daemonText(error))
    return ExitCode(1)
}

/// `KEY=VALUE` list options (`--label`, `-o`): a bare `KEY` gets an empty value, as Docker's do.
private func keyValues(_ list: [String]) -> [String: String] {
    var map: [String: String] = [:]
    for item in list {
        let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        map[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
    }
    return map
}

struct VolumeCreate: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a volume")

    @Option(name: .shortAndLong, help: "Specify volume driver name")
    var driver = Engine.localDriver
    @Option(help: "Set metadata for a volume")
    var label: [String] = []
    @Option(name: [.customShort("o"), .customLong("opt")], help: "Set driver specific options")
    var opt: [String] = []
    @Option(name: .customLong("name"), help: "Specify volume name")
    var nameOption: String?
    @Argument(help: "VOLUME")
    var name: String?

    func execute() async throws {
        if let nameOption, let name, nameOption != name {
            printError("Conflicting options: either specify --name or provide positional arg, not both")
            throw ExitCode(1)
        }
        let engine = try GlobalOptions.engine()
        do {
            let volume = try engine.createVolume(name: name ?? nameOption, driver: driver, labels: keyValues(label), options: keyValues(opt))
            print(volume.name)
        } catch {
            throw daemonError(error)
        }
    }
}

/// The filters, their errors printed as Docker prints them (a bad format is the client's word).
private func volumeFilters(_ filters: [String], prune: Bool = false) throws(ExitCode) -> VolumeFilters {
    do { return try VolumeFilters(filters, prune: prune) } catch {
        printError(error.kind == .badFormat ? error.message : daemonPrefix + error.message)
        throw ExitCode(1)
    }
}

struct VolumeLs: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List volumes", aliases: ["list"])

    @Flag(name: .shortAndLong, help: "Only display volume names")
    var quiet = false
    @Option(name: .shortAndLong, help: "Provide filter values (e.g. 'dangling=true')")
    var filter: [String] = []
    @Option(help: "Format output: table, table TEMPLATE, json, or a Go template")
    var format: String?

    func execute() async throws {
        let filters = try volumeFilters(filter)
        let engine = try GlobalOptions.engine()
        let volumes: [Volume], inUse: Set<String>
        do {
            volumes = try engine.volumes()
            inUse = try engine.volumesInUse()
        } catch {
            throw daemonError(error)
        }
        let shown = volumes.filter { filters.accepts($0, inUse: inUse.contains($0.name)) }
        if quiet {
            for volume in shown { print(volume.name) }
            return
        }
        let formatter = ListFormatter(format: OutputFormat(format ?? "table"), defaultTable: "table {{.Driver}}\t{{.Name}}",
                                      headers: ["Name": "VOLUME NAME"])
        print(try formatter.render(shown.map { try templateValue(VolumeRow($0)) }), terminator: "")
    }
}

struct VolumeInspectCommand: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more volumes")

    @Option(name: .shortAndLong, help: "Format output using a Go template, or json")
    var format: String?
    @Argument(help: "VOLUME")
    var volumes: [String]

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        try inspectEach(volumes, format: format) { name in try templateValue(VolumeInspect(try engine.volume(name))) }
    }
}

struct VolumeRm: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more volumes", aliases: ["remove"])

    @Flag(name: .shortAndLong, help: "Force the removal of one or more volumes")
    var force = false
    @Argument(help: "VOLUME")
    var volumes: [String]

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        var failed = false
        for name in volumes {
            do {
                try engine.removeVolume(name, force: force)
                print(name)
            } catch {
                printError(daemonText(error))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

/// `volume prune`: unused anonymous volumes (Docker 23+); with `-a`, unused named ones too.
struct VolumePrune: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused local volumes")

    @Flag(name: .shortAndLong, help: "Remove all unused volumes, not just anonymous ones")
    var all = false
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation")
    var force = false
    @Option(help: "Provide filter values (e.g. 'label=<label>')")
    var filter: [String] = []

    func execute() async throws {
        let filters = try volumeFilters(filter, prune: true)
        let everything = all || filters.all
        if !force {
            let what = everything ? "all local volumes" : "anonymous local volumes"
            print("WARNING! This will remove \(what) not used by at least one container.\nAre you sure you want to continue? [y/N] ", terminator: "")
            fflush(nil)
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { return }
        }
        let engine = try GlobalOptions.engine()
        var removed: [String] = []
        var reclaimed: Int64 = 0
        do {
            let inUse = try engine.volumesInUse()
            for volume in try engine.volumes() where !inUse.contains(volume.name) && (everything || volume.anonymous) {
                guard filters.accepts(volume, inUse: false) else { continue }
                let size = engine.volumeSize(volume.name)
                do {
                    try engine.removeVolume(volume.name)
                } catch where error.kind == .conflict || error.kind == .notFound {
                    // Taken by a container created meanwhile, or removed by someone else.
                    continue
                }
                removed.append(volume.name)
                reclaimed += size
            }
        } catch {
            throw daemonError(error)
        }
        if !removed.isEmpty { print("Deleted Volumes:\n" + removed.map { $0 + "\n" }.joined()) }
        print("Total reclaimed space: \(humanSize(reclaimed, significantDigits: 4))")
    }
}
