import LinuxSys
import NIOCore
import NIOHTTP1

/// A handler's side of the response. Called from the handler's own thread; every write waits until
/// the bytes have reached the socket, so a slow client slows only its own handler.
public final class ResponseWriter: @unchecked Sendable {
    let channel: Channel
    let connection: ConnectionControl
    let isHead: Bool
    let keepAlive: Bool
    let version: HTTPVersion
    /// Headers added to every response (Docker's `Api-Version`, `Server`…).
    let commonHeaders: [(String, String)]

    private let lock = ConditionLock()
    private var state = State.idle

    enum State { case idle, streaming, done, hijacked }

    init(channel: Channel, connection: ConnectionControl, head: HTTPRequestHead, commonHeaders: [(String, String)]) {
        self.channel = channel
        self.connection = connection
        self.isHead = head.method == .HEAD
        self.keepAlive = head.isKeepAlive
        self.version = head.version
        self.commonHeaders = commonHeaders
    }

    /// True once anything was sent (a handler that fails after that can only end the stream).
    public var hasStarted: Bool { lock.withLock { state != .idle } }

    /// True once the client has gone away; long-running handlers check it between waits.
    public var clientGone: Bool { !channel.isActive }

    /// A whole response with a known length.
    public func send(status: HTTPResponseStatus, headers: [(String, String)] = [], body: [UInt8] = []) {
        guard claim(.done) else { return }
        var fields = HTTPHeaders(commonHeaders)
        for (name, value) in headers { fields.replaceOrAdd(name: name, value: value) }
        // 1xx, 204 and 304 carry no body and no length (Go's net/http omits it too).
        let bodiless = status.code == 204 || status.code == 304 || status.code < 200
        if !bodiless { fields.replaceOrAdd(name: "Content-Length", value: String(body.count)) }
        if !keepAlive { fields.replaceOrAdd(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: status, headers: fields)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        if !bodiless, !isHead, !body.isEmpty {
            channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        }
        let done = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        _ = try? done.wait()
        connection.responseEnded(keepAlive: keepAlive)
    }

    /// The head of a response whose body follows in pieces (chunked), sent at once: clients of
    /// `wait`, `events` and `logs -f` wait for the head before anything else.
    public func startStream(status: HTTPResponseStatus = .ok, headers: [(String, String)]) {
        guard claim(.streaming) else { return }
        var fields = HTTPHeaders(commonHeaders)
        for (name, value) in headers { fields.replaceOrAdd(name: name, value: value) }
        if !isHead { fields.replaceOrAdd(name: "Transfer-Encoding", value: "chunked") }
        let head = HTTPResponseHead(version: version, status: status, headers: fields)
        _ = try? channel.writeAndFlush(HTTPServerResponsePart.head(head)).wait()
    }

    /// Sends part of a streamed body; false when the client has gone away.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard lock.withLock({ state == .streaming }) else { return false }
        if isHead || bytes.isEmpty { return channel.isActive }
        do {
            try channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bytes)))).wait()
            return true
        } catch {
            return false
        }
    }

    /// Ends a streamed body (or, when nothing was sent, answers 200 with no body).
    public func finish() {
        let previous = lock.withLock { () -> State in
            let previous = state
            if state == .streaming || state == .idle { state = .done }
            return previous
        }
        switch previous {
        case .streaming:
            _ = try? channel.writeAndFlush(HTTPServerResponsePart.end(nil)).wait()
            connection.responseEnded(keepAlive: keepAlive)
        case .idle:
            lock.withLock { state = .idle }
            send(status: .noContent)
        case .done, .hijacked:
            break
        }
    }

    /// Takes the connection over for a raw byte stream (Docker's attach and exec start): answers
    /// `101 UPGRADED` when the client asked to upgrade (or `200 OK` when it did not), stops
    /// speaking HTTP, and hands back the stream. Nil when the client is already gone.
    public func hijack(upgrade: Bool, headers: [(String, String)]) -> HijackedStream? {
        let upgrading = upgrade ? [("Connection", "Upgrade"), ("Upgrade", "tcp")] : []
        return hijack(status: upgrade ? "101 UPGRADED" : "200 OK", headers: headers + upgrading)
    }

    /// Takes the connection, writes `HTTP/1.1 STATUS` and `headers` on it raw, and hands it back.
    func hijack(status: String, headers: [(String, String)]) -> HijackedStream? {
        guard claim(.hijacked) else { return nil }
        var text = "HTTP/1.1 \(status)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        guard let stream = connection.hijack() else { return nil }
        guard stream.write(Array(text.utf8)) else {
            stream.close()
            return nil
        }
        return stream
    }

    /// Claims the connection for a takeover other than `hijack` (a WebSocket).
    func claimHijack() -> Bool { claim(.hijacked) }

    private func claim(_ next: State) -> Bool {
        lock.withLock {
            guard state == .idle || (state == .streaming && next == .done) else { return false }
            state = next
            return true
        }
    }
}

/// A connection after `hijack`: raw bytes both ways, no HTTP.
public final class HijackedStream: @unchecked Sendable {
    let channel: Channel
    let input: ByteQueue

    init(channel: Channel, input: ByteQueue) {
        self.channel = channel
        self.input = input
    }

    /// The next bytes the client sent; nil once it closed its sending side (or went away).
    public func read() -> [UInt8]? { input.pop() }

    /// True when the input ended by the client going away rather than by its half-close.
    public var inputFailed: Bool { input.endedBy == .failed }

    /// Sends bytes; false once the client has gone away.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return channel.isActive }
        do {
            try channel.writeAndFlush(ByteBuffer(bytes: bytes)).wait()
            return true
        } catch {
            return false
        }
    }

    public var clientGone: Bool { !channel.isActive }

    /// Ends our sending side (the client reads EOF) and closes the connection.
    public func close() {
        _ = try? channel.close().wait()
    }
}
