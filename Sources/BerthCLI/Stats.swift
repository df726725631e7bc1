import ArgumentParser
import DockerModel
import Engine
import Glibc
import LinuxSys
import TextTemplate

/// `stats`: live resource usage in Docker's columns. CPU % comes from two readings, as Docker's CLI
/// computes it (container CPU delta / host CPU delta × online CPUs × 100); memory is usage less
/// inactive file cache; NET I/O from the container's network namespace; BLOCK I/O from blkio/io.stat.
struct Stats: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Display a live stream of container(s) resource usage statistics")

    @Flag(name: .shortAndLong, help: "Show all containers (default shows just running)")
    var all = false
    @Flag(name: .customLong("no-stream"), help: "Disable streaming stats and only pull the first result")
    var noStream = false
    @Flag(name: .customLong("no-trunc"), help: "Do not truncate output")
    var noTrunc = false
    @Option(help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template")
    var format: String?
    @Argument(help: "CONTAINER")
    var containers: [String] = []

    static let headers = ["ID": "CONTAINER ID", "Container": "CONTAINER", "Name": "NAME", "CPUPerc": "CPU %",
                          "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O",
                          "BlockIO": "BLOCK I/O", "PIDs": "PIDS"]
    static let defaultTable = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        let formatter = ListFormatter(format: OutputFormat(format ?? "table"), defaultTable: Self.defaultTable, headers: Self.headers)
        // Named containers are resolved once; a missing one is an error, as with Docker.
        var named: [(given: String, container: Container)] = []
        var failed = false
        for name in containers {
            do { named.append((name, try engine.container(name))) } catch {
                printError(describe(error))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
        // Docker's first figure already spans a second of CPU time; so does ours.
        var previous: [String: Engine.UsageSample] = [:]
        for entry in try targets(engine, named) { previous[entry.container.id] = engine.usage(entry.container) }
        while true {
            ProcessSys.sleep(milliseconds: 1000)
            var rows: [TemplateValue] = []
            for entry in try targets(engine, named) {
                let sample = engine.usage(entry.container)
                rows.append(row(entry.given, entry.container, sample, previous[entry.container.id] ?? nil))
                previous[entry.container.id] = sample
            }
            let text = try formatter.render(rows)
            if noStream {
                print(text, terminator: "")
                return
            }
            // Redraw in place, as Docker's CLI does.
            print("\u{1b}[2J\u{1b}[H" + text, terminator: "")
            fflush(nil)
        }
    }

    /// The named containers, or every running one (every one with -a), newest first.
    func targets(_ engine: Engine, _ named: [(given: String, container: Container)]) throws -> [(given: String, container: Container)] {
        if !named.isEmpty { return named }
        return try engine.all().filter { all || engine.status($0).isRunning }.map { ($0.id, $0) }
    }

    func row(_ given: String, _ container: Container, _ sample: Engine.UsageSample?, _ previous: Engine.UsageSample?) -> TemplateValue {
        var cpu = "0.00%", memUsage = "0B / 0B", memPerc = "0.00%", net = "0B / 0B", block = "0B / 0B", pids = "0"
        if let sample {
            var percent = 0.0
            if let previous, sample.containerCPU > previous.containerCPU, sample.systemCPU > previous.systemCPU {
                percent = Double(sample.containerCPU - previous.containerCPU) / Double(sample.systemCPU - previous.systemCPU)
                    * Double(sample.onlineCPUs) * 100
            }
            cpu = fixed2(percent) + "%"
            memUsage = humanBinarySize(Int64(clamping: sample.memoryUsage)) + " / " + humanBinarySize(Int64(clamping: sample.memoryLimit))
            memPerc = fixed2(sample.memoryLimit > 0 ? Double(sample.memoryUsage) / Double(sample.memoryLimit) * 100 : 0) + "%"
            net = humanSize(Int64(clamping: sample.networkReceived)) + " / " + humanSize(Int64(clamping: sample.networkSent))
            block = humanSize(Int64(clamping: sample.blockRead)) + " / " + humanSize(Int64(clamping: sample.blockWritten))
            pids = "\(sample.pids)"
        }
        return .object([
            ("BlockIO", .string(block)),
            ("CPUPerc", .string(cpu)),
            ("Container", .string(given)),
            ("ID", .string(noTrunc ? container.id : container.shortID)),
            ("MemPerc", .string(memPerc)),
            ("MemUsage", .string(memUsage)),
            ("Name", .string(container.name)),
            ("NetIO", .string(net)),
            ("PIDs", .string(pids)),
        ])
    }
}

/// "%.2f".
func fixed2(_ value: Double) -> String {
    let hundredths = Int64((value * 100).rounded())
    let fraction = abs(hundredths % 100)
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

