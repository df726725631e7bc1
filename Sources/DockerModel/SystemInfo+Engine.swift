import ContainerRuntime
import Engine
import Glibc
import ImageStore
import LinuxSys

extension SystemInfo {
    /// `info` for an engine: its containers and images counted now, the host's facts, the runtime
    /// found beside this program. The ID is made once and kept in `<root>/engine-id`, as dockerd does.
    public init(engine: Engine, host: HostFacts = .current()) throws {
        var running = 0, paused = 0, stopped = 0
        let containers = try engine.all()
        for container in containers {
            switch engine.status(container).status {
            case .running: running += 1
            case .paused: paused += 1
            default: stopped += 1  // Docker counts created, restarting, exited and dead as stopped
            }
        }
        let runtime = Executables.sibling("berth-runtime") ?? "berth-runtime"
        let images = try engine.images.images().count
        self.init(id: Self.engineID(root: engine.root), running: running, paused: paused, stopped: stopped, images: images,
                  rootDir: engine.root, serverVersion: berthVersion, runtimePath: runtime, host: host)
    }

    /// `info` from counts and host facts; the storage driver's status is read from `rootDir`.
    public init(id: String, running: Int, paused: Int, stopped: Int, images: Int, rootDir: String,
                serverVersion: String, runtimePath: String, host: HostFacts) {
        self.id = id
        containers = running + paused + stopped
        containersRunning = running
        containersPaused = paused
        containersStopped = stopped
        self.images = images
        driver = "overlay"
        driverStatus = [["Backing Filesystem", HostFacts.backingFilesystem(rootDir)], ["Supports d_type", "true"]]
        plugins = Plugins(volume: ["local"], network: ["bridge", "host", "null"], log: ["json-file"])
        memoryLimit = host.memoryLimit
        swapLimit = host.swapLimit
        kernelMemoryTCP = host.kernelMemoryTCP
        cpuCfsPeriod = host.cpuCfsPeriod
        cpuCfsQuota = host.cpuCfsQuota
        cpuShares = host.cpuShares
        cpuSet = host.cpuSet
        pidsLimit = host.pidsLimit
        ipv4Forwarding = host.ipv4Forwarding
        nFd = host.openFiles
        oomKillDisable = host.oomKillDisable
        nGoroutines = host.threads
        systemTime = Timestamp.now()
        cgroupVersion = host.cgroupVersion
        kernelVersion = host.kernelVersion
        operatingSystem = host.operatingSystem
        osVersion = host.osVersion
        architecture = host.architecture
        ncpu = host.ncpu
        memTotal = host.memTotal
        dockerRootDir = rootDir
        httpProxy = Self.environment("HTTP_PROXY", "http_proxy")
        httpsProxy = Self.environment("HTTPS_PROXY", "https_proxy")
        noProxy = Self.environment("NO_PROXY", "no_proxy")
        name = host.hostname
        self.serverVersion = serverVersion
        runtimes = ["berth-runtime": runtimePath]
        defaultRuntime = "berth-runtime"
        // Each container has its own supervisor: no engine process has to stay up for it to run.
        liveRestoreEnabled = true
        initBinary = ""
        runcCommit = serverVersion
        securityOptions = ["name=seccomp,profile=builtin"] + (host.cgroupVersion == "2" ? ["name=cgroupns"] : [])
    }

    /// The engine's ID: a UUID made the first time it is asked for.
    static func engineID(root: String) -> String {
        let path = root + "/engine-id"
        if let text = try? FS.readText(path), !text.isEmpty { return String(text.prefix { $0 != "\n" }) }
        let id = String(((try? FS.readText("/proc/sys/kernel/random/uuid")) ?? "").prefix { $0 != "\n" })
        try? FS.writeFileAtomically(path, Array(id.utf8), mode: 0o600)
        return id
    }

    /// The first of these environment variables that is set (Docker reads both spellings of the proxies).
    static func environment(_ names: String...) -> String {
        for name in names { if let value = getenv(name) { return String(cString: value) } }
        return ""
    }
}
