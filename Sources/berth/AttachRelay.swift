import CLinuxSys
import Engine
import Glibc
import LinuxSys

nonisolated(unsafe) private var signalPipeWrite: Int32 = -1

/// The CLI's side of an attach: the container's output frames to our stdout/stderr, our stdin
/// (with -i) to the container, our terminal in raw mode and its size (with -t), and — without a
/// terminal — the signals we receive passed on to the container, as Docker's sig-proxy does.
/// Returns the container's exit status, or nil when the supervisor went away without one.
struct AttachRelay {
    let socket: Int32
    let stdin: Bool
    let tty: Bool
    /// Called with each signal to forward (the engine's kill).
    let forward: (Int32) -> Void

    static let proxied: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM]

    func run() -> Int32? {
        var signalPipe: [Int32] = [-1, -1]
        _ = berth_pipe2(&signalPipe, O_CLOEXEC | O_NONBLOCK)
        signalPipeWrite = signalPipe[1]
        let signals = tty ? [SIGWINCH] : Self.proxied
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
                    sendAll(AttachFrame.encode(.stdin, Array(buffer[0..<n])))
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
                    case .stdout: try? FS.write(1, payload)
                    case .stderr: try? FS.write(2, payload)
                    case .exit: exitStatus = AttachFrame.decodeInt32(payload[...])
                    default: break
                    }
                }
            }
        }
        return exitStatus
    }

    func sendSize() {
        var rows: UInt16 = 0
        var columns: UInt16 = 0
        guard berth_get_winsize(1, &rows, &columns) == 0 || berth_get_winsize(0, &rows, &columns) == 0 else { return }
        sendAll(AttachFrame.encode(.resize, [UInt8(rows >> 8), UInt8(rows & 0xff), UInt8(columns >> 8), UInt8(columns & 0xff)]))
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
