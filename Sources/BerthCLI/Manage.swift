import ArgumentParser
import DockerModel
import Engine
import ImageStore
import OCI
import TextTemplate

struct Tag: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")
    @Argument(help: "SOURCE_IMAGE[:TAG]") var source: String
    @Argument(help: "TARGET_IMAGE[:TAG]") var target: String

    func execute() async throws {
        let store = try GlobalOptions.store()
        try store.tag(source, as: try parseReference(target))
    }
}

struct Rmi: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove one or more images")
    @OptionGroup var options: RemoveOptions
    func execute() async throws { try options.remove() }
}

/// What `rmi` and `image rm` take, and the removal itself.
struct RemoveOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Force removal of the image") var force = false
    @Argument(help: "IMAGE") var images: [String]

    func remove() throws {
        let store = try GlobalOptions.store()
        let inUse = try imagesInUse()
        var failed = false
        for name in images {
            do {
                for event in try store.remove(name, force: force, inUse: inUse) {
                    switch event {
                    case .untagged(let reference): print("Untagged: \(reference)")
                    case .deleted(let id): print("Deleted: \(id)")
                    }
                }
            } catch {
                printError("Error: \(error.message)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

struct Prune: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused images")
    @Flag(name: .shortAndLong, help: "Remove all unused images, not just dangling ones") var all = false
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation") var force = false

    func execute() async throws {
        let store = try GlobalOptions.store()
        let (removed, reclaimed) = try store.prune(all: all, inUse: Set(try imagesInUse().keys))
        if !removed.isEmpty {
            print("Deleted Images:")
            for id in removed { print("deleted: \(id)") }
            print("")
        }
        print("Total reclaimed space: \(humanSize(reclaimed, significantDigits: 4))")
    }
}

struct History: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Show the history of an image")
    @Flag(name: .customShort("H"), inversion: .prefixedNo, help: "Print sizes and dates in human readable format") var human = true
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output") var noTrunc = false
    @Flag(name: .shortAndLong, help: "Only show image IDs") var quiet = false
    @Option(help: "Format output: table, table TEMPLATE, json, or a Go template") var format: String?
    @Argument(help: "IMAGE") var image: String

    func execute() async throws {
        let store = try GlobalOptions.store()
        let loaded = try store.load(try store.resolve(image))
        let sizes = try store.layerSizes()
        var layerIndex = 0
        var rows: [TemplateValue] = []
        let history = loaded.config.history ?? []
        let now = Double(Timestamp.parse(Timestamp.now()) ?? 0)
        // Sizes belong to the non-empty entries in order; walk forwards to assign them, print newest first.
        var entries: [(HistoryEntry, Int64)] = []
        for entry in history {
            var size: Int64 = 0
            if entry.emptyLayer != true, layerIndex < loaded.config.rootfs.diffIDs.count {
                size = sizes[loaded.config.rootfs.diffIDs[layerIndex]] ?? 0
                layerIndex += 1
            }
            entries.append((entry, size))
        }
        for (position, (entry, size)) in entries.enumerated().reversed() {
            let id = position == entries.count - 1 ? (noTrunc ? loaded.id.description : loaded.id.shortID) : "<missing>"
            if quiet { print(id); continue }
            let created = entry.created.flatMap(Timestamp.parse)
            var createdBy = entry.createdBy ?? ""
            if !noTrunc && createdBy.count > 45 { createdBy = String(createdBy.prefix(44)) + "…" }
            rows.append(.object([
                (key: "ID", value: .string(id)),
                (key: "CreatedSince", value: .string(created.map { human ? humanDuration(now - $0) + " ago" : entry.created ?? "" } ?? "N/A")),
                (key: "CreatedAt", value: .string(entry.created ?? "")),
                (key: "CreatedBy", value: .string(createdBy)),
                (key: "Size", value: .string(human ? humanSize(size) : String(size))),
                (key: "Comment", value: .string(entry.comment ?? "")),
            ]))
        }
        if quiet { return }
        let formatter = ListFormatter(
            format: OutputFormat(format ?? "table"),
            defaultTable: "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
            headers: ["ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY"])
        print(try formatter.render(rows), terminator: "")
    }
}

/// The images containers use, which `rmi` and `image prune` must keep.
func imagesInUse() throws -> [Digest: ImageUse] {
    try GlobalOptions.engine().imageUses()
}
