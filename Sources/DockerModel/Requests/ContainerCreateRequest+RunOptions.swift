import ContainerNetwork
import ContainerSpec
import GoCompat
import LinuxSys
import OCI

/// What `POST /containers/create` asks of the engine: the RunOptions `berth create` would build for
/// the same container, and what RunOptions does not carry.
public struct ContainerCreate: Sendable {
    public var image: String
    public var options: RunOptions
    /// `?platform=`.
    public var platform: Platform?
    /// Networks of NetworkingConfig.EndpointsConfig beyond the one NetworkMode names (API 1.44+
    /// clients, compose among them, send them all at create), to connect after creating.
    public var moreNetworks: [NetworkAttachment] = []
    /// The streams a later attach is for; `stdinOnce` closes stdin when that attach ends (`docker run -i`).
    public var attachStdin = false
    public var attachStdout = false
    public var attachStderr = false
    public var stdinOnce = false
    /// The tty's first size (HostConfig.ConsoleSize, with Tty only).
    public var consoleSize: (rows: Int, columns: Int)?
    /// The create response's Warnings, in Docker's words.
    public var warnings: [String] = []

    public struct NetworkAttachment: Sendable, Equatable {
        public var network: String
        public var aliases: [String]
        public var ipv4: String?

        public init(network: String, aliases: [String], ipv4: String?) {
            self.network = network
            self.aliases = aliases
            self.ipv4 = ipv4
        }
    }
}

extension ContainerCreateRequest {
    /// The body as RunOptions: each field goes where the matching `docker run` flag puts it, through
    /// the same ContainerSpec parser, so the API and the CLI accept and refuse the same things. Errors
    /// are the daemon's words (checked here first where a parser would print the CLI's flag prefix);
    /// fields RunOptions cannot express are refused when set, never dropped.
    public func runOptions(hostCPUs: Int) throws(EngineError) -> ContainerCreate {
        typealias Parse = RunOptions.Parse
        guard let config = body.config else { throw .invalid("config cannot be empty in order to create a container") }
        let host = body.hostConfig ?? HostConfig()
        var o = RunOptions()
        var result = ContainerCreate(image: config.image ?? "", options: o)
        if let platform = platform.nonEmpty {
            do { result.platform = try Platform(parsing: platform) } catch { throw .invalid(error.message) }
        }

        // MARK: the process
        o.name = name.nonEmpty.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }
        o.hostname = config.hostname.nonEmpty
        o.domainname = config.domainname.nonEmpty
        o.user = config.user.nonEmpty
        o.workingDir = config.workingDir.nonEmpty
        o.entrypoint = config.entrypoint?.values
        o.command = config.cmd?.values
        o.tty = config.tty ?? false
        o.interactive = config.openStdin ?? false
        o.labels = config.labels ?? [:]
        // A bare KEY has no value to take here: dropped, as `-e KEY` is for an unset KEY.
        for item in config.env ?? [] {
            if let entry = try Parse.env(item, lookup: { _ in nil }) { o.env.append(entry) }
        }
        o.stopSignal = try config.stopSignal.nonEmpty.map { v throws(EngineError) in try Parse.stopSignal(v) }
        o.stopTimeout = config.stopTimeout
        if let check = config.healthcheck {
            if check.test?.first == "NONE" {
                o.noHealthcheck = true
            } else {
                // Zero is "the image's" for each field, as Docker merges them.
                var health = HealthOverride()
                health.test = check.test.flatMap { $0.isEmpty ? nil : $0 }
                health.interval = check.interval.nonZero
                health.timeout = check.timeout.nonZero
                health.startPeriod = check.startPeriod.nonZero
                health.startInterval = check.startInterval.nonZero
                health.retries = check.retries.nonZero
                o.health = health
            }
        }
        result.attachStdin = config.attachStdin ?? false
        result.attachStdout = config.attachStdout ?? false
        result.attachStderr = config.attachStderr ?? false
        result.stdinOnce = config.stdinOnce ?? false
        // Inspect shows them as the body gave them, whichever client sent it (Compose's stdin_open
        // opens stdin without attaching it).
        o.setAttachedStreams(stdin: result.attachStdin, stdout: result.attachStdout, stderr: result.attachStderr)
        // Kept only where it differs from what the same flags would give (docker-py's detach).
        o.stdinOnce = result.stdinOnce == (o.interactive && !o.detach) ? nil : result.stdinOnce
        if o.tty { result.consoleSize = host.consoleSize?.rowsAndColumns }

        // MARK: resources
        let res = host.resources
        o.memory = res.memory.nonZero
        o.memorySwap = res.memorySwap.nonZero
        o.memoryReservation = res.memoryReservation.nonZero
        o.nanoCPUs = res.nanoCpus.nonZero
        o.cpuShares = try res.cpuShares.nonZero.map { v throws(EngineError) in try Parse.cpuShares(v) }
        o.cpuPeriod = try res.cpuPeriod.nonZero.map { v throws(EngineError) in try Parse.cpuPeriod(v) }
        o.cpuQuota = res.cpuQuota.nonZero
        o.cpusetCpus = res.cpusetCpus.nonEmpty
        o.cpusetMems = res.cpusetMems.nonEmpty
        o.pidsLimit = res.pidsLimit.nonZero
        o.shmSize = host.shmSize.nonZero
        o.oomScoreAdj = host.oomScoreAdj.nonZero
        for limit in res.ulimits ?? [] {
            o.setUlimit(try Parse.ulimit("\(limit.name ?? "")=\(limit.soft ?? 0):\(limit.hard ?? 0)"))
        }
        try res.refuseUnsupported()

        // MARK: security
        o.privileged = host.privileged ?? false
        o.readOnlyRootfs = host.readonlyRootfs ?? false
        o.initProcess = host.initProcess ?? false
        o.groupAdd = host.groupAdd ?? []
        o.capAdd = try (host.capAdd?.values ?? []).map { v throws(EngineError) in try Parse.daemon("invalid CapAdd", v, Parse.capability) }
        o.capDrop = try (host.capDrop?.values ?? []).map { v throws(EngineError) in try Parse.daemon("invalid CapDrop", v, Parse.capability) }
        o.devices = try (res.devices ?? []).map { device throws(EngineError) in
            let hostPath = device.pathOnHost ?? ""
            let containerPath = device.pathInContainer.nonEmpty ?? hostPath
            return try Parse.device("\(hostPath):\(containerPath):\(device.cgroupPermissions.nonEmpty ?? "rwm")")
        }
        for item in host.securityOpt ?? [] {
            var (key, value) = Self.cut(item, "=")
            if value == nil { (key, value) = Self.cut(item, ":") }
            // The CLI reads a profile file and sends its JSON inline; RunOptions holds a path.
            if key == "seccomp", let value, value != "unconfined", value != "builtin" {
                throw .invalid("a seccomp profile sent in SecurityOpt is not supported; only seccomp=unconfined and seccomp=builtin are")
            }
            try o.applySecurityOption(item)
        }
        for (key, value) in (host.sysctls ?? [:]).sorted(by: { $0.key < $1.key }) {
            let (name, setting) = try Parse.sysctl("\(key)=\(value)")
            o.sysctls[name] = setting
        }

        // MARK: lifecycle
        o.autoRemove = host.autoRemove ?? false
        if let policy = host.restartPolicy { o.restart = try Self.restartPolicy(policy) }
        if o.autoRemove, o.restart != .no { throw .invalid("can't create 'AutoRemove' container with restart policy") }
        if let log = host.logConfig {
            o.logDriver = try log.type.nonEmpty.map { v throws(EngineError) in try Parse.logDriver(v) }
            try o.addLogOptions((log.config ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        }

        // MARK: filesystem
        try addMounts(to: &o, config: config, host: host)

        // MARK: network
        let endpoint = try addNetworking(to: &o, result: &result, config: config, host: host)

        try applyNamespacesAndLinks(to: &o, config: config, host: host, endpoint: endpoint)
        try refuseUnsupported(config: config, host: host)
        try o.validate(hostCPUs: hostCPUs)
        result.options = o
        return result
    }

    /// Binds (`-v`), Tmpfs (`--tmpfs`), Mounts (`--mount`) and Config.Volumes (`-v /path`: an anonymous
    /// volume, unless a bind or mount already has that target, as dockerd skips it).
    private func addMounts(to o: inout RunOptions, config: Config, host: HostConfig) throws(EngineError) {
        typealias Parse = RunOptions.Parse
        for spec in host.binds ?? [] {
            // dockerd has no current directory: `./x:/y` names a volume, and an invalid one.
            let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count > 1, parts[0] == "." || parts[0] == ".." || parts[0].hasPrefix("./") || parts[0].hasPrefix("../") {
                try Parse.volumeName(String(parts[0]))
            }
        }
        let tmpfs = (host.tmpfs ?? [:]).sorted { $0.key < $1.key }.map { $0.value.isEmpty ? $0.key : "\($0.key):\($0.value)" }
        try o.addVolumes(host.binds ?? [], tmpfs: tmpfs, currentDirectory: "/")

        var fields: [Parse.MountFields] = []
        var createsMountpoint: [Bool] = []
        for mount in host.mounts ?? [] {
            fields.append(try Parse.mountFields(try Self.mountSpec(mount), currentDirectory: "/"))
            createsMountpoint.append(mount.bindOptions?.createMountpoint ?? false)
        }
        try o.addMounts(fields)
        for (index, create) in createsMountpoint.enumerated() where create { o.mounts[index].createsMissingSource = true }
        // Extra tmpfs options (API 1.46): a flag, or a key and its value, as --tmpfs takes them.
        for (index, mount) in (host.mounts ?? []).enumerated() {
            for option in mount.tmpfsOptions?.options ?? [] where !option.isEmpty {
                o.mounts[index].options.append(option.joined(separator: "="))
            }
        }

        let taken = Set(o.mounts.map(\.target))
        let anonymous = (config.volumes ?? [:]).keys.sorted().filter { !taken.contains(FS.clean($0)) }
        for path in anonymous where path.contains(":") { throw .invalid("invalid volume specification: '\(path)'") }
        try o.addVolumes(anonymous, tmpfs: [], currentDirectory: "/")
    }

    /// One Mount as the `--mount` CSV the CLI would have read, so it takes the CLI's path.
    static func mountSpec(_ mount: Mount) throws(EngineError) -> String {
        let kind = mount.type ?? ""
        let wrap = { (reason: String) in EngineError.invalid("invalid mount config for type \"\(kind)\": \(reason)") }
        if kind == "image" { throw .unsupported("Mount.Type", kind) }
        guard ["bind", "volume", "tmpfs"].contains(kind) else { throw wrap("mount type unknown") }
        guard let target = mount.target.nonEmpty else { throw wrap("field Target must not be empty") }
        if mount.bindOptions != nil, kind != "bind" { throw wrap("field BindOptions must not be specified") }
        if mount.volumeOptions != nil, kind != "volume" { throw wrap("field VolumeOptions must not be specified") }
        if mount.tmpfsOptions != nil, kind != "tmpfs" { throw wrap("field TmpfsOptions must not be specified") }
        if mount.imageOptions != nil { throw wrap("field ImageOptions must not be specified") }
        if mount.clusterOptions != nil { throw .unsupported("Mount.ClusterOptions", "{}") }
        if kind == "bind", let source = mount.source.nonEmpty, !source.hasPrefix("/") {
            throw wrap("invalid mount path: '\(source)' mount path must be absolute")
        }
        var items = ["type=\(kind)"]
        if let source = mount.source.nonEmpty { items.append("source=\(source)") }
        items.append("target=\(target)")
        if mount.readOnly == true { items.append("readonly") }
        if let consistency = mount.consistency.nonEmpty { items.append("consistency=\(consistency)") }
        if let bind = mount.bindOptions {
            if let propagation = bind.propagation.nonEmpty { items.append("bind-propagation=\(propagation)") }
            if bind.nonRecursive == true { items.append("bind-nonrecursive") }
            if bind.readOnlyNonRecursive == true { throw .unsupported("BindOptions.ReadOnlyNonRecursive", "true") }
            if bind.readOnlyForceRecursive == true { throw .unsupported("BindOptions.ReadOnlyForceRecursive", "true") }
        }
        if let volume = mount.volumeOptions {
            if volume.noCopy == true { items.append("volume-nocopy") }
            if let subpath = volume.subpath.nonEmpty { items.append("volume-subpath=\(subpath)") }
            for (key, value) in (volume.labels ?? [:]).sorted(by: { $0.key < $1.key }) { items.append("volume-label=\(key)=\(value)") }
            if let driver = volume.driverConfig {
                if let name = driver.name.nonEmpty { items.append("volume-driver=\(name)") }
                for (key, value) in (driver.options ?? [:]).sorted(by: { $0.key < $1.key }) { items.append("volume-opt=\(key)=\(value)") }
            }
        }
        if let tmpfs = mount.tmpfsOptions {
            if let size = tmpfs.sizeBytes.nonZero { items.append("tmpfs-size=\(size)") }
            if let mode = tmpfs.mode.nonZero { items.append("tmpfs-mode=" + String(mode, radix: 8)) }
        }
        return items.map(csvField).joined(separator: ",")
    }

    /// A field as Go's encoding/csv reads it back: quoted when it holds a comma or a quote.
    static func csvField(_ text: String) -> String {
        guard text.contains(",") || text.contains("\"") else { return text }
        return "\"" + text.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    /// NetworkMode, PortBindings, ExposedPorts, the DNS fields, ExtraHosts and the endpoint of
    /// NetworkMode's network, as `--network`, `-p`, `--expose`, `--dns*`, `--add-host`,
    /// `--network-alias` and `--ip` (RunOptions.applyNetworkFlags). What the CLI's flag parsers would
    /// refuse is refused here first, in the daemon's words.
    /// Returns the EndpointsConfig entry of the network NetworkMode names (its Links and MacAddress
    /// are `--link` and `--mac-address`'s, applied with HostConfig's).
    private func addNetworking(to o: inout RunOptions, result: inout ContainerCreate, config: Config, host: HostConfig) throws(EngineError) -> EndpointSettings? {
        var mode = host.networkMode ?? ""
        if config.networkDisabled == true { mode = "none" }
        let isContainerMode = mode == "container" || mode.hasPrefix("container:")
        let bindings = host.portBindings ?? [:]
        if isContainerMode {
            if mode.dropFirst("container:".count).isEmpty || mode == "container" {
                throw .invalid("invalid network mode: invalid container format container:<name|id>")
            }
            if config.hostname.nonEmpty != nil { throw .invalid("conflicting options: hostname and the network mode") }
            if !(host.links ?? []).isEmpty {
                throw .invalid("conflicting options: container type network can't be used with links. This would result in undefined behavior")
            }
            if !(host.dns ?? []).isEmpty { throw .invalid("conflicting options: dns and the network mode") }
            if !(host.extraHosts ?? []).isEmpty { throw .invalid("conflicting options: custom host-to-IP mapping and the network mode") }
            if !bindings.isEmpty || host.publishAllPorts == true {
                throw .invalid("conflicting options: port publishing and the container type network mode")
            }
            if !(config.exposedPorts ?? [:]).isEmpty {
                throw .invalid("conflicting options: port exposing and the container type network mode")
            }
        }

        var publish: [String] = []
        for key in bindings.keys.sorted() {
            let (proto, port) = try Self.portKey(key)
            for binding in bindings[key] ?? [] {
                let hostPort = binding.hostPort ?? ""
                if !hostPort.isEmpty, !Self.validPortRange(hostPort) {
                    throw .invalid("invalid port specification: \(GoStrconv.quote(hostPort))")
                }
                var spec = "\(port)/\(proto)"
                if let ip = binding.hostIP.nonEmpty {
                    spec = (ip.contains(":") ? "[\(ip)]" : ip) + ":\(hostPort):" + spec
                } else if !hostPort.isEmpty {
                    spec = "\(hostPort):" + spec
                }
                do { _ = try PortMapping.parse(spec) } catch { throw .invalid(error.message) }
                publish.append(spec)
            }
        }
        var expose: [String] = []
        for key in Set((config.exposedPorts ?? [:]).keys).union(bindings.keys).sorted() {
            let (proto, port) = try Self.portKey(key)
            guard ["tcp", "udp", "sctp"].contains(proto) else { throw .invalid("invalid proto: \(proto)") }
            expose.append("\(port)/\(proto)")
        }
        for address in host.dns ?? [] where IPv4Address(address) == nil && !address.contains(":") {
            throw .invalid("invalid IP address in Dns: \(address)")
        }
        for entry in host.extraHosts ?? [] {
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, IPv4Address(parts[1]) != nil || parts[1].contains(":") || parts[1] == "host-gateway" else {
                throw .invalid("invalid IP address in add-host: \(GoStrconv.quote(entry))")
            }
        }

        // The endpoint NetworkMode names carries --network-alias and --ip; the others are joined after create.
        let primaryName = mode.isEmpty ? "default" : mode
        let equivalents: Set<String> = primaryName == "default" || primaryName == "bridge" ? ["default", "bridge"] : [primaryName]
        var primary: EndpointSettings?
        for (network, settings) in (body.networkingConfig?.endpointsConfig ?? [:]).sorted(by: { $0.key < $1.key }) {
            let attachment = try Self.attachment(network, settings, primary: equivalents.contains(network))
            if equivalents.contains(network) {
                primary = settings
            } else if !["host", "none"].contains(network), !network.hasPrefix("container:") {
                result.moreNetworks.append(attachment)
            }
        }
        if !result.moreNetworks.isEmpty, ["host", "none"].contains(mode) || isContainerMode {
            throw .invalid("conflicting options: cannot attach both user-defined and non-user-defined network-modes")
        }
        let attachment = try primary.map { s throws(EngineError) in try Self.attachment(primaryName, s, primary: true) }

        try o.applyNetworkFlags(
            networks: mode.isEmpty ? [] : [mode], publish: publish, publishAll: host.publishAllPorts ?? false, expose: expose,
            aliases: attachment?.aliases ?? [], ip: attachment?.ipv4, dns: host.dns ?? [], dnsSearch: host.dnsSearch ?? [],
            dnsOptions: host.dnsOptions ?? [], addHosts: host.extraHosts ?? [])
        if mode == "host", !publish.isEmpty || host.publishAllPorts == true {
            result.warnings.append("Published ports are discarded when using host network mode")
        }
        return primary
    }

    /// One EndpointsConfig entry as RunOptions and `network connect` take it. Links and a MAC
    /// address are the container's (`--link`, `--mac-address`): taken for the `primary` network
    /// only; RunOptions has no per-network ones.
    static func attachment(_ network: String, _ settings: EndpointSettings, primary: Bool = false) throws(EngineError) -> ContainerCreate.NetworkAttachment {
        if !primary, !(settings.links ?? []).isEmpty { throw .unsupported("EndpointSettings.Links", settings.links?.joined(separator: ",") ?? "") }
        if !primary, let mac = settings.macAddress.nonEmpty { throw .unsupported("MacAddress", mac) }
        if let ipv6 = settings.ipamConfig?.ipv6Address.nonEmpty { throw .unsupported("IPAMConfig.IPv6Address", ipv6) }
        if !(settings.ipamConfig?.linkLocalIPs ?? []).isEmpty {
            throw .unsupported("IPAMConfig.LinkLocalIPs", settings.ipamConfig?.linkLocalIPs?.joined(separator: ",") ?? "")
        }
        if let options = settings.driverOpts, let first = options.keys.sorted().first { throw .unsupported("DriverOpts", first) }
        if let priority = settings.gwPriority.nonZero { throw .unsupported("GwPriority", "\(priority)") }
        let ipv4 = settings.ipamConfig?.ipv4Address.nonEmpty
        if let ipv4, IPv4Address(ipv4) == nil { throw .invalid("invalid IPv4 address: \(ipv4)") }
        return .init(network: network, aliases: settings.aliases ?? [], ipv4: ipv4)
    }

    /// A PortBindings or ExposedPorts key (`80/tcp`, `80`), checked as dockerd checks it.
    static func portKey(_ key: String) throws(EngineError) -> (proto: String, port: String) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let port = parts[0]
        let proto = parts.count > 1 && !parts[1].isEmpty ? parts[1].lowercased() : "tcp"
        guard !port.isEmpty, UInt16(port) != nil else { throw .invalid("invalid port specification: \(GoStrconv.quote(port))") }
        return (proto, port)
    }

    /// A host port: `8080` or `8000-8010`.
    static func validPortRange(_ text: String) -> Bool {
        let (first, last) = cut(text, "-")
        guard let low = UInt16(first) else { return false }
        guard let last else { return true }
        guard let high = UInt16(last) else { return false }
        return low <= high
    }

    /// `{Name, MaximumRetryCount}` as `--restart NAME[:COUNT]`.
    static func restartPolicy(_ policy: RestartPolicy) throws(EngineError) -> ContainerSpec.RestartPolicy {
        let name = policy.name.nonEmpty ?? "no"
        let count = policy.maximumRetryCount ?? 0
        return try RunOptions.Parse.restart(count == 0 ? name : "\(name):\(count)")
    }

    static func cut(_ text: String, _ separator: Character) -> (String, String?) {
        guard let index = text.firstIndex(of: separator) else { return (text, nil) }
        return (String(text[..<index]), String(text[text.index(after: index)...]))
    }

    /// PidMode, IpcMode, UTSMode, UsernsMode, VolumesFrom, Links, MacAddress, OomKillDisable:
    /// through the same parsers as `--pid`, `--ipc`, `--uts`, `--userns`, `--volumes-from`,
    /// `--link`, `--mac-address` and `--oom-kill-disable`.
    private func applyNamespacesAndLinks(to o: inout RunOptions, config: Config, host: HostConfig, endpoint: EndpointSettings?) throws(EngineError) {
        typealias Parse = RunOptions.Parse
        func own(_ mode: NamespaceMode) -> NamespaceMode? { mode == .private ? nil : mode }
        o.pidMode = try host.pidMode.nonEmpty.flatMap { v throws(EngineError) in own(try Parse.pidMode(v)) }
        o.ipcMode = try host.ipcMode.nonEmpty.map { v throws(EngineError) in try Parse.ipcMode(v) }
        o.utsMode = try host.utsMode.nonEmpty.flatMap { v throws(EngineError) in own(try Parse.utsMode(v)) }
        o.usernsMode = try host.usernsMode.nonEmpty.flatMap { v throws(EngineError) in own(try Parse.usernsMode(v)) }
        if let from = host.volumesFrom, !from.isEmpty {
            for item in from { _ = try Parse.volumesFrom(item) }
            o.volumesFrom = from
        }
        // The docker CLI sends `--link` in both HostConfig.Links and the endpoint's Links.
        var links: [String] = []
        for v in (host.links ?? []) + (endpoint?.links ?? []) {
            let (target, alias) = try Parse.link(v)
            if !links.contains(target + ":" + alias) { links.append(target + ":" + alias) }
        }
        if !links.isEmpty { o.links = links }
        // API 1.44+ clients send the MAC address in the endpoint; the container-wide one is the older place.
        let containerMAC = try config.macAddress.nonEmpty.map { v throws(EngineError) in try Parse.macAddress(v) }
        let endpointMAC = try endpoint?.macAddress.nonEmpty.map { v throws(EngineError) in try Parse.macAddress(v) }
        if let containerMAC, let endpointMAC, containerMAC != endpointMAC {
            throw .invalid("the container-wide MAC address must match the endpoint-specific MAC address for the main network, or be left empty")
        }
        o.macAddress = endpointMAC ?? containerMAC
        if host.resources.oomKillDisable == true { o.oomKillDisable = true }
    }

    /// Fields set to what RunOptions cannot express yet: refused, in the field's own name.
    private func refuseUnsupported(config: Config, host: HostConfig) throws(EngineError) {
        // (ContainerIDFile needs nothing: the client writes that file, dockerd ignores the field.)

        if let value = host.cgroupnsMode.nonEmpty, value != "private" {
            if value != "host" { throw .invalid("invalid cgroup namespace mode: \(value)") }
            throw .unsupported("CgroupnsMode", value)
        }
        if let value = host.cgroup.nonEmpty { throw .unsupported("Cgroup", value) }
        if let value = host.volumeDriver.nonEmpty, value != "local" { throw .unsupported("VolumeDriver", value) }
        if let value = host.storageOpt, let key = value.keys.sorted().first { throw .unsupported("StorageOpt", key) }
        if let value = host.runtime.nonEmpty, value != "runc" { throw .invalid("unknown or invalid runtime name: \(value)") }
        if let value = host.isolation.nonEmpty, value != "default" {
            throw .invalid("invalid isolation \"\(value)\": linux only supports 'default'")
        }
        if host.maskedPaths != nil { throw .unsupported("MaskedPaths", host.maskedPaths?.joined(separator: ",") ?? "") }
        if host.readonlyPaths != nil { throw .unsupported("ReadonlyPaths", host.readonlyPaths?.joined(separator: ",") ?? "") }
        if let value = host.annotations, let key = value.keys.sorted().first { throw .unsupported("Annotations", key) }
        if let value = config.onBuild, !value.isEmpty { throw .unsupported("OnBuild", value.joined(separator: " ")) }
        if let value = config.shell?.values, !value.isEmpty { throw .unsupported("Shell", value.joined(separator: " ")) }
    }
}

extension ContainerCreateRequest.Resources {
    /// The limits RunOptions has no place for, refused when set (create and update alike). Docker's
    /// Windows-only ones are refused in dockerd's words.
    func refuseUnsupported() throws(EngineError) {
        if let value = memorySwappiness, value != -1 {
            if value < 0 || value > 100 { throw .invalid("Invalid value: \(value), valid memory swappiness range is 0-100") }
            throw .unsupported("MemorySwappiness", "\(value)")
        }
        if let value = cgroupParent.nonEmpty { throw .unsupported("CgroupParent", value) }
        if let value = blkioWeight.nonZero { throw .unsupported("BlkioWeight", "\(value)") }
        let throttles: [(String, [ContainerCreateRequest.ThrottleDevice]?)] = [
            ("BlkioDeviceReadBps", blkioDeviceReadBps), ("BlkioDeviceWriteBps", blkioDeviceWriteBps),
            ("BlkioDeviceReadIOps", blkioDeviceReadIOps), ("BlkioDeviceWriteIOps", blkioDeviceWriteIOps),
        ]
        for (field, devices) in throttles {
            if let device = devices?.first { throw .unsupported(field, device.path ?? "") }
        }
        if let device = blkioWeightDevice?.first { throw .unsupported("BlkioWeightDevice", device.path ?? "") }
        if let value = cpuRealtimePeriod.nonZero { throw .unsupported("CpuRealtimePeriod", "\(value)") }
        if let value = cpuRealtimeRuntime.nonZero { throw .unsupported("CpuRealtimeRuntime", "\(value)") }
        if let rule = deviceCgroupRules?.first { throw .unsupported("DeviceCgroupRules", rule) }
        if let request = deviceRequests?.first {
            // What dockerd answers where no GPU driver is installed (`--gpus`).
            let capabilities = "[" + (request.capabilities ?? []).map { "[" + $0.joined(separator: " ") + "]" }.joined(separator: " ") + "]"
            throw .invalid("could not select device driver \(GoStrconv.quote(request.driver ?? "")) with capabilities: \(capabilities)")
        }
        if cpuCount.nonZero != nil { throw .invalid("invalid QoS settings: linux does not support CPU count") }
        if cpuPercent.nonZero != nil { throw .invalid("invalid QoS settings: linux does not support CPU percent") }
        if ioMaximumBandwidth.nonZero != nil {
            throw .invalid("invalid option: QoS maximum bandwidth configuration is not supported on linux")
        }
        if ioMaximumIOps.nonZero != nil { throw .invalid("invalid option: QoS maximum IOPs configuration is not supported on linux") }
        // KernelMemory and KernelMemoryTCP: ignored, as dockerd has since API 1.42.
    }
}
