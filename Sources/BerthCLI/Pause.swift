import ArgumentParser
import Engine

/// `pause`: freezes every process of each container (cgroup freezer); prints each name as given.
struct Pause: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause all processes within one or more containers")

    @Argument(help: "CONTAINER")
    var containers: [String]

    func validate() throws {
        if containers.isEmpty { throw ValidationError("\"pause\" requires at least 1 argument.") }
    }

    func execute() async throws {
        try eachContainer(containers) { engine, container in
            try engine.pause(container)
            return nil
        }
    }
}

/// `unpause`: thaws each paused container.
struct Unpause: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "unpause", abstract: "Unpause all processes within one or more containers")

    @Argument(help: "CONTAINER")
    var containers: [String]

    func validate() throws {
        if containers.isEmpty { throw ValidationError("\"unpause\" requires at least 1 argument.") }
    }

    func execute() async throws {
        try eachContainer(containers) { engine, container in
            try engine.unpause(container)
            return nil
        }
    }
}
