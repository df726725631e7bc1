import Foundation
import TestSupport
import Testing

/// What the suites need: root, the built berth, the real kubectl (1.33 and the oldest supported,
/// 1.27, as this machine image ships them) and curl.
enum KubeEnv {
    static let berth: String = ProcessInfo.processInfo.environment["BERTH"] ?? TestSupport.packageRoot + "/.build/debug/berth"
    static let kubectlDirectory = "/usr/lib/google-cloud-sdk/bin"
    static let versions = ["1.33", "1.27"]
    static func kubectl(_ version: String) -> String { kubectlDirectory + "/kubectl." + version }
    static let curl = "/usr/bin/curl"

    static func executable(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

    static var ready: Bool {
        getuid() == 0 && executable(berth) && executable(curl) && versions.allSatisfy { executable(kubectl($0)) }
    }
}

/// A `berth serve` of its own for one test: a temporary root and run root, a Docker socket, and
/// the Kubernetes API on a free port of 127.0.0.1. kubectl runs with the kubeconfig the server
/// wrote and a HOME of its own (its discovery cache must not outlive this server).
final class KubeServer {
    let base: String
    var root: String { base + "/root" }
    var runRoot: String { base + "/run" }
    var dockerSocket: String { base + "/api.sock" }
    var pidFile: String { base + "/berth.pid" }
    var log: String { base + "/serve.log" }
    var kubeDirectory: String { root + "/kube" }
    var kubeconfig: String { kubeDirectory + "/kubeconfig" }
    var home: String { base + "/home" }
    let port: Int
    private(set) var pid: pid_t = 0
    /// The server runs in a network namespace of its own (loopback up): what it does to links,
    /// routes and iptables stays in there; kubectl and curl run in it too.
    let ownNetwork: Bool
    /// What runs a command in the server's network namespace (nothing when it shares the host's).
    var inNetwork: [String] { ownNetwork && pid > 0 ? ["/usr/bin/nsenter", "--net=/proc/\(pid)/ns/net", "--"] : [] }

    /// Variables `berth serve` gets beside the test's own (a kubelet setting a test shortens).
    let serveEnvironment: [String: String]

    init(start: Bool = true, ownNetwork: Bool = false, serveEnvironment: [String: String] = [:]) throws {
        base = "/tmp/bk-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        self.ownNetwork = ownNetwork
        self.serveEnvironment = serveEnvironment
        port = ownNetwork ? 6443 : try Self.freePort()
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        if start { try self.start() }
    }

    deinit { stop() }

    /// A port nobody listens on now (bound and released; the server binds it a moment later).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        #expect(bound, "bind a free port: errno \(errno)")
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts `berth serve` and waits until the Kubernetes API answers /readyz.
    func start() throws {
        // unshare execs the shell, which execs berth: the pid is the server's.
        let wrapper = ownNetwork ? ["/usr/bin/unshare", "--net", "--", "/bin/sh", "-c", "ip link set lo up && exec \"$@\"", "sh"] : []
        pid = try TestSupport.spawn(wrapper + [KubeEnv.berth, "--root", root, "--runroot", runRoot, "serve", "-H", "unix://" + dockerSocket,
                                     "--pidfile", pidFile, "--kube-listen", "127.0.0.1:\(port)"], stdout: log, append: true,
                                    environment: ProcessInfo.processInfo.environment.merging(serveEnvironment) { $1 })
        var status: Int32 = 0
        for _ in 0..<400 {
            if let ready = try? sh(inNetwork + [KubeEnv.curl, "-sk", "--max-time", "2", url("/readyz")]), ready.stdout == "ok" { return }
            if waitpid(pid, &status, WNOHANG) == pid {
                pid = 0
                break
            }
            usleep(50_000)
        }
        let text = serverLog
        terminate()
        Issue.record("berth serve did not come up: \(text)")
        throw CancellationError()
    }

    /// Ends the server with SIGTERM (SIGKILL after 20 s); returns its exit status.
    @discardableResult
    func terminate() -> Int32 {
        guard pid > 0 else { return 0 }
        defer { pid = 0 }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<400 {
            if waitpid(pid, &status, WNOHANG) == pid { return exitStatus(status) }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return exitStatus(status)
    }

    /// Removes every container the server's kubelet (or a test) left under its root: containers
    /// outlive the server, and a Pod's sandbox holds a veth on the host's pod bridge.
    func removeAllContainers() {
        guard let ids = try? berth(["ps", "-aq"]).stdout.split(separator: "\n").map(String.init), !ids.isEmpty else { return }
        _ = try? berth(["rm", "-f"] + ids)
    }

    func stop() {
        // The DNS server a server in its own network namespace started there (for the cluster's
        // names) would keep the namespace alive: it goes with the server.
        var namespace = stat()
        let dnsDirectory = ownNetwork && pid > 0 && stat("/proc/\(pid)/ns/net", &namespace) == 0 ? "/run/berth-dns.netns-\(namespace.st_ino)" : nil
        terminate()
        removeAllContainers()
        if let dnsDirectory {
            if let text = try? String(contentsOfFile: dnsDirectory + "/berth-dns.pid", encoding: .utf8), let dns = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(dns, SIGKILL)
            }
            try? FileManager.default.removeItem(atPath: dnsDirectory)
        }
        // What the kubelet bound under its root (a pod's subPaths) and a failed test left there goes
        // first: a removal must not reach through a mount.
        for mount in Self.mountPoints(under: base + "/").sorted(by: { $0.count > $1.count }) { umount2(mount, Int32(MNT_DETACH)) }
        try? FileManager.default.removeItem(atPath: base)
    }

    /// This mount namespace's mount points whose path starts with `prefix`. /proc/self/mountinfo is
    /// read to its end by hand: Foundation's `String(contentsOfFile:)` stops after its first page.
    static func mountPoints(under prefix: String) -> [String] {
        let fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            bytes += buffer[..<count]
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4].hasPrefix(prefix) ? String(fields[4]) : nil
        }
    }

    var serverLog: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func url(_ path: String) -> String { "https://127.0.0.1:\(port)" + path }

    var token: String {
        ((try? String(contentsOfFile: kubeDirectory + "/token", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = home
        environment["KUBECONFIG"] = kubeconfig
        return environment
    }

    /// kubectl `version` (1.33 unless asked) with the server's kubeconfig.
    @discardableResult
    func kubectl(_ arguments: [String], version: String = "1.33", stdin: String? = nil, extra: [String: String] = [:]) throws -> Output {
        try sh(inNetwork + [KubeEnv.kubectl(version)] + arguments, stdin: stdin, environment: environment.merging(extra) { $1 })
    }

    /// kubectl that must succeed; returns stdout.
    @discardableResult
    func kubectlOK(_ arguments: String..., version: String = "1.33", stdin: String? = nil,
                   sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try kubectl(arguments, version: version, stdin: stdin)
        try #require(result.status == 0, "kubectl \(version) \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)\(result.stdout)",
                     sourceLocation: sourceLocation)
        return result.stdout
    }

    /// A request with curl (the token unless `token` says otherwise, nil for none): the status
    /// and the body.
    func request(_ method: String, _ path: String, token: String?? = .none, headers: [String] = [], body: String? = nil) throws -> (status: Int, body: String) {
        var command = [KubeEnv.curl, "-sk", "--max-time", "60", "-X", method, "-w", "\n%{http_code}"]
        let bearer: String? = switch token {
        case .none: self.token
        case .some(let given): given
        }
        if let bearer { command += ["-H", "Authorization: Bearer " + bearer] }
        for header in headers { command += ["-H", header] }
        if let body { command += ["--data-binary", body] }
        if body != nil && !headers.contains(where: { $0.lowercased().hasPrefix("content-type") }) {
            command += ["-H", "Content-Type: application/json"]
        }
        let result = try sh(inNetwork + command + [url(path)])
        var lines = result.stdout.components(separatedBy: "\n")
        let code = Int(lines.removeLast()) ?? 0
        return (code, lines.joined(separator: "\n"))
    }

    /// A JSON object from text.
    func object(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)",
                     sourceLocation: sourceLocation)
    }
}

extension [String: Any] {
    /// The value at a dotted path (`metadata.name`).
    func at(_ path: String) -> Any? {
        var current: Any? = self
        for part in path.split(separator: ".") { current = (current as? [String: Any])?[String(part)] }
        return current
    }

    func string(_ path: String) -> String? { at(path) as? String }
}
