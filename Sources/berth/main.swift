// berth: the Docker-style command line for Berth's engine: images (pull, push, build, …) and
// containers (run, ps, logs, …).
import ArgumentParser
import Glibc

// --root and --runroot may come before the command, as with Podman (`berth --root /tmp/x pull …`).
let arguments = GlobalOptions.extract(from: Array(CommandLine.arguments.dropFirst()))

/// Runs the command and exits with its status.
func runCommand(_ arguments: [String]) async -> Never {
    do {
        var command = try Berth.parseAsRoot(arguments)
        if let leaf = command as? any BerthCommand {
            try await leaf.execute()
        } else {
            try command.run()
        }
    } catch {
        Berth.exit(withError: error)
    }
    exit(0)
}

// Not an async main: that parks the main thread with pthread_exit, and unwinding it makes the C
// unwinder index every frame of this static binary first — about 40 ms of CPU on every command.
// The command runs on the concurrency pool instead, and the main thread just waits to be exited.
Task.detached { [arguments] in await runCommand(arguments) }
while true { pause() }
