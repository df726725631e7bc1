import ArgumentParser
import DockerModel
import Engine
import ImageStore
import Glibc

/// `system`: engine-wide commands.
struct SystemCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system", abstract: "Manage Berth", subcommands: [SystemBoot.self, SystemPrune.self, SystemDf.self, InfoCommand.self])
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
                printError("berth: start \(result.container.name): \(describe(error))")
                failed = true
            } else {
                print(result.container.name)
            }
        }
        // What a server killed mid-deletion left of removed containers.
        engine.emptyTrash()
        if failed { throw ExitCode(1) }
    }
}

/// `system prune`: stopped containers, networks no container uses, dangling images (with `-a`,
/// every unused image), with `--volumes` unused anonymous volumes — Docker's order and output.
struct SystemPrune: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused data")

    @Flag(name: .shortAndLong, help: "Remove all unused images not just dangling ones")
    var all = false
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation")
    var force = false
    @Flag(help: "Prune anonymous volumes")
    var volumes = false

    func execute() async throws {
        if !force {
            var lines = ["  - all stopped containers", "  - all networks not used by at least one container"]
            if volumes { lines.append("  - all anonymous volumes not used by at least one container") }
            lines.append(all ? "  - all images without at least one container associated to them" : "  - all dangling images")
            print("WARNING! This will remove:\n" + lines.joined(separator: "\n") + "\n\nAre you sure you want to continue? [y/N] ", terminator: "")
            fflush(nil)
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { return }
        }
        let engine = try GlobalOptions.engine()
        var removedContainers: [String] = []
        for container in try engine.all() {
            let status = engine.status(container)
            guard status.status == .exited || status.status == .created && !status.state.supervisorAlive else { continue }
            // rm runs any CNI DEL a crashed container left behind.
            if (try? engine.remove(container, force: false)) != nil { removedContainers.append(container.id) }
        }
        if !removedContainers.isEmpty { print("Deleted Containers:\n" + removedContainers.map { $0 + "\n" }.joined()) }
        let removedNetworks = (try? engine.pruneNetworks()) ?? []
        if !removedNetworks.isEmpty { print("Deleted Networks:\n" + removedNetworks.map { $0 + "\n" }.joined()) }
        var reclaimed: Int64 = 0
        if volumes {
            var removedVolumes: [String] = []
            let inUse = (try? engine.volumesInUse()) ?? []
            for volume in (try? engine.volumes()) ?? [] where volume.anonymous && !inUse.contains(volume.name) {
                let size = engine.volumeSize(volume.name)
                if (try? engine.removeVolume(volume.name)) != nil {
                    removedVolumes.append(volume.name)
                    reclaimed += size
                }
            }
            if !removedVolumes.isEmpty { print("Deleted Volumes:\n" + removedVolumes.map { $0 + "\n" }.joined()) }
        }
        let store = try GlobalOptions.store()
        let (removedImages, imageBytes) = try store.prune(all: all, inUse: Set(try imagesInUse().keys))
        if !removedImages.isEmpty { print("Deleted Images:\n" + removedImages.map { "deleted: \($0)\n" }.joined()) }
        print("Total reclaimed space: \(humanSize(reclaimed + imageBytes, significantDigits: 4))")
    }
}
