import ArgumentParser
import Engine
import Glibc
import ImageStore
import LinuxSys
import OCI
import Registry

/// The root command (public so a front end can embed or test the CLI).
public struct Berth: AsyncParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "berth",
        abstract: "Berth: build, ship and run containers.",
        discussion: """
            Global options, before the command:
              --root DIR      engine state: images, layers, database (default /var/lib/berth)
              --runroot DIR   run-time state (default /run/berth)
            """,
        version: VersionCommand.line,
        subcommands: [
            Pull.self, Push.self, Images.self, ImageCommand.self, Inspect.self, Tag.self, Rmi.self,
            Save.self, Load.self, Import.self, History.self, Login.self, Logout.self,
            Run.self, Create.self, Start.self, Stop.self, Kill.self, Restart.self, Rm.self, Ps.self, Wait.self,
            Rename.self, Logs.self, Exec.self, Attach.self, Top.self, Pause.self, Unpause.self, Update.self, Stats.self,
            Cp.self, Events.self, InfoCommand.self, VersionCommand.self, Commit.self, Diff.self, Export.self, Search.self, Serve.self, KubeCommand.self,
            Build.self, BuilderCommand.self, ContainerCommand.self, SystemCommand.self, VolumeCommand.self, NetworkCommand.self, Port.self,
        ])
}

/// Options every command shares, taken off the command line before the command's own parsing.
enum GlobalOptions {
    nonisolated(unsafe) static var root = "/var/lib/berth"
    nonisolated(unsafe) static var runroot = "/run/berth"

    static func extract(from arguments: [String]) -> [String] {
        var rest: [String] = []
        var index = 0
        var leading = true
        while index < arguments.count {
            let argument = arguments[index]
            if leading, argument == "--root" || argument == "--runroot", index + 1 < arguments.count {
                if argument == "--root" { root = arguments[index + 1] } else { runroot = arguments[index + 1] }
                index += 2
                continue
            }
            if leading, argument.hasPrefix("--root=") { root = String(argument.dropFirst(7)); index += 1; continue }
            if leading, argument.hasPrefix("--runroot=") { runroot = String(argument.dropFirst(10)); index += 1; continue }
            // Docker's `-v` before any command is `--version`.
            if leading, argument == "-v" { rest.append("--version"); index += 1; continue }
            if !argument.hasPrefix("-") { leading = false }
            rest.append(argument)
            index += 1
        }
        return rest
    }

    /// The engine; `database` when the caller opened berth.db with tables of its own (`serve`).
    static func engine(database: StateDatabase? = nil) throws -> Engine {
        try Engine(root: FS.absolute(root), runRoot: FS.absolute(runroot), database: database)
    }

    static func store() throws -> ImageStore {
        try Engine.imageStore(root: root)
    }

    static func client(insecure: [String] = []) -> RegistryClient {
        RegistryClient(credentials: CredentialStore(path: CredentialStore.defaultPath()), insecureRegistries: Set(insecure))
    }
}

/// Parses a user's image reference, with Docker's wording on failure.
func parseReference(_ text: String) throws -> ImageReference {
    do { return try ImageReference(parsing: text) } catch { throw ValidationError(error.message) }
}

/// Registries the user asked to reach over plain HTTP (`--tls-verify=false`, as Podman spells it).
func insecureList(_ tlsVerify: Bool, _ references: [ImageReference]) -> [String] {
    tlsVerify ? [] : references.map(\.registry)
}

func isTerminal(_ fd: Int32) -> Bool { Terminal.isTerminal(fd) }

/// Writes to stderr without buffering.
func printError(_ text: String) {
    var line = text
    if !line.hasSuffix("\n") { line += "\n" }
    fflush(nil)
    try? FS.write(STDERR_FILENO, Array(line.utf8))
}

/// A leaf command. Its work is `execute()`: ArgumentParser's `run()` has a synchronous default
/// (printing help) that overload resolution can pick over an async `run()` through an existential.
protocol BerthCommand: AsyncParsableCommand {
    func execute() async throws
}

extension BerthCommand {
    mutating func run() async throws { try await execute() }
}
