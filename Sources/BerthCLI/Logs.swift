import ArgumentParser
import Engine
import Glibc
import LinuxSys

/// `logs`: the container's json-file log as Docker prints it — stdout entries to our stdout,
/// stderr entries to our stderr; `-f` follows across rotation until the container stops.
struct Logs: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Fetch the logs of a container")

    @Flag(name: .shortAndLong, help: "Follow log output")
    var follow = false
    @Option(help: "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
    var since: String?
    @Option(help: "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
    var until: String?
    @Option(name: [.customShort("n"), .customLong("tail")], help: "Number of lines to show from the end of the logs")
    var tail = "all"
    @Flag(name: .shortAndLong, help: "Show timestamps")
    var timestamps = false
    @Flag(help: "Show extra details provided to logs (none are recorded)")
    var details = false
    @Argument(help: "CONTAINER")
    var container: String

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        let found = try lookup(engine, container)
        do { try found.options.checkLogsReadable() } catch {
            printError(error.cliText)
            throw ExitCode(1)
        }
        var options = LogReadOptions(follow: follow)
        let now = LogTimestamp.now()
        do {
            if let since { options.since = try LogTimestamp.parse(userInput: since, now: now) }
            if let until { options.until = try LogTimestamp.parse(userInput: until, now: now) }
        } catch {
            printError("Error: \(error)")
            throw ExitCode(1)
        }
        if tail != "all" {
            guard let count = Int(tail) else {
                printError("Error: invalid value for \"tail\": \(tail)")
                throw ExitCode(1)
            }
            options.tail = count < 0 ? nil : count
        }
        let path = engine.logPath(found.id)
        guard FS.exists(path) || !follow else { return }
        try LogReader.read(path: path, options: options, isRunning: {
            let status = engine.status(found)
            return status.isRunning || status.status == .restarting
        }) { entry in
            try FS.write(entry.stream == .stderr ? 2 : 1, LogReader.format(entry, timestamps: timestamps))
        }
    }
}
