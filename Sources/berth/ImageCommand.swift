import ArgumentParser

/// `berth image …`: the image commands under Docker's management-command names.
struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Manage images",
        subcommands: [ImageInspect.self, ImageList.self, ImageRemove.self, Prune.self, Pull.self, Push.self,
                      Tag.self, Save.self, Load.self, Import.self, History.self])
}

struct ImageList: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List images", aliases: ["list"])
    @OptionGroup var options: ImagesOptions
    func execute() async throws { try await options.images.execute() }
}

struct ImagesOptions: ParsableArguments {
    @Flag(name: .shortAndLong) var all = false
    @Flag(name: .shortAndLong) var quiet = false
    @Flag var digests = false
    @Flag(name: .customLong("no-trunc")) var noTrunc = false
    @Option(name: .shortAndLong) var filter: [String] = []
    @Option var format: String?
    @Argument var repository: String?

    var images: Images {
        var command = Images()
        command.all = all
        command.quiet = quiet
        command.digests = digests
        command.noTrunc = noTrunc
        command.filter = filter
        command.format = format
        command.repository = repository
        return command
    }
}

struct ImageRemove: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more images", aliases: ["remove"])
    @Flag(name: .shortAndLong, help: "Force removal of the image") var force = false
    @Argument var images: [String]
    func execute() async throws {
        var command = Rmi()
        command.force = force
        command.images = images
        try await command.execute()
    }
}
