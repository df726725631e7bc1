import ArgumentParser
import ContainerSpec
import Engine
import Glibc
import LinuxSys

/// The `berth` executable's whole life: takes the global options off the command line, runs the
/// command and exits with its status.
public enum BerthMain {
    public static func run(_ commandLine: [String]) -> Never {
        // --root and --runroot may come before the command, as with Podman (`berth --root /tmp/x pull …`).
        let arguments = GlobalOptions.extract(from: commandLine)

        // Not an async main: that parks the main thread with pthread_exit, and unwinding it makes the C
        // unwinder index every frame of this static binary first — about 40 ms of CPU on every command.
        // The command runs on the concurrency pool instead, and the main thread just waits to be exited.
        Task.detached { [arguments] in await runCommand(arguments) }
        while true { pause() }
    }

    /// The command words up to one that names no command (`["nosuch"]`, `["network", "nosuch"]`),
    /// or nil when the words name a command (or there are none before the first flag).
    static func unknownCommand(_ arguments: [String]) -> [String]? {
        var command: any ParsableCommand.Type = Berth.self
        var words: [String] = []
        for argument in arguments {
            let subcommands = command.configuration.subcommands
            guard !argument.hasPrefix("-"), !subcommands.isEmpty else { return nil }
            words.append(argument)
            if argument == "help" { return nil }
            guard let next = subcommands.first(where: { $0._commandName == argument || $0.configuration.aliases.contains(argument) }) else {
                return words
            }
            command = next
        }
        return nil
    }

    /// Runs the command and exits with its status.
    static func runCommand(_ arguments: [String]) async -> Never {
        if let unknown = unknownCommand(arguments) {
            // Docker's words and status for a command it does not have.
            let usage = unknown.count > 1 ? "\nUsage:  berth \(unknown.dropLast().joined(separator: " "))\n" : ""
            printError("berth: unknown command: berth \(unknown.joined(separator: " "))\n\(usage)\nRun 'berth \(unknown.dropLast().map { $0 + " " }.joined())--help' for more information")
            exit(1)
        }
        var command: any ParsableCommand
        do {
            command = try Berth.parseAsRoot(arguments)
        } catch {
            // Usage errors exit as Docker's CLI does, not with ArgumentParser's 64: a bad flag or flag
            // value 125 (scripts tell "berth failed" from "the container failed" by it), a missing or
            // extra argument (or an unknown command) 1.
            if Berth.exitCode(for: error) == .validationFailure {
                let message = Berth.fullMessage(for: error)
                printError(message)
                exit(message.contains("Missing expected argument") || message.contains("Unexpected argument") ? 1 : 125)
            }
            Berth.exit(withError: error)
        }
        do {
            if let leaf = command as? any BerthCommand {
                try await leaf.execute()
            } else {
                try command.run()
            }
        } catch {
            // A service's failure no command caught: printed as the CLI prints it (the daemon's words
            // when it is the daemon's), with ArgumentParser's status for an error, 1.
            if error is EngineError || error is Engine.StartError || error is ExecError {
                printError(describe(error))
                exit(1)
            }
            Berth.exit(withError: error)
        }
        exit(0)
    }
}
