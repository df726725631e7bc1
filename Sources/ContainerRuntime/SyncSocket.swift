import Glibc
import LinuxSys

/// The handshake between the runtime and the container's init, over a SOCK_SEQPACKET pair
/// (one message per send, so no framing is needed). The child reports each step or its error;
/// the parent answers when the child must wait for it (id maps, cgroup, createRuntime hooks).
struct SyncSocket {
    let fd: Int32

    enum Message: Equatable {
        case proceed             // parent -> child: go on
        case runCreateHooks      // child -> parent: rootfs is mounted; run prestart/createRuntime now
        case ready               // child -> parent: set up and waiting for `start`
        case failed(String)      // child -> parent: set-up failed, with why

        var encoded: String {
            switch self {
            case .proceed: return "proceed"
            case .runCreateHooks: return "hooks"
            case .ready: return "ready"
            case .failed(let message): return "error " + message
            }
        }

        init?(_ text: String) {
            switch text {
            case "proceed": self = .proceed
            case "hooks": self = .runCreateHooks
            case "ready": self = .ready
            default:
                guard text.hasPrefix("error ") else { return nil }
                self = .failed(String(text.dropFirst(6)))
            }
        }
    }

    func send(_ message: Message) {
        let bytes = Array(message.encoded.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// The next message, or nil when the other side has gone away.
    func receive() -> Message? {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            return Message(String(decoding: buffer[0..<n], as: UTF8.self))
        }
    }
}
