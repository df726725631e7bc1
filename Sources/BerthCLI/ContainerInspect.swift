import ArgumentParser
import ContainerSpec
import DockerModel
import Engine
import TextTemplate

/// `container inspect`: Docker's JSON for a container (DockerModel.ContainerInspect).
struct ContainerInspectCommand: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more containers")

    @Option(name: .shortAndLong, help: "Format output using a Go template, or json")
    var format: String?
    @Flag(name: .shortAndLong, help: "Display total file sizes")
    var size = false
    @Argument(help: "CONTAINER")
    var containers: [String]

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        var values: [TemplateValue] = []
        var failed = false
        for name in containers {
            do { values.append(try templateValue(DockerModel.ContainerInspect(try engine.container(name), engine: engine, sizes: size))) } catch {
                printError((error as? EngineError)?.cliText ?? "Error: No such container: \(name)")
                failed = true
            }
        }
        try printInspected(values, format: format)
        if failed { throw ExitCode(1) }
    }
}
