// berth: the Docker-style command line for Berth's engine. Images for now (pull, push, images,
// inspect, tag, rmi, prune, save, load, import, history, login, logout).
import ArgumentParser

// --root and --runroot may come before the command, as with Podman (`berth --root /tmp/x pull …`).
let arguments = GlobalOptions.extract(from: Array(CommandLine.arguments.dropFirst()))
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
