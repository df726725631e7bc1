import NIOCore

/// One end of a tunnel between two connections on one event loop (a client's and a backend's,
/// after the backend switched protocols): what is read on one side is written to the other. Reads
/// wait while the other side's socket is full, and either side's end closes both.
final class TunnelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: TunnelHandler?
    private var context: ChannelHandlerContext?
    private var readWanted = false
    /// What was read before both sides were ready (the HTTP handlers still leaving either pipeline); nil once started.
    private var held: [ByteBuffer]? = []

    static func pair() -> (TunnelHandler, TunnelHandler) {
        let one = TunnelHandler(), other = TunnelHandler()
        one.partner = other
        other.partner = one
        return (one, other)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // A read held back by the HTTP handlers before the switch is asked for again.
        if context.channel.isActive { context.read() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    /// Each read is flushed at once: what the HTTP decoders held at the switch comes as a read
    /// that no read-complete follows.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if held != nil { held?.append(buffer) } else { partner?.context?.writeAndFlush(wrapOutboundOut(buffer), promise: nil) }
    }

    /// Both pipelines hold only the tunnel now: what each side held goes across, and from here on every read.
    static func start(_ one: TunnelHandler, _ other: TunnelHandler) {
        for side in [one, other] {
            let held = side.held ?? []
            side.held = nil
            for buffer in held { side.partner?.context?.writeAndFlush(side.wrapOutboundOut(buffer), promise: nil) }
        }
        // A read the HTTP handlers held back before they left is asked for again.
        for side in [one, other] { side.context?.read() }
    }

    /// One side ended: the other closes once what it still has to write is written.
    func channelInactive(context: ChannelHandlerContext) {
        partner?.closeAfterWrites(sending: held ?? [])
        held = []
        context.fireChannelInactive()
    }

    private func closeAfterWrites(sending last: [ByteBuffer]) {
        guard let context else { return }
        for buffer in last { context.write(wrapOutboundOut(buffer), promise: nil) }
        // Writes end in order: an empty one ends after everything before it.
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.resumeReads() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if partner?.context?.channel.isWritable ?? true { context.read() } else { readWanted = true }
    }

    private func resumeReads() {
        guard readWanted, let context else { return }
        readWanted = false
        context.read()
    }
}
