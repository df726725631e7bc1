import ArgumentParser
import ImageStore
import OCI
import TextTemplate

/// `image inspect` (and `inspect`, which only knows images so far): Docker's JSON for each image.
struct ImageInspect: BerthCommand {
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
                values.append(containerInspectValue(container, engine: engine, sizes: size))
            } else if kind != "container", let record = try? engine.images.resolve(name), let image = try? engine.images.load(record) {
                values.append(try inspectValue(image, store: engine.images))
            } else {
                missing.append(name)
            }
        }
        if !values.isEmpty || missing.isEmpty {
            printBlock(try InspectFormatter.render(values, format: format == "json" ? nil : format))
        }
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
            values.append(try inspectValue(image, store: store))
        } catch let error as ImageStoreError {
            missing.append(error.message)
        }
    }
    if !values.isEmpty || missing.isEmpty {
        printBlock(try InspectFormatter.render(values, format: format == "json" ? nil : format))
    }
    if !missing.isEmpty {
        for message in missing { printError("Error: \(message)") }
        throw ExitCode(1)
    }
}

/// An image as Docker's `GET /images/{name}/json` shows it, members in Docker's order.
func inspectValue(_ image: ImageStore.Image, store: ImageStore) throws -> TemplateValue {
    let config = image.config.config ?? ContainerConfig()
    func strings(_ list: [String]?) -> TemplateValue { list.map { .array($0.map(TemplateValue.string)) } ?? .null }
    func set(_ map: [String: EmptyObject]?) -> TemplateValue {
        map.map { .object($0.keys.sorted().map { (key: $0, value: .object([])) }) } ?? .null
    }
    var configMembers: [(key: String, value: TemplateValue)] = [
        ("Hostname", .string("")), ("Domainname", .string("")), ("User", .string(config.user ?? "")),
        ("AttachStdin", .bool(false)), ("AttachStdout", .bool(false)), ("AttachStderr", .bool(false)),
    ]
    if let ports = config.exposedPorts { configMembers.append(("ExposedPorts", set(ports))) }
    configMembers += [
        ("Tty", .bool(false)), ("OpenStdin", .bool(false)), ("StdinOnce", .bool(false)),
        ("Env", strings(config.env)), ("Cmd", strings(config.cmd)),
    ]
    if let health = config.healthcheck {
        var members: [(key: String, value: TemplateValue)] = [("Test", strings(health.test))]
        if let v = health.interval { members.append(("Interval", .int(v))) }
        if let v = health.timeout { members.append(("Timeout", .int(v))) }
        if let v = health.startPeriod { members.append(("StartPeriod", .int(v))) }
        if let v = health.retries { members.append(("Retries", .int(Int64(v)))) }
        configMembers.append(("Healthcheck", .object(members)))
    }
    if let escaped = config.argsEscaped { configMembers.append(("ArgsEscaped", .bool(escaped))) }
    let labels: TemplateValue = config.labels.map { labels in
        .object(labels.keys.sorted().map { key in (key: key, value: TemplateValue.string(labels[key] ?? "")) })
    } ?? .null
    configMembers.append(("Image", .string("")))
    configMembers.append(("Volumes", set(config.volumes)))
    configMembers.append(("WorkingDir", .string(config.workingDir ?? "")))
    configMembers.append(("Entrypoint", strings(config.entrypoint)))
    configMembers.append(("OnBuild", strings(config.onBuild)))
    configMembers.append(("Labels", labels))
    if let signal = config.stopSignal { configMembers.append(("StopSignal", .string(signal))) }
    if let shell = config.shell { configMembers.append(("Shell", strings(shell))) }

    let lower = store.layerPaths(image).reversed().joined(separator: ":")
    var members: [(key: String, value: TemplateValue)] = [
        ("Id", .string(image.id.description)),
        ("RepoTags", .array(image.record.tags.compactMap { try? ImageReference(parsing: $0).familiar }.map(TemplateValue.string))),
        ("RepoDigests", .array(image.record.repoDigests.compactMap { try? ImageReference(parsing: $0).familiar }.map(TemplateValue.string))),
        ("Parent", .string("")),
        ("Comment", .string(image.config.history?.last?.comment ?? "")),
        ("Created", .string(image.config.created ?? "")),
        ("DockerVersion", .string("")),
        ("Author", .string(image.config.author ?? "")),
        ("Config", .object(configMembers)),
        ("Architecture", .string(image.config.architecture)),
    ]
    if let variant = image.config.variant { members.append(("Variant", .string(variant))) }
    members += [
        ("Os", .string(image.config.os)),
        ("Size", .int(image.record.size)),
        ("GraphDriver", .object([
            ("Data", .object([("LowerDir", .string(lower))])),
            ("Name", .string("overlay")),
        ])),
        ("RootFS", .object([
            ("Type", .string(image.config.rootfs.type)),
            ("Layers", .array(image.config.rootfs.diffIDs.map { .string($0.description) })),
        ])),
        ("Metadata", .object([
            ("LastTagTime", .string(image.record.lastTagTime.map { Timestamp.format(seconds: Int($0), nanoseconds: Int(($0 - $0.rounded(.down)) * 1e9)) } ?? "0001-01-01T00:00:00Z")),
        ])),
    ]
    return .object(members)
}
