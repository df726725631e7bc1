import ArgumentParser
import Engine

/// `cp`: copies files or folders between a container and the host (or a tar stream with `-`).
struct Cp: BerthCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp",
        abstract: "Copy files/folders between a container and the local filesystem",
        discussion: """
            berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-
            berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH

            Use '-' as the source to read a tar archive from stdin and extract it to a directory
            destination in a container. Use '-' as the destination to stream a tar archive of a
            container source to stdout.
            """)

    @Flag(name: .shortAndLong, help: "Archive mode (copy all uid/gid information)")
    var archive = false
    @Flag(name: [.customShort("L"), .customLong("follow-link")], help: "Always follow symbol link in SRC_PATH")
    var followLink = false
    @Flag(name: .shortAndLong, help: "Suppress progress output during copy")
    var quiet = false
    @Argument(help: "SRC_PATH or CONTAINER:SRC_PATH")
    var source: String
    @Argument(help: "DEST_PATH or CONTAINER:DEST_PATH")
    var destination: String

    /// Docker's reading of an argument: an absolute path or one starting with "." is local;
    /// otherwise `NAME:PATH` names a container.
    static func split(_ argument: String) -> (container: String?, path: String) {
        if argument.hasPrefix("/") { return (nil, argument) }
        guard let colon = argument.firstIndex(of: ":") else { return (nil, argument) }
        let container = String(argument[..<colon])
        if container.hasPrefix(".") { return (nil, argument) }
        return (container, String(argument[argument.index(after: colon)...]))
    }

    func execute() async throws {
        let from = Self.split(source), to = Self.split(destination)
        let options = Engine.CopyOptions(archive: archive, followLink: followLink)
        do {
            if from.path.isEmpty && from.container == nil { throw ValidationError("source can not be empty") }
            if to.path.isEmpty && to.container == nil { throw ValidationError("destination can not be empty") }
            let engine = try GlobalOptions.engine()
            switch (from.container, to.container) {
            case (nil, nil):
                throw ValidationError("must specify at least one container source")
            case (.some, .some):
                throw ValidationError("copying between containers is not supported")
            case (let name?, nil):
                let container = try engine.container(name)
                try engine.copyFromContainer(container, path: from.path.isEmpty ? "/" : from.path, to: to.path, options: options)
            case (nil, let name?):
                let container = try engine.container(name)
                try engine.copyToContainer(container, source: from.path, path: to.path.isEmpty ? "/" : to.path, options: options)
            }
        } catch {
            printError(describe(error))
            throw ExitCode(1)
        }
    }
}
