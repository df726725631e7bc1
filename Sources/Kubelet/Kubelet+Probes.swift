import ContainerSpec
import Engine
import Glibc
import GoCompat
import Kube
import LinuxSys

/// One probe's progress on one container.
struct ProbeState {
    var lastRun: Double = 0
    var successes = 0
    var failures = 0
    /// The probe's verdict so far (nil before the first result).
    var result: Bool?
}

/// Probes as the kubelet runs them: startup (until it succeeds, the others wait), liveness (the
/// container is killed after failureThreshold failures in a row) and readiness (the container's
/// `ready`); exec in the container, httpGet, tcpSocket and grpc from the host to the pod's address.
/// Kubernetes' defaults: initialDelaySeconds 0, periodSeconds 10, timeoutSeconds 1,
/// successThreshold 1, failureThreshold 3.
extension Kubelet {
    /// What the probes say of a running container: started and ready. A failed liveness or startup
    /// probe kills the container here (its restart policy then applies).
    func runProbes(_ key: ObjectKey, _ pod: JSONValue, _ spec: JSONValue, _ running: PodContainer, podIP: String?) -> (started: Bool, ready: Bool) {
        let startup = spec[member: "startupProbe"]
        var started = true
        if let startup {
            let state = probe(key, pod, spec, startup, kind: "startup", running, podIP: podIP)
            started = state.result == true
            if state.result == false {
                killUnhealthy(key, pod, running, reason: "Startup")
                return (false, false)
            }
            if !started { return (false, false) }
        }
        if let liveness = spec[member: "livenessProbe"] {
            let state = probe(key, pod, spec, liveness, kind: "liveness", running, podIP: podIP)
            if state.result == false {
                killUnhealthy(key, pod, running, reason: "Liveness")
                return (started, false)
            }
        }
        guard let readiness = spec[member: "readinessProbe"] else { return (started, true) }
        return (started, probe(key, pod, spec, readiness, kind: "readiness", running, podIP: podIP).result == true)
    }

    /// Runs the probe when it is due; returns its state (result nil until it has one).
    func probe(_ key: ObjectKey, _ pod: JSONValue, _ spec: JSONValue, _ probe: JSONValue, kind: String, _ running: PodContainer,
               podIP: String?) -> ProbeState {
        func number(_ name: String, _ fallback: Int) -> Int { (probe[member: name] ?? .null).podInt ?? fallback }
        let stateKey = running.container.id + "/" + kind
        var state = probeStates[stateKey] ?? ProbeState()
        let now = MonotonicClock.seconds()
        let wallNow = Double(time(nil))
        let started = Double(Self.seconds(running.state.state.startedAt) ?? Int64(wallNow))
        let period = Double(max(1, number("periodSeconds", 10)))
        if wallNow < started + Double(number("initialDelaySeconds", 0)) { return state }
        if state.lastRun > 0 && now < state.lastRun + period { return state }
        state.lastRun = now
        let (success, message) = check(probe, spec, running, podIP: podIP, timeout: Double(max(1, number("timeoutSeconds", 1))))
        if success {
            state.successes += 1
            state.failures = 0
            if state.successes >= max(1, number("successThreshold", 1)) { state.result = true }
        } else {
            state.failures += 1
            state.successes = 0
            recordEvent(key, pod, container: running.name.container, type: "Warning", reason: "Unhealthy",
                        message: "\(kind.prefix(1).uppercased() + kind.dropFirst()) probe failed: \(message)")
            if state.failures >= max(1, number("failureThreshold", 3)) { state.result = false }
        }
        probeStates[stateKey] = state
        return state
    }

    /// A failed liveness or startup probe: the container is stopped (TERM, grace, KILL).
    func killUnhealthy(_ key: ObjectKey, _ pod: JSONValue, _ running: PodContainer, reason: String) {
        let grace = (pod[member: "spec"]?[member: "terminationGracePeriodSeconds"] ?? .null).podInt ?? 30
        recordEvent(key, pod, container: running.name.container, type: "Normal", reason: "Killing",
                    message: "Container \(running.name.container) failed \(reason.lowercased()) probe, will be restarted")
        try? engine.stop(running.container, timeout: grace)
        probeStates = probeStates.filter { !$0.key.hasPrefix(running.container.id + "/") }
    }

    /// One probe attempt: success and, on failure, why.
    func check(_ probe: JSONValue, _ spec: JSONValue, _ running: PodContainer, podIP: String?, timeout: Double) -> (Bool, String) {
        if let command = probe[member: "exec"]?[member: "command"] {
            let result = execIn(running.container, command.podArray.compactMap(\.stringValue), timeout: timeout)
            if result.timedOut { return (false, "command timed out") }
            var output = Substring(result.output)
            while output.last == "\n" { output = output.dropLast() }
            return (result.exitCode == 0, String(output))
        }
        if let http = probe[member: "httpGet"] {
            guard let port = port(http[member: "port"], spec) else { return (false, "no port") }
            let host = http.podString("host") ?? podIP ?? "127.0.0.1"
            let headers = (http[member: "httpHeaders"] ?? .null).podArray.compactMap { header -> (String, String)? in
                header.podString("name").map { ($0, header.podString("value") ?? "") }
            }
            return Self.httpGet(host: host, port: port, path: http.podString("path") ?? "/", headers: headers, timeout: timeout)
        }
        if let tcp = probe[member: "tcpSocket"] {
            guard let port = port(tcp[member: "port"], spec) else { return (false, "no port") }
            let host = tcp.podString("host") ?? podIP ?? "127.0.0.1"
            guard let fd = Self.connect(host: host, port: port, timeout: timeout) else {
                return (false, "dial tcp \(host):\(port): connect: connection refused")
            }
            close(fd)
            return (true, "")
        }
        if let grpc = probe[member: "grpc"], let port = (grpc[member: "port"] ?? .null).podInt {
            return GRPCHealthProbe.check(host: podIP ?? "127.0.0.1", port: port, service: grpc.podString("service") ?? "", timeout: timeout)
        }
        return (false, "unsupported probe handler")
    }

    /// A probe's port: a number, or the name of one of the container's ports.
    func port(_ value: JSONValue?, _ spec: JSONValue) -> Int? {
        switch value {
        case .number(let text)?: return Int(text)
        case .string(let text)?:
            if let number = Int(text) { return number }
            let named = (spec[member: "ports"] ?? .null).podArray.first { $0.podString("name") == text }
            return named.flatMap { ($0[member: "containerPort"] ?? .null).podInt }
        default: return nil
        }
    }

    /// A TCP connection made within `timeout`.
    static func connect(host: String, port: Int, timeout: Double) -> Int32? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 {
            guard errno == EINPROGRESS else { close(fd); return nil }
            var poll = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard Glibc.poll(&poll, 1, Int32(timeout * 1000)) == 1, getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0, error == 0 else {
                close(fd)
                return nil
            }
        }
        return fd
    }

    /// An HTTP GET as the kubelet's prober sends it; 200–399 is success (any status with `anyStatus`,
    /// as for lifecycle hooks).
    static func httpGet(host: String, port: Int, path: String, headers: [(String, String)] = [], timeout: Double,
                        anyStatus: Bool = false) -> (Bool, String) {
        let url = "http://\(host):\(port)\(path)"
        guard let fd = connect(host: host, port: port, timeout: timeout) else {
            return (false, "Get \"\(url)\": dial tcp \(host):\(port): connect: connection refused")
        }
        defer { close(fd) }
        // Given headers replace the defaults of the same name (a Host header names another virtual host).
        var fields = [("Host", "\(host):\(port)"), ("User-Agent", "kube-probe/1.33"), ("Accept", "*/*")]
        for (name, value) in headers {
            fields.removeAll { $0.0.lowercased() == name.lowercased() }
            fields.append((name, value))
        }
        let request = "GET \(path) HTTP/1.1\r\n" + fields.map { "\($0.0): \($0.1)\r\n" }.joined() + "Connection: close\r\n\r\n"
        let bytes = Array(request.utf8)
        var sent = 0
        let deadline = MonotonicClock.seconds() + timeout
        var response: [UInt8] = []
        while MonotonicClock.seconds() < deadline {
            var poll = pollfd(fd: fd, events: Int16(sent < bytes.count ? POLLOUT : POLLIN), revents: 0)
            let left = max(1, Int32((deadline - MonotonicClock.seconds()) * 1000))
            guard Glibc.poll(&poll, 1, left) == 1 else { break }
            if sent < bytes.count {
                let written = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written <= 0 { break }
                sent += written
                continue
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            response += buffer[..<count]
            if response.contains(UInt8(ascii: "\n")) { break }
        }
        let line = String(decoding: response.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, let code = Int(parts[1]) else {
            return (false, "Get \"\(url)\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
        }
        return anyStatus || (200..<400).contains(code) ? (true, "") : (false, "HTTP probe failed with statuscode: \(code)")
    }
}

