import ArgumentParser
import DockerModel
import ImageStore
import OCI
import TextTemplate

/// `image inspect` (and `inspect`, which only knows images so far): Docker's JSON for each image.
struct ImageInspectCommand: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more images")

    @Option(name: .shortAndLong, help: "Format output using a Go template, or json")
    var format: String?
    @Argument(help: "IMAGE")
    var images: [String]

    func execute() async throws {
        try inspectImages(images, format: format)
    }
}

struct Inspect: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Return low-level information on containers and images")

    @Option(name: .shortAndLong, help: "Format output using a Go template, or json")
    var format: String?
    @Option(name: .customLong("type"), help: "Only search for objects of this type (container, image)")
    var kind: String?
    @Flag(name: .shortAndLong, help: "Display total file sizes if the type is container")
    var size = false
    @Argument(help: "NAME|ID")
    var names: [String]

    func execute() async throws {
        if let kind, kind != "image" && kind != "container" {
            throw ValidationError("\"\(kind)\" is not a valid value for --type")
        }
        if kind == "image" { return try inspectImages(names, format: format) }
        // As Docker: each name is looked up as a container first, then as an image.
        let engine = try GlobalOptions.engine()
        var values: [TemplateValue] = []
        var missing: [String] = []
        for name in names {
            if let container = try? engine.container(name) {
                values.append(try templateValue(DockerModel.ContainerInspect(container, engine: engine, sizes: size)))
            } else if kind != "container", let record = try? engine.images.resolve(name), let image = try? engine.images.load(record) {
                values.append(try templateValue(DockerModel.ImageInspect(image, store: engine.images)))
            } else {
                missing.append(name)
            }
        }
        // As Docker: what was found (`[]` for nothing), then the names that were not.
        try printInspected(values, format: format)
        if !missing.isEmpty {
            for name in missing { printError("Error: No such object: \(name)") }
            throw ExitCode(1)
        }
    }
}

func inspectImages(_ names: [String], format: String?) throws {
    let store = try GlobalOptions.store()
    var values: [TemplateValue] = []
    var missing: [String] = []
    for name in names {
        do {
            let image = try store.load(try store.resolve(name))
            values.append(try templateValue(DockerModel.ImageInspect(image, store: store)))
        } catch let error as ImageStoreError {
            missing.append(error.message)
        }
    }
    try printInspected(values, format: format)
    if !missing.isEmpty {
        for message in missing { printError("Error: \(message)") }
        throw ExitCode(1)
    }
}
