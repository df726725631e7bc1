import ContainerSpec

/// A `berth run` flag line's raw values, as the CLI's `RunFlags` collects them, and the same
/// flag-to-field mapping as `RunFlags.runOptions` (the CLI is an executable the tests cannot
/// import; once it is a library, the tests can parse lines with RunFlags itself).
struct FlagLine {
    var detach = false, interactive = false, tty = false, autoRemove = false
    var name: String?, hostname: String?, domainname: String?
    var env: [String] = [], envFile: [String] = []
    var workdir: String?, user: String?, entrypoint: String?
    var volume: [String] = [], mount: [String] = [], tmpfs: [String] = []
    var readOnly = false
    var memory: String?, memorySwap: String?, memoryReservation: String?
    var cpus: String?, cpuShares: String?, cpuPeriod: String?, cpuQuota: String?
    var cpusetCpus: String?, cpusetMems: String?
    var pidsLimit: String?, ulimit: [String] = [], shmSize: String?, oomScoreAdj: String?
    var capAdd: [String] = [], capDrop: [String] = [], privileged = false
    var device: [String] = [], securityOpt: [String] = [], sysctl: [String] = []
    var initProcess = false
    var restart: String?
    var healthCmd: String?, healthInterval: String?, healthTimeout: String?, healthRetries: String?
    var healthStartPeriod: String?, healthStartInterval: String?, noHealthcheck = false
    var label: [String] = [], labelFile: [String] = []
    var stopSignal: String?, stopTimeout: String?
    var network: [String] = []
    var publish: [String] = [], publishAll = false, networkAlias: [String] = [], ip: String?
    var expose: [String] = []
    var dns: [String] = [], dnsSearch: [String] = [], dnsOption: [String] = [], addHost: [String] = []
    var pull: String?
    var logOpt: [String] = []
    var groupAdd: [String] = []

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
        try o.addMounts(mountFields)
        o.stopSignal = try stopSignal.flatMap { v throws(EngineError) in v.isEmpty ? nil : try Parse.stopSignal(v) }
        o.capAdd = try capAdd.map { v throws(EngineError) in try Parse.daemon("invalid CapAdd", v, Parse.capability) }
        o.capDrop = try capDrop.map { v throws(EngineError) in try Parse.daemon("invalid CapDrop", v, Parse.capability) }
        try o.validate(hostCPUs: hostCPUs)
        return o
    }
}
