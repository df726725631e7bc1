import ArgumentParser
import Glibc
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
    @Option(name: .shortAndLong, help: "Filter output: dangling=true|false, reference=PATTERN, label=KEY[=VALUE]")
    var filter: [String] = []
    @Option(help: "Format output: table, table TEMPLATE, json, or a Go template")
    var format: String?
    @Argument(help: "REPOSITORY[:TAG]")
    var repository: String?

    static let headers = ["ID": "IMAGE ID", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "VirtualSize": "VIRTUAL SIZE",
                          "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE"]

    func list() throws {
        let store = try GlobalOptions.store()
        let filters = try ImageFilters(filter, repository: repository)
        var rows: [ImageRow] = []
        for record in try store.images() {
            // Labels live in the config: read it only when a filter asks about them.
            let labels = filters.labels.isEmpty ? [:] : (try? store.load(record))?.config.config?.labels ?? [:]
            for row in ImageRow.rows(for: record, noTrunc: noTrunc) where filters.accepts(row, record: record, labels: labels) {
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
        print(try formatter.render(rows.map(\.value)), terminator: "")
    }
}

/// One line of `images`: an image under one of its names.
struct ImageRow {
    var repository: String
    var tag: String
    var digest: String
    var id: String
    var record: ImageRecord

    static func rows(for record: ImageRecord, noTrunc: Bool) -> [ImageRow] {
        let id = noTrunc ? record.id.description : record.id.shortID
        var rows: [ImageRow] = []
        var repositoriesWithTags = Set<String>()
        let digestsByRepository = Dictionary(grouping: record.repoDigests) { String($0.split(separator: "@")[0]) }
        for tag in record.tags {
            guard let reference = try? ImageReference(parsing: tag) else { continue }
            repositoriesWithTags.insert(reference.name)
            let digest = digestsByRepository[reference.name]?.first.map { String($0.split(separator: "@")[1]) } ?? "<none>"
            rows.append(ImageRow(repository: reference.familiarName, tag: reference.tag ?? "<none>", digest: digest, id: id, record: record))
        }
        for (name, digests) in digestsByRepository.sorted(by: { $0.key < $1.key }) where !repositoriesWithTags.contains(name) {
            guard let reference = try? ImageReference(parsing: digests[0]) else { continue }
            rows.append(ImageRow(repository: reference.familiarName, tag: "<none>", digest: reference.digest?.description ?? "<none>", id: id, record: record))
        }
        if rows.isEmpty {
            rows.append(ImageRow(repository: "<none>", tag: "<none>", digest: "<none>", id: id, record: record))
        }
        return rows
    }

    var value: TemplateValue {
        let created = record.created.flatMap(Timestamp.parse) ?? record.addedAt
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return .object([
            (key: "Containers", value: .string("N/A")),
            (key: "CreatedAt", value: .string(goTime(created))),
            (key: "CreatedSince", value: .string(humanDuration(Double(now.tv_sec) - created) + " ago")),
            (key: "Digest", value: .string(digest)),
            (key: "ID", value: .string(id)),
            (key: "Repository", value: .string(repository)),
            (key: "SharedSize", value: .string("N/A")),
            (key: "Size", value: .string(humanSize(record.size))),
            (key: "Tag", value: .string(tag)),
            (key: "UniqueSize", value: .string("N/A")),
            (key: "VirtualSize", value: .string(humanSize(record.size))),
        ])
    }
}

/// Go's time.Time.String() for UTC: "2024-05-01 12:00:00 +0000 UTC".
func goTime(_ seconds: Double) -> String {
    let text = Timestamp.format(seconds: Int(seconds))
    return String(text.replacingFirst("T", with: " ").dropLast()) + " +0000 UTC"
}

extension String {
    func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let index = firstIndex(of: target) else { return self }
        return String(self[..<index]) + replacement + String(self[self.index(after: index)...])
    }
}

/// `images --filter` and the REPOSITORY[:TAG] argument, as Docker matches them.
struct ImageFilters {
    var dangling: Bool?
    var references: [String] = []
    var labels: [(String, String?)] = []

    init(_ filters: [String], repository: String?) throws {
        for filter in filters {
            guard let eq = filter.firstIndex(of: "=") else { throw ValidationError("bad format of filter (expected name=value): \(filter)") }
            let key = filter[..<eq].lowercased()
            let value = String(filter[filter.index(after: eq)...])
            switch key {
            case "dangling":
                guard value == "true" || value == "false" || value == "1" || value == "0" else {
                    throw ValidationError("invalid filter 'dangling=\(value)': expected true or false")
                }
                dangling = value == "true" || value == "1"
            case "reference": references.append(value)
            case "label":
                if let eq = value.firstIndex(of: "=") {
                    labels.append((String(value[..<eq]), String(value[value.index(after: eq)...])))
                } else {
                    labels.append((value, nil))
                }
            default: throw ValidationError("invalid filter '\(key)' (images takes dangling, reference and label)")
            }
        }
        if let repository { references.append(repository) }
    }

    func accepts(_ row: ImageRow, record: ImageRecord, labels imageLabels: [String: String]) -> Bool {
        if let dangling, dangling != record.tags.isEmpty { return false }
        for pattern in references {
            let withTag = "\(row.repository):\(row.tag)"
            let full = (try? ImageReference(parsing: "\(row.repository):\(row.tag)"))
            let candidates = [row.repository, withTag, full?.name ?? "", full?.description ?? ""]
            // A pattern without a tag matches the repository; with one, repository and tag.
            if !candidates.contains(where: { fnmatch(pattern, $0, FNM_PATHNAME) == 0 }) { return false }
        }
        for (key, value) in labels {
            guard let actual = imageLabels[key] else { return false }
            if let value, actual != value { return false }
        }
        return true
    }
}
