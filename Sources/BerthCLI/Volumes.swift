import ArgumentParser
import Engine
import Glibc
import LinuxSys
import TextTemplate

/// `volume create/ls/inspect/rm/prune`, with Docker's flags, output and exit statuses (1 when the
/// engine refuses, as the docker CLI exits on a daemon error).
struct VolumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume", abstract: "Manage volumes",
        subcommands: [VolumeCreate.self, VolumeLs.self, VolumeInspect.self, VolumeRm.self, VolumePrune.self])
}

/// Prints an engine error the way the docker CLI prints a daemon error, and exits 1.
private func daemonError(_ error: any Error) -> ExitCode {
    printError("Error response from daemon: " + describe(error))
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

/// `volume ls --filter`: name (a regular expression, matched anywhere), label, dangling, driver.
struct VolumeFilters {
    var names: [String] = []
    var labels: [(String, String?)] = []
    var notLabels: [(String, String?)] = []
    var dangling: Bool?
    var drivers: [String] = []
    /// `prune -a` (also `--filter all=true`): named volumes too.
    var all = false

    init(_ filters: [String], prune: Bool = false) throws(ExitCode) {
        for filter in filters {
            guard let equals = filter.firstIndex(of: "=") else {
                printError("bad format of filter (expected name=value)")
                throw ExitCode(1)
            }
            let key = String(filter[..<equals]).lowercased()
            let value = String(filter[filter.index(after: equals)...])
            func label(_ text: String) -> (String, String?) {
                guard let eq = text.firstIndex(of: "=") else { return (text, nil) }
                return (String(text[..<eq]), String(text[text.index(after: eq)...]))
            }
            switch key {
            case "name" where !prune: names.append(value)
            case "driver" where !prune: drivers.append(value)
            case "label": labels.append(label(value))
            case "label!" where prune: notLabels.append(label(value))
            case "dangling" where !prune, "all" where prune:
                guard let flag = ["true": true, "1": true, "false": false, "0": false][value.lowercased()] else {
                    printError("Error response from daemon: invalid filter '\(key)=\(value)'")
                    throw ExitCode(1)
                }
                if key == "all" { all = flag } else { dangling = flag }
            default:
                printError("Error response from daemon: Invalid filter '\(key)'")
                throw ExitCode(1)
            }
        }
    }

    func accepts(_ volume: Volume, inUse: Bool) -> Bool {
        if let dangling, dangling == inUse { return false }
        if !names.isEmpty, !names.contains(where: { pattern in
            (try? Regex(pattern)).map { volume.name.contains($0) } ?? false
        }) { return false }
        if !drivers.isEmpty, !drivers.contains(volume.driver) { return false }
        let labels = volume.reportedLabels ?? [:]
        for (key, value) in self.labels {
            guard let actual = labels[key], value == nil || actual == value else { return false }
        }
        for (key, value) in notLabels {
            if let actual = labels[key], value == nil || actual == value { return false }
        }
        return true
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
        let filters = try VolumeFilters(filter)
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
        print(try formatter.render(shown.map(volumeRow)), terminator: "")
    }

    /// One line of `volume ls`, with the fields Docker's formatter offers.
    func volumeRow(_ volume: Volume) -> TemplateValue {
        let labels = volume.reportedLabels ?? [:]
        return .object([
            ("Availability", .string("N/A")),
            ("Driver", .string(volume.driver)),
            ("Group", .string("N/A")),
            ("Labels", .string(labels.keys.sorted().map { "\($0)=\(labels[$0] ?? "")" }.joined(separator: ","))),
            ("Links", .string("N/A")),
            ("Mountpoint", .string(volume.mountpoint)),
            ("Name", .string(volume.name)),
            ("Scope", .string("local")),
            ("Size", .string("N/A")),
            ("Status", .string("N/A")),
        ])
    }
}

/// Docker's `volume inspect` object.
func volumeInspectValue(_ volume: Volume) -> TemplateValue {
    func map(_ values: [String: String]?) -> TemplateValue {
        guard let values else { return .null }
        return .object(values.keys.sorted().map { (key: $0, value: TemplateValue.string(values[$0] ?? "")) })
    }
    return .object([
        ("CreatedAt", .string(volume.created)),
        ("Driver", .string(volume.driver)),
        ("Labels", map(volume.reportedLabels)),
        ("Mountpoint", .string(volume.mountpoint)),
        ("Name", .string(volume.name)),
        ("Options", map(volume.options)),
        ("Scope", .string("local")),
    ])
}

struct VolumeInspect: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more volumes")

    @Option(name: .shortAndLong, help: "Format output using a Go template, or json")
    var format: String?
    @Argument(help: "VOLUME")
    var volumes: [String]

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        try inspectEach(volumes, format: format) { name in volumeInspectValue(try engine.volume(name)) }
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
                printError("Error response from daemon: " + describe(error))
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
        let filters = try VolumeFilters(filter, prune: true)
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
        print("Total reclaimed space: \(humanSize(reclaimed))")
    }
}

/// `inspect`'s Mounts of a container as Docker lists them: binds and volumes (not tmpfs), each
/// volume with its name and host directory.
func containerMountsValue(_ container: Container, engine: Engine) -> TemplateValue {
    let attachments = (try? engine.volumeAttachments(container)) ?? []
    let propagations: Set<String> = ["private", "rprivate", "shared", "rshared", "slave", "rslave"]
    var values: [TemplateValue] = []
    var covered = Set<String>()
    func volume(_ destination: String, readOnly: Bool, mode: String) -> TemplateValue {
        let name = attachments.first { $0.destination == destination }?.name ?? ""
        return .object([
            ("Type", .string("volume")),
            ("Name", .string(name)),
            ("Source", .string(name.isEmpty ? "" : engine.volumePath(name))),
            ("Destination", .string(destination)),
            ("Driver", .string(Engine.localDriver)),
            ("Mode", .string(mode)),
            ("RW", .bool(!readOnly)),
            ("Propagation", .string("")),
        ])
    }
    for mount in container.options.mounts {
        let destination = FS.clean(mount.target)
        covered.insert(destination)
        let mode = ((mount.readOnly ? ["ro"] : []) + mount.options).joined(separator: ",")
        switch mount.kind {
        case .bind:
            values.append(.object([
                ("Type", .string("bind")),
                ("Source", .string(mount.source ?? "")),
                ("Destination", .string(destination)),
                ("Mode", .string(mode)),
                ("RW", .bool(!mount.readOnly)),
                ("Propagation", .string(mount.options.last { propagations.contains($0) } ?? "rprivate")),
            ]))
        case .volume:
            // Docker's "z" (the default SELinux relabel mode) for a named volume given no mode.
            values.append(volume(destination, readOnly: mount.readOnly, mode: mount.source == nil ? mode : (mode.isEmpty ? "z" : mode)))
        case .tmpfs:
            continue
        }
    }
    for path in (container.config.volumes ?? [:]).keys.sorted() {
        let destination = FS.clean(path)
        guard destination.hasPrefix("/"), destination != "/", covered.insert(destination).inserted else { continue }
        values.append(volume(destination, readOnly: false, mode: ""))
    }
    return .array(values)
}
