import ArgumentParser
import ContainerSpec
import Engine
import Glibc
import LinuxSys

/// `exec`: runs a command in a running container, through berth-runtime (see Engine.exec).
/// Exit status as Docker's: the command's own, 126 when it cannot be started, 127 when it is not
/// found, 1 when the container is missing or not running.
struct Exec: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Execute a command in a running container")

    @Flag(name: .shortAndLong, help: "Keep STDIN open even if not attached")
    var interactive = false
    @Flag(name: .shortAndLong, help: "Allocate a pseudo-TTY")
    var tty = false
    @Flag(name: .shortAndLong, help: "Detached mode: run command in the background")
    var detach = false
    @Option(name: .shortAndLong, help: "Set environment variables")
    var env: [String] = []
    @Option(name: .customLong("env-file"), help: "Read in a file of environment variables")
    var envFile: [String] = []
    @Option(name: .shortAndLong, help: "Username or UID (format: \"<name|uid>[:<group|gid>]\")")
    var user: String?
    @Option(name: .shortAndLong, help: "Working directory inside the container")
    var workdir: String?
    @Flag(help: "Give extended privileges to the command")
    var privileged = false
    @Option(name: .customLong("detach-keys"), help: "Override the key sequence for detaching a container (accepted; exec does not detach)")
    var detachKeys: String?
    @Argument(help: "CONTAINER")
    var container: String
    @Argument(parsing: .captureForPassthrough, help: "COMMAND [ARG...]")
    var command: [String] = []

    func execute() async throws {
        let words = command.first == "--" ? Array(command.dropFirst()) : command
        guard !words.isEmpty else {
            printError("\"berth exec\" requires at least 2 arguments.\nSee 'berth exec --help'.")
            throw ExitCode(1)
        }
        let engine = try GlobalOptions.engine()
        let target = try lookup(engine, container)
        var request = ExecRequest(command: words)
        request.tty = tty
        request.detach = detach
        request.privileged = privileged
        request.user = user
        request.workdir = workdir
        do {
            let lookup: (String) -> String? = { key in getenv(key).map { String(cString: $0) } }
            for path in envFile { request.env += try RunOptions.Parse.keyValueFile(path, lookup: lookup) }
            for item in env {
                if let entry = try RunOptions.Parse.env(item, lookup: lookup) { request.env.append(entry) }
            }
        } catch {
            printError(error.cliText)
            throw ExitCode(1)
        }
        // Docker's check: a terminal with stdin needs our stdin to be one.
        if tty && interactive && !detach && !Terminal.isTerminal(0) {
            printError("the input device is not a TTY")
            throw ExitCode(1)
        }
        if tty && !detach {
            if let size = Terminal.windowSize(1) ?? Terminal.windowSize(0) {
                request.consoleSize = size
            }
        }
        // Without -i the process's stdin is empty; with -d nothing is connected.
        request.interactive = interactive
        let status: Int32
        do {
            status = try engine.exec(target, request)
        } catch {
            printError(error.cliText)
            throw ExitCode(error.exitCode)
        }
        throw ExitCode(status)
    }
}
