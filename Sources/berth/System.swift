import ArgumentParser
import Engine

/// `system`: engine-wide commands.
struct SystemCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system", abstract: "Manage Berth", subcommands: [SystemBoot.self])
}

/// `system boot`: what dockerd does when it starts after a host restart — brings back the
/// containers whose restart policy is `always`, or `unless-stopped` and not stopped by hand.
/// Run it once at boot (rc.local, a systemd unit, an init script); it is harmless to repeat.
struct SystemBoot: BerthCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot", abstract: "Start the containers whose restart policy asks for it after a host restart")

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        var failed = false
        for result in try engine.boot() {
            if let error = result.error {
                printError("berth: start \(result.container.name): \(error.description)")
                failed = true
            } else {
                print(result.container.name)
            }
        }
        if failed { throw ExitCode(1) }
    }
}
