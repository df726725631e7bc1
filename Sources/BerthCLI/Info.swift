import ArgumentParser
import ContainerRuntime
import DockerModel
import TextTemplate

/// `info` (and `system info`): the engine and the host, as `docker info` prints them, or through `--format`.
struct InfoCommand: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Display system-wide information")

    @Option(name: .shortAndLong, help: "Format output using a Go template, or json")
    var format: String?

    func execute() async throws {
        let info = try SystemInfo(engine: try GlobalOptions.engine())
        guard let format, !format.isEmpty else {
            print(Self.text(info), terminator: "")
            return
        }
        // Docker's info object carries the client's part too (ClientInfo).
        var value = try templateValue(info)
        if case .object(var members, let kind) = value {
            members.append((key: "ClientInfo", value: try templateValue(ClientInfo())))
            value = .object(members, kind)
        }
        do {
            let template = try Template(format == "json" ? "{{json .}}" : format)
            printBlock(try template.render(value))
        } catch {
            printError("template parsing error: \(error)")
            throw ExitCode(1)
        }
    }

    /// The client's half of `docker info`: there is no separate client, so it is Berth itself.
    struct ClientInfo: Encodable {
        var debug = false
        var version = berthVersion
        var context = "default"
        var plugins: [String] = []
        var warnings: [String]? = nil
        enum CodingKeys: String, CodingKey {
            case debug = "Debug", version = "Version", context = "Context", plugins = "Plugins", warnings = "Warnings"
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(debug, forKey: .debug)
            try c.encode(version, forKey: .version)
            try c.encode(context, forKey: .context)
            try c.encode(plugins, forKey: .plugins)
            try c.encode(warnings, forKey: .warnings)
        }
    }

    /// docker 28's layout, for the lines that apply to Berth.
    static func text(_ info: SystemInfo) -> String {
        var lines = ["Client:", " Version:    \(berthVersion)", " Context:    default", " Debug Mode: false", "", "Server:"]
        lines += [
            " Containers: \(info.containers)", "  Running: \(info.containersRunning)", "  Paused: \(info.containersPaused)",
            "  Stopped: \(info.containersStopped)", " Images: \(info.images)", " Server Version: \(info.serverVersion)",
            " Storage Driver: \(info.driver)",
        ]
        lines += info.driverStatus.filter { $0.count == 2 }.map { "  \($0[0]): \($0[1])" }
        lines += [
            " Logging Driver: \(info.loggingDriver)", " Cgroup Driver: \(info.cgroupDriver)", " Cgroup Version: \(info.cgroupVersion)",
            " Plugins:", "  Volume: " + info.plugins.volume.joined(separator: " "),
            "  Network: " + info.plugins.network.joined(separator: " "), "  Log: " + info.plugins.log.joined(separator: " "),
            " Swarm: inactive", " Runtimes: " + info.runtimes.keys.sorted().joined(separator: " "),
            " Default Runtime: \(info.defaultRuntime)", " Init Binary: \(info.initBinary)",
            " containerd version: \(info.containerdCommit)", " runc version: \(info.runcCommit)", " init version: \(info.initCommit)",
            " Security Options:",
        ]
        for option in info.securityOptions {
            var name = ""
            var details: [(String, String)] = []
            for pair in option.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                if parts[0] == "name" { name = parts[1] } else { details.append((parts[0], parts[1])) }
            }
            lines.append("  " + name)
            lines += details.map { "   \($0.0.prefix(1).uppercased() + $0.0.dropFirst()): \($0.1)" }
        }
        lines += [
            " Kernel Version: \(info.kernelVersion)", " Operating System: \(info.operatingSystem)", " OSType: \(info.osType)",
            " Architecture: \(info.architecture)", " CPUs: \(info.ncpu)", " Total Memory: \(humanBinarySize(info.memTotal))",
            " Name: \(info.name)", " ID: \(info.id)", " Docker Root Dir: \(info.dockerRootDir)", " Debug Mode: \(info.debug)",
        ]
        if !info.httpProxy.isEmpty { lines.append(" HTTP Proxy: \(info.httpProxy)") }
        if !info.httpsProxy.isEmpty { lines.append(" HTTPS Proxy: \(info.httpsProxy)") }
        if !info.noProxy.isEmpty { lines.append(" No Proxy: \(info.noProxy)") }
        lines += [" Experimental: \(info.experimentalBuild)", " Insecure Registries:"]
        lines += info.registryConfig.insecureRegistryCIDRs.map { "  " + $0 }
        lines += [" Live Restore Enabled: \(info.liveRestoreEnabled)", ""]
        for warning in info.warnings { printError(warning) }
        return lines.map { $0 + "\n" }.joined()
    }
}

/// `system df`: the space images, containers, volumes and the build cache take, as Docker's table
/// (or, with `-v`, a table per kind).
struct SystemDf: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "df", abstract: "Show docker disk usage")

    @Option(help: "Format output: table, table TEMPLATE, json, or a Go template")
    var format: String?
    @Flag(name: .shortAndLong, help: "Show detailed information on space usage")
    var verbose = false

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        let now = wallClock()
        let usage = try SystemDataUsage(engine: engine, now: now)
        guard verbose else {
            let formatter = ListFormatter(format: OutputFormat(format ?? "table"),
                                          defaultTable: "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                                          headers: ["TotalCount": "TOTAL"])
            print(try formatter.render(usage.rows.map(templateValue)), terminator: "")
            return
        }
        if let format, OutputFormat(format) == .json {
            print(try templateValue(usage).json(escapeHTML: false))
            return
        }
        let summaries = Dictionary(usage.images.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var imageRows: [ImageRow] = []
        for record in try engine.images.images() {
            for var row in ImageRow.rows(for: record, noTrunc: false, now: now) {
                row.sharedSize = summaries[record.id.description]?.sharedSize
                row.containers = summaries[record.id.description]?.containers
                imageRows.append(row)
            }
        }
        let sizes = Dictionary(usage.containers.map { ($0.id, $0.sizeRw ?? 0) }, uniquingKeysWith: { first, _ in first })
        var containerRows: [ContainerRow] = []
        for container in try engine.all() {
            // Docker leaves the virtual size out here.
            var row = ContainerRow(container, engine.status(container), engine: engine, noTrunc: false, size: false, now: now)
            row.size = humanSize(sizes[container.id] ?? 0)
            containerRows.append(row)
        }
        func table(_ template: String, _ rows: [TemplateValue], headers: [String: String]) throws -> String {
            try ListFormatter(format: .table(nil), defaultTable: template, headers: headers).render(rows)
        }
        var out = "Images space usage:\n\n"
        out += try table("table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
                         imageRows.map(templateValue), headers: ImagesOptions.headers)
        out += "\nContainers space usage:\n\n"
        out += try table("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
                         containerRows.map(templateValue),
                         headers: ["ID": "CONTAINER ID", "RunningFor": "CREATED", "LocalVolumes": "LOCAL VOLUMES"])
        out += "\nLocal Volumes space usage:\n\n"
        out += try table("table {{.Name}}\t{{.Links}}\t{{.Size}}", usage.volumes.map { try templateValue(VolumeRow($0)) },
                         headers: ["Name": "VOLUME NAME"])
        out += "\nBuild cache usage: \(humanSize(usage.buildCache.reduce(0) { $0 + $1.size }, significantDigits: 4))\n\n"
        out += try table("table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
                         [], headers: ["ID": "CACHE ID", "CreatedSince": "CREATED", "LastUsedSince": "LAST USED", "UsageCount": "USAGE"])
        print(out, terminator: "")
    }
}
