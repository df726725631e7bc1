import ArgumentParser
import DockerModel
import ImageStore
import OCI
import TextTemplate

struct Images: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images")
    @OptionGroup var options: ImagesOptions
    func execute() async throws { try options.list() }
}

/// What `images` and `image ls` take, and the listing itself.
struct ImagesOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Show all images (there are no intermediate images to hide yet)")
    var all = false
    @Flag(name: .shortAndLong, help: "Only show image IDs")
    var quiet = false
    @Flag(help: "Show digests")
    var digests = false
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output")
    var noTrunc = false
    @Option(name: .shortAndLong, help: "Filter output: dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before|since=IMAGE, until=TIME")
    var filter: [String] = []
    @Option(help: "Format output: table, table TEMPLATE, json, or a Go template")
    var format: String?
    @Argument(help: "REPOSITORY[:TAG]")
    var repository: String?

    static let headers = ["ID": "IMAGE ID", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "VirtualSize": "VIRTUAL SIZE",
                          "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE"]

    func list() throws {
        let store = try GlobalOptions.store()
        let filters = try validated { () throws(FilterError) in
            var filters = try ImageFilters(filter, repository: repository)
            try filters.resolve(store)
            return filters
        }
        let now = wallClock()
        var rows: [ImageRow] = []
        for record in try store.images() {
            // Labels live in the config: read it only when a filter asks about them.
            let labels = !filters.needsLabels ? [:] : (try? store.load(record))?.config.config?.labels ?? [:]
            for row in ImageRow.rows(for: record, noTrunc: noTrunc, now: now) where filters.accepts(row, labels: labels) {
                rows.append(row)
            }
        }
        if quiet {
            var seen = Set<String>()
            for row in rows where seen.insert(row.id).inserted { print(row.id) }
            return
        }
        let defaultTable = digests
            ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
            : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
        let formatter = ListFormatter(format: OutputFormat(format ?? "table"), defaultTable: defaultTable, headers: Self.headers)
        print(try formatter.render(rows.map(templateValue)), terminator: "")
    }
}
