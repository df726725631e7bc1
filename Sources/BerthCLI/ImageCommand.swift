import ArgumentParser

/// `berth image …`: the image commands under Docker's management-command names.
struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Manage images",
        subcommands: [ImageInspectCommand.self, ImageList.self, ImageRemove.self, Prune.self, Pull.self, Push.self,
                      Tag.self, Save.self, Load.self, Import.self, History.self])
}

struct ImageList: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List images", aliases: ["list"])
    @OptionGroup var options: ImagesOptions
    func execute() async throws { try options.list() }
}

struct ImageRemove: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more images", aliases: ["remove"])
    @OptionGroup var options: RemoveOptions
    func execute() async throws { try options.remove() }
}
