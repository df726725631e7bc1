import Glibc
import LinuxSys
import OCI

/// Everything `SpecBuilder` needs to turn an image's config and the user's flags into a runtime spec.
public struct SpecInput: Sendable {
    /// The container's id, 64 hex digits.
    public var containerID: String
    /// The image's `config.config`; nil for an image without one (scratch, import).
    public var image: ContainerConfig?
    public var options: RunOptions
    /// Host path of the container's mounted rootfs.
    public var rootfs: String
    /// `MountRequest.target` → host directory, for every `.volume` mount and every image VOLUME
    /// the user did not mount over (named or anonymous).
    public var volumeSources: [String: String]
    /// "/etc/hosts", "/etc/hostname", "/etc/resolv.conf" → host files the engine wrote.
    public var etcFiles: [String: String]
    /// Host path of the init for `--init` (Debian's /usr/bin/tini-static), bound at /sbin/docker-init.
    public var initBinary: String?
    /// Where the engine puts the container's cgroup.
    public var cgroupsPath: String
    /// The network namespace to join (`--network container:X`, later bridge networks); the engine
    /// resolves it. nil: a new namespace, or none for `--network host`.
    public var networkNamespacePath: String?
    /// The PID and IPC namespaces to join for `--pid container:X` / `--ipc container:X`
    /// (/proc/PID/ns/… of X's init); the engine resolves them, and refuses when X is not running.
    public var pidNamespacePath: String?
    public var ipcNamespacePath: String?
    /// The UTS namespace a container joins (`utsMode` `.container`: a Pod's sandbox's).
    public var utsNamespacePath: String?
    /// A host directory bound at /dev/shm instead of a tmpfs of the container's own: the tmpfs the
    /// engine keeps for a `shareable` container (and hands to one that joins its IPC), or the
    /// host's /dev/shm for `--ipc host`. nil: a private tmpfs (none at all with `--ipc none`).
    public var shmSource: String?
    /// `--link`'s legacy variables (ALIAS_NAME, ALIAS_ENV_…, ALIAS_PORT…), before the container's
    /// own environment as Docker puts them.
    public var linkEnvironment: [String] = []
    /// A Docker-format seccomp profile file replacing the built-in default when the user names none
    /// (the operator's override; a missing file is an error). nil: `SeccompProfile.dockerDefault`.
    public var defaultSeccompProfile: String?
    /// Facts about this machine (architecture, kernel, cgroup version …), probed once by default.
    public var host: HostInfo

    public init(containerID: String, image: ContainerConfig?, options: RunOptions, rootfs: String,
                volumeSources: [String: String] = [:], etcFiles: [String: String] = [:], initBinary: String? = nil,
                cgroupsPath: String, networkNamespacePath: String? = nil,
                defaultSeccompProfile: String? = SeccompProfile.overridePath, host: HostInfo = .current) {
        self.containerID = containerID
        self.image = image
        self.options = options
        self.rootfs = rootfs
        self.volumeSources = volumeSources
        self.etcFiles = etcFiles
        self.initBinary = initBinary
        self.cgroupsPath = cgroupsPath
        self.networkNamespacePath = networkNamespacePath
        self.defaultSeccompProfile = defaultSeccompProfile
        self.host = host
    }
}

/// Builds what Docker (moby 20.10) builds for `docker run`: the merged container config that
/// `inspect` shows, and the OCI runtime spec handed to the runtime.
public enum SpecBuilder {
    /// Docker's PATH for a container whose config has none.
    public static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// Docker's /dev/shm size when `--shm-size` is not given: 64 MiB.
    public static let defaultShmSize: Int64 = 64 << 20
    /// Where `--init` puts the init inside the container.
    public static let initPath = "/sbin/docker-init"

    /// Docker's merged container Config (inspect's `Config`): the image's config with the user's
    /// flags applied. `Env` is the stored one (user's first, then the image's whose keys the user did
    /// not set); the process additionally gets PATH/HOSTNAME/TERM, see `processEnvironment`.
    public static func effectiveConfig(_ input: SpecInput) -> ContainerConfig {
        let options = input.options
        let image = input.image ?? ContainerConfig()
        var config = ContainerConfig()

        config.env = mergeEnvironment(user: options.env, image: image.env ?? [])

        // Docker's merge: a user entrypoint that is not empty drops the image's Cmd unless the user gave
        // a command; an absent one keeps the image's entrypoint. `--entrypoint ""` arrives as [""]
        // (as Docker's CLI sends it): it counts as given, then is reset to none.
        var entrypoint = options.entrypoint
        var cmd = options.command ?? []
        if (entrypoint ?? []).isEmpty {
            if cmd.isEmpty {
                cmd = image.cmd ?? []
                config.argsEscaped = image.argsEscaped
            }
            if entrypoint == nil { entrypoint = image.entrypoint }
        }
        if entrypoint == [""] { entrypoint = nil }
        config.entrypoint = (entrypoint ?? []).isEmpty ? nil : entrypoint
        config.cmd = cmd.isEmpty ? nil : cmd

        if let dir = options.workingDir, !dir.isEmpty {
            config.workingDir = dir
        } else {
            config.workingDir = image.workingDir
        }
        if let user = options.user, !user.isEmpty {
            config.user = user
        } else {
            config.user = image.user
        }
        var labels = image.labels ?? [:]
        for (key, value) in options.labels { labels[key] = value }
        config.labels = labels
        config.stopSignal = (options.stopSignal?.isEmpty == false) ? options.stopSignal : image.stopSignal
        config.healthcheck = mergeHealthcheck(options, image: image.healthcheck)
        config.volumes = image.volumes
        config.exposedPorts = image.exposedPorts
        if let extra = options.exposedPorts {
            var ports = config.exposedPorts ?? [:]
            for key in extra { ports[key] = EmptyObject() }
            config.exposedPorts = ports
        }
        return config
    }

    /// The user's env then the image's entries whose keys the user did not set (Docker's merge).
    static func mergeEnvironment(user: [String], image: [String]) -> [String] {
        if user.isEmpty { return image }
        let userKeys = Set(user.map(envKey))
        return user + image.filter { !userKeys.contains(envKey($0)) }
    }

    static func envKey(_ entry: String) -> String {
        String(entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// Entries replace earlier ones with the same key, in place; new keys are appended.
    public static func replaceOrAppend(_ base: [String], _ overrides: [String]) -> [String] {
        var result = base
        for entry in overrides {
            let key = envKey(entry)
            if let index = result.firstIndex(where: { envKey($0) == key }) {
                result[index] = entry
            } else {
                result.append(entry)
            }
        }
        return result
    }

    static func mergeHealthcheck(_ options: RunOptions, image: HealthConfig?) -> HealthConfig? {
        let override = options.health
        if options.noHealthcheck {
            var none = emptyHealthConfig()
            none?.test = ["NONE"]
            return none
        }
        let overridden = override.test != nil || override.interval != nil || override.timeout != nil
            || override.retries != nil || override.startPeriod != nil || override.startInterval != nil
        guard overridden else { return image }
        guard var health = image ?? emptyHealthConfig() else { return image }
        if let test = override.test, !test.isEmpty { health.test = test }
        if let interval = override.interval, interval != 0 { health.interval = interval }
        if let timeout = override.timeout, timeout != 0 { health.timeout = timeout }
        if let retries = override.retries, retries != 0 { health.retries = retries }
        if let startPeriod = override.startPeriod, startPeriod != 0 { health.startPeriod = startPeriod }
        if let startInterval = override.startInterval, startInterval != 0 { health.startInterval = startInterval }
        return health
    }

    /// HealthConfig has no public initialiser in OCI; an empty JSON object decodes to an empty one.
    private static func emptyHealthConfig() -> HealthConfig? {
        try? decodeJSON(HealthConfig.self, Array("{}".utf8))
    }

    /// The container's hostname: `-h`, else the host's with `--network host` (Docker copies it),
    /// else the first 12 characters of the id.
    public static func hostname(_ input: SpecInput) -> String {
        if let name = input.options.hostname, !name.isEmpty { return name }
        if input.options.network == .host, !input.host.hostname.isEmpty { return input.host.hostname }
        return String(input.containerID.prefix(12))
    }

    /// The process's environment as Docker builds it: PATH, HOSTNAME (and TERM=xterm with -t) first,
    /// replaced or extended by the merged config's Env.
    public static func processEnvironment(_ input: SpecInput, config: ContainerConfig) -> [String] {
        var base = [defaultPath, "HOSTNAME=" + hostname(input)]
        if input.options.tty { base.append("TERM=xterm") }
        base = replaceOrAppend(base, input.linkEnvironment)
        return replaceOrAppend(base, config.env ?? [])
    }

    /// The directories the engine must create inside the rootfs (resolved inside it) before start:
    /// the working directory (Docker creates it) and every volume's target, which a named volume's
    /// first use copies the image's content from.
    public static func pathsToCreate(_ input: SpecInput) -> [String] {
        let config = effectiveConfig(input)
        var paths: [String] = []
        if let dir = config.workingDir, !dir.isEmpty, dir.hasPrefix("/") {
            let clean = FS.clean(dir)
            if clean != "/" { paths.append(clean) }
        }
        for target in volumeTargets(input, config: config) where !paths.contains(target) {
            paths.append(target)
        }
        return paths
    }

    /// The runtime spec for the container.
    public static func build(_ input: SpecInput) throws(EngineError) -> Spec {
        let options = input.options
        let config = effectiveConfig(input)

        // Process: args, env, cwd, user, terminal.
        let command = (config.entrypoint ?? []) + (config.cmd ?? [])
        guard !command.isEmpty else { throw .invalid("No command specified") }
        var args = command
        if options.initProcess { args = [initPath, "--"] + command }
        let cwd: String
        if let dir = config.workingDir, !dir.isEmpty {
            guard dir.hasPrefix("/") else {
                throw .invalid("the working directory '\(dir)' is invalid, it needs to be an absolute path")
            }
            cwd = FS.clean(dir)
        } else {
            cwd = "/"
        }
        let user = try UserLookup.resolve(config.user ?? "", groupAdd: options.groupAdd, rootfs: input.rootfs)
        var process = Process(terminal: options.tty ? true : nil,
                              user: User(uid: user.uid, gid: user.gid, additionalGids: user.additionalGids),
                              args: args, env: processEnvironment(input, config: config), cwd: cwd)
        let capabilities = try effectiveCapabilities(options, host: input.host)
        process.capabilities = capabilitySets(capabilities, uid: user.uid)
        process.rlimits = try rlimits(options.ulimits)
        process.noNewPrivileges = options.noNewPrivileges ? true : nil
        process.apparmorProfile = Self.appArmorProfile(options)
        process.oomScoreAdj = options.oomScoreAdj ?? 0

        var linux = Linux(namespaces: try namespaces(input), cgroupsPath: input.cgroupsPath)
        linux.resources = try resources(options, host: input.host)
        let (devices, rules) = try deviceSetup(options)
        linux.devices = devices
        linux.resources?.devices = rules
        let sysctls = try sysctl(input)
        linux.sysctl = sysctls.isEmpty ? nil : sysctls
        if !options.privileged {
            (linux.maskedPaths, linux.readonlyPaths) = systemPaths(options)
        }
        linux.seccomp = try seccomp(input, bounding: capabilities)

        let (mounts, rootPropagation) = try mounts(input, config: config)
        linux.rootfsPropagation = rootPropagation

        let domain = options.domainname.flatMap { $0.isEmpty ? nil : $0 }
        // Without a UTS namespace of its own the host's names stay (a runtime refuses to set them).
        let ownUTS = options.ownsUTSNamespace
        return Spec(process: process,
                    root: Root(path: input.rootfs, readonly: options.readOnlyRootfs ? true : nil),
                    hostname: ownUTS ? hostname(input) : nil, domainname: ownUTS ? domain : nil, mounts: mounts, linux: linux)
    }

    // MARK: - Namespaces

    /// Docker's namespaces in Docker's order: mount, network, uts, pid, ipc; cgroup only where the
    /// host is cgroup v2 (Docker's default cgroupns mode there is "private", on v1 "host"). The
    /// host's are left out (`--pid/--ipc/--uts host`); another container's are joined by path.
    static func namespaces(_ input: SpecInput) throws(EngineError) -> [Namespace] {
        var result = [Namespace(type: .mount)]
        switch input.options.network {
        case .host:
            break
        case .container(let name):
            guard let path = input.networkNamespacePath else {
                throw .invalid("cannot join the network namespace of container \(name): it is not running")
            }
            result.append(Namespace(type: .network, path: path))
        case .default, .none, .named:
            result.append(Namespace(type: .network, path: input.networkNamespacePath))
        }
        let options = input.options
        if case .container(let name) = options.utsMode {
            guard let path = input.utsNamespacePath else { throw .conflict("cannot join the UTS namespace of container \(name): it is not running") }
            result.append(Namespace(type: .uts, path: path))
        } else if options.ownsUTSNamespace {
            result.append(Namespace(type: .uts))
        }
        switch options.pidMode ?? .private {
        case .host: break
        case .container(let name):
            guard let path = input.pidNamespacePath else { throw .conflict("cannot join the PID namespace of container \(name): it is not running") }
            result.append(Namespace(type: .pid, path: path))
        default: result.append(Namespace(type: .pid))
        }
        switch options.ipcMode ?? .private {
        case .host: break
        case .container(let name):
            guard let path = input.ipcNamespacePath else { throw .conflict("can't join IPC of container \(name): it is not running") }
            result.append(Namespace(type: .ipc, path: path))
        default: result.append(Namespace(type: .ipc))
        }
        if input.host.cgroupV2 { result.append(Namespace(type: .cgroup)) }
        return result
    }

    // MARK: - Sysctls

    /// The namespaced sysctls Docker accepts (`opts.ValidateSysctl`): IPC ones always, net.* only
    /// with a network namespace of the container's own.
    static func sysctl(_ input: SpecInput) throws(EngineError) -> [String: String] {
        let options = input.options
        var result: [String: String] = [:]
        let privateNetwork: Bool
        switch options.network {
        case .host, .container: privateNetwork = false
        default: privateNetwork = true
        }
        // Docker 20.10 adds these two for a new network namespace, where the kernel has them.
        if privateNetwork {
            for (key, value) in [("net.ipv4.ping_group_range", "0 2147483647"), ("net.ipv4.ip_unprivileged_port_start", "0")]
            where input.host.sysctls.contains(key) {
                result[key] = value
            }
        }
        let privateIPC: Bool
        switch options.ipcMode ?? .private {
        case .host, .container: privateIPC = false
        default: privateIPC = true
        }
        let ipcPrefixes = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                           "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]
        for (key, value) in options.sysctls.sorted(by: { $0.key < $1.key }) {
            if ipcPrefixes.contains(key) || key.hasPrefix("fs.mqueue.") {
                guard privateIPC else { throw .invalid("sysctl '\(key)' is not allowed in host IPC namespace") }
                result[key] = value
            } else if key.hasPrefix("net.") {
                guard privateNetwork else {
                    throw .invalid("sysctl '\(key)' not allowed in host network namespace")
                }
                result[key] = value
            } else {
                throw .invalid("invalid argument \"\(key)=\(value)\" for \"--sysctl\" flag: sysctl '\(key)=\(value)' is not whitelisted")
            }
        }
        return result
    }
}

/// Facts about the machine the spec is built for.
public struct HostInfo: Sendable, Equatable {
    /// Docker's seccomp name for the architecture: "amd64", "arm64", "x86", "s390x" ….
    public var architecture: String
    /// The kernel release as (major, minor), for a profile's `minKernel`.
    public var kernel: (major: Int, minor: Int)
    /// Whether /sys/fs/cgroup is the unified (v2) hierarchy.
    public var cgroupV2: Bool
    /// Every capability this kernel knows (up to /proc/sys/kernel/cap_last_cap) and this process
    /// holds in its bounding set, as `--privileged` gets them.
    public var allCapabilities: [String]
    public var hostname: String
    public var cpuCount: Int
    /// Whether memory+swap can be limited (memory.memsw.* on v1, memory.swap.max on v2).
    public var swapLimit: Bool
    /// Which of the sysctls Docker sets by default exist here.
    public var sysctls: Set<String>

    public init(architecture: String, kernel: (major: Int, minor: Int), cgroupV2: Bool, allCapabilities: [String],
                hostname: String, cpuCount: Int, swapLimit: Bool, sysctls: Set<String>) {
        self.architecture = architecture
        self.kernel = kernel
        self.cgroupV2 = cgroupV2
        self.allCapabilities = allCapabilities
        self.hostname = hostname
        self.cpuCount = cpuCount
        self.swapLimit = swapLimit
        self.sysctls = sysctls
    }

    public static func == (a: HostInfo, b: HostInfo) -> Bool {
        a.architecture == b.architecture && a.kernel == b.kernel && a.cgroupV2 == b.cgroupV2
            && a.allCapabilities == b.allCapabilities && a.hostname == b.hostname && a.cpuCount == b.cpuCount
            && a.swapLimit == b.swapLimit && a.sysctls == b.sysctls
    }

    /// This machine, probed once per process.
    public static let current = HostInfo.probe()

    static func probe() -> HostInfo {
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        let machine = field(names.machine)
        let release = field(names.release)
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        // Only the unified hierarchy has cgroup.controllers at its root (hybrid: under unified/).
        let v2 = FS.exists("/sys/fs/cgroup/cgroup.controllers")
        let lastCap = (try? FS.readText("/proc/sys/kernel/cap_last_cap"))
            .flatMap { Int($0.trimmed(" \n")) } ?? (Capability.names.count - 1)
        // Only what this process may hand on: in a sandbox without, say, CAP_SYS_RESOURCE in its
        // bounding set, asking the runtime for it would fail (Podman filters the same way).
        let status = (try? FS.readText("/proc/self/status")) ?? ""
        let bounding = status.split(separator: "\n").first { $0.hasPrefix("CapBnd:") }
            .flatMap { UInt64(String($0.dropFirst("CapBnd:".count)).trimmed(" \t"), radix: 16) } ?? UInt64.max
        let known = Capability.names.prefix(max(0, min(lastCap + 1, Capability.names.count))).enumerated()
            .filter { bounding & (1 << UInt64($0.offset)) != 0 }.map(\.element)
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, 255)
        let swap = v2 ? FS.exists("/sys/fs/cgroup/memory.swap.max") || FS.exists("/sys/fs/cgroup/init.scope/memory.swap.max")
            : FS.exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
        let sysctls = Set(["net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start"].filter {
            FS.exists("/proc/sys/" + $0.replacingDots())
        })
        return HostInfo(architecture: seccompArchitecture(machine),
                        kernel: (numbers.first ?? 0, numbers.dropFirst().first ?? 0), cgroupV2: v2,
                        allCapabilities: known,
                        hostname: String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                        cpuCount: max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))), swapLimit: swap, sysctls: sysctls)
    }

    /// uname's machine → the name Docker's seccomp profiles use in `includes.arches`.
    static func seccompArchitecture(_ machine: String) -> String {
        switch machine {
        case "x86_64": "amd64"
        case "aarch64": "arm64"
        case "i386", "i686": "x86"
        case "ppc64le": "ppc64le"
        case "s390x": "s390x"
        case "riscv64": "riscv64"
        default: machine
        }
    }
}

extension String {
    fileprivate func replacingDots() -> String { String(map { $0 == "." ? "/" : $0 }) }

    /// The string without the given characters at either end.
    func trimmed(_ set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
