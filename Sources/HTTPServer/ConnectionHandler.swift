import LinuxSys
import NIOCore
import Synchronization
import NIOHTTP1

/// What a request handler does: read the request, answer through the writer. It runs on a
/// thread of its own and may block (engine calls, `wait`, streams).
public typealias HTTPHandler = @Sendable (HTTPServerRequest, ResponseWriter) -> Void

/// One connection's HTTP/1.1 on the event loop: each request head starts its handler on a new
/// thread, the body is fed to it through a bounded queue, and reads from the socket pause while
/// that queue is full. Requests on one connection are answered in order, one at a time (the Go
/// and Python clients never pipeline).
final class ConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let decoderName = "http-decoder"
    static let encoderName = "http-encoder"
    static let name = "berth-http"

    let handler: HTTPHandler
    let commonHeaders: [(String, String)]
    let control: ConnectionControl
    private var body: ByteQueue?

    init(handler: @escaping HTTPHandler, commonHeaders: [(String, String)], control: ConnectionControl) {
        self.handler = handler
        self.commonHeaders = commonHeaders
        self.control = control
    }

    func channelActive(context: ChannelHandlerContext) {
        context.read()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let channel = context.channel
            let queue = ByteQueue(onDrain: { channel.read() })
            body = queue
            let request = HTTPServerRequest(head: head, body: RequestBody(queue: queue))
            control.responseStarted()
            let writer = ResponseWriter(channel: channel, connection: control, head: head, commonHeaders: commonHeaders)
            let handler = self.handler
            let started = Threads.detach {
                handler(request, writer)
                request.body.drain()
                writer.finish()
            }
            if !started {
                queue.finish(.failed)
                writer.send(status: .serviceUnavailable, headers: [("Content-Type", "application/json")],
                            body: Array(#"{"message":"server busy: cannot start a thread for the request"}"#.utf8) + [10])
            }
        case .body(let buffer):
            body?.push(Array(buffer.readableBytesView))
        case .end:
            body?.finish(.finished)
            body = nil
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Keep reading unless the handler has fallen behind on the body; its queue calls
        // `read()` again once drained.
        if !(body?.isThrottled ?? false) { context.read() }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The client will send nothing more; a request still arriving is cut short.
            body?.finish(.failed)
            body = nil
            control.inputClosed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        body?.finish(.failed)
        body = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A malformed request: HTTP's 400, then close (the stream cannot be resynchronised).
        if error is HTTPParserError {
            var headers = HTTPHeaders(commonHeaders)
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Connection", value: "close")
            let message = Array(#"{"message":"malformed HTTP request"}"#.utf8) + [10]
            headers.add(name: "Content-Length", value: String(message.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: message)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
            return
        }
        body?.finish(.failed)
        body = nil
        context.close(promise: nil)
    }
}

/// A hijacked connection's input: raw bytes to the handler's queue, the client's half-close as
/// the queue's end.
final class RawInputHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let queue: ByteQueue

    init(queue: ByteQueue) { self.queue = queue }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        queue.push(Array(unwrapInboundIn(data).readableBytesView))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !queue.isThrottled { context.read() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { queue.finish(.finished) }
    }

    func channelInactive(context: ChannelHandlerContext) { queue.finish(.failed) }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        queue.finish(.failed)
        context.close(promise: nil)
    }
}

/// What a response writer may do to its connection from another thread.
final class ConnectionControl: Sendable {
    let channel: Channel
    /// Responses under way, and whether the client has half-closed: a client that will send no
    /// more requests gets its connection closed once the last answer is out (as Go's server does).
    private let state = Mutex<(responding: Int, inputEnded: Bool)>((0, false))

    init(channel: Channel) { self.channel = channel }

    func responseStarted() { state.withLock { $0.responding += 1 } }

    /// Called when a response has been sent whole; closes when asked to or when the client is done.
    func responseEnded(keepAlive: Bool) {
        let close = state.withLock { current -> Bool in
            current.responding -= 1
            return !keepAlive || (current.inputEnded && current.responding == 0)
        }
        if close { channel.close(promise: nil) }
    }

    func closeAfterResponse() { channel.close(promise: nil) }

    func inputClosed() {
        let idle = state.withLock { current -> Bool in
            current.inputEnded = true
            return current.responding == 0
        }
        if idle { channel.close(promise: nil) }
    }

    /// Stops HTTP on this connection: the raw input handler takes the place of the HTTP
    /// handlers, and the bytes the decoder had buffered past the request go to it first.
    func hijack() -> HijackedStream? {
        let channel = self.channel
        let queue = ByteQueue(onDrain: { channel.read() })
        guard takeOver(response: nil, input: { [RawInputHandler(queue: queue)] }) else { return nil }
        return HijackedStream(channel: channel, input: queue)
    }

    /// Replaces the HTTP handlers with `input` (made on the event loop), after the decoder so the
    /// bytes it buffered past the request (a client may send right behind it) reach them when it
    /// is removed; `response`, when given, goes out raw before anything else.
    func takeOver(response: [UInt8]?, input: @escaping @Sendable () -> [any ChannelHandler]) -> Bool {
        let channel = self.channel
        let done = channel.eventLoop.submit { () throws -> Void in
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandlers(input(), position: .after(decoder))
            let connection = try pipeline.handler(type: ConnectionHandler.self)
            pipeline.removeHandler(connection, promise: nil)
            let encoder = try pipeline.handler(type: HTTPResponseEncoder.self)
            pipeline.removeHandler(encoder, promise: nil)
            if let response { channel.writeAndFlush(ByteBuffer(bytes: response), promise: nil) }
            pipeline.removeHandler(decoder, promise: nil)
            channel.read()
        }
        do { try done.wait() } catch { return false }
        return true
    }
}
