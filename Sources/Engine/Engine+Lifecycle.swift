import ContainerNetwork
import CLinuxSys
import ContainerRuntime
import ContainerSpec
import Glibc
import ImageStore
import LinuxSys
import OCI

extension Engine {
    // MARK: - Create

    /// `create`: records a container from a stored image. Nothing runs yet; `start` mounts its
    /// rootfs and starts its supervisor.
    public func create(image imageName: String, options given: RunOptions) throws(EngineError) -> Container {
        var options = given
        try options.validateModes()
        let record: ImageRecord
        do { record = try images.resolve(imageName) } catch {
            throw .notFound("Unable to find image '\(imageName)' locally")
        }
        let image: ImageStore.Image
        do { image = try images.load(record) } catch { throw .system("load image \(imageName)", error) }
        let imagePlatform = image.config
        if !options.platformMatches(os: imagePlatform.os, architecture: imagePlatform.architecture, variant: imagePlatform.variant) {
            let actual = [imagePlatform.os, imagePlatform.architecture, imagePlatform.variant].compactMap { $0 }.joined(separator: "/")
            throw .notFound("image with reference \(imageName) was found but does not match the specified platform: wanted \(options.platform ?? ""), actual: \(actual)",
                            reportedByDaemon: true)
        }
        // The containers these options name must exist now, as Docker checks at create.
        try checkNamespaceDonors(options)
        try checkLinks(options)
        if options.volumesFrom != nil { options.mounts = try volumesFromMounts(options) + options.mounts }
        let id = Self.newID()
        var name = options.name ?? ""
        if let given = options.name {
            guard RunOptions.validContainerName(given) else {
                throw .invalid("Invalid container name (\(given)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
            }
            name = given.hasPrefix("/") ? String(given.dropFirst()) : given
        } else {
            name = try uniqueGeneratedName()
        }
        let input = SpecInput(containerID: id, image: image.config.config, options: options, rootfs: rootfsPath(id),
                              volumeSources: [:], etcFiles: [:], initBinary: nil, cgroupsPath: "/berth/\(id)")
        let config = SpecBuilder.effectiveConfig(input)
        if (config.entrypoint ?? []).isEmpty && (config.cmd ?? []).isEmpty {
            throw .invalid("No command specified")
        }
        var container = Container(id: id, name: name, image: imageName, imageID: record.id.description,
                                  created: Clock.rfc3339Nano(), options: options, config: config)
        // As Docker's daemon at create: only a -v bind may name a host path that is not there yet.
        for mount in options.mounts where mount.kind == .bind && mount.createsMissingSource != true {
            if let source = mount.source, !FS.exists(source) {
                throw .invalid("invalid mount config for type \"bind\": bind source path does not exist: \(source)")
            }
        }
        // The network must exist now, as Docker checks at create.
        if case .named(let networkName) = options.network { _ = try network(networkName) }
        if case .container(let other) = options.network { _ = try self.container(other) }
        do {
            try FS.mkdirAll(containerDirectory(id), mode: 0o710)
        } catch {
            throw .system("create container directory", error)
        }
        var tries = 0
        while true {
            do {
                try containers.insert(container)
                break
            } catch where error.kind == .conflict && options.name == nil && tries < 16 {
                // Another CLI took the same generated name a moment ago: draw again, as the daemon would.
                tries += 1
                container.name = try uniqueGeneratedName()
            } catch {
                FS.removeAll(containerDirectory(id))
                throw error
            }
        }
        do {
            try attachVolumes(container)
            try recordPrimaryEndpoint(container)
        } catch {
            try? remove(container, force: true, volumes: true)
            throw error
        }
        recordEvent(container, "create")
        return container
    }

    /// 32 random bytes in hex, as Docker's container IDs.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return hexString((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    func uniqueGeneratedName() throws(EngineError) -> String {
        let taken = try containers.names()
        for _ in 0..<64 {
            let name = NameGenerator.random()
            if !taken.contains(name) { return name }
        }
        return NameGenerator.random() + "_\(UInt16.random(in: 1...9999))"
    }

    // MARK: - Start

    /// What `start` hands back: the supervisor, and with `attach` our end of its first client socket.
    public struct Started: Sendable {
        public var pid: Int32
        public var attachFD: Int32?
    }

    /// `start`: mounts the rootfs, writes the bundle and the supervisor's config, starts the
    /// supervisor and waits until the container runs (or could not start: the error says why and
    /// carries Docker's 126/127 in `exitCode`). A `--rm` container that could not start is
    /// removed, as dockerd removes it.
    public func start(_ container: Container, attach: Bool = false) throws(StartError) -> Started {
        do {
            return try startOnce(container, attach: attach)
        } catch {
            if container.options.autoRemove { try? remove(container, force: true, volumes: true) }
            throw error
        }
    }

    func startOnce(_ container: Container, attach: Bool) throws(StartError) -> Started {
        let current = status(container)
        if current.isRunning || current.status == .restarting {
            return Started(pid: current.state.pid, attachFD: nil)
        }
        let id = container.id
        let runDir = runDirectory(id)
        // The previous run's supervisor may still be finishing (its network DELs, its last state
        // save, as right after `stop` in a `restart`): the new run must not overlap it.
        waitForSupervisorToFinish(container)
        do {
            try FS.mkdirAll(runDir, mode: 0o700)
            _ = unlink(runDir + "/" + SupervisorConfig.stopRequestName)
            _ = unlink(containerDirectory(id) + "/" + Self.stoppedByUserName)
        } catch {
            throw StartError(.system("create run directory", error))
        }
        let image: ImageStore.Image
        do {
            image = try images.load(try images.resolve(container.imageID))
        } catch {
            throw StartError(.system("image \(container.image) of container \(container.name)", error))
        }
        do {
            try mountRootfs(container, layers: images.layerPaths(image))
        } catch {
            throw StartError(error)
        }
        var attachments: [NetworkAttachment]?
        do {
            // Before anything is set up: a linked or joined container that does not run fails the start.
            let shared = try sharedNamespaces(container)
            let links = try linkSetup(container)
            attachments = try setUpNetworking(container)
            let etcFiles = try writeEtcFiles(container, attachments: attachments ?? [], links: links.hosts)
            var input = SpecInput(containerID: id, image: image.config.config, options: container.options,
                                  rootfs: rootfsPath(id), volumeSources: try prepareVolumes(container), etcFiles: etcFiles,
                                  initBinary: container.options.initProcess ? Self.initBinary() : nil,
                                  cgroupsPath: "/berth/\(id)", networkNamespacePath: try networkNamespacePath(container, attachments))
            input.pidNamespacePath = shared.pid
            input.ipcNamespacePath = shared.ipc
            input.utsNamespacePath = shared.uts
            input.shmSource = shared.shm
            input.linkEnvironment = links.environment
            try createBindSources(container)
            let spec = try SpecBuilder.build(input)
            try createPaths(SpecBuilder.pathsToCreate(input), in: rootfsPath(id))
            let bytes: [UInt8]
            do { bytes = try JSONTreeEncoder.encode(spec) } catch { throw EngineError.system("encode config.json", error) }
            do { try FS.writeFileAtomically(runDir + "/config.json", bytes, mode: 0o600) } catch {
                throw EngineError.system("write config.json", error)
            }
            let log = try LogOptions.parse(container.options.logWriterOptions)
            let healthcheck = container.config.healthcheck.flatMap { $0.test?.first == "NONE" ? nil : $0 }
            var supervisor = SupervisorConfig(
                id: id, bundle: runDir, runtimeRoot: runtime.store.root, statePath: statePath(id),
                logPath: logPath(id), logMaxSize: log.maxSize, logMaxFiles: log.maxFiles,
                attachSocket: attachSocketPath(id), tty: container.options.tty,
                openStdin: container.options.interactive, stdinOnce: container.options.interactive && (attach || container.options.closesStdinAfterAttach),
                restart: container.options.restart, rootfsMount: rootfsPath(id),
                exitCommand: container.options.autoRemove ? cleanupCommand(id) : nil, healthcheck: healthcheck,
                eventsPath: eventsPath, eventAttributes: eventAttributes(container))
            if attachments != nil { supervisor.network = networkTeardown(id) }
            if container.options.logDriver == LogDriver.none { supervisor.logDisabled = true }
            if !shared.unmountAtEnd.isEmpty { supervisor.unmountAtEnd = shared.unmountAtEnd }
            do { try supervisor.save(runDirectory: runDir) } catch { throw EngineError.system("write supervisor.json", error) }
        } catch {
            if attachments != nil { tearDownNetworking(id) }
            unmountShm(id)
            unmountRootfs(id)
            throw StartError(error)
        }
        if attach { recordEvent(container, "attach") }
        do {
            return try spawnSupervisor(container, attach: attach)
        } catch {
            if attachments != nil { tearDownNetworking(id) }
            throw error
        }
    }

    /// The command a detached `--rm` container's supervisor runs when it has ended.
    func cleanupCommand(_ id: String) -> [String] {
        let berth = Executables.sibling("berth") ?? "/usr/bin/berth"
        return [berth, "--root", root, "--runroot", runRoot, "rm", "-f", "-v", id]
    }

    public struct StartError: Error, CustomStringConvertible, Sendable {
        public var error: EngineError
        /// Docker's exit status for `run` when the process could not start (125, 126, 127).
        public var exitCode: Int32
        public var description: String { error.message }
        init(_ error: EngineError, exitCode: Int32 = 125) {
            self.error = error
            self.exitCode = exitCode
        }
        init(_ error: any Error) {
            self.error = (error as? EngineError) ?? .system("\(error)")
            self.exitCode = 125
        }
    }

    // MARK: - Rootfs

    func isMounted(_ path: String) -> Bool { Self.isMountPoint(path) }

    /// The container's init layer over the image's snapshots as overlay lower layers (topmost
    /// first), the container's own upper and work.
    func mountRootfs(_ container: Container, layers: [String]) throws(EngineError) {
        let dir = containerDirectory(container.id)
        let target = rootfsPath(container.id)
        if isMounted(target) { return }
        do {
            for sub in ["upper", "work", "rootfs"] { try FS.mkdirAll(dir + "/" + sub, mode: 0o755) }
        } catch {
            throw .system("create overlay directories", error)
        }
        let lower = [try prepareInitLayer(container, layers: layers)] + layers.reversed()
        var data = "lowerdir=\(lower.joined(separator: ":")),upperdir=\(dir)/upper,workdir=\(dir)/work" + Self.overlayFeatureOptions
        // A --rm container's changes die with it: without syncs on unmount (as Podman mounts them),
        // which would otherwise flush every dirty page of the filesystem under the upper directory.
        if container.options.autoRemove {
            data += ",volatile"
            // A volatile mount leaves this mark when it ends, and overlay refuses the same work
            // directory again (EINVAL) until it is gone: a second start of a --rm container whose
            // first start failed. The container's changes are disposable, which volatile means.
            FS.removeAll(dir + "/work/work/incompat/volatile")
        }
        do {
            do {
                try MountSys.mount(source: "overlay", target: target, type: "overlay", flags: 0, data: data)
            } catch where data.hasSuffix(",volatile") {
                // Kernels before 5.10 do not know the option.
                try MountSys.mount(source: "overlay", target: target, type: "overlay", flags: 0, data: String(data.dropLast(9)))
            }
        } catch {
            throw .system("mount the rootfs of \(container.name)", error)
        }
    }

    /// Overlay features that make the upper directory mean nothing on its own (a renamed directory
    /// kept as a redirect to the lower one, a chmod as a copy of the metadata alone), turned off
    /// where the kernel has them on by default: `diff`, `commit` and `export` read the upper
    /// directory as the container's changes.
    static let overlayFeatureOptions: String = {
        var options = ""
        for parameter in ["redirect_dir", "metacopy"] {
            guard let text = try? FS.readText("/sys/module/overlay/parameters/" + parameter) else { continue }
            let value = text.split(whereSeparator: { $0 == "\n" }).first.map(String.init) ?? ""
            if !["N", "n", "0", "off", ""].contains(value) { options += ",\(parameter)=off" }
        }
        return options
    }()

    func unmountRootfs(_ id: String) {
        let target = rootfsPath(id)
        while isMounted(target) {
            if (try? MountSys.umount(target, flags: Int32(MNT_DETACH))) == nil { break }
        }
    }

    /// Docker creates the missing host directory of a `-v /host:/ctr` bind at start (0755, as root).
    func createBindSources(_ container: Container) throws(EngineError) {
        for mount in container.options.mounts where mount.kind == .bind && mount.createsMissingSource == true {
            guard let source = mount.source, !FS.exists(source) else { continue }
            do { try FS.mkdirAll(source, mode: 0o755) } catch { throw .system("create bind source \(source)", error) }
        }
    }

    /// Creates directories inside the mounted rootfs, each path resolved inside it.
    func createPaths(_ paths: [String], in rootfs: String) throws(EngineError) {
        guard !paths.isEmpty else { return }
        let rootFD: Int32
        do { rootFD = try FS.open(rootfs, BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC) } catch { throw .system("open rootfs", error) }
        defer { FS.close(rootFD) }
        let inRoot = InRoot(rootFD: rootFD, rootPath: rootfs)
        for path in paths {
            do { FS.close(try inRoot.mkdirAll(path)) } catch { throw .invalid("create \(path) in the container: \(error)") }
        }
    }

    /// /etc/hostname, /etc/hosts and /etc/resolv.conf as Docker writes them for a container: its
    /// own addresses and `--add-host` entries in hosts; on a bridge network the network's DNS server
    /// (the gateway, where ContainerDNS answers container names) as the nameserver.
    func writeEtcFiles(_ container: Container, attachments: [NetworkAttachment], links: [String] = [], hostsInPlace: Bool = false) throws(EngineError) -> [String: String] {
        let dir = containerDirectory(container.id)
        let hostname = container.options.hostname ?? container.shortID
        var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
        hosts += "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
        let request = container.options.net
        if container.options.network == .host {
            hosts = (try? FS.readText("/etc/hosts")) ?? hosts
        }
        let first = attachments.first
        let resolv = Self.resolvConf(hostNetwork: container.options.network == .host,
                                     dnsServer: first?.dnsServer == true ? first?.gateway : nil,
                                     dns: request.dns, dnsSearch: request.dnsSearch, dnsOptions: request.dnsOptions)
        for entry in request.extraHosts {
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let address = parts[1] == "host-gateway" ? (attachments.first?.gateway ?? "127.0.0.1") : parts[1]
            hosts += "\(address)\t\(parts[0])\n"
        }
        for line in links { hosts += line + "\n" }
        for attachment in attachments {
            if let ip = attachment.ipAddress { hosts += "\(ip)\t\(hostname)\n" }
        }
        do {
            if hostsInPlace {
                // A running container has the file bind-mounted: a rename would not reach it.
                let fd = try FS.open(dir + "/hosts", O_WRONLY | O_TRUNC | O_CLOEXEC)
                defer { FS.close(fd) }
                try FS.write(fd, Array(hosts.utf8))
                return [:]
            }
            try FS.writeFileAtomically(dir + "/hostname", Array((hostname + "\n").utf8), mode: 0o644)
            try FS.writeFileAtomically(dir + "/hosts", Array(hosts.utf8), mode: 0o644)
            try FS.writeFileAtomically(dir + "/resolv.conf", Array(resolv.utf8), mode: 0o644)
        } catch {
            throw .system("write /etc files of \(container.name)", error)
        }
        return ["/etc/hostname": dir + "/hostname", "/etc/hosts": dir + "/hosts", "/etc/resolv.conf": dir + "/resolv.conf"]
    }

    /// /etc/resolv.conf for a container: the host's search domains and options; as nameserver the
    /// network's DNS server (`dnsServer`, which answers container names and forwards the rest to the
    /// host's resolvers), else the host's resolvers less loopback ones (unreachable from a namespace
    /// of the container's own), or all of them on the host's network; `--dns*` replace each part.
    static func resolvConf(hostNetwork: Bool, dnsServer: String?, dns: [String] = [], dnsSearch: [String] = [],
                           dnsOptions: [String] = []) -> String {
        let hostResolv = (try? FS.readText("/etc/resolv.conf")) ?? ""
        var nameservers: [String] = [], search: [String] = [], options: [String] = []
        for line in hostResolv.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = words.first else { continue }
            switch first {
            case "nameserver" where words.count > 1: nameservers.append(words[1])
            case "search", "domain": search = Array(words.dropFirst())  // the last one wins, as in glibc
            case "options": options += words.dropFirst()
            default: break
            }
        }
        if let dnsServer, !hostNetwork {
            nameservers = [dnsServer]
        } else if !hostNetwork {
            nameservers.removeAll { $0.hasPrefix("127.") || $0 == "::1" }
        }
        if !dns.isEmpty { nameservers = dns }
        if !dnsSearch.isEmpty { search = dnsSearch == ["."] ? [] : dnsSearch }
        if !dnsOptions.isEmpty { options = dnsOptions }
        var resolv = ""
        if !search.isEmpty { resolv += "search " + search.joined(separator: " ") + "\n" }
        for server in nameservers { resolv += "nameserver \(server)\n" }
        if !options.isEmpty { resolv += "options " + options.joined(separator: " ") + "\n" }
        return resolv
    }

    /// `network connect` of a running container: its hosts file gains the new address.
    func rewriteHosts(_ container: Container, attachments: [NetworkAttachment]) throws(EngineError) {
        _ = try writeEtcFiles(container, attachments: attachments, links: (try? linkSetup(container))?.hosts ?? [], hostsInPlace: true)
    }

    /// The namespace the container joins: its own (bridge networks and `none`), another
    /// container's (`container:NAME`), or nil for the host's (`host`).
    func networkNamespacePath(_ container: Container, _ attachments: [NetworkAttachment]?) throws(EngineError) -> String? {
        if attachments != nil { return netnsPath(container.id) }
        guard case .container(let name) = container.options.network else { return nil }
        let other = try self.container(name)
        if NetworkNamespace.exists(at: netnsPath(other.id)) { return netnsPath(other.id) }
        let current = status(other)
        guard current.isRunning, current.state.pid > 0 else {
            throw .conflict("cannot join network of a non running container: \(other.id)", reportedByDaemon: true)
        }
        return "/proc/\(current.state.pid)/ns/net"
    }

    /// Debian's tini, which Docker ships as docker-init.
    static func initBinary() -> String? {
        ["/usr/bin/tini-static", "/usr/bin/docker-init", "/usr/bin/tini"].first { access($0, X_OK) == 0 }
    }


    // MARK: - Supervisor

    func spawnSupervisor(_ container: Container, attach: Bool) throws(StartError) -> Started {
        guard let binary = Executables.sibling("berth-supervisor") else {
            unmountRootfs(container.id)
            throw StartError(.system("berth-supervisor not found beside berth (set BERTH_SUPERVISOR)"))
        }
        var ready: [Int32] = [0, 0]
        guard berth_pipe2(&ready, O_CLOEXEC) == 0 else { throw StartError(.system("pipe for the supervisor")) }
        var attachPair: (Int32, Int32)?
        if attach {
            do { attachPair = try ProcessSys.socketPair(type: SOCK_STREAM) } catch {
                FS.close(ready[0]); FS.close(ready[1])
                throw StartError(.system("attach socket", error))
            }
        }
        var argv = [binary, runDirectory(container.id), "--ready-fd", "3"]
        var keep: [(fd: Int32, as: Int32)] = [(ready[1], 3)]
        if let attachPair {
            keep.append((attachPair.1, 4))
            argv += ["--attach-fd", "4"]
        }
        let pid: pid_t
        do {
            // From a sealed copy: it enters the container (CVE-2019-5736).
            pid = try SealedExecutable.spawn(binary, argv, keep: keep, newSession: true)
            SupervisorReaper.shared.track(pid)
        } catch {
            for fd in [ready[0], ready[1], attachPair?.0, attachPair?.1].compactMap({ $0 }) { FS.close(fd) }
            unmountRootfs(container.id)
            throw StartError(.system("start the supervisor", error))
        }
        FS.close(ready[1])
        if let attachPair { FS.close(attachPair.1) }
        // The supervisor's first line: "ok\tPID", or "error\tSTATUS\tMESSAGE"; then it closes the pipe.
        let reply = readReply(ready[0], supervisor: pid)
        FS.close(ready[0])
        let line = String(decoding: reply, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        let fields = line.split(separator: "\t", maxSplits: 2).map(String.init)
        if fields.first == "ok" {
            return Started(pid: pid, attachFD: attachPair?.0)
        }
        if let attachPair { FS.close(attachPair.0) }
        // Reap it now if it already ended, so no zombie stays behind us.
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { SupervisorReaper.shared.forget(pid) }
        if fields.count == 3, let code = Int32(fields[1]) {
            throw StartError(.system(fields[2]), exitCode: code)
        }
        // A supervisor killed between creating and starting the container leaves its init waiting
        // to be started (and the rootfs mounted): neither may outlive this failed start.
        try? runtime.delete(id: container.id, force: true)
        unmountRootfs(container.id)
        throw StartError(.system("the supervisor of \(container.name) ended before the container started (see \(runDirectory(container.id))/runtime.log)"))
    }

    /// The supervisor's reply on its ready pipe, or what came before it died. Not a plain read to
    /// the end: a container init it forked before dying holds the pipe's write end too (until it
    /// execs), so the end of the pipe alone would never come.
    func readReply(_ fd: Int32, supervisor pid: pid_t) -> [UInt8] {
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var supervisorGone = false
        while true {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, supervisorGone ? 0 : 100)
            if ready > 0 {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    reply += buffer[0..<n]
                    if reply.contains(UInt8(ascii: "\n")) { return reply }
                    continue
                }
                if n == 0 || errno != EINTR { return reply }
                continue
            }
            if ready < 0 && errno == EINTR { continue }
            if supervisorGone { return reply }
            // Alive, or a zombie of ours not yet reaped: a zombie has said all it will.
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                SupervisorReaper.shared.forget(pid)
                supervisorGone = true
            } else if Glibc.kill(pid, 0) != 0 {
                supervisorGone = true
            }
        }
    }

    // MARK: - Stop, kill

    /// `stop`: the stop signal, then SIGKILL to every process of the container after `timeout`
    /// seconds (the container's --stop-timeout, else Docker's 10; negative: no SIGKILL). The
    /// supervisor carries it out (and records its events), so a CLI killed meanwhile does not leave
    /// the container running; without a live supervisor the CLI does it itself. A stopped
    /// container is not restarted by its policy.
    public func stop(_ container: Container, timeout: Int? = nil) throws(EngineError) {
        var current = status(container)
        if current.status == .restarting {
            markStopRequested(container)
            _ = notifySupervisor(current.state)
            waitUntilSettled(container, seconds: 5)
            return
        }
        guard current.isRunning else { return }
        let signal = Signals.parse(container.config.stopSignal ?? "SIGTERM") ?? SIGTERM
        let seconds = timeout ?? container.options.stopTimeout ?? 10
        markStopRequested(container, StopRequest(signal: signal, timeout: seconds))
        let started = Clock.monotonicSeconds()
        let killAt: Double? = seconds < 0 ? nil : started + Double(seconds)
        // Once the supervisor has the request, it has sent the signal; we take over only if it dies.
        var supervised = notifySupervisor(current.state)
        var signalled = supervised
        var escalated = false
        // The bound of our wait: the timeout, and then time for SIGKILL to take effect.
        var giveUpAt = killAt.map { $0 + 30 }
        while true {
            current = status(container)
            if !current.isRunning && current.status != .created || current.status == .restarting { break }
            let now = Clock.monotonicSeconds()
            if supervised && !current.state.supervisorAlive { supervised = false }
            if !supervised {
                if !signalled {
                    signalled = true
                    if current.status == .paused { try? runtime.resume(id: container.id) }
                    recordEvent(container, "kill", ["signal": "\(signal)"])
                    try? runtime.kill(id: container.id, signal: signal)
                }
                if !escalated, let killAt, now >= killAt {
                    escalated = true
                    recordEvent(container, "kill", ["signal": "\(SIGKILL)"])
                    try? runtime.kill(id: container.id, signal: SIGKILL, all: true)
                    giveUpAt = now + 30
                }
            }
            if let giveUpAt, now >= giveUpAt { break }
            usleep(5_000)
        }
        current = status(container)
        if current.isRunning { throw .system("container \(container.name) did not stop") }
        // A supervisor that saw it through recorded the stop after the die.
        if !supervised { recordEvent(container, "stop") }
    }

    /// Wakes the container's supervisor to read its stop request; false when there is no live
    /// supervisor that carries them out.
    func notifySupervisor(_ state: ContainerRunState) -> Bool {
        guard state.handlesStopRequests == true, state.supervisorAlive else { return false }
        return Glibc.kill(state.supervisorPid, SupervisorConfig.stopNotifySignal) == 0
    }

    /// `kill`: a signal to the container's init (SIGKILL by default). Like `stop`, a killed
    /// container is not restarted by its policy.
    public func kill(_ container: Container, signal: Int32) throws(EngineError) {
        let current = status(container)
        guard current.isRunning else {
            throw .conflict("Cannot kill container: \(container.name): Container \(container.id) is not running", reportedByDaemon: true)
        }
        markStopRequested(container)
        recordEvent(container, "kill", ["signal": "\(signal)"])
        do { try runtime.kill(id: container.id, signal: signal) } catch {
            throw .system("kill \(container.name)", error)
        }
        // As Docker: a paused container gets the signal once it is thawed.
        if current.status == .paused { try? runtime.resume(id: container.id) }
    }

    /// Keeps the coming exit from being restarted; with `request` (from `stop`) the supervisor
    /// also carries out the stop. A bare marker (`kill`, `rm -f`) does not replace a request.
    func markStopRequested(_ container: Container, _ request: StopRequest? = nil) {
        let path = runDirectory(container.id) + "/" + SupervisorConfig.stopRequestName
        if let request {
            try? request.save(runDirectory: runDirectory(container.id))
        } else if let fd = try? FS.open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode: 0o600) {
            FS.close(fd)
        }
        try? FS.writeFileAtomically(containerDirectory(container.id) + "/" + Self.stoppedByUserName, [], mode: 0o600)
    }

    /// Waits until the supervisor has recorded the end of the run; false on timeout.
    @discardableResult
    func waitForExit(_ container: Container, seconds: Double) -> Bool {
        let deadline = Clock.monotonicSeconds() + seconds
        while Clock.monotonicSeconds() < deadline {
            let current = status(container)
            if !current.isRunning && current.status != .created || current.status == .restarting { return true }
            usleep(5_000)
        }
        return false
    }

    func waitUntilSettled(_ container: Container, seconds: Double) {
        let deadline = Clock.monotonicSeconds() + seconds
        while Clock.monotonicSeconds() < deadline {
            let current = status(container)
            if current.status == .exited || current.status == .created { return }
            usleep(10_000)
        }
    }

    /// `wait`: blocks until the container is no longer running (not restarting either) and
    /// returns its exit status.
    public func wait(_ container: Container) throws(EngineError) -> Int32 {
        while true {
            let current = status(container)
            if current.status == .exited { return current.state.exitCode }
            if current.status == .created && !(current.state.supervisorAlive) { return current.state.exitCode }
            usleep(10_000)
            // The container may have been removed meanwhile (--rm).
            if (try? containers.exists(id: container.id)) == false { return current.state.exitCode }
        }
    }

    /// A supervisor whose container has ended is doing its teardown (network DELs, unmount, the
    /// last state save): let it finish rather than cut it short or run beside it. Bounded, since a
    /// plugin could hang; a stuck one is then killed by `rm`.
    func waitForSupervisorToFinish(_ container: Container) {
        var state = ContainerRunState.load(statePath(container.id))
        guard let first = state, first.supervisorAlive, !first.containerAlive else { return }
        let deadline = Clock.monotonicSeconds() + 15
        while Clock.monotonicSeconds() < deadline, let current = state, current.supervisorAlive, !current.containerAlive {
            usleep(2_000)
            state = ContainerRunState.load(statePath(container.id))
        }
    }

    // MARK: - Remove

    /// `rm`: a stopped container's directories, mounts and record; `force` kills a running one first.
    public func remove(_ container: Container, force: Bool) throws(EngineError) {
        let current = status(container)
        if current.isRunning || current.status == .restarting {
            guard force else {
                throw .conflict("You cannot remove a running container \(container.id). Stop the container before attempting removal or force remove", reportedByDaemon: true)
            }
            markStopRequested(container)
            if current.status == .paused { try? runtime.resume(id: container.id) }
            recordEvent(container, "kill", ["signal": "\(SIGKILL)"])
            try? runtime.kill(id: container.id, signal: SIGKILL, all: true)
            _ = waitForExit(container, seconds: 10)
        }
        // A supervisor still finishing up (or one killed -9) must not outlive the record.
        waitForSupervisorToFinish(container)
        let state = ContainerRunState.load(statePath(container.id))
        if let state, state.supervisorAlive {
            _ = Glibc.kill(state.supervisorPid, SIGKILL)
        }
        if let state, state.containerAlive {
            _ = Glibc.kill(state.pid, SIGKILL)
        }
        try? runtime.delete(id: container.id, force: true)
        tearDownNetworking(container.id)
        unmountShm(container.id)
        unmountRootfs(container.id)
        FS.removeAll(runDirectory(container.id))
        trash.discard(containerDirectory(container.id))
        try containers.remove(id: container.id)
        // After the container's row: a kill -9 between the two leaves only rows no query sees.
        networkRecords.removeEndpoints(containerID: container.id)
        recordEvent(container, "destroy")
    }

    public func rename(_ container: Container, to name: String) throws(EngineError) {
        guard RunOptions.validContainerName(name) else {
            throw .invalid("Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", reportedByDaemon: true)
        }
        let newName = name.hasPrefix("/") ? String(name.dropFirst()) : name
        try containers.rename(id: container.id, to: newName)
        var renamed = container
        renamed.name = newName
        recordEvent(renamed, "rename", ["oldName": "/" + container.name])
    }
}
