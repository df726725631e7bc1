import ArgumentParser
import Engine
import TextTemplate

/// `top CONTAINER [ps OPTIONS]`: the host's `ps` (default `-ef`) narrowed to the container's
/// processes, its columns aligned as Docker's CLI aligns them.
struct Top: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "top", abstract: "Display the running processes of a container")

    @Argument(help: "CONTAINER")
    var container: String
    @Argument(parsing: .captureForPassthrough, help: "ps OPTIONS")
    var psOptions: [String] = []

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        let target = try lookup(engine, container)
        let table: ProcessTable
        do {
            table = try engine.top(target, psArgs: psOptions.first == "--" ? Array(psOptions.dropFirst()) : psOptions)
        } catch {
            printError(error.cliText)
            throw ExitCode(1)
        }
        var text = table.titles.joined(separator: "\t") + "\n"
        for row in table.processes { text += row.joined(separator: "\t") + "\n" }
        // Docker's CLI: tabwriter with minimum width 20, padding 3.
        print(TableWriter(minWidth: 20, tabWidth: 1, padding: 3).format(text), terminator: "")
    }
}
