import Glibc
import LinuxSys
import Synchronization

/// The server side of a SPDY/3.1 connection over a stream taken from HTTP (or tunnelled in a
/// WebSocket): the client opens streams (SYN_STREAM), each answered with a SYN_REPLY and handed
/// to `accept`; their DATA goes to each stream's queue, PINGs are echoed. A reader thread of its
/// own parses frames; writes from any thread go out whole, one frame at a time. Flow control is
/// not enforced either way, as the Go library Kubernetes clients use (spdystream) does not.
public final class SPDYConnection: Sendable {
    let transport: any ConnectionStream
    let codec = SPDYHeaderCodec()
    private let writeLock = Mutex(())
    private let state = ConditionLock()
    nonisolated(unsafe) private var streams: [UInt32: SPDYStream] = [:]
    nonisolated(unsafe) private var pending: [SPDYStream] = []
    nonisolated(unsafe) private var ended = false
    nonisolated(unsafe) private var nextServerStream: UInt32 = 2

    /// Starts reading `transport` on a thread of its own.
    public init(_ transport: any ConnectionStream) {
        self.transport = transport
        let started = Threads.detach { [self] in readLoop() }
        if !started { end() }
    }

    /// The next stream the client opened, in order; nil once the connection ended or after
    /// `timeoutSeconds` without one.
    public func accept(timeoutSeconds: Double? = nil) -> SPDYStream? {
        let deadline = timeoutSeconds.map { monotonicSeconds() + $0 }
        return state.withLock {
            while pending.isEmpty && !ended {
                if let deadline {
                    let left = deadline - monotonicSeconds()
                    if left <= 0 { return nil }
                    _ = state.wait(timeoutSeconds: left)
                } else {
                    _ = state.wait()
                }
            }
            return pending.isEmpty ? nil : pending.removeFirst()
        }
    }

    /// True once the client went away or said GOAWAY.
    public var isEnded: Bool { state.withLock { ended } }

    /// Sends a frame; false once the connection is gone.
    @discardableResult
    func send(_ frame: SPDYFrame) -> Bool {
        writeLock.withLock { _ in transport.write(frame.encoded) }
    }

    /// Sends GOAWAY and closes the connection.
    public func close() {
        let last = state.withLock { streams.keys.max() ?? 0 }
        send(.goAway(lastGoodStreamID: last, status: 0))
        transport.close()
        end()
    }

    private func end() {
        let open = state.withLock { () -> [SPDYStream] in
            ended = true
            state.broadcast()
            // The streams refer to the connection: the table lets go of them, so both can go.
            defer { streams = [:] }
            return Array(streams.values)
        }
        for stream in open { stream.input.finish(.failed) }
    }

    private func readLoop() {
        var buffer: [UInt8] = []
        defer { end() }
        while let bytes = transport.read() {
            buffer += bytes
            var consumed = 0
            while true {
                let parsed: (frame: SPDYFrame, size: Int)?
                do { parsed = try SPDYFrame.parse(buffer[consumed...]) } catch {
                    send(.goAway(lastGoodStreamID: 0, status: SPDYFrame.protocolError))
                    transport.close()
                    return
                }
                guard let (frame, size) = parsed else { break }
                consumed += size
                guard handle(frame) else {
                    transport.close()
                    return
                }
            }
            if consumed > 0 { buffer.removeFirst(consumed) }
        }
    }

    /// Acts on one frame from the client; false when the connection must end.
    private func handle(_ frame: SPDYFrame) -> Bool {
        switch frame {
        case .synStream(let id, _, _, let flags, let block):
            let headers: [(name: String, values: [String])]
            do { headers = try writeLock.withLock { _ throws(SPDYHeaderCodec.CodecError) in try codec.decompress(block) } } catch {
                send(.goAway(lastGoodStreamID: 0, status: SPDYFrame.protocolError))
                return false
            }
            let stream = SPDYStream(id: id, headers: headers, connection: self)
            if flags & SPDYFrame.flagFin != 0 { stream.input.finish(.finished) }
            // Replied before the stream is handed on: the client waits for the reply to use it.
            let reply = writeLock.withLock { _ in
                transport.write(SPDYFrame.synReply(streamID: id, flags: 0, headerBlock: codec.compress([])).encoded)
            }
            guard reply else { return false }
            state.withLock {
                streams[id] = stream
                pending.append(stream)
                state.broadcast()
            }
        case .data(let id, let flags, let payload):
            guard let stream = state.withLock({ streams[id] }) else {
                send(.rstStream(streamID: id, status: 2))
                return true
            }
            if !payload.isEmpty { stream.input.push(payload) }
            if flags & SPDYFrame.flagFin != 0 { stream.input.finish(.finished) }
        case .rstStream(let id, _):
            state.withLock { streams[id] }?.input.finish(.failed)
        case .ping(let id):
            send(.ping(id: id))
        case .goAway:
            return false
        case .synReply, .settings, .headers, .windowUpdate, .unknownControl:
            break
        }
        return true
    }
}

/// One stream of a SPDY connection: the headers the client opened it with, its data as it
/// arrives, and our data back.
public final class SPDYStream: Sendable {
    public let id: UInt32
    public let headers: [(name: String, values: [String])]
    let input: ByteQueue
    let connection: SPDYConnection
    private let finished = Mutex(false)

    init(id: UInt32, headers: [(name: String, values: [String])], connection: SPDYConnection) {
        self.id = id
        self.headers = headers
        self.connection = connection
        input = ByteQueue(onDrain: {})
    }

    /// A header's first value (names are lowercase on the wire).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.values.first
    }

    /// The client's next data; nil once it sent FIN (or reset the stream, or went away).
    public func read() -> [UInt8]? { input.pop() }

    /// True when the input ended by a reset or the connection's end rather than the client's FIN.
    public var inputFailed: Bool { input.endedBy == .failed }

    /// Sends data (in frames of at most 32 KiB); false once the connection is gone.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard !finished.withLock({ $0 }) else { return false }
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 32 << 10)
            guard connection.send(.data(streamID: id, flags: 0, payload: Array(bytes[offset..<end]))) else { return false }
            offset = end
        }
        return true
    }

    /// Ends our side (an empty DATA frame with FIN), once.
    public func finish() {
        let first = finished.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { connection.send(.data(streamID: id, flags: SPDYFrame.flagFin, payload: [])) }
    }

    /// Resets the stream (the client's reads of it fail).
    public func reset(status: UInt32 = SPDYFrame.cancel) {
        finished.withLock { $0 = true }
        connection.send(.rstStream(streamID: id, status: status))
    }
}

extension ResponseWriter {
    /// `101 Switching Protocols` with `headers` (SPDY's `Upgrade: SPDY/3.1`…), then the raw
    /// connection; nil when the client is already gone.
    public func switchProtocols(headers: [(String, String)]) -> HijackedStream? {
        hijack(status: "101 Switching Protocols", headers: headers)
    }
}

private func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
