import ArgumentParser
import ContainerSpec
import DockerAPI
import Engine
import Glibc
import HTTPServer
import Kube
import KubeAPI
import KubeControllers
import KubeIngress
import KubeProxy
import Kubelet
import LinuxSys

nonisolated(unsafe) private var stopPipeWrite: Int32 = -1

/// `serve`: the Docker Engine API on unix sockets (and TCP when asked), and the Kubernetes API on
/// https://127.0.0.1:6443, over the same engine and state as the CLI. Containers outlive it: they
/// are the supervisors' children, not the server's.
struct Serve: BerthCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the Docker Engine API (docker CLI, docker-py, compose) and the Kubernetes API (kubectl)")

    @Option(name: [.customShort("H"), .customLong("host")],
            help: "Socket to listen on: unix:///path, tcp://host:port, or fd:// (systemd socket activation)")
    var hosts: [String] = []
    @Option(help: "Group that may use the unix sockets (mode 0660); root only when not given")
    var group: String?
    @Option(help: "Path of the pid file")
    var pidfile = "/run/berth/berth.pid"
    @Option(help: "Address of the Kubernetes API (HTTPS), HOST:PORT (default 127.0.0.1:6443); \"none\" turns it off")
    var kubeListen: String?

    @Option(help: "Address the Ingress controller's proxy listens on (while an Ingress of class berth exists)")
    var ingressAddress = "0.0.0.0"
    @Option(help: "Port of the Ingress controller's HTTP listener; 0 turns it off")
    var ingressHttpPort = 80
    @Option(help: "Port of the Ingress controller's HTTPS listener; 0 turns it off")
    var ingressHttpsPort = 443

    static let defaultKubeAddress = "127.0.0.1:6443"

    static let defaultSocket = "/run/berth/berth.sock"

    func execute() async throws {
        let listeners = try Self.listeners(hosts.isEmpty ? ["unix://" + Self.defaultSocket] : hosts, group: group)
        let kubeAddress = try Self.kubeAddress(kubeListen ?? Self.defaultKubeAddress)
        for (name, port) in [("--ingress-http-port", ingressHttpPort), ("--ingress-https-port", ingressHttpsPort)] where !(0...65535).contains(port) {
            throw ValidationError("invalid \(name) \(port): expected a port from 0 (off) to 65535")
        }
        let ingress = IngressController.Configuration(address: ingressAddress, httpPort: ingressHttpPort, httpsPort: ingressHttpsPort)
        // A thread per request: glibc would give each its own malloc arena and keep their pages
        // after a burst (20 MiB after 100 containers); two arenas keep the server small.
        Threads.limitMallocArenas(2)
        // berth.db opened once, with the Kubernetes store's tables: one writer in the process.
        let database = try Engine.openDatabase(root: FS.absolute(GlobalOptions.root), migrations: ObjectStore.registerMigrations)
        let engine = try GlobalOptions.engine(database: database)
        // Removed containers' files are deleted on a thread of ours (and what a kill -9 left).
        engine.deleteRemovedFilesInBackground()
        // What dockerd does when it starts after a host restart: containers whose restart policy
        // asks for it come back (harmless to repeat: running ones are left alone).
        for result in (try? engine.boot()) ?? [] where result.error != nil {
            printError("berth serve: restart \(result.container.name): \(result.error!)")
        }
        do { try FS.mkdirAll(parentDirectory(pidfile), mode: 0o755) } catch {}
        let pidText = "\(ProcessSys.currentPID)\n"
        do { try FS.writeFileAtomically(pidfile, Array(pidText.utf8), mode: 0o644) } catch {
            printError("berth serve: write pid file \(pidfile): \(error)")
            throw ExitCode(1)
        }
        defer { _ = unlink(pidfile) }

        // SIGTERM and SIGINT end the server cleanly, on whichever thread they land.
        let stopPipe = try FS.pipe(flags: O_CLOEXEC)
        stopPipeWrite = stopPipe.write.raw
        for number in [SIGTERM, SIGINT] {
            signal(number) { received in
                var byte = UInt8(truncatingIfNeeded: received)
                _ = write(stopPipeWrite, &byte, 1)
            }
        }
        // Whoever started us may have blocked them (a test harness, a supervisor); a blocked
        // SIGTERM would stay pending forever.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        // A client that goes away mid-response must not kill the server.
        signal(SIGPIPE, SIG_IGN)
        // The supervisors this server starts are its children: each that ends is reaped.
        SupervisorReaper.shared.start(every: 2)

        let server: HTTPServer
        do {
            let api = DockerAPI(engine: engine).handler
            let trimmer = IdleTrimmer.shared
            server = try HTTPServer(listeners: listeners, commonHeaders: DockerAPI.commonHeaders) { request, writer in
                trimmer.begin()
                defer { trimmer.end() }
                api(request, writer)
            }
        } catch {
            printError("berth serve: \(error.message)")
            throw ExitCode(1)
        }
        for listener in listeners { printError("berth serve: API listening on \(HTTPServer.describe(listener))") }
        var kubeServer: HTTPServer?
        if let kubeAddress {
            do {
                kubeServer = try Self.startKube(database: database, engine: engine, host: kubeAddress.host, port: kubeAddress.port, ingress: ingress)
            } catch {
                // An address the user gave must work; the default one may be taken (another
                // cluster, another berth serve) without costing the Docker API.
                if kubeListen != nil {
                    server.shutdown()
                    throw error
                }
                printError("berth serve: the Kubernetes API is off (--kube-listen to choose another address)")
            }
        }
        var byte: UInt8 = 0
        while read(stopPipe.read.raw, &byte, 1) < 0 && errno == EINTR {}
        printError("berth serve: stopping (signal \(byte))")
        kubeServer?.shutdown()
        server.shutdown()
    }

    /// `--kube-listen`: HOST:PORT, or nil for "none".
    static func kubeAddress(_ text: String) throws -> (host: String, port: Int)? {
        if text == "none" || text.isEmpty { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("invalid --kube-listen \(text): expected HOST:PORT or none")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    /// The Kubernetes API: its store in berth.db, the system namespaces, the TLS identity, token and
    /// kubeconfig under `<root>/kube` (made on first start, kept after), its HTTPS listener, and the
    /// kubelet's role over the same store (Pods run as the engine's containers).
    static func startKube(database: StateDatabase, engine: Engine, host: String, port: Int,
                          ingress: IngressController.Configuration) throws -> HTTPServer {
        let store: ObjectStore
        let access = KubeAccess(root: GlobalOptions.root)
        let api: KubeAPI
        do {
            store = try ObjectStore(database: database)
            let urlHost = host.contains(":") ? "[\(host)]" : host
            // A wildcard address is reached on loopback (which the certificate names).
            let clientHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : urlHost
            try access.prepare(server: "https://\(clientHost):\(port)")
            api = KubeAPI(store: store, token: try access.token(), serverAddress: "\(clientHost):\(port)",
                          root: GlobalOptions.root, volumesDirectory: access.directory + "/volumes", engine: engine)
            try api.bootstrap()
            // The kubelet's heartbeats: the node's Lease and status kept fresh.
            api.startHeartbeat()
            // kube-proxy's role: Services' cluster IPs and node ports as iptables rules.
            ServiceProxy(store: store) { printError("berth serve: \($0)") }.start()
            // The controller manager's role.
            // Their writes go through the API's paths (defaults, graceful deletion, garbage collection).
            let writer = ObjectWriter(create: { [api] resource, object throws(EngineError) in try api.createForController(resource, object) },
                                      delete: { [api] key throws(EngineError) in try api.deleteForController(key) },
                                      removeFinalizer: { [api] key, finalizer throws(EngineError) in try api.removeFinalizerForController(key, finalizer) })
            // The autoscaler reads CPU as metrics.k8s.io serves it.
            let metrics: PodMetricsReader = { [api] namespace throws(EngineError) in try api.podMetricsForController(namespace: namespace) }
            ControllerManager(store: store, writer: writer, metrics: metrics) { printError("berth serve: \($0)") }.start()
            // The Ingress controller's role: Berth's IngressClass and the proxy for its Ingresses.
            try IngressController(store: store, configuration: ingress) { printError("berth serve: \($0)") }.start()
        } catch {
            printError("berth serve: Kubernetes API: \(error.message)")
            throw ExitCode(1)
        }
        let listener = HTTPServer.Listener.tls(host: host, port: port, certificateChain: access.pki.servingCertificate,
                                               privateKey: access.pki.servingKey)
        let trimmer = IdleTrimmer.shared
        let handler = api.handler
        do {
            let server = try HTTPServer(listeners: [listener], commonHeaders: KubeAPI.commonHeaders) { request, writer in
                trimmer.begin()
                defer { trimmer.end() }
                handler(request, writer)
            }
            printError("berth serve: Kubernetes API listening on \(HTTPServer.describe(listener)) (kubeconfig \(access.kubeconfigFile))")
            Kubelet(store: store, engine: engine).start()
            return server
        } catch {
            printError("berth serve: Kubernetes API: \(error.message)")
            throw ExitCode(1)
        }
    }

    /// `-H` values as listeners; unix sockets are root-only (0600) unless a group is given (0660).
    static func listeners(_ hosts: [String], group: String?) throws -> [HTTPServer.Listener] {
        var gid: gid_t?
        if let group {
            if let number = gid_t(group) { gid = number } else if let entry = getgrnam(group) { gid = entry.pointee.gr_gid } else {
                throw ValidationError("group \(group) not found")
            }
        }
        var listeners: [HTTPServer.Listener] = []
        for host in hosts {
            if host.hasPrefix("unix://") {
                let path = String(host.dropFirst("unix://".count))
                guard path.hasPrefix("/") else { throw ValidationError("invalid socket address \(host): the path must be absolute") }
                try? FS.mkdirAll(parentDirectory(path), mode: 0o755)
                listeners.append(.unix(path: path, mode: gid == nil ? 0o600 : 0o660, group: gid))
            } else if host.hasPrefix("tcp://") {
                let address = String(host.dropFirst("tcp://".count))
                guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
                    throw ValidationError("invalid TCP address \(host): expected tcp://HOST:PORT")
                }
                listeners.append(.tcp(host: String(address[..<colon]), port: port))
            } else if host == "fd://" {
                // systemd socket activation: LISTEN_FDS sockets from fd 3 on.
                guard let pid = environment("LISTEN_PID").flatMap(Int32.init), pid == ProcessSys.currentPID,
                      let count = environment("LISTEN_FDS").flatMap(Int32.init), count > 0 else {
                    throw ValidationError("fd:// needs sockets passed by systemd (LISTEN_FDS)")
                }
                for fd in 3..<(3 + count) { listeners.append(.inherited(fd: fd)) }
            } else {
                throw ValidationError("invalid host \(host): expected unix://PATH, tcp://HOST:PORT or fd://")
            }
        }
        return listeners
    }
}

private func parentDirectory(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
    return String(path[..<slash])
}

private func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
