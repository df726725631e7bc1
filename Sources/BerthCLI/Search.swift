import ArgumentParser
import DockerModel
import Registry
import TextTemplate

/// `search`: a registry's search (Docker Hub's, or the one a `host:port/term` names), filtered and
/// shown as Docker's CLI shows it.
struct Search: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Search Docker Hub for images")

    @Option(name: .shortAndLong, help: "Filter output based on conditions provided")
    var filter: [String] = []
    @Option(help: "Pretty-print search using a Go template")
    var format: String?
    @Option(help: "Max number of search results")
    var limit = RegistryClient.defaultSearchLimit
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output")
    var noTrunc = false
    @Argument(help: "TERM")
    var term: String

    func execute() async throws {
        let filters: SearchFilters
        do { filters = try SearchFilters(filter) } catch {
            printError(error.kind == .badFormat ? error.message : daemonPrefix + error.message)
            throw ExitCode(error.kind == .badFormat ? 125 : 1)
        }
        // As Docker's CLI: a limit that is not positive is not sent, so the registry's default applies.
        let limit = limit > 0 ? limit : RegistryClient.defaultSearchLimit
        guard RegistryClient.searchLimits.contains(limit) else {
            printError(daemonPrefix + "limit \(limit) is outside the range of [1, 100]")
            throw ExitCode(1)
        }
        let results: [SearchResult]
        do { results = try await GlobalOptions.client().search(term, limit: limit) } catch let error as RegistryError {
            // dockerd's words for a registry's refusal come first: "Unexpected status code 404".
            let status = error.status.map { "Unexpected status code \($0): " } ?? ""
            printError(daemonPrefix + status + error.description)
            throw ExitCode(1)
        }
        let output = OutputFormat(format ?? "table")
        // In the registry's order: the docker CLI 28 does not sort them (by stars, as older ones did).
        let rows = try results.filter(filters.accepts).map {
            try templateValue(SearchRow($0, noTrunc: noTrunc, json: output == .json))
        }
        let formatter = ListFormatter(format: output, defaultTable: SearchRow.defaultTable, headers: SearchRow.headers)
        print(try formatter.render(rows), terminator: "")
    }
}
