import CLinuxSys
import Glibc
import LinuxSys

nonisolated(unsafe) private var signalPipeWrite: Int32 = -1

/// The CLI's side of an attach: the container's output frames to our stdout/stderr, our stdin
/// (with -i) to the container, our terminal in raw mode and its size (with -t), and — without a
/// terminal — the signals we receive passed on to the container, as Docker's sig-proxy does.
/// Returns the container's exit status, or nil when the supervisor went away without one.
/// (Here rather than in the CLI: it is the client half of the supervisor's attach protocol, and
/// all raw I/O on the terminal and the socket.)
public struct AttachRelay {
    public let socket: Int32
    public let stdin: Bool
    public let tty: Bool
    /// Without a terminal, pass our signals on (`--sig-proxy`, on by default as in Docker).
    public var proxySignals = true
    /// A key sequence on stdin that ends the relay and leaves the container running (`--detach-keys`).
    public var detachKeys: [UInt8]? = nil
    /// Called with each signal to forward (the engine's kill).
    public let forward: (Int32) -> Void
    /// The output streams relayed (`-a stdout` leaves stderr out, as Docker attaches only those).
    public var relaysStdout = true
    public var relaysStderr = true

    public init(socket: Int32, stdin: Bool, tty: Bool, forward: @escaping (Int32) -> Void) {
        self.socket = socket
        self.stdin = stdin
        self.tty = tty
        self.forward = forward
    }

    public enum Outcome: Equatable {
        case exited(Int32)
        /// The user typed the detach keys.
        case detached
        /// The supervisor went away without telling.
        case lost
    }

    static let proxied: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM]

    public func run() -> Int32? {
        if case .exited(let status) = relay() { return status }
        return nil
    }

    public func relay() -> Outcome {
        var signalPipe: [Int32] = [-1, -1]
        _ = berth_pipe2(&signalPipe, O_CLOEXEC | O_NONBLOCK)
        signalPipeWrite = signalPipe[1]
        let signals = tty ? [SIGWINCH] : (proxySignals ? Self.proxied : [])
        for number in signals {
            Glibc.signal(number) { received in
                var byte = UInt8(truncatingIfNeeded: received)
                _ = Glibc.write(signalPipeWrite, &byte, 1)
            }
        }
        defer {
            for number in signals { Glibc.signal(number, SIG_DFL) }
            FS.close(signalPipe[0])
            FS.close(signalPipe[1])
        }
        var saved = termios()
        let raw = tty && stdin && isatty(0) != 0 && berth_make_raw(0, &saved) == 0
        defer { if raw { _ = berth_restore_termios(0, &saved) } }
        if tty { sendSize() }

        var reader = AttachFrameReader()
        var escape = DetachKeyMatcher(keys: detachKeys ?? [])
        var readingStdin = stdin
        var exitStatus: Int32?
        var buffer = [UInt8](repeating: 0, count: 65536)
        loop: while exitStatus == nil {
            var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: signalPipe[0], events: Int16(POLLIN), revents: 0)]
            if readingStdin { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            if fds[1].revents != 0 {
                var received = [UInt8](repeating: 0, count: 64)
                let n = Glibc.read(signalPipe[0], &received, received.count)
                for index in 0..<max(n, 0) {
                    let number = Int32(received[index])
                    if number == SIGWINCH { sendSize() } else { forward(number) }
                }
            }
            if readingStdin, fds.count > 2, fds[2].revents != 0 {
                let n = Glibc.read(0, &buffer, buffer.count)
                if n > 0 {
                    var input = Array(buffer[0..<n])
                    if detachKeys != nil {
                        let (passed, detach) = escape.filter(input)
                        input = passed
                        if detach { return .detached }
                    }
                    if !input.isEmpty { sendAll(AttachFrame.encode(.stdin, input)) }
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    readingStdin = false
                    sendAll(AttachFrame.encode(.closeStdin, []))
                }
            }
            if fds[0].revents != 0 {
                let n = Glibc.recv(socket, &buffer, buffer.count, 0)
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if n <= 0 { break }
                reader.append(Array(buffer[0..<n]))
                while let frame = reader.next() {
                    guard case .success(let (stream, payload)) = frame else { break loop }
                    switch stream {
                    case .stdout: if relaysStdout { try? FS.write(1, payload) }
                    case .stderr: if relaysStderr { try? FS.write(2, payload) }
                    case .exit: exitStatus = AttachFrame.decodeInt32(payload[...])
                    default: break
                    }
                }
            }
        }
        return exitStatus.map { .exited($0) } ?? .lost
    }

    func sendSize() {
        var rows: UInt16 = 0
        var columns: UInt16 = 0
        guard berth_get_winsize(1, &rows, &columns) == 0 || berth_get_winsize(0, &rows, &columns) == 0 else { return }
        sendAll(AttachFrame.encode(.resize, AttachFrame.sizePayload(rows: Int(rows), columns: Int(columns))))
    }

    func sendAll(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            offset += n
        }
    }
}

/// Watches stdin for the detach sequence: bytes that could start it are held back until it
/// completes (detach) or stops matching (they go on to the container after all).
public struct DetachKeyMatcher {
    public let keys: [UInt8]
    private var held: [UInt8] = []

    public init(keys: [UInt8]) { self.keys = keys }

    /// What to send on, and whether the sequence is complete.
    public mutating func filter(_ input: [UInt8]) -> (pass: [UInt8], detach: Bool) {
        guard !keys.isEmpty else { return (input, false) }
        var out: [UInt8] = []
        for byte in input {
            if byte == keys[held.count] {
                held.append(byte)
                if held.count == keys.count { return (out, true) }
                continue
            }
            out += held
            held.removeAll()
            if byte == keys[0] { held.append(byte) } else { out.append(byte) }
        }
        return (out, false)
    }

    /// Docker's `--detach-keys` syntax: comma-separated single characters or `ctrl-X` with X one of
    /// a-z, @, [, \\, ], ^, _.
    public static func parse(_ text: String) -> [UInt8]? {
        var keys: [UInt8] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bytes = Array(item.utf8)
            if bytes.count == 1 {
                keys.append(bytes[0])
            } else if item.lowercased().hasPrefix("ctrl-"), bytes.count == 6 {
                let key = bytes[5]
                switch key {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): keys.append(key - UInt8(ascii: "a") + 1)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): keys.append(key - UInt8(ascii: "A") + 1)
                case UInt8(ascii: "@"), UInt8(ascii: "["), UInt8(ascii: "\\"), UInt8(ascii: "]"), UInt8(ascii: "^"), UInt8(ascii: "_"):
                    keys.append(key - 0x40)
                default: return nil
                }
            } else {
                return nil
            }
        }
        return keys.isEmpty ? nil : keys
    }
}
