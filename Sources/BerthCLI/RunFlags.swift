import ArgumentParser
import ContainerSpec
import Glibc
import LinuxSys

/// The flags `berth run` and `berth create` share, with `docker run`'s spellings. Values are
/// collected as typed; `runOptions` hands each to its ContainerSpec parser, so errors carry Docker's wording.
///
/// The embedding command declares `@Argument var image: String` and then
/// `@Argument(parsing: .captureForPassthrough) var command: [String] = []`: everything after IMAGE
/// then belongs to the command (`berth run IMAGE ls -l` keeps `-l`), as with Docker. It also sets
/// `helpNames: [.long]`, since `-h` is `--hostname` here.
///
/// A single-value option takes the next word whatever it looks like (`--memory-swap -1`,
/// `--name -x`), as Docker's flag parser does; ArgumentParser would take `-1` for a flag.
struct RunFlags: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Run container in background and print container ID")
    var detach = false
    @Flag(name: .shortAndLong, help: "Keep STDIN open even if not attached")
    var interactive = false
    @Flag(name: .shortAndLong, help: "Allocate a pseudo-TTY")
    var tty = false
    @Flag(name: .customLong("rm"), help: "Automatically remove the container when it exits")
    var autoRemove = false
    @Option(parsing: .unconditional, help: "Assign a name to the container")
    var name: String?

    @Option(name: .shortAndLong, help: "Set environment variables")
    var env: [String] = []
    @Option(name: .customLong("env-file"), help: "Read in a file of environment variables")
    var envFile: [String] = []
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Working directory inside the container")
    var workdir: String?
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Username or UID (format: <name|uid>[:<group|gid>])")
    var user: String?
    @Option(parsing: .unconditional, help: "Overwrite the default ENTRYPOINT of the image")
    var entrypoint: String?
    @Option(name: .customLong("group-add"), help: "Add additional groups to join")
    var groupAdd: [String] = []

    @Option(name: .shortAndLong, help: "Bind mount a volume")
    var volume: [String] = []
    @Option(help: "Attach a filesystem mount to the container")
    var mount: [String] = []
    @Option(help: "Mount a tmpfs directory")
    var tmpfs: [String] = []
    @Flag(name: .customLong("read-only"), help: "Mount the container's root filesystem as read only")
    var readOnly = false

    @Option(name: .shortAndLong, parsing: .unconditional, help: "Memory limit")
    var memory: String?
    @Option(name: .customLong("memory-swap"), parsing: .unconditional, help: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    var memorySwap: String?
    @Option(name: .customLong("memory-reservation"), parsing: .unconditional, help: "Memory soft limit")
    var memoryReservation: String?
    @Option(parsing: .unconditional, help: "Number of CPUs")
    var cpus: String?
    @Option(name: [.customShort("c"), .customLong("cpu-shares")], parsing: .unconditional, help: "CPU shares (relative weight)")
    var cpuShares: String?
    @Option(name: .customLong("cpu-period"), parsing: .unconditional, help: "Limit CPU CFS (Completely Fair Scheduler) period")
    var cpuPeriod: String?
    @Option(name: .customLong("cpu-quota"), parsing: .unconditional, help: "Limit CPU CFS (Completely Fair Scheduler) quota")
    var cpuQuota: String?
    @Option(name: .customLong("cpuset-cpus"), parsing: .unconditional, help: "CPUs in which to allow execution (0-3, 0,1)")
    var cpusetCpus: String?
    @Option(name: .customLong("cpuset-mems"), parsing: .unconditional, help: "MEMs in which to allow execution (0-3, 0,1)")
    var cpusetMems: String?
    @Option(name: .customLong("pids-limit"), parsing: .unconditional, help: "Tune container pids limit (set -1 for unlimited)")
    var pidsLimit: String?
    @Option(help: "Ulimit options")
    var ulimit: [String] = []
    @Option(name: .customLong("shm-size"), parsing: .unconditional, help: "Size of /dev/shm")
    var shmSize: String?
    @Option(name: .customLong("oom-score-adj"), parsing: .unconditional, help: "Tune host's OOM preferences (-1000 to 1000)")
    var oomScoreAdj: String?

    @Option(name: .customLong("cap-add"), help: "Add Linux capabilities")
    var capAdd: [String] = []
    @Option(name: .customLong("cap-drop"), help: "Drop Linux capabilities")
    var capDrop: [String] = []
    @Flag(help: "Give extended privileges to this container")
    var privileged = false
    @Option(help: "Add a host device to the container")
    var device: [String] = []
    @Option(name: .customLong("security-opt"), help: "Security Options")
    var securityOpt: [String] = []
    @Option(help: "Sysctl options")
    var sysctl: [String] = []
    @Flag(name: .customLong("init"), help: "Run an init inside the container that forwards signals and reaps processes")
    var initProcess = false

    @Option(parsing: .unconditional, help: "Restart policy to apply when a container exits (default \"no\")")
    var restart: String?
    @Option(name: .customLong("health-cmd"), parsing: .unconditional, help: "Command to run to check health")
    var healthCmd: String?
    @Option(name: .customLong("health-interval"), parsing: .unconditional, help: "Time between running the check (ms|s|m|h) (default 0s)")
    var healthInterval: String?
    @Option(name: .customLong("health-timeout"), parsing: .unconditional, help: "Maximum time to allow one check to run (ms|s|m|h) (default 0s)")
    var healthTimeout: String?
    @Option(name: .customLong("health-retries"), parsing: .unconditional, help: "Consecutive failures needed to report unhealthy")
    var healthRetries: String?
    @Option(name: .customLong("health-start-period"), parsing: .unconditional, help: "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)")
    var healthStartPeriod: String?
    @Option(name: .customLong("health-start-interval"), parsing: .unconditional, help: "Time between running the check during the start period (ms|s|m|h) (default 0s)")
    var healthStartInterval: String?
    @Flag(name: .customLong("no-healthcheck"), help: "Disable any container-specified HEALTHCHECK")
    var noHealthcheck = false

    @Option(name: [.customShort("h"), .long], parsing: .unconditional, help: "Container host name")
    var hostname: String?
    @Option(parsing: .unconditional, help: "Container NIS domain name")
    var domainname: String?
    @Option(name: .shortAndLong, help: "Set meta data on a container")
    var label: [String] = []
    @Option(name: .customLong("label-file"), help: "Read in a line delimited file of labels")
    var labelFile: [String] = []
    @Option(name: .customLong("stop-signal"), parsing: .unconditional, help: "Signal to stop the container")
    var stopSignal: String?
    @Option(name: .customLong("stop-timeout"), parsing: .unconditional, help: "Timeout (in seconds) to stop a container")
    var stopTimeout: String?
    @Option(name: [.customLong("network"), .customLong("net")], help: "Connect a container to a network (bridge, NAME, host, none, container:NAME)")
    var network: [String] = []
    @Option(name: [.customShort("p"), .customLong("publish")], help: "Publish a container's port(s) to the host")
    var publish: [String] = []
    @Flag(name: [.customShort("P"), .customLong("publish-all")], help: "Publish all exposed ports to random ports")
    var publishAll = false
    @Option(help: "Expose a port or a range of ports")
    var expose: [String] = []
    @Option(name: [.customLong("network-alias"), .customLong("net-alias")], help: "Add network-scoped alias for the container")
    var networkAlias: [String] = []
    @Option(name: .customLong("ip"), parsing: .unconditional, help: "IPv4 address (e.g., 172.30.100.104)")
    var ip: String?
    @Option(name: .customLong("dns"), help: "Set custom DNS servers")
    var dns: [String] = []
    @Option(name: .customLong("dns-search"), help: "Set custom DNS search domains")
    var dnsSearch: [String] = []
    @Option(name: [.customLong("dns-option"), .customLong("dns-opt")], help: "Set DNS options")
    var dnsOption: [String] = []
    @Option(name: .customLong("add-host"), help: "Add a custom host-to-IP mapping (host:ip)")
    var addHost: [String] = []
    @Option(parsing: .unconditional, help: "Pull image before running (\"always\", \"missing\", \"never\") (default \"missing\")")
    var pull: String?
    @Option(name: .customLong("log-opt"), help: "Log driver options (max-size, max-file)")
    var logOpt: [String] = []
    @Option(name: .customLong("log-driver"), parsing: .unconditional, help: "Logging driver for the container (json-file, local, none)")
    var logDriver: String?
    @Option(name: .shortAndLong, help: "Attach to STDIN, STDOUT or STDERR")
    var attach: [String] = []
    @Option(parsing: .unconditional, help: "Set platform if server is multi-platform capable")
    var platform: String?
    @Option(parsing: .unconditional, help: "Write the container ID to the file")
    var cidfile: String?
    @Option(parsing: .unconditional, help: "PID namespace to use")
    var pid: String?
    @Option(parsing: .unconditional, help: "IPC mode to use")
    var ipc: String?
    @Option(parsing: .unconditional, help: "UTS namespace to use")
    var uts: String?
    @Option(parsing: .unconditional, help: "User namespace to use")
    var userns: String?
    @Option(name: .customLong("volumes-from"), help: "Mount volumes from the specified container(s)")
    var volumesFrom: [String] = []
    @Option(help: "Add link to another container")
    var link: [String] = []
    @Option(name: .customLong("mac-address"), parsing: .unconditional, help: "Container MAC address (e.g., 92:d0:c6:0a:29:33)")
    var macAddress: String?
    @Flag(name: .customLong("oom-kill-disable"), help: "Disable OOM Killer")
    var oomKillDisable = false
    @Option(parsing: .unconditional, help: "GPU devices to add to the container ('all' to pass all GPUs)")
    var gpus: String?

    /// nil for "a namespace of its own", the default.
    static func own(_ mode: NamespaceMode) -> NamespaceMode? { mode == .private ? nil : mode }

    /// The flags as RunOptions, parsed and checked as Docker does (`environment` resolves bare
    /// `-e KEY` and env-file keys; relative `-v ./dir` binds resolve against the current directory).
    func runOptions(environment: [String: String]) throws(EngineError) -> RunOptions {
        try runOptions(environment: environment, currentDirectory: FS.absolute("."), hostCPUs: RunOptions.hostCPUs())
    }

    /// Each flag through its ContainerSpec parser, in the order Docker's CLI reads them (errors name
    /// the flag: `invalid argument "x" for "-m, --memory" flag: invalid size: 'x'`); then what its
    /// CLI checks once every flag is read, then the daemon's checks.
    func runOptions(environment: [String: String], currentDirectory: String, hostCPUs: Int) throws(EngineError) -> RunOptions {
        typealias Parse = RunOptions.Parse
        var o = RunOptions()
        let lookup: (String) -> String? = { environment[$0] }
        o.detach = detach
        o.interactive = interactive
        o.tty = tty
        o.autoRemove = autoRemove
        o.name = name.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }
        o.hostname = hostname.flatMap { $0.isEmpty ? nil : $0 }
        o.domainname = domainname.flatMap { $0.isEmpty ? nil : $0 }
        o.workingDir = workdir.flatMap { $0.isEmpty ? nil : $0 }
        o.user = user.flatMap { $0.isEmpty ? nil : $0 }
        // `--entrypoint ""` clears the image's entrypoint; Docker sends [""] for it.
        o.entrypoint = entrypoint.map { [$0] }
        o.readOnlyRootfs = readOnly
        o.privileged = privileged
        o.initProcess = initProcess
        o.groupAdd = groupAdd
        o.cpusetCpus = cpusetCpus.flatMap { $0.isEmpty ? nil : $0 }
        o.cpusetMems = cpusetMems.flatMap { $0.isEmpty ? nil : $0 }

        for item in env {
            if let value = try Parse.flag("-e, --env", item, { v throws(EngineError) in try Parse.env(v, lookup: lookup) }) {
                o.env.append(value)
            }
        }
        o.memory = try memory.map { v throws(EngineError) in try Parse.flag("-m, --memory", v, Parse.size) }
        o.memorySwap = try memorySwap.map { v throws(EngineError) in try Parse.flag("--memory-swap", v, Parse.memorySwap) }
        o.memoryReservation = try memoryReservation.map { v throws(EngineError) in try Parse.flag("--memory-reservation", v, Parse.size) }
        o.shmSize = try shmSize.map { v throws(EngineError) in try Parse.flag("--shm-size", v, Parse.size) }
        o.nanoCPUs = try cpus.map { v throws(EngineError) in try Parse.flag("--cpus", v, Parse.nanoCPUs) }
        o.cpuShares = try cpuShares.map { v throws(EngineError) in
            try Parse.cpuShares(try Parse.flag("-c, --cpu-shares", v, Parse.integer))
        }
        o.cpuPeriod = try cpuPeriod.map { v throws(EngineError) in
            try Parse.cpuPeriod(try Parse.flag("--cpu-period", v, Parse.integer))
        }
        o.cpuQuota = try cpuQuota.map { v throws(EngineError) in try Parse.flag("--cpu-quota", v, Parse.integer) }
        o.pidsLimit = try pidsLimit.map { v throws(EngineError) in try Parse.flag("--pids-limit", v, Parse.integer) }
        o.oomScoreAdj = try oomScoreAdj.map { v throws(EngineError) in Int(try Parse.flag("--oom-score-adj", v, Parse.integer)) }
        o.stopTimeout = try stopTimeout.map { v throws(EngineError) in Int(try Parse.flag("--stop-timeout", v, Parse.integer)) }
        for item in ulimit {
            o.setUlimit(try Parse.flag("--ulimit", item, Parse.ulimit))
        }
        for item in sysctl {
            let (key, value) = try Parse.flag("--sysctl", item, Parse.sysctl)
            o.sysctls[key] = value
        }
        for item in label {
            _ = try Parse.flag("-l, --label", item, Parse.label)
        }
        if !attach.isEmpty {
            var streams = Set(try attach.map { v throws(EngineError) in try Parse.flag("-a, --attach", v, Parse.attach) })
            // As Docker's CLI: `-i` attaches stdin whatever `-a` lists.
            if interactive { streams.insert(.stdin) }
            o.attach = StandardStream.allCases.filter(streams.contains)
        }
        for item in link {
            let (target, alias) = try Parse.flag("--link", item, Parse.link)
            o.links = (o.links ?? []) + [target + ":" + alias]
        }
        o.gpus = try gpus.map { v throws(EngineError) in _ = try Parse.flag("--gpus", v, Parse.gpus); return v }
        o.oomKillDisable = oomKillDisable ? true : nil
        var health = HealthOverride()
        if let healthCmd, !healthCmd.isEmpty { health.test = ["CMD-SHELL", healthCmd] }
        health.interval = try healthInterval.map { v throws(EngineError) in try Parse.flag("--health-interval", v, Parse.duration) }
        health.timeout = try healthTimeout.map { v throws(EngineError) in try Parse.flag("--health-timeout", v, Parse.duration) }
        health.startPeriod = try healthStartPeriod.map { v throws(EngineError) in try Parse.flag("--health-start-period", v, Parse.duration) }
        health.startInterval = try healthStartInterval.map { v throws(EngineError) in try Parse.flag("--health-start-interval", v, Parse.duration) }
        health.retries = try healthRetries.map { v throws(EngineError) in Int(try Parse.flag("--health-retries", v, Parse.integer)) }
        let mountFields = try mount.map { v throws(EngineError) in
            try Parse.flag("--mount", v, { v throws(EngineError) in try Parse.mountFields(v, currentDirectory: currentDirectory) })
        }

        // What Docker's CLI checks after reading all flags (container/opts.go's parse).
        try o.addVolumes(volume, tmpfs: tmpfs, currentDirectory: currentDirectory)
        o.devices = try device.map { v throws(EngineError) in try Parse.device(v) }
        try o.addEnvFiles(envFile, lookup: lookup)
        try o.addLabels(files: labelFile, labels: label)
        o.restart = try Parse.restart(restart ?? "")
        o.macAddress = try macAddress.flatMap { v throws(EngineError) in v.isEmpty ? nil : try Parse.macAddress(v) }
        o.pidMode = try pid.flatMap { v throws(EngineError) in Self.own(try Parse.pidMode(v)) }
        o.utsMode = try uts.flatMap { v throws(EngineError) in Self.own(try Parse.utsMode(v)) }
        o.usernsMode = try userns.flatMap { v throws(EngineError) in Self.own(try Parse.usernsMode(v)) }
        o.platform = try platform.flatMap { v throws(EngineError) in v.isEmpty ? nil : try Parse.platform(v) }
        o.containerIDFile = cidfile.flatMap { $0.isEmpty ? nil : $0 }
        o.volumesFrom = volumesFrom.isEmpty ? nil : volumesFrom
        o.logDriver = try logDriver.flatMap { v throws(EngineError) in v.isEmpty ? nil : try Parse.logDriver(v) }
        try o.addLogOptions(logOpt)
        for item in securityOpt {
            try o.applySecurityOption(item)
        }
        try o.applyHealth(health, noHealthcheck: noHealthcheck)
        try o.checkRestartAndRemove()
        try o.applyNetworkFlags(
            networks: network, publish: publish, publishAll: publishAll, expose: expose, aliases: networkAlias, ip: ip,
            dns: dns, dnsSearch: dnsSearch, dnsOptions: dnsOption, addHosts: addHost)
        o.pull = try Parse.pull(pull ?? "")

        // What the daemon checks.
        o.ipcMode = try ipc.flatMap { v throws(EngineError) in v.isEmpty ? nil : try Parse.ipcMode(v) }
        try o.addMounts(mountFields)
        o.stopSignal = try stopSignal.flatMap { v throws(EngineError) in v.isEmpty ? nil : try Parse.stopSignal(v) }
        o.capAdd = try capAdd.map { v throws(EngineError) in try Parse.daemon("invalid CapAdd", v, Parse.capability) }
        o.capDrop = try capDrop.map { v throws(EngineError) in try Parse.daemon("invalid CapDrop", v, Parse.capability) }
        try o.validate(hostCPUs: hostCPUs)
        return o
    }
}
