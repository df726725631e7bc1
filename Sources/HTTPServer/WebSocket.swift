import Crypto
import GoCompat
import LinuxSys
import NIOCore
import NIOWebSocket
import Synchronization

/// A connection taken over from HTTP, as a handler's thread uses it: Docker's hijacked raw
/// stream, or a WebSocket whose messages carry the bytes. Attach and exec code serve both.
public protocol ConnectionStream: AnyObject, Sendable {
    /// The next bytes the client sent; nil once it has finished sending (or went away).
    func read() -> [UInt8]?
    /// True when the input ended by the client going away rather than by its own end.
    var inputFailed: Bool { get }
    /// Sends bytes; false once the client has gone away.
    @discardableResult func write(_ bytes: [UInt8]) -> Bool
    var clientGone: Bool { get }
    /// Ends the conversation and closes the connection.
    func close()
}

extension HijackedStream: ConnectionStream {}

/// A server-side WebSocket (RFC 6455) after `ResponseWriter.upgradeToWebSocket`. Each `read` is
/// one whole message from the client (fragments joined); each `write` one message to it, binary
/// or text as chosen at the upgrade. Pings are answered on the event loop. The client's close
/// frame is the end of its input; `close` sends ours (1000) and closes the connection.
public final class WebSocket: ConnectionStream {
    let channel: Channel
    let input: ByteQueue
    /// The opcode `write` sends.
    let textMessages: Bool
    /// The subprotocol agreed at the upgrade (Kubernetes' `v4.channel.k8s.io`…), if any.
    public let subprotocol: String?
    private let closeSent = Mutex(false)

    init(channel: Channel, input: ByteQueue, textMessages: Bool, subprotocol: String?) {
        self.channel = channel
        self.input = input
        self.textMessages = textMessages
        self.subprotocol = subprotocol
    }

    public func read() -> [UInt8]? { input.pop() }

    public var inputFailed: Bool { input.endedBy == .failed }

    public var clientGone: Bool { !channel.isActive }

    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return channel.isActive }
        return send(bytes, opcode: textMessages ? .text : .binary)
    }

    /// One message of the given kind (a Kubernetes stream mixes them).
    @discardableResult
    public func send(_ payload: [UInt8], opcode: WebSocketOpcode) -> Bool {
        if opcode == .connectionClose { closeSent.withLock { $0 = true } } else if closeSent.withLock({ $0 }) { return false }
        do {
            try channel.writeAndFlush(ByteBuffer(bytes: Self.frame(opcode, payload))).wait()
            return true
        } catch {
            return false
        }
    }

    /// Sends the close frame with `code` (unless one was sent), then closes the connection.
    public func close(code: UInt16) {
        if !closeSent.withLock({ $0 }) { send([UInt8(code >> 8), UInt8(code & 0xff)], opcode: .connectionClose) }
        _ = try? channel.close().wait()
    }

    public func close() { close(code: 1000) }

    /// A server's frame: final, unmasked.
    static func frame(_ opcode: WebSocketOpcode, _ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x80 | UInt8(webSocketOpcode: opcode)]
        switch payload.count {
        case ..<126:
            out.append(UInt8(payload.count))
        case ..<65536:
            out += [126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        default:
            out.append(127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: UInt64(payload.count) >> UInt64(shift))) }
        }
        return out + payload
    }
}

/// The opening handshake as Go's golang.org/x/net/websocket checks it (what dockerd serves its
/// websocket attach with): the failures and their words.
public struct WebSocketHandshake: Sendable {
    public let accept: String
    public let subprotocol: String?

    public enum Failure: Error, Sendable, Equatable {
        case notWebSocket, badVersion, badKey

        /// x/net/websocket's error text, the body of its 400.
        public var message: String {
            switch self {
            case .notWebSocket: return "not websocket protocol"
            case .badVersion: return "missing or bad WebSocket Version"
            case .badKey: return "mismatch challenge/response"
            }
        }
    }

    /// `protocols`: the subprotocols the server speaks, best first; the first one the client
    /// also offers is chosen.
    public init(_ request: HTTPServerRequest, protocols: [String] = []) throws(Failure) {
        let connection = request.headers[canonicalForm: "Connection"].map { $0.lowercased() }
        guard (request.header("Upgrade") ?? "").lowercased() == "websocket", connection.contains("upgrade") else { throw .notWebSocket }
        guard let key = request.header("Sec-WebSocket-Key"), !key.isEmpty else { throw .badKey }
        guard request.header("Sec-WebSocket-Version") == "13" else { throw .badVersion }
        accept = Self.acceptValue(key)
        let offered = request.headers[canonicalForm: "Sec-WebSocket-Protocol"].map { $0.trimmedBlanks }
        subprotocol = protocols.first { offered.contains(Substring($0)) }
    }

    /// RFC 6455's Sec-WebSocket-Accept: base64 of the SHA-1 of the key and the protocol's GUID.
    public static func acceptValue(_ key: String) -> String {
        GoBase64.encode(Array(Insecure.SHA1.hash(data: Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))))
    }

    /// The 101 answer, with no other header (as x/net/websocket sends it).
    var response: [UInt8] {
        var text = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n"
        if let subprotocol { text += "Sec-WebSocket-Protocol: \(subprotocol)\r\n" }
        return Array((text + "\r\n").utf8)
    }
}

private extension Substring {
    var trimmedBlanks: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}

/// A WebSocket's input on the event loop: data messages (fragments joined) to the handler's
/// queue, pings answered, the client's close frame as the queue's end.
final class WebSocketInputHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    let queue: ByteQueue
    private var message: [UInt8] = []
    private var inMessage = false

    init(queue: ByteQueue) { self.queue = queue }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            if frame.opcode != .continuation { message = [] }
            message += Array(frame.unmaskedData.readableBytesView)
            inMessage = !frame.fin
            if frame.fin {
                queue.push(message)
                message = []
            }
        case .ping:
            let pong = WebSocket.frame(.pong, Array(frame.unmaskedData.readableBytesView))
            context.writeAndFlush(NIOAny(ByteBuffer(bytes: pong)), promise: nil)
        case .connectionClose:
            queue.finish(.finished)
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !queue.isThrottled { context.read() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The socket's end without a close frame: the client went away.
        if let event = event as? ChannelEvent, event == .inputClosed { queue.finish(.failed) }
    }

    func channelInactive(context: ChannelHandlerContext) { queue.finish(.failed) }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A frame that breaks the protocol (or is too large): close 1002 / 1009, as RFC 6455 asks.
        let code: UInt16 = (error as? NIOWebSocketError) == .invalidFrameLength ? 1009 : 1002
        queue.finish(.failed)
        let close = WebSocket.frame(.connectionClose, [UInt8(code >> 8), UInt8(code & 0xff)])
        context.writeAndFlush(NIOAny(ByteBuffer(bytes: close))).whenComplete { _ in context.close(promise: nil) }
    }
}

extension ResponseWriter {
    /// Upgrades the connection to a WebSocket (`GET` with `Upgrade: websocket`): answers 101 and
    /// hands back the socket. A request that is no WebSocket handshake gets x/net/websocket's 400
    /// (its words as a plain-text body) and nil; nil too when the client is already gone.
    /// `textMessages`: `write` sends text frames (dockerd's attach before API 1.28).
    public func upgradeToWebSocket(_ request: HTTPServerRequest, protocols: [String] = [], textMessages: Bool = false,
                                   maxMessageSize: Int = 16 << 20) -> WebSocket? {
        let handshake: WebSocketHandshake
        do {
            handshake = try WebSocketHandshake(request, protocols: protocols)
        } catch {
            var headers = [("Content-Type", "text/plain; charset=utf-8"), ("Connection", "close")]
            if error == .badVersion { headers.append(("Sec-WebSocket-Version", "13")) }
            send(status: .badRequest, headers: headers, body: Array(error.message.utf8))
            return nil
        }
        guard claimHijack() else { return nil }
        let channel = self.channel
        let queue = ByteQueue(onDrain: { channel.read() })
        let taken = connection.takeOver(response: handshake.response) {
            [ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxMessageSize)), WebSocketInputHandler(queue: queue)]
        }
        guard taken else { return nil }
        return WebSocket(channel: channel, input: queue, textMessages: textMessages, subprotocol: handshake.subprotocol)
    }
}
