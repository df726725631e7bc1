import ArgumentParser
import Engine
import ContainerNetwork
import OCI
import TextTemplate

/// `container inspect`: Docker's JSON for a container — the fields people script against
/// (State, Config, HostConfig, Name, Image, RestartCount, LogPath, Mounts).
func containerInspectValue(_ container: Container, engine: Engine, sizes: Bool = false) -> TemplateValue {
    let status = engine.status(container)
    let state = status.state
    let options = container.options
    let config = container.config
    func strings(_ list: [String]?) -> TemplateValue { list.map { .array($0.map(TemplateValue.string)) } ?? .null }
    func map(_ values: [String: String]?) -> TemplateValue {
        .object((values ?? [:]).keys.sorted().map { (key: $0, value: TemplateValue.string(values?[$0] ?? "")) })
    }
    func set(_ values: [String: EmptyObject]?) -> TemplateValue {
        guard let values else { return .null }
        return .object(values.keys.sorted().map { (key: $0, value: TemplateValue.object([])) })
    }
    let args = (config.entrypoint ?? []) + (config.cmd ?? [])
    var stateMembers: [(key: String, value: TemplateValue)] = [
        ("Status", .string(status.status)),
        ("Running", .bool(status.isRunning)),
        ("Paused", .bool(status.status == "paused")),
        ("Restarting", .bool(status.status == "restarting")),
        ("OOMKilled", .bool(state.oomKilled)),
        ("Dead", .bool(false)),
        ("Pid", .int(Int64(status.isRunning ? state.pid : 0))),
        ("ExitCode", .int(Int64(state.exitCode))),
        ("Error", .string(state.error)),
        ("StartedAt", .string(state.startedAt)),
        ("FinishedAt", .string(state.finishedAt)),
    ]
    if let health = state.health {
        stateMembers.append(("Health", .object([
            ("Status", .string(health.status)),
            ("FailingStreak", .int(Int64(health.failingStreak))),
            ("Log", .array(health.log.map { probe in
                .object([("Start", .string(probe.start)), ("End", .string(probe.end)),
                         ("ExitCode", .int(Int64(probe.exitCode))), ("Output", .string(probe.output))])
            })),
        ])))
    }
    var healthcheck: TemplateValue = .null
    if let health = config.healthcheck {
        var members: [(key: String, value: TemplateValue)] = [("Test", strings(health.test))]
        if let value = health.interval { members.append(("Interval", .int(value))) }
        if let value = health.timeout { members.append(("Timeout", .int(value))) }
        if let value = health.startPeriod { members.append(("StartPeriod", .int(value))) }
        if let value = health.startInterval { members.append(("StartInterval", .int(value))) }
        if let value = health.retries { members.append(("Retries", .int(Int64(value)))) }
        healthcheck = .object(members)
    }
    var configMembers: [(key: String, value: TemplateValue)] = [
        ("Hostname", .string(options.hostname ?? container.shortID)),
        ("Domainname", .string(options.domainname ?? "")),
        ("User", .string(config.user ?? "")),
        ("AttachStdin", .bool(options.interactive && !options.detach)),
        ("AttachStdout", .bool(!options.detach)),
        ("AttachStderr", .bool(!options.detach)),
        ("ExposedPorts", set(config.exposedPorts)),
        ("Tty", .bool(options.tty)),
        ("OpenStdin", .bool(options.interactive)),
        ("StdinOnce", .bool(options.interactive && !options.detach)),
        ("Env", strings(config.env)),
        ("Cmd", strings(config.cmd)),
    ]
    if config.healthcheck != nil { configMembers.append(("Healthcheck", healthcheck)) }
    configMembers += [
        ("Image", .string(container.image)),
        ("Volumes", set(config.volumes)),
        ("WorkingDir", .string(config.workingDir ?? "")),
        ("Entrypoint", strings(config.entrypoint)),
        ("OnBuild", strings(config.onBuild)),
        ("Labels", map(config.labels)),
    ]
    if let signal = config.stopSignal { configMembers.append(("StopSignal", .string(signal))) }
    if let timeout = options.stopTimeout { configMembers.append(("StopTimeout", .int(Int64(timeout)))) }

    let restart: TemplateValue = {
        var retries = 0
        if case .onFailure(let maximum) = options.restart { retries = maximum ?? 0 }
        return .object([("Name", .string(options.restart.name)), ("MaximumRetryCount", .int(Int64(retries)))])
    }()
    let binds = options.mounts.filter { $0.kind != .tmpfs && $0.source != nil }.map { mount in
        "\(mount.source ?? ""):\(mount.target)" + (mount.readOnly || !mount.options.isEmpty
            ? ":" + ((mount.readOnly ? ["ro"] : []) + mount.options).joined(separator: ",") : "")
    }
    let tmpfs = Dictionary(options.mounts.filter { $0.kind == .tmpfs }.map { ($0.target, $0.options.joined(separator: ",")) },
                           uniquingKeysWith: { first, _ in first })
    let ulimits: TemplateValue = .array(options.ulimits.map { limit in
        .object([("Name", .string(limit.name)), ("Hard", .int(limit.hard)), ("Soft", .int(limit.soft))])
    })
    let hostConfig: TemplateValue = .object([
        ("Binds", binds.isEmpty ? .null : strings(binds)),
        ("NetworkMode", .string(options.network == .default ? "default" : networkName(options.network))),
        ("PortBindings", portBindingsValue(options.net.publish)),
        ("PublishAllPorts", .bool(options.net.publishAll)),
        ("Dns", strings(options.net.dns)),
        ("DnsOptions", strings(options.net.dnsOptions)),
        ("DnsSearch", strings(options.net.dnsSearch)),
        ("ExtraHosts", options.net.extraHosts.isEmpty ? .null : strings(options.net.extraHosts)),
        ("RestartPolicy", restart),
        ("AutoRemove", .bool(options.autoRemove)),
        ("CapAdd", options.capAdd.isEmpty ? .null : strings(options.capAdd)),
        ("CapDrop", options.capDrop.isEmpty ? .null : strings(options.capDrop)),
        ("GroupAdd", options.groupAdd.isEmpty ? .null : strings(options.groupAdd)),
        ("OomScoreAdj", .int(Int64(options.oomScoreAdj ?? 0))),
        ("Privileged", .bool(options.privileged)),
        ("ReadonlyRootfs", .bool(options.readOnlyRootfs)),
        ("SecurityOpt", options.securityOpt.isEmpty && !options.noNewPrivileges ? .null
            : strings(options.securityOpt + (options.noNewPrivileges ? ["no-new-privileges"] : []))),
        ("Tmpfs", tmpfs.isEmpty ? .null : map(tmpfs)),
        ("Sysctls", options.sysctls.isEmpty ? .null : map(options.sysctls)),
        ("ShmSize", .int(options.shmSize ?? 67_108_864)),
        ("Init", options.initProcess ? .bool(true) : .null),
        ("Memory", .int(options.memory ?? 0)),
        ("MemoryReservation", .int(options.memoryReservation ?? 0)),
        ("MemorySwap", .int(options.memorySwap ?? (options.memory.map { $0 * 2 } ?? 0))),
        ("NanoCpus", .int(options.nanoCPUs ?? 0)),
        ("CpuShares", .int(Int64(options.cpuShares ?? 0))),
        ("CpuPeriod", .int(Int64(options.cpuPeriod ?? 0))),
        ("CpuQuota", .int(options.cpuQuota ?? 0)),
        ("CpusetCpus", .string(options.cpusetCpus ?? "")),
        ("CpusetMems", .string(options.cpusetMems ?? "")),
        ("PidsLimit", options.pidsLimit.map { TemplateValue.int($0) } ?? .null),
        ("Ulimits", options.ulimits.isEmpty ? .null : ulimits),
        ("Devices", .array(options.devices.map { device in
            .object([("PathOnHost", .string(device.hostPath)), ("PathInContainer", .string(device.containerPath)),
                     ("CgroupPermissions", .string(device.permissions))])
        })),
        ("LogConfig", .object([("Type", .string("json-file")), ("Config", map(options.logOptions))])),
    ])
    let mounts = containerMountsValue(container, engine: engine)
    var sizeMembers: [(key: String, value: TemplateValue)] = []
    if sizes {
        let measured = engine.sizes(container)
        sizeMembers = [("SizeRw", .int(measured.writable)), ("SizeRootFs", .int(measured.rootFS))]
    }
    var members: [(key: String, value: TemplateValue)] = [
        ("Id", .string(container.id)),
        ("Created", .string(container.created)),
        ("Path", .string(args.first ?? "")),
        ("Args", strings(Array(args.dropFirst()))),
        ("State", .object(stateMembers)),
        ("Image", .string(container.imageID)),
        ("ResolvConfPath", .string(engine.root + "/containers/\(container.id)/resolv.conf")),
        ("HostnamePath", .string(engine.root + "/containers/\(container.id)/hostname")),
        ("HostsPath", .string(engine.root + "/containers/\(container.id)/hosts")),
        ("LogPath", .string(engine.logPath(container.id))),
        ("Name", .string("/" + container.name)),
        ("RestartCount", .int(Int64(state.restartCount))),
        ("Driver", .string("overlay")),
        ("Platform", .string("linux")),
        ("MountLabel", .string("")),
        ("ProcessLabel", .string("")),
        ("AppArmorProfile", .string("")),
        ("HostConfig", hostConfig),
        ("GraphDriver", .object([
            ("Data", .object([
                ("MergedDir", .string(engine.root + "/containers/\(container.id)/rootfs")),
                ("UpperDir", .string(engine.root + "/containers/\(container.id)/upper")),
                ("WorkDir", .string(engine.root + "/containers/\(container.id)/work")),
            ])),
            ("Name", .string("overlay")),
        ])),
    ]
    members += sizeMembers
    members += [
        ("Mounts", mounts),
        ("Config", .object(configMembers)),
        ("NetworkSettings", networkSettingsValue(container, engine: engine)),
    ]
    return .object(members)
}

/// HostConfig.PortBindings as given (a host port of 0, "pick one", is Docker's empty string).
func portBindingsValue(_ ports: [PortMapping]) -> TemplateValue {
    var byKey: [String: [PortMapping]] = [:]
    for port in ports { byKey[port.containerKey, default: []].append(port) }
    return .object(byKey.keys.sorted().map { key in
        (key, .array((byKey[key] ?? []).map { .object([("HostIp", .string($0.hostIP)), ("HostPort", .string($0.hostPort == 0 ? "" : String($0.hostPort)))]) }))
    })
}

/// Docker's NetworkSettings: the published ports, and per network the endpoint's address (filled
/// while the container runs); the top-level address fields are the default network's, as Docker's.
func networkSettingsValue(_ container: Container, engine: Engine) -> TemplateValue {
    let attachments = engine.attachments(container)
    var ports: [(key: String, value: TemplateValue)] = []
    var published: [String: [PortMapping]] = [:]
    for port in attachments.flatMap(\.ports) { published[port.containerKey, default: []].append(port) }
    var keys = Set(published.keys)
    for key in (container.config.exposedPorts ?? [:]).keys { keys.insert(key.contains("/") ? key : key + "/tcp") }
    for key in keys.sorted() {
        if let list = published[key] {
            ports.append((key, .array(list.map { .object([("HostIp", .string($0.hostIP.isEmpty ? "0.0.0.0" : $0.hostIP)), ("HostPort", .string(String($0.hostPort)))]) })))
        } else {
            ports.append((key, .null))
        }
    }
    var networks: [(key: String, value: TemplateValue)] = []
    for (network, endpoint) in engine.networkEndpoints(container) {
        let attachment = attachments.first { $0.network.id == network.id }
        networks.append((network.name, .object([
            ("IPAMConfig", endpoint.ipv4.map { .object([("IPv4Address", .string($0))]) } ?? .null),
            ("Links", .null),
            ("Aliases", endpoint.aliases.isEmpty && network.name == Engine.defaultNetworkName ? .null
                : .array((endpoint.aliases + [container.shortID]).map { .string($0) })),
            ("NetworkID", .string(network.id)),
            ("EndpointID", .string(attachment.map(endpointID) ?? "")),
            ("Gateway", .string(attachment?.gateway ?? "")),
            ("IPAddress", .string(attachment?.ipAddress ?? "")),
            ("IPPrefixLen", .int(Int64(attachment?.prefixLength ?? 0))),
            ("IPv6Gateway", .string("")),
            ("GlobalIPv6Address", .string("")),
            ("GlobalIPv6PrefixLen", .int(0)),
            ("MacAddress", .string(attachment?.macAddress ?? "")),
            ("DriverOpts", .null),
        ])))
    }
    switch container.options.network {
    case .host: networks = [("host", .object([("NetworkID", .string("4057f1c7" + String(repeating: "0", count: 56)))]))]
    case .none: networks = [("none", .object([("NetworkID", .string("a0e2c1d9" + String(repeating: "0", count: 56)))]))]
    default: break
    }
    let primary = attachments.first { $0.network.name == Engine.defaultNetworkName }
    return .object([
        ("Bridge", .string("")),
        ("SandboxID", .string(attachments.isEmpty ? "" : container.id)),
        ("HairpinMode", .bool(false)),
        ("Ports", .object(ports)),
        ("SandboxKey", .string(attachments.isEmpty ? "" : engine.runRoot + "/netns/" + container.id)),
        ("EndpointID", .string(primary.map(endpointID) ?? "")),
        ("Gateway", .string(primary?.gateway ?? "")),
        ("GlobalIPv6Address", .string("")),
        ("GlobalIPv6PrefixLen", .int(0)),
        ("IPAddress", .string(primary?.ipAddress ?? "")),
        ("IPPrefixLen", .int(Int64(primary?.prefixLength ?? 0))),
        ("IPv6Gateway", .string("")),
        ("MacAddress", .string(primary?.macAddress ?? "")),
        ("Networks", .object(networks)),
    ])
}

struct ContainerInspect: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more containers")

    @Option(name: .shortAndLong, help: "Format output using a Go template, or json")
    var format: String?
    @Flag(name: .shortAndLong, help: "Display total file sizes")
    var size = false
    @Argument(help: "CONTAINER")
    var containers: [String]

    func execute() async throws {
        let engine = try GlobalOptions.engine()
        var values: [TemplateValue] = []
        var failed = false
        for name in containers {
            do { values.append(containerInspectValue(try engine.container(name), engine: engine, sizes: size)) } catch {
                printError("Error: No such container: \(name)")
                failed = true
            }
        }
        if !values.isEmpty || failed == false { printBlock(try InspectFormatter.render(values, format: format == "json" ? nil : format)) }
        if failed { throw ExitCode(1) }
    }
}
