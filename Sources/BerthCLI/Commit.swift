import ArgumentParser
import Engine
import Glibc
import LinuxSys
import OCI

/// `commit`: a new image from a container's changes; prints its ID as Docker does.
struct Commit: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "commit", abstract: "Create a new image from a container's changes")

    @Option(name: .shortAndLong, help: "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")")
    var author: String?
    @Option(name: .shortAndLong, help: "Apply Dockerfile instruction to the created image")
    var change: [String] = []
    @Option(name: .shortAndLong, help: "Commit message")
    var message: String?
    @Option(name: .shortAndLong, help: "Pause container during commit (true|false)")
    var pause = true
    @Argument(help: "CONTAINER")
    var container: String
    @Argument(help: "REPOSITORY[:TAG]")
    var repository: String?

    func execute() async throws {
        // Docker's CLI checks the reference itself, and exits 1 on it.
        let reference: ImageReference?
        do { reference = try repository.map(parseReference) } catch let error as ValidationError {
            printError(error.message)
            throw ExitCode(1)
        }
        if let reference, reference.digest != nil {
            printError("refusing to create a tag with a digest reference")
            throw ExitCode(1)
        }
        let engine = try GlobalOptions.engine()
        let id = try engine.commit(try engine.container(container),
                                   Engine.CommitOptions(reference: reference, author: author, comment: message, changes: change, pause: pause))
        print(id)
    }
}

/// `diff`: the container's changed files, one `C|A|D /path` line each.
struct Diff: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "Inspect changes to files or directories on a container's filesystem")

    @Argument(help: "CONTAINER")
    var container: String

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        let changes = try engine.changes(try engine.container(container))
        print(changes.map { "\($0.kind.letter) \($0.path)\n" }.joined(), terminator: "")
    }
}

/// `export`: the container's filesystem as a tar archive, to stdout (never a terminal) or `-o FILE`.
struct Export: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export a container's filesystem as a tar archive")

    @Option(name: .shortAndLong, help: "Write to a file, instead of STDOUT")
    var output: String?
    @Argument(help: "CONTAINER")
    var container: String

    func execute() async throws {
        guard output != nil || !isTerminal(STDOUT_FILENO) else {
            printError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
            throw ExitCode(1)
        }
        let engine = try GlobalOptions.engine()
        let found = try engine.container(container)
        guard let output else {
            try engine.export(found, to: STDOUT_FILENO)
            return
        }
        // Written beside the target and renamed, so a failed export leaves no torn archive.
        try FS.replaceDurably(output, temporary: output + ".berth-export-\(ProcessSys.currentPID)") { fd in
            try engine.export(found, to: fd)
        }
    }
}
