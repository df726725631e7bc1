import CLinuxSys
import Glibc
import LinuxSys

/// berth-dns: one process serving every network's DNS, the role of Docker's embedded DNS and
/// Podman's aardvark-dns. Each network gets a UDP and a TCP socket on its bridge's gateway address;
/// a query is answered from the records of the network it arrived on (containers resolve only the
/// containers they share a network with), and anything else is relayed to the host's resolvers.
/// Single-threaded: one poll loop over the sockets, a signalfd and a 2 s timer.
public enum DNSServer {
    public struct Options: Sendable {
        public var configDir: String
        public var resolvConf: String
        /// Without it the server forks into the background once it holds the lock.
        public var foreground: Bool

        public init(configDir: String, resolvConf: String = "/etc/resolv.conf", foreground: Bool = false) {
            self.configDir = configDir
            self.resolvConf = resolvConf
            self.foreground = foreground
        }
    }

    /// Runs the server until its configuration has no networks left (or SIGTERM); the exit status.
    public static func main(_ options: Options) -> Int32 {
        // A daemon must not keep its starter's descriptors: an inherited pipe's write end would
        // keep whoever reads it waiting for as long as the server lives.
        _ = berth_close_range(3, UInt32.max, 0)
        do {
            try DNSConfig.secureDirectory(options.configDir)
            // Blocked before anything else: the signals are read from signalfds, and a SIGHUP from
            // `reload` may come as soon as the pid file exists.
            var mask = sigset_t()
            sigemptyset(&mask)
            for signal in [SIGHUP, SIGTERM, SIGINT, SIGPIPE] { sigaddset(&mask, signal) }
            sigprocmask(SIG_BLOCK, &mask, nil)
            guard let lock = try InstanceLock.acquire(dir: options.configDir) else { return 0 } // another server runs
            let pidFile = options.configDir + "/" + DNSConfig.pidFile
            if !options.foreground {
                // The child inherits the locked open file; the parent writes its pid and exits, so
                // whoever started us knows, once we exit, that the server runs and where.
                let child = try ProcessSys.clone(flags: 0)
                if child > 0 {
                    try FS.writeFileAtomically(pidFile, Array("\(child)\n".utf8), mode: DNSConfig.fileMode)
                    return 0
                }
                _ = setsid()
                _ = chdir("/")
            } else {
                try FS.writeFileAtomically(pidFile, Array("\(getpid())\n".utf8), mode: DNSConfig.fileMode)
            }
            let server = try Server(options: options, lock: lock)
            return server.run()
        } catch {
            log("\(error)")
            return 1
        }
    }

    static func log(_ message: String) {
        try? FS.write(2, Array("berth-dns: \(message)\n".utf8))
    }
}


/// The server's state and its loop.
private final class Server {
    /// How long one forwarded query may wait on one upstream before the next is tried, and in all.
    static let upstreamRetry = 2.0
    static let upstreamDeadline = 5.0
    static let maxPending = 1024
    static let rescanInterval = 2.0
    static let idleExit = 5.0
    static let tcpIdle = 10.0
    static let maxConnections = 256
    static let maxTCPOutput = 1 << 20

    /// A network's sockets and records.
    struct Listener {
        var config: DNSConfig.Network
        var address: SocketAddress? { config.listen.map { SocketAddress($0.address, $0.port) } }
        var udp: Int32 = -1
        var tcp: Int32 = -1
        var lastError: String?
    }

    /// Who asked a forwarded query, so the reply can be relayed back.
    enum Client {
        case udp(SocketAddress)
        case tcp(Int)
    }

    /// A query relayed upstream under an ID of our own, to be matched with its reply.
    struct Pending {
        var client: Client
        var network: String
        var query: DNSMessage
        var clientID: UInt16
        var bytes: [UInt8]
        var servers: [SocketAddress]
        var server = 0
        var started: Double
        var lastSent: Double
        /// The socket of the current attempt: a fresh random source port, connected to the one
        /// server asked, so the kernel drops datagrams from any other address or port.
        var socket: Int32
        var upstreamID: UInt16
    }

    final class Connection {
        let fd: Int32
        let network: String
        var peer: IPv4?
        var input: [UInt8] = []
        var output: [UInt8] = []
        var lastActive: Double

        init(fd: Int32, network: String, now: Double) {
            self.fd = fd
            self.network = network
            lastActive = now
        }
    }

    enum Source {
        case reload, terminate
        case upstream(Int32)
        case udp(String), tcpListener(String), connection(Int)
    }

    let dir: String
    let resolvPath: String
    var lock: Int32
    let hupFD: Int32
    let termFD: Int32
    var resolv = ResolvConf()
    var listeners: [String: Listener] = [:]
    var pending: [Int32: Pending] = [:]
    var connections: [Int: Connection] = [:]
    var nextConnection = 0
    var fingerprint: [Int] = []
    var changing = false
    var lastTick = 0.0
    var emptySince: Double?
    var buffer = [UInt8](repeating: 0, count: 65536)

    init(options: DNSServer.Options, lock: Int32) throws(SysError) {
        dir = options.configDir
        resolvPath = options.resolvConf
        self.lock = lock
        // Each forwarded query holds a socket of its own until answered: room for all of them.
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < 4096 {
            limit.rlim_cur = min(limit.rlim_max, 4096)
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        hupFD = try Self.signalFD([SIGHUP])
        termFD = try Self.signalFD([SIGTERM, SIGINT])
    }

    static func signalFD(_ signals: [Int32]) throws(SysError) -> Int32 {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        return try sys("signalfd") { berth_signalfd(&mask) }
    }

    func run() -> Int32 {
        rescan()
        lastTick = MonotonicClock.seconds()
        while true {
            var fds: [pollfd] = []
            var sources: [Source] = []
            func watch(_ fd: Int32, _ source: Source, events: Int32 = Int32(POLLIN)) {
                fds.append(pollfd(fd: fd, events: Int16(events), revents: 0))
                sources.append(source)
            }
            watch(hupFD, .reload)
            watch(termFD, .terminate)
            for fd in pending.keys { watch(fd, .upstream(fd)) }
            for (name, listener) in listeners where listener.udp >= 0 {
                watch(listener.udp, .udp(name))
                watch(listener.tcp, .tcpListener(name))
            }
            for (id, connection) in connections {
                watch(connection.fd, .connection(id), events: Int32(POLLIN) | (connection.output.isEmpty ? 0 : Int32(POLLOUT)))
            }
            let timeout = Int32(max(0, min((nextDeadline() - MonotonicClock.seconds()) * 1000 + 1, 2000)))
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 && errno != EINTR {
                DNSServer.log("\(SysError("poll"))")
                return 1
            }
            for (index, pfd) in fds.enumerated() where pfd.revents != 0 {
                switch sources[index] {
                case .reload:
                    _ = berth_drain_signalfd(hupFD)
                    rescan()
                case .terminate:
                    _ = berth_drain_signalfd(termFD)
                    unlink(dir + "/" + DNSConfig.pidFile)
                    return 0
                case .upstream(let fd): readUpstream(fd)
                case .udp(let network): readUDP(network)
                case .tcpListener(let network): accept(network)
                case .connection(let id): service(id, revents: Int32(pfd.revents))
                }
            }
            let now = MonotonicClock.seconds()
            expirePending(now)
            expireConnections(now)
            if now - lastTick >= Self.rescanInterval {
                lastTick = now
                if !tick(now) { return 0 }
            }
        }
    }

    /// The soonest moment something is due: the timer, a forward's retry or deadline, an idle connection.
    func nextDeadline() -> Double {
        var soonest = lastTick + Self.rescanInterval
        for entry in pending.values {
            soonest = min(soonest, entry.lastSent + Self.upstreamRetry, entry.started + Self.upstreamDeadline)
        }
        for connection in connections.values { soonest = min(soonest, connection.lastActive + Self.tcpIdle) }
        return soonest
    }

    // MARK: - Configuration

    /// Rereads the directory and resolv.conf: binds new networks, drops removed ones, swaps records.
    func rescan() {
        resolv = ResolvConf(parsing: (try? FS.readText(resolvPath)) ?? "")
        let loaded = DNSConfig.load(dir: dir)
        let names = Set(loaded.map(\.name))
        for (name, listener) in listeners where !names.contains(name) {
            close(listener)
            listeners[name] = nil
            for (id, connection) in connections where connection.network == name { drop(id) }
        }
        for network in loaded {
            if var listener = listeners[network.name] {
                if listener.address != Listener(config: network).address { // moved: rebind
                    close(listener)
                    listener.udp = -1
                    listener.tcp = -1
                }
                listener.config = network
                listeners[network.name] = listener
            } else {
                listeners[network.name] = Listener(config: network)
            }
        }
        // Never forward to ourselves: a host resolv.conf naming a bridge address would loop.
        let own = Set(listeners.values.compactMap(\.address))
        resolv.nameservers.removeAll { own.contains($0) }
        bindMissing()
        (fingerprint, changing) = takeFingerprint()
    }

    /// Binds the networks that have an address but no sockets yet. The address appears when the
    /// engine sets up the bridge, which may be after it wrote the config: retried every tick.
    func bindMissing() {
        for (name, var listener) in listeners where listener.udp < 0 {
            guard let address = listener.address else { continue }
            do {
                let udp = try Socket.udp(bind: address)
                do {
                    listener.tcp = try Socket.tcpListener(bind: address)
                } catch {
                    FS.close(udp)
                    throw error
                }
                listener.udp = udp
                listener.lastError = nil
            } catch {
                let message = "\(error)"
                if message != listener.lastError { DNSServer.log("network \(name): \(message) (retrying)") }
                listener.lastError = message
            }
            listeners[name] = listener
        }
    }

    func close(_ listener: Listener) {
        FS.close(listener.udp)
        FS.close(listener.tcp)
    }

    /// Cheap change detection: the mtimes of DIR, each network directory and resolv.conf. A
    /// change within the same clock tick as the last scan would not move an mtime, so a
    /// directory modified in the last two seconds is rescanned again on the next tick.
    func takeFingerprint() -> ([Int], Bool) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var values: [Int] = []
        var recent = false
        let paths = [dir, resolvPath] + DNSConfig.networkNames(dir: dir).map { dir + "/" + $0 }
        for path in paths {
            guard let st = try? FS.stat(path) else {
                values += [-1, -1, -1]
                continue
            }
            values += [Int(st.st_ino), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)]
            if Int(now.tv_sec) - Int(st.st_mtim.tv_sec) <= 2 { recent = true }
        }
        return (values, recent)
    }

    /// The 2 s timer: rescan if anything moved, retry binds, and exit once no networks are left
    /// for a while. Returns false to exit.
    func tick(_ now: Double) -> Bool {
        let (current, _) = takeFingerprint()
        if changing || current != fingerprint { rescan() } else { bindMissing() }
        guard listeners.isEmpty else {
            emptySince = nil
            return true
        }
        let since = emptySince ?? now
        emptySince = since
        guard now - since >= Self.idleExit else { return true }
        return !releaseAndExit()
    }

    /// Gives up the lock, then looks once more: an engine that added a network after our last
    /// scan but saw the lock still held did not start a new server, so we stay if we can.
    func releaseAndExit() -> Bool {
        let pidFile = dir + "/" + DNSConfig.pidFile
        unlink(pidFile)
        FS.close(lock)
        lock = -1
        guard !DNSConfig.networkNames(dir: dir).isEmpty,
              let relocked = try? InstanceLock.acquire(dir: dir) else { return true }
        lock = relocked
        try? FS.writeFileAtomically(pidFile, Array("\(getpid())\n".utf8), mode: DNSConfig.fileMode)
        emptySince = nil
        rescan()
        return false
    }

    // MARK: - Queries

    func readUDP(_ network: String) {
        // A bounded batch per wakeup, so one busy network cannot starve the others.
        for _ in 0..<64 {
            guard let fd = listeners[network]?.udp, fd >= 0,
                  let (bytes, from) = Socket.receive(fd, into: &buffer) else { return }
            handle(bytes, from: .udp(from), network: network)
        }
    }

    /// Answers one query from the network's records, or forwards it.
    func handle(_ bytes: [UInt8], from client: Client, network: String) {
        guard let listener = listeners[network] else { return }
        // Who may ask is decided before any parsing: a stranger's packet costs no work at all.
        let ranges = listener.config.clientRanges
        if !ranges.isEmpty {
            let peer = peerAddress(client)
            let value = peer.map { UInt32($0.octets.0) << 24 | UInt32($0.octets.1) << 16 | UInt32($0.octets.2) << 8 | UInt32($0.octets.3) }
            guard let value, ranges.contains(where: { value & $0.mask == $0.network }) else { return }
        }
        let query: DNSMessage
        do {
            query = try DNSMessage(parsing: bytes)
        } catch {
            // A readable header of a query gets FORMERR; anything shorter, or a reply, is dropped.
            guard bytes.count >= 12, bytes[2] & 0x80 == 0 else { return }
            let header: [UInt8] = [bytes[0], bytes[1], 0x80 | (bytes[2] & 0x79), 0x80 | UInt8(DNSRcode.formErr)]
            deliver(header + [UInt8](repeating: 0, count: 8), to: client, network: network)
            return
        }
        // Never answer a reply: two servers answering each other's answers would loop forever.
        guard !query.flags.isResponse else { return }
        var resolution = DNSResponder.resolve(query, records: listener.config.records, searchDomains: resolv.search, zone: listener.config.zone)
        // Unknown here: the client's container may be on other networks too (`network connect`);
        // their names are its names, whichever network's address its resolv.conf names.
        if resolution == .forward, let peer = peerAddress(client), let container = listener.config.members[peer] {
            for (name, other) in listeners where name != network && other.config.containerIDs.contains(container) {
                let found = DNSResponder.resolve(query, records: other.config.records, searchDomains: resolv.search)
                if found != .forward {
                    resolution = found
                    break
                }
            }
        }
        switch resolution {
        case .answer(let response):
            deliver(response.serialized(maxSize: maxSize(for: query, client: client)), to: client, network: network)
        case .forward where listener.config.isInternal:
            // An internal network has no way out, and DNS must not become one (CVE-2024-29018).
            deliver(DNSResponder.reply(to: query, rcode: DNSRcode.refused).serialized(maxSize: 512), to: client, network: network)
        case .forward:
            forward(query, bytes, from: client, network: network)
        }
    }

    func peerAddress(_ client: Client) -> IPv4? {
        switch client {
        case .udp(let address): return address.ip
        case .tcp(let id): return connections[id]?.peer
        }
    }

    func maxSize(for query: DNSMessage, client: Client) -> Int {
        if case .udp = client { return DNSResponder.maxUDPSize(for: query) }
        return 65535
    }

    /// Relays a query to the first upstream under a fresh ID, from a fresh socket (a random source
    /// port per query, RFC 5452): a blind spoofer must guess both, and the reply must come from
    /// the server asked, carry the ID and echo the question.
    func forward(_ query: DNSMessage, _ bytes: [UInt8], from client: Client, network: String) {
        let servers = resolv.nameservers
        guard !servers.isEmpty, pending.count < Self.maxPending else {
            deliver(servFail(query), to: client, network: network)
            return
        }
        let now = MonotonicClock.seconds()
        var entry = Pending(client: client, network: network, query: query, clientID: query.id, bytes: bytes,
                            servers: servers, started: now, lastSent: now, socket: -1, upstreamID: 0)
        guard send(&entry) else {
            deliver(servFail(query), to: client, network: network)
            return
        }
        pending[entry.socket] = entry
    }

    /// Sends `entry` to its current server from a new socket under a new ID, closing the last one.
    func send(_ entry: inout Pending) -> Bool {
        if entry.socket >= 0 { FS.close(entry.socket) }
        entry.socket = -1
        guard let fd = try? Socket.udp(connectedTo: entry.servers[entry.server]) else { return false }
        entry.socket = fd
        entry.upstreamID = UInt16.random(in: 0...UInt16.max)
        entry.bytes[0] = UInt8(entry.upstreamID >> 8)
        entry.bytes[1] = UInt8(entry.upstreamID & 0xFF)
        return Socket.send(fd, entry.bytes)
    }

    func servFail(_ query: DNSMessage) -> [UInt8] {
        DNSResponder.reply(to: query, rcode: DNSRcode.servFail).serialized(maxSize: 512)
    }

    func readUpstream(_ fd: Int32) {
        for _ in 0..<64 {
            guard let entry = pending[fd] else { return }
            // Connected: the kernel hands us only datagrams from the server asked, from its port.
            guard let (bytes, _) = Socket.receive(fd, into: &buffer) else {
                // ECONNREFUSED (the server's port is closed): try the next one now.
                if errno == ECONNREFUSED { retry(fd, now: MonotonicClock.seconds()) }
                return
            }
            guard let (id, question) = try? DNSMessage.peekQuestion(bytes), id == entry.upstreamID,
                  question == entry.query.questions.first else { continue }
            pending[fd] = nil
            FS.close(fd)
            var reply = bytes
            reply[0] = UInt8(entry.clientID >> 8)
            reply[1] = UInt8(entry.clientID & 0xFF)
            deliver(reply, to: entry.client, network: entry.network)
            return
        }
    }

    /// Retries a silent upstream with the next one, and gives the client SERVFAIL at the deadline.
    func expirePending(_ now: Double) {
        for (fd, entry) in pending {
            if now - entry.started >= Self.upstreamDeadline {
                pending[fd] = nil
                FS.close(fd)
                deliver(servFail(entry.query), to: entry.client, network: entry.network)
            } else if now - entry.lastSent >= Self.upstreamRetry {
                retry(fd, now: now)
            }
        }
    }

    func retry(_ fd: Int32, now: Double) {
        guard var entry = pending.removeValue(forKey: fd) else { return }
        entry.server = (entry.server + 1) % entry.servers.count
        entry.lastSent = now
        if send(&entry) {
            pending[entry.socket] = entry
        } else {
            if entry.socket >= 0 { FS.close(entry.socket) }
            deliver(servFail(entry.query), to: entry.client, network: entry.network)
        }
    }

    /// Sends a response the way its query came: a datagram from the network's socket, or a
    /// length-prefixed message on the TCP connection.
    func deliver(_ bytes: [UInt8], to client: Client, network: String) {
        switch client {
        case .udp(let address):
            guard let fd = listeners[network]?.udp, fd >= 0 else { return }
            Socket.send(fd, bytes, to: address)
        case .tcp(let id):
            guard let connection = connections[id], bytes.count <= 65535 else { return }
            connection.output += [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
            if connection.output.count > Self.maxTCPOutput { drop(id) } else { flush(id) }
        }
    }

    // MARK: - TCP

    func accept(_ network: String) {
        guard let listenFD = listeners[network]?.tcp, listenFD >= 0 else { return }
        while true {
            let fd = berth_accept4(listenFD, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            guard fd >= 0 else { return }
            guard connections.count < Self.maxConnections else {
                FS.close(fd)
                continue
            }
            nextConnection += 1
            let connection = Connection(fd: fd, network: network, now: MonotonicClock.seconds())
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
            }
            if named == 0 { connection.peer = IPv4(networkOrder: address.sin_addr.s_addr) }
            connections[nextConnection] = connection
        }
    }

    func service(_ id: Int, revents: Int32) {
        guard let connection = connections[id] else { return }
        if revents & Int32(POLLOUT) != 0 { flush(id) }
        guard revents & (Int32(POLLIN) | Int32(POLLHUP) | Int32(POLLERR)) != 0, connections[id] != nil else { return }
        let count = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return }
        guard count > 0 else {
            drop(id)
            return
        }
        connection.lastActive = MonotonicClock.seconds()
        connection.input += buffer[0..<count]
        // Each message is a 2-byte length and that many bytes (RFC 1035 4.2.2).
        while connection.input.count >= 2, connections[id] != nil {
            let length = Int(connection.input[0]) << 8 | Int(connection.input[1])
            guard length > 0 else {
                drop(id)
                return
            }
            guard connection.input.count >= 2 + length else { break }
            let message = Array(connection.input[2..<2 + length])
            connection.input.removeFirst(2 + length)
            handle(message, from: .tcp(id), network: connection.network)
        }
    }

    func flush(_ id: Int) {
        guard let connection = connections[id] else { return }
        while !connection.output.isEmpty {
            let sent = connection.output.withUnsafeBytes {
                Glibc.send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if sent < 0 && (errno == EAGAIN || errno == EINTR) { return }
            guard sent > 0 else {
                drop(id)
                return
            }
            connection.output.removeFirst(sent)
            connection.lastActive = MonotonicClock.seconds()
        }
    }

    func expireConnections(_ now: Double) {
        for (id, connection) in connections where now - connection.lastActive >= Self.tcpIdle { drop(id) }
    }

    func drop(_ id: Int) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        FS.close(connection.fd)
    }
}
