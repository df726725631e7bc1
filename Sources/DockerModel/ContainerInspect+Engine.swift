import ContainerNetwork
import ContainerSpec
import Engine
import LinuxSys
import OCI
import Supervisor

extension ContainerInspect {
    /// The inspect object of a container, from the engine's records and what is true now.
    public init(_ container: Container, engine: Engine, sizes: Bool = false) {
        let status = engine.status(container)
        let state = status.state
        let options = container.options
        let config = container.config
        let args = (config.entrypoint ?? []) + (config.cmd ?? [])
        id = container.id
        created = container.created
        path = args.first ?? ""
        self.args = Array(args.dropFirst())
        self.state = State(
            status: status.status.rawValue, running: status.isRunning, paused: status.status == .paused,
            restarting: status.status == .restarting, oomKilled: state.oomKilled,
            pid: Int(status.isRunning ? state.pid : 0), exitCode: Int(state.exitCode), error: state.error,
            startedAt: state.startedAt, finishedAt: state.finishedAt,
            health: state.health.map { health in
                Health(status: health.status, failingStreak: health.failingStreak, log: health.log.map { probe in
                    Health.Probe(start: probe.start, end: probe.end, exitCode: Int(probe.exitCode), output: probe.output)
                })
            })
        image = container.imageID
        let directory = engine.root + "/containers/\(container.id)"
        resolvConfPath = directory + "/resolv.conf"
        hostnamePath = directory + "/hostname"
        hostsPath = directory + "/hosts"
        logPath = engine.logPath(container.id)
        name = "/" + container.name
        restartCount = state.restartCount

        var retries = 0
        if case .onFailure(let maximum) = options.restart { retries = maximum ?? 0 }
        let binds = options.mounts.filter { $0.kind != .tmpfs && $0.source != nil && $0.fromContainer == nil }.map { mount in
            "\(mount.source ?? ""):\(mount.target)" + (mount.readOnly || !mount.options.isEmpty
                ? ":" + ((mount.readOnly ? ["ro"] : []) + mount.options).joined(separator: ",") : "")
        }
        let tmpfs = Dictionary(options.mounts.filter { $0.kind == .tmpfs }.map { ($0.target, $0.options.joined(separator: ",")) },
                               uniquingKeysWith: { first, _ in first })
        let securityOpt = options.securityOpt + (options.noNewPrivileges ? ["no-new-privileges"] : [])
        hostConfig = HostConfig(
            binds: binds.isEmpty ? nil : binds,
            networkMode: networkMode(options),
            portBindings: Self.portBindings(options.net.publish),
            publishAllPorts: options.net.publishAll,
            dns: options.net.dns, dnsOptions: options.net.dnsOptions, dnsSearch: options.net.dnsSearch,
            extraHosts: options.net.extraHosts.isEmpty ? nil : options.net.extraHosts,
            restartPolicy: RestartPolicy(name: options.restart.name, maximumRetryCount: retries),
            autoRemove: options.autoRemove,
            capAdd: options.capAdd.isEmpty ? nil : options.capAdd,
            capDrop: options.capDrop.isEmpty ? nil : options.capDrop,
            groupAdd: options.groupAdd.isEmpty ? nil : options.groupAdd,
            oomScoreAdj: options.oomScoreAdj ?? 0,
            privileged: options.privileged,
            readonlyRootfs: options.readOnlyRootfs,
            securityOpt: securityOpt.isEmpty ? nil : securityOpt,
            tmpfs: tmpfs.isEmpty ? nil : SortedMap(tmpfs),
            sysctls: options.sysctls.isEmpty ? nil : SortedMap(options.sysctls),
            shmSize: options.shmSize ?? 67_108_864,
            initProcess: options.initProcess ? true : nil,
            memory: options.memory ?? 0,
            memoryReservation: options.memoryReservation ?? 0,
            memorySwap: options.memorySwap ?? (options.memory.map { $0 * 2 } ?? 0),
            nanoCpus: options.nanoCPUs ?? 0,
            cpuShares: Int64(options.cpuShares ?? 0),
            cpuPeriod: Int64(options.cpuPeriod ?? 0),
            cpuQuota: options.cpuQuota ?? 0,
            cpusetCpus: options.cpusetCpus ?? "",
            cpusetMems: options.cpusetMems ?? "",
            pidsLimit: options.pidsLimit,
            ulimits: options.ulimits.isEmpty ? nil : options.ulimits.map { Ulimit(name: $0.name, hard: $0.hard, soft: $0.soft) },
            devices: options.devices.map {
                DeviceMapping(pathOnHost: $0.hostPath, pathInContainer: $0.containerPath, cgroupPermissions: $0.permissions)
            },
            logConfig: LogConfig(type: (options.logDriver ?? .jsonFile).rawValue, config: SortedMap(options.logOptions)))
        hostConfig.containerIDFile = options.containerIDFile ?? ""
        hostConfig.volumesFrom = options.volumesFrom
        hostConfig.ipcMode = options.ipcModeValue
        hostConfig.pidMode = (options.pidMode ?? .private).dockerValue
        hostConfig.utsMode = (options.utsMode ?? .private).dockerValue
        hostConfig.usernsMode = (options.usernsMode ?? .private).dockerValue
        hostConfig.oomKillDisable = options.oomKillDisable ?? false
        if options.links != nil {
            hostConfig.links = options.parsedLinks.map { link in
                let target = (try? engine.container(link.name))?.name ?? link.name
                return "/\(target):/\(container.name)/\(link.alias)"
            }
        }
        graphDriver = GraphDriver(data: OrderedMap([
            ("MergedDir", directory + "/rootfs"), ("UpperDir", directory + "/upper"), ("WorkDir", directory + "/work"),
        ]))
        if sizes {
            let measured = engine.sizes(container)
            sizeRw = measured.writable
            sizeRootFs = measured.rootFS
        }
        mounts = MountPoint.list(container, engine: engine)
        self.config = Config(
            hostname: options.hostname ?? container.shortID,
            domainname: options.domainname ?? "",
            user: config.user ?? "",
            attachStdin: options.attachesStdin,
            attachStdout: options.attachesStdout,
            attachStderr: options.attachesStderr,
            exposedPorts: config.exposedPorts.map { SortedSet($0.keys) },
            tty: options.tty,
            openStdin: options.interactive,
            stdinOnce: options.closesStdinAfterAttach,
            env: config.env, cmd: config.cmd,
            healthcheck: config.healthcheck.map(HealthConfig.init),
            image: container.image,
            volumes: config.volumes.map { SortedSet($0.keys) },
            workingDir: config.workingDir ?? "",
            entrypoint: config.entrypoint, onBuild: config.onBuild,
            labels: SortedMap(config.labels ?? [:]),
            stopSignal: config.stopSignal, stopTimeout: options.stopTimeout)
        networkSettings = NetworkSettings(container, engine: engine)
    }

    /// HostConfig.PortBindings as given (a host port of 0, "pick one", is Docker's empty string).
    public static func portBindings(_ ports: [PortMapping]) -> SortedMap<[PortBinding]> {
        var byKey: [String: [PortBinding]] = [:]
        for port in ports {
            byKey[port.containerKey, default: []].append(PortBinding(hostIP: port.hostIP, hostPort: port.hostPort == 0 ? "" : String(port.hostPort)))
        }
        return SortedMap(byKey)
    }
}

extension MountPoint {
    /// A container's mounts as Docker lists them: binds and volumes (not tmpfs), each volume with
    /// its name and host directory.
    public static func list(_ container: Container, engine: Engine) -> [MountPoint] {
        let attachments = (try? engine.volumeAttachments(container)) ?? []
        let propagations: Set<String> = ["private", "rprivate", "shared", "rshared", "slave", "rslave"]
        var values: [MountPoint] = []
        var covered = Set<String>()
        func volume(_ destination: String, readOnly: Bool, mode: String) -> MountPoint {
            let name = attachments.first { $0.destination == destination }?.name ?? ""
            return MountPoint(type: "volume", name: name, source: name.isEmpty ? "" : engine.volumePath(name), destination: destination,
                              driver: Engine.localDriver, mode: mode, rw: !readOnly, propagation: "")
        }
        for mount in container.options.mounts {
            let destination = FS.clean(mount.target)
            covered.insert(destination)
            let mode = ((mount.readOnly ? ["ro"] : []) + mount.options).joined(separator: ",")
            switch mount.kind {
            case .bind:
                values.append(MountPoint(type: "bind", source: mount.source ?? "", destination: destination, mode: mode,
                                         rw: !mount.readOnly, propagation: mount.options.last { propagations.contains($0) } ?? "rprivate"))
            case .volume:
                // Docker's "z" (the default SELinux relabel mode) for a named volume given no mode.
                values.append(volume(destination, readOnly: mount.readOnly, mode: mount.source == nil ? mode : (mode.isEmpty ? "z" : mode)))
            case .tmpfs:
                continue
            }
        }
        for path in (container.config.volumes ?? [:]).keys.sorted() {
            let destination = FS.clean(path)
            guard destination.hasPrefix("/"), destination != "/", covered.insert(destination).inserted else { continue }
            values.append(volume(destination, readOnly: false, mode: ""))
        }
        return values
    }
}

extension NetworkSettings {
    public init(_ container: Container, engine: Engine) {
        let attachments = engine.attachments(container)
        var published: [String: [PortMapping]] = [:]
        for port in attachments.flatMap(\.ports) { published[port.containerKey, default: []].append(port) }
        var keys = Set(published.keys)
        for key in (container.config.exposedPorts ?? [:]).keys { keys.insert(key.contains("/") ? key : key + "/tcp") }
        ports = OrderedMap(keys.sorted().map { key in
            (key, published[key].map { list in
                list.map { PortBinding(hostIP: $0.hostIP.isEmpty ? "0.0.0.0" : $0.hostIP, hostPort: String($0.hostPort)) }
            })
        })
        var networks: [(key: String, value: EndpointSettings)] = []
        for (network, endpoint) in engine.networkEndpoints(container) {
            let attachment = attachments.first { $0.network.id == network.id }
            networks.append((network.name, EndpointSettings(
                ipamIPv4Address: endpoint.ipv4,
                aliases: endpoint.aliases.isEmpty && network.name == Engine.defaultNetworkName ? nil : endpoint.aliases + [container.shortID],
                networkID: network.id,
                endpointID: attachment.map(DockerModel.endpointID) ?? "",
                gateway: attachment?.gateway ?? "",
                ipAddress: attachment?.ipAddress ?? "",
                ipPrefixLen: attachment?.prefixLength ?? 0,
                macAddress: attachment?.macAddress ?? "")))
        }
        switch container.options.network {
        case .host: networks = [("host", EndpointSettings(networkID: "4057f1c7" + String(repeating: "0", count: 56)))]
        case .none: networks = [("none", EndpointSettings(networkID: "a0e2c1d9" + String(repeating: "0", count: 56)))]
        default: break
        }
        self.networks = OrderedMap(networks)
        let primary = attachments.first { $0.network.name == Engine.defaultNetworkName }
        let sandbox = engine.runRoot + "/netns/" + container.id
        // `none` has a namespace of its own too while it runs (lo alone), as dockerd shows it.
        var ownsSandbox = !attachments.isEmpty
        if case .none = container.options.network { ownsSandbox = FS.exists(sandbox) }
        sandboxID = ownsSandbox ? container.id : ""
        sandboxKey = ownsSandbox ? sandbox : ""
        endpointID = primary.map(DockerModel.endpointID) ?? ""
        gateway = primary?.gateway ?? ""
        ipAddress = primary?.ipAddress ?? ""
        ipPrefixLen = primary?.prefixLength ?? 0
        macAddress = primary?.macAddress ?? ""
    }
}

/// A stable endpoint ID for an attachment (Docker's are random per endpoint): container ⊕ network.
public func endpointID(_ attachment: NetworkAttachment) -> String {
    let a = Array(attachment.containerID.utf8), b = Array(attachment.network.id.utf8)
    let hex = Array("0123456789abcdef".utf8)
    func value(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
    return String(decoding: zip(a, b).map { hex[Int(value($0) ^ value($1)) & 15] }, as: UTF8.self)
}
