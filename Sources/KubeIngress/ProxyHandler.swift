import NIOCore
import NIOHTTP1
import NIOPosix

/// One client connection of the Ingress proxy (after NIO's HTTP/1.1 server pipeline, which keeps
/// one request at a time and keep-alive framing). Each request is routed on its own: the Host
/// (or an absolute URI's authority) and path pick a backend from the routes of that moment; the
/// request streams to one of its ready endpoints on a new connection and the response streams
/// back. Neither body is held whole: reads from one side wait while the other side's socket is
/// full (back-pressure both ways). A request to switch protocols (WebSocket) goes to the backend
/// with its Upgrade header; when the backend answers 101, both connections leave HTTP and become
/// one byte tunnel (TunnelHandler), as ingress-nginx proxies WebSockets.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What happens to the current request's parts; `tunnel` once the backend switched protocols.
    enum Phase { case idle, proxying, answered, tunnel }

    let table: RouteTable
    let scheme: String
    /// How many endpoints a request tries when connecting fails (as nginx's proxy_next_upstream).
    static let connectAttempts = 3

    private var phase = Phase.idle
    /// Bumped per request: a backend's late news about an earlier request is ignored.
    private var generation = 0
    private var backend: Channel?
    private var backendHandler: BackendHandler?
    private var pending: [HTTPClientRequestPart] = []
    private var requestEnded = false
    private var responseStarted = false
    private var keepAlive = true
    private var version = HTTPVersion.http1_1
    /// The protocols the current request asks to switch to (its Upgrade header), passed on to the backend.
    private var upgrade: String?
    private var readsHeld = false
    private var readWanted = false
    private var context: ChannelHandlerContext?

    init(table: RouteTable, scheme: String) {
        self.table = table
        self.scheme = scheme
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Removed for the tunnel, which now owns the backend's connection.
        if phase != .tunnel { closeBackend() }
        self.context = nil
    }

    // MARK: reads from the client, held while the backend cannot take more

    func read(context: ChannelHandlerContext) {
        if readsHeld { readWanted = true } else { context.read() }
    }

    private func holdReads() { readsHeld = true }

    private func releaseReads() {
        readsHeld = false
        if readWanted, let context {
            readWanted = false
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Switched: what still comes here is not HTTP, and not ours (the tunnel has the connection).
        guard phase != .tunnel else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            start(context, head)
        case .body(let buffer):
            forward(.body(.byteBuffer(buffer)))
        case .end(let trailers):
            requestEnded = true
            if phase == .answered {
                phase = .idle
                releaseReads()
            } else {
                forward(.end(trailers))
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        backend?.flush()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { backendHandler?.releaseReads() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if phase != .tunnel { closeBackend() }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeBackend()
        context.close(promise: nil)
    }

    private func forward(_ part: HTTPClientRequestPart) {
        guard phase == .proxying else { return }
        guard let backend else {
            pending.append(part)
            return
        }
        backend.write(part, promise: nil)
        if !backend.isWritable { holdReads() }
    }

    // MARK: routing

    private func start(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        generation += 1
        requestEnded = false
        responseStarted = false
        pending = []
        keepAlive = head.isKeepAlive
        version = head.version
        upgrade = Self.requestedUpgrade(head)
        // NIO's parser reads nothing after a request it takes for a switch (or a CONNECT): unless the
        // backend switches, the connection ends with this response.
        if Self.parserStops(after: head) { keepAlive = false }
        var uri = head.uri
        var host = head.headers.first(name: "host") ?? ""
        // An absolute URI's authority is the host (RFC 9112 §3.2.2); the backend gets the path.
        for prefix in ["http://", "https://"] where uri.lowercased().hasPrefix(prefix) {
            let rest = uri.dropFirst(prefix.count)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            host = String(rest[..<slash])
            uri = slash == rest.endIndex ? "/" : String(rest[slash...])
        }
        let hostName = Self.withoutPort(host)
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "/"
        switch table.routes.route(host: hostName, path: path) {
        case .notFound:
            answer(context, .notFound, "default backend - 404\n")
        case .backend(let target) where target.endpoints.isEmpty:
            answer(context, .serviceUnavailable, "503 Service Temporarily Unavailable\n")
        case .backend(let target):
            phase = .proxying
            holdReads()
            var headers = head.headers
            Self.removeHopByHop(&headers)
            headers.remove(name: "expect")
            headers.replaceOrAdd(name: "host", value: host)
            let client = context.channel.remoteAddress?.ipAddress ?? ""
            // Set, not appended: what a client claims in these is not passed on (ingress-nginx's default).
            headers.replaceOrAdd(name: "x-forwarded-for", value: client)
            headers.replaceOrAdd(name: "x-real-ip", value: client)
            headers.replaceOrAdd(name: "x-forwarded-proto", value: scheme)
            headers.replaceOrAdd(name: "x-forwarded-host", value: host)
            headers.replaceOrAdd(name: "x-forwarded-port", value: String(context.channel.localAddress?.port ?? 0))
            if let upgrade {
                headers.replaceOrAdd(name: "upgrade", value: upgrade)
                headers.replaceOrAdd(name: "connection", value: "upgrade")
            } else {
                // One request per backend connection: its end is the response's end when unframed.
                headers.replaceOrAdd(name: "connection", value: "close")
            }
            let request = HTTPRequestHead(version: .http1_1, method: head.method, uri: uri, headers: headers)
            connect(context, target.endpoints, first: table.nextIndex(), attempt: 0, request: request)
        }
    }

    /// The Upgrade header of a request whose Connection header names it (RFC 9110 §7.8), or nil.
    /// Upgrade is HTTP/1.1's (an HTTP/1.0 request's is ignored, RFC 9110 §7.8), never a CONNECT's.
    static func requestedUpgrade(_ head: HTTPRequestHead) -> String? {
        guard head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1), head.method != .CONNECT,
              head.headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "upgrade" }) else { return nil }
        let protocols = head.headers[canonicalForm: "upgrade"].map(String.init)
        return protocols.isEmpty ? nil : protocols.joined(separator: ", ")
    }

    /// Whether NIO's parser (llhttp) stops after this request: a CONNECT, or Connection naming
    /// upgrade with an Upgrade header, whatever its value.
    static func parserStops(after head: HTTPRequestHead) -> Bool {
        head.method == .CONNECT
            || (head.headers.contains(name: "upgrade") && head.headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "upgrade" }))
    }

    /// `example.com:8080` → `example.com`; `[::1]:80` → `[::1]`.
    static func withoutPort(_ host: String) -> String {
        guard let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") else { return host }
        let port = host[host.index(after: colon)...]
        guard port.allSatisfy(\.isNumber), host.filter({ $0 == ":" }).count == 1 || host.hasPrefix("[") else { return host }
        return String(host[..<colon])
    }

    static let hopByHop = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "proxy-authenticate",
                           "proxy-authorization"]

    static func removeHopByHop(_ headers: inout HTTPHeaders) {
        // Headers the Connection header names are this hop's too.
        for value in headers[canonicalForm: "connection"] { headers.remove(name: String(value)) }
        for name in hopByHop { headers.remove(name: name) }
    }

    private func connect(_ context: ChannelHandlerContext, _ endpoints: [IngressRoutes.Endpoint], first: Int, attempt: Int, request: HTTPRequestHead) {
        let endpoint = endpoints[(first + attempt) % endpoints.count]
        let generation = self.generation
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(.seconds(5))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                // Bytes after a 101 are the new protocol's: kept for the tunnel, not dropped.
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHTTPClientHandlers(leftOverBytesStrategy: .forwardBytes) }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .assumeIsolated()
            .whenComplete { result in
                guard generation == self.generation, self.phase == .proxying, let context = self.context, context.channel.isActive else {
                    if case .success(let channel) = result { channel.close(promise: nil) }
                    return
                }
                switch result {
                case .success(let channel):
                    let handler = BackendHandler(proxy: self, generation: generation)
                    do { try channel.pipeline.syncOperations.addHandler(handler) } catch {
                        channel.close(promise: nil)
                        self.answer(context, .badGateway, "502 Bad Gateway\n")
                        return
                    }
                    self.backend = channel
                    self.backendHandler = handler
                    channel.write(HTTPClientRequestPart.head(request), promise: nil)
                    for part in self.pending { channel.write(part, promise: nil) }
                    self.pending = []
                    channel.flush()
                    if channel.isWritable { self.releaseReads() }
                case .failure:
                    if attempt + 1 < min(endpoints.count, Self.connectAttempts) {
                        self.connect(context, endpoints, first: first, attempt: attempt + 1, request: request)
                    } else {
                        self.answer(context, .badGateway, "502 Bad Gateway\n")
                    }
                }
            }
    }

    /// A response of the proxy's own; the rest of the request's body is dropped.
    private func answer(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ text: String) {
        closeBackend()
        pending = []
        phase = requestEnded ? .idle : .answered
        var headers = HTTPHeaders([("content-type", "text/plain; charset=utf-8"), ("content-length", String(text.utf8.count))])
        setConnection(&headers)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        finishResponse(context)
    }

    private func setConnection(_ headers: inout HTTPHeaders) {
        if !keepAlive {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if version == .http1_0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
    }

    private func finishResponse(_ context: ChannelHandlerContext) {
        let close = !keepAlive
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else if requestEnded || phase == .answered {
            if requestEnded { phase = .idle }
            releaseReads()
        }
    }

    private func closeBackend() {
        backend?.close(promise: nil)
        backend = nil
        backendHandler = nil
    }

    // MARK: what the backend sends

    func backendHead(_ head: HTTPResponseHead, generation: Int) {
        guard generation == self.generation, let context else { return }
        var headers = head.headers
        Self.removeHopByHop(&headers)
        // Without a length the body ends with the backend's connection: an HTTP/1.1 client gets it
        // chunked; an HTTP/1.0 one only by the close.
        if !headers.contains(name: "content-length") && version == .http1_0 { keepAlive = false }
        setConnection(&headers)
        responseStarted = true
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: head.status, headers: headers))), promise: nil)
    }

    func backendBody(_ buffer: ByteBuffer, generation: Int) {
        guard generation == self.generation, let context else { return }
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if !context.channel.isWritable { backendHandler?.holdReads() }
    }

    func backendReadComplete(generation: Int) {
        guard generation == self.generation else { return }
        context?.flush()
    }

    func backendEnd(generation: Int) {
        guard generation == self.generation, let context else { return }
        closeBackend()
        // A response that ends before its request: the rest of the request is dropped.
        if !requestEnded { phase = .answered }
        finishResponse(context)
    }

    /// The backend's connection closed before its response ended.
    func backendClosed(generation: Int) {
        guard generation == self.generation, phase == .proxying, let context else { return }
        backend = nil
        backendHandler = nil
        if responseStarted {
            context.close(promise: nil)
        } else {
            answer(context, .badGateway, "502 Bad Gateway\n")
        }
    }

    func backendWritable() {
        if backend?.isWritable == true { releaseReads() }
    }

    /// The backend answered 101 Switching Protocols (its whole head has been read): the client gets
    /// that answer, then each side's HTTP handlers leave the pipelines and a tunnel joins the two
    /// connections. Bytes either side sent after the handshake, held by the HTTP decoders, go through it.
    func backendSwitched(_ head: HTTPResponseHead, generation: Int) {
        guard generation == self.generation, phase == .proxying, let context, let backend else { return }
        guard upgrade != nil else {
            // A switch nobody asked for: the backend is not speaking HTTP to us any more.
            backend.close(promise: nil)
            backendClosed(generation: generation)
            return
        }
        guard requestEnded else {
            // A switch before the request's body ended: what follows on the client's side is still
            // HTTP to NIO's parser, never tunnel bytes. Neither side can go on.
            phase = .answered
            closeBackend()
            context.close(promise: nil)
            return
        }
        var headers = head.headers
        headers.remove(name: "content-length")
        headers.remove(name: "transfer-encoding")
        phase = .tunnel
        backendHandler = nil
        self.backend = nil
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .switchingProtocols, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        let (client, server) = TunnelHandler.pair()
        do {
            let clientPipeline = context.pipeline.syncOperations, backendPipeline = backend.pipeline.syncOperations
            try clientPipeline.addHandler(client)
            try backendPipeline.addHandler(server)
            // The decoders go last: what they hold is forwarded to the tunnel, through nothing HTTP.
            // Their removal ends on a later turn of the loop (the response decoder also sees what is
            // written, as requests), so the tunnel holds what it reads until every HTTP handler is gone.
            var removals: [EventLoopFuture<Void>] = []
            for type: any ChannelHandler.Type in [ProxyHandler.self, HTTPServerPipelineHandler.self, NIOHTTPResponseHeadersValidator.self,
                                                  HTTPServerProtocolErrorHandler.self, HTTPResponseEncoder.self,
                                                  ByteToMessageHandler<HTTPRequestDecoder>.self] {
                removals += Self.remove(type, from: clientPipeline, on: context.eventLoop)
            }
            for type: any ChannelHandler.Type in [BackendHandler.self, NIOHTTPRequestHeadersValidator.self, HTTPRequestEncoder.self,
                                                  ByteToMessageHandler<HTTPResponseDecoder>.self] {
                removals += Self.remove(type, from: backendPipeline, on: context.eventLoop)
            }
            EventLoopFuture.andAllComplete(removals, on: context.eventLoop).assumeIsolated().whenComplete { _ in
                TunnelHandler.start(client, server)
            }
        } catch {
            backend.close(promise: nil)
            context.close(promise: nil)
        }
    }

    /// Removes the handler of this type, if the pipeline has one: the removal's end.
    static func remove(_ type: any ChannelHandler.Type, from pipeline: ChannelPipeline.SynchronousOperations,
                       on eventLoop: any EventLoop) -> [EventLoopFuture<Void>] {
        func context<Handler: ChannelHandler>(_: Handler.Type) -> ChannelHandlerContext? { try? pipeline.context(handlerType: Handler.self) }
        guard let found = context(type) else { return [] }
        let removed = eventLoop.makePromise(of: Void.self)
        pipeline.removeHandler(context: found, promise: removed)
        return [removed.futureResult]
    }
}

/// The proxy's side of one backend connection: response parts go to the client's handler;
/// reads wait while the client's socket is full.
final class BackendHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private let proxy: ProxyHandler
    private let generation: Int
    private var readsHeld = false
    private var readWanted = false
    private var context: ChannelHandlerContext?
    private var ended = false
    /// After a 1xx head comes its own end, which is not the response's.
    private var informational = false
    /// A 101 head: at its end the connection switches protocols.
    private var switched: HTTPResponseHead?

    init(proxy: ProxyHandler, generation: Int) {
        self.proxy = proxy
        self.generation = generation
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func read(context: ChannelHandlerContext) {
        if readsHeld { readWanted = true } else { context.read() }
    }

    func holdReads() { readsHeld = true }

    func releaseReads() {
        readsHeld = false
        if readWanted, let context {
            readWanted = false
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.status == .switchingProtocols {
                switched = head
                return
            }
            // 1xx answers (100 Continue) are the backend's business with us, not the client's.
            if head.status.code / 100 == 1 {
                informational = true
                return
            }
            proxy.backendHead(head, generation: generation)
        case .body(let buffer):
            proxy.backendBody(buffer, generation: generation)
        case .end:
            if let switched {
                ended = true
                proxy.backendSwitched(switched, generation: generation)
                return
            }
            if informational {
                informational = false
                return
            }
            if ended { return }
            ended = true
            proxy.backendEnd(generation: generation)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        proxy.backendReadComplete(generation: generation)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        proxy.backendWritable()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !ended { proxy.backendClosed(generation: generation) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
