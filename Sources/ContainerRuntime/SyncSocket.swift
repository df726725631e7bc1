import CLinuxSys
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
        case seccompListener     // child -> parent: the seccomp notify fd is attached; pass it to listenerPath
        case failed(RuntimeError) // child -> parent: set-up failed, with why (and its kind)

        var encoded: String {
            switch self {
            case .proceed: return "proceed"
            case .runCreateHooks: return "hooks"
            case .ready: return "ready"
            case .seccompListener: return "seccomp"
            case .failed(let error): return "error " + error.kind.rawValue + " " + error.message
            }
        }

        init?(_ text: String) {
            switch text {
            case "proceed": self = .proceed
            case "hooks": self = .runCreateHooks
            case "ready": self = .ready
            case "seccomp": self = .seccompListener
            default:
                guard text.hasPrefix("error ") else { return nil }
                let rest = text.dropFirst(6)
                let word = rest.prefix(while: { $0 != " " })
                guard let kind = RuntimeError.Kind(rawValue: String(word)) else { return nil }
                self = .failed(RuntimeError(String(rest.dropFirst(word.count + 1)), kind: kind))
            }
        }
    }

    func send(_ message: Message) {
        let bytes = Array(message.encoded.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends a message with an fd attached (SCM_RIGHTS).
    func send(_ message: Message, attaching attached: Int32) -> Bool {
        message.encoded.withCString { berth_send_fd(fd, attached, $0, strlen($0)) } >= 0
    }

    /// The next message, or nil when the other side has gone away.
    func receive() -> Message? {
        let (message, attached) = receiveWithFD()
        if let attached { FS.close(attached) }
        return message
    }

    /// The next message and the fd that came with it, if any.
    func receiveWithFD() -> (Message?, Int32?) {
        var buffer = [CChar](repeating: 0, count: 8192)
        while true {
            var attached: Int32 = -1
            let n = berth_recv_msg(fd, &buffer, buffer.count, &attached)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return (nil, attached >= 0 ? attached : nil) }
            let text = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return (Message(text), attached >= 0 ? attached : nil)
        }
    }
}
