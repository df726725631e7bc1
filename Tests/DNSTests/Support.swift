import ContainerDNS
import Foundation
import Glibc
import LinuxSys
import Synchronization

/// Where the built server and Debian's dig are, and the pieces every server test needs.
/// All traffic stays on 127.0.0.1: every server gets a resolv.conf naming only local fake upstreams.
enum DNSEnv {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// $BERTH_DNS, else beside the test bundle (the build directory `swift test` used), else the
    /// package's .build-dns or .build.
    static let binary: String? = {
        if let path = ProcessInfo.processInfo.environment["BERTH_DNS"] { return path }
        var candidates: [String] = []
        if let exe = try? FS.readlink("/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().path + "/berth-dns")
        }
        candidates += [packageRoot + "/.build-dns/debug/berth-dns", packageRoot + "/.build/debug/berth-dns"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static let dig = "/usr/bin/dig"
    static var ready: Bool { binary != nil && FileManager.default.isExecutableFile(atPath: dig) }

    static func scratch(_ tag: String) -> String {
        let path = NSTemporaryDirectory() + "berth-dns-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A port free on 127.0.0.1 for both UDP and TCP at the moment of asking.
    static func freePort() -> UInt16 {
        while true {
            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            defer { close(udp) }
            guard bindLoopback(udp, port: 0), let port = localPort(udp) else { continue }
            let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            defer { close(tcp) }
            if bindLoopback(tcp, port: port) { return port }
        }
    }

    /// One datagram from `fd` to 127.0.0.1:`port`.
    static func sendLoopback(_ fd: Int32, _ bytes: [UInt8], toPort port: UInt16) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = IPv4(127, 0, 0, 1).networkOrder
        _ = bytes.withUnsafeBytes { data in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, data.baseAddress, data.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    static func bindLoopback(_ fd: Int32, port: UInt16) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = IPv4(127, 0, 0, 1).networkOrder
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    static func localPort(_ fd: Int32) -> UInt16? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return rc == 0 ? UInt16(bigEndian: address.sin_port) : nil
    }

    /// Runs a program to completion; its exit status and standard output. The output goes
    /// through a file, not a pipe: a server started meanwhile by another test could inherit a
    /// pipe's end and keep the reader waiting.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let outputPath = scratch("out") + ".txt"
        defer {
            unlink(outputPath)
            rmdir(String(outputPath.dropLast(4)))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try output.close()
        return (process.terminationStatus, (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }
}

/// What dig printed: the status and the answers' data, in order.
struct DigResult {
    var status: String?
    var answers: [String]
    var flags: String
}

/// `dig @127.0.0.1 -p PORT NAME TYPE`, parsed.
func dig(port: UInt16, _ name: String, _ type: String = "A", tcp: Bool = false, time: Int = 2) throws -> DigResult {
    var arguments = [DNSEnv.dig, "@127.0.0.1", "-p", "\(port)", "+time=\(time)", "+tries=1", "+noall", "+comments", "+answer"]
    if tcp { arguments.append("+tcp") }
    let (_, output) = try DNSEnv.run(arguments + [name, type])
    var result = DigResult(status: nil, answers: [], flags: "")
    for line in output.split(separator: "\n") {
        if let range = line.range(of: "status: ") {
            result.status = String(line[range.upperBound...].prefix { $0.isLetter })
        } else if line.hasPrefix(";; flags: ") {
            result.flags = String(line.dropFirst(10).prefix { $0 != ";" })
        } else if !line.hasPrefix(";"), let last = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last {
            result.answers.append(String(last))
        }
    }
    return result
}

/// A running `berth-dns --foreground` over a scratch config dir; stopped with SIGTERM when done.
final class ServerProcess {
    let dir: String
    let resolvConf: String
    let pid: pid_t
    private var reaped: ProcessSys.Exit?

    /// Starts the server and waits until its lock is held and `probe` (a name on `probePort`) answers.
    init(dir: String, resolvConf: String, probePort: UInt16? = nil, probeName: String? = nil) throws {
        self.dir = dir
        self.resolvConf = resolvConf
        pid = try ProcessSys.spawn([DNSEnv.binary ?? "berth-dns", "--config-dir", dir, "--resolv-conf", resolvConf, "--foreground"],
                                   newSession: false)
        for _ in 0..<300 {
            if DNSServerControl.isRunning(dir: dir) {
                guard let probePort, let probeName else { return }
                if let reply = try? UDPClient.ask(port: probePort, name: probeName, type: DNSType.a, timeoutMs: 100),
                   !reply.answers.isEmpty { return }
            }
            usleep(10_000)
        }
        throw SysError("start berth-dns", dir, errno: ETIMEDOUT)
    }

    /// Waits up to `seconds` for the server to exit; its exit, or nil if it still runs.
    func waitExit(seconds: Double) -> ProcessSys.Exit? {
        if let reaped { return reaped }
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped = ProcessSys.decode(status: status)
                return reaped
            }
            usleep(20_000)
        }
        return nil
    }

    func stop() {
        guard reaped == nil else { return }
        kill(pid, SIGTERM)
        if waitExit(seconds: 5) == nil {
            kill(pid, SIGKILL)
            _ = waitExit(seconds: 5)
        }
    }

    deinit { stop() }
}

/// A raw UDP client for what dig cannot send (garbage), and for readiness probes.
enum UDPClient {
    static func send(port: UInt16, _ bytes: [UInt8], timeoutMs: Int32 = 1000) throws -> [UInt8]? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SysError("socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = IPv4(127, 0, 0, 1).networkOrder
        let sent = bytes.withUnsafeBytes { data in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, data.baseAddress, data.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == bytes.count else { throw SysError("sendto") }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, timeoutMs) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? Array(buffer[0..<count]) : nil
    }

    static func ask(port: UInt16, name: String, type: UInt16, timeoutMs: Int32 = 1000) throws -> DNSMessage? {
        guard let dnsName = DNSName(name) else { return nil }
        let id = UInt16.random(in: 0...UInt16.max)
        guard let reply = try send(port: port, DNSMessage.query(id: id, name: dnsName, type: type).serialized(), timeoutMs: timeoutMs)
        else { return nil }
        let message = try DNSMessage(parsing: reply)
        return message.id == id ? message : nil
    }
}

/// An upstream resolver of our own on 127.0.0.1: answers every A question with `address`, or, if
/// `silent`, reads queries and never answers. Runs on a thread until stopped.
final class FakeUpstream: Sendable {
    let port: UInt16
    private let fd: Int32
    private let stopped = Atomic<Bool>(false)
    private let received = Atomic<Int>(0)
    /// Each query's source port, ID and name, in arrival order.
    let log = Mutex<[(port: UInt16, id: UInt16, name: String)]>([])

    init(answer address: IPv4 = IPv4(192, 0, 2, 7), silent: Bool = false, delayMs: UInt32 = 0) {
        var fd: Int32 = -1
        var port: UInt16 = 0
        while true {
            fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if DNSEnv.bindLoopback(fd, port: 0), let bound = DNSEnv.localPort(fd) {
                port = bound
                break
            }
            close(fd)
        }
        self.fd = fd
        self.port = port
        let thread = Thread { [self] in serve(address: address, silent: silent, delayMs: delayMs) }
        thread.start()
    }

    var queries: Int { received.load(ordering: .relaxed) }

    /// A resolv.conf line naming this upstream.
    var nameserverLine: String { "nameserver 127.0.0.1#\(port)\n" }

    private func serve(address: IPv4, silent: Bool, delayMs: UInt32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !stopped.load(ordering: .relaxed) {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) == 1 else { continue }
            var from = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
            }
            guard count > 0 else { continue }
            let parsed = try? DNSMessage(parsing: Array(buffer[0..<count]))
            log.withLock { $0.append((UInt16(bigEndian: from.sin_port), parsed?.id ?? 0, parsed?.questions.first?.name.key ?? "")) }
            received.add(1, ordering: .relaxed)
            guard !silent, let query = parsed, let question = query.questions.first
            else { continue }
            if delayMs > 0 { usleep(delayMs * 1000) }
            var reply = DNSResponder.reply(to: query, rcode: DNSRcode.noError)
            if question.type == DNSType.a {
                reply.answers = [DNSRecord(name: question.name, type: DNSType.a, ttl: 30, data: address.bytes)]
            }
            let bytes = reply.serialized()
            _ = bytes.withUnsafeBytes { data in
                withUnsafePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, data.baseAddress, data.count, 0, $0, length) }
                }
            }
        }
        close(fd)
    }

    /// Sends `bytes` to 127.0.0.1:`port` from this upstream's own address and port (a forgery).
    func send(_ bytes: [UInt8], toPort port: UInt16) {
        DNSEnv.sendLoopback(fd, bytes, toPort: port)
    }

    func stop() { stopped.store(true, ordering: .relaxed) }
    deinit { stop() }
}
