import LinuxSys

/// Bytes passed from the event loop to a handler's thread: the request body, or a hijacked
/// connection's input. Bounded: above `highWater` buffered bytes the connection stops reading
/// from its socket until the handler has taken some (the client then waits in its own send).
final class ByteQueue: @unchecked Sendable {
    enum Ending: Equatable {
        /// The sender finished (end of the body, or the client half-closed a hijacked stream).
        case finished
        /// The connection went away before the end.
        case failed
    }

    private let lock = ConditionLock()
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var buffered = 0
    private var ending: Ending?
    private let highWater: Int
    /// Called (on the handler's thread) when the queue has drained below the mark again.
    private let onDrain: @Sendable () -> Void
    private var throttled = false

    init(highWater: Int = 1 << 20, onDrain: @escaping @Sendable () -> Void) {
        self.highWater = highWater
        self.onDrain = onDrain
    }

    /// Adds bytes; returns false when the reader has fallen behind (stop reading the socket).
    @discardableResult
    func push(_ bytes: [UInt8]) -> Bool {
        lock.withLock {
            guard ending == nil, !bytes.isEmpty else { return true }
            chunks.append(bytes)
            buffered += bytes.count
            lock.broadcast()
            if buffered >= highWater { throttled = true }
            return !throttled
        }
    }

    var isThrottled: Bool { lock.withLock { throttled } }

    func finish(_ how: Ending) {
        lock.withLock {
            if ending == nil { ending = how }
            lock.broadcast()
        }
    }

    /// The next chunk, waiting for one; nil at the end (`endedBy` says how).
    func pop() -> [UInt8]? {
        var drained = false
        let chunk: [UInt8]? = lock.withLock {
            while head == chunks.count && ending == nil { lock.wait() }
            guard head < chunks.count else { return nil }
            let chunk = chunks[head]
            head += 1
            if head > 64 && head * 2 > chunks.count {
                chunks.removeFirst(head)
                head = 0
            }
            buffered -= chunk.count
            if throttled && buffered < highWater / 2 {
                throttled = false
                drained = true
            }
            return chunk
        }
        if drained { onDrain() }
        return chunk
    }

    var endedBy: Ending? { lock.withLock { head == chunks.count ? ending : nil } }
}
