import ArgumentParser
import DockerModel
import TextTemplate

/// `version`: the client and the engine, in `docker version`'s layout or through `--format`.
/// Berth is its own engine, so the Server part is this build as `GET /version` reports it.
struct VersionCommand: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Show the Berth version information")

    @Option(name: .shortAndLong, help: "Format output using a Go template, or json")
    var format: String?

    /// Docker's default template, over the JSON names of the objects (`ApiVersion`, not Go's
    /// `APIVersion`); `range` over the details visits them in key order, as Docker's does.
    static let defaultTemplate = """
        {{with .Client -}}
        Client:
         Version:\t{{.Version}}
         API version:\t{{.ApiVersion}}
         Go version:\t{{.GoVersion}}
         Git commit:\t{{.GitCommit}}
         Built:\t{{.BuildTime}}
         OS/Arch:\t{{.Os}}/{{.Arch}}
         Context:\t{{.Context}}
        {{- end}}
        {{- with .Server}}

        Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
         {{- range $component := .Components}}
         {{$component.Name}}:
          {{- if eq $component.Name "Engine"}}
          Version:\t{{.Version}}
          API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
          Go version:\t{{index .Details "GoVersion"}}
          Git commit:\t{{index .Details "GitCommit"}}
          Built:\t{{index .Details "BuildTime"}}
          OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
          Experimental:\t{{index .Details "Experimental"}}
          {{- else}}
          Version:\t{{$component.Version}}
          {{- range $key, $value := $component.Details}}
          {{$key}}:\t{{$value}}
          {{- end}}
          {{- end}}
         {{- end}}
        {{- end}}
        """

    func execute() async throws {
        let source: String
        switch format {
        case nil, "": source = Self.defaultTemplate
        case "json": source = "{{json .}}"
        case let format?: source = format
        }
        let template: Template
        do { template = try Template(source) } catch {
            printError("template parsing error: \(error)")
            throw ExitCode(64)
        }
        let value: TemplateValue = .object([("Client", try templateValue(ClientVersion())),
                                            ("Server", try templateValue(SystemVersion.engine()))])
        // As Docker: every output goes through its tabwriter (20 wide, padding 1) and ends in a newline.
        let table = TableWriter(minWidth: 20, tabWidth: 1, padding: 1)
        do {
            print(table.format(try template.render(value)))
        } catch {
            print()
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    /// `--version`'s line, Docker's form: `Berth version 0.1.0, build 1a2b3c4`.
    static var line: String {
        let build = BuildFacts.current
        return "Berth version \(build.version), build \(build.commit)"
    }
}
