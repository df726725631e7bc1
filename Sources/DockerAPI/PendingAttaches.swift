import LinuxSys
import Synchronization

/// Clients attached to a container that is not running yet (`docker run` attaches before it
/// starts). The start hands the first of them the supervisor's first connection.
final class PendingAttaches: Sendable {
    private let waiting = Mutex<[String: [PendingAttach]]>([:])

    func add(_ attach: PendingAttach, for id: String) {
        waiting.withLock { $0[id, default: []].append(attach) }
    }

    func remove(_ attach: PendingAttach, for id: String) {
        waiting.withLock { $0[id]?.removeAll { $0 === attach } }
    }

    /// The oldest client waiting for `id`'s start, taken off the list.
    func take(_ id: String) -> PendingAttach? {
        waiting.withLock { entries in
            guard var list = entries[id], !list.isEmpty else { return nil }
            let first = list.removeFirst()
            entries[id] = list.isEmpty ? nil : list
            return first
        }
    }
}

/// One waiting client: blocks until the start delivers a connection (or fails).
final class PendingAttach: @unchecked Sendable {
    enum Outcome { case connected(Int32), failed }
    private let lock = ConditionLock()
    private var outcome: Outcome?

    func deliver(_ outcome: Outcome) {
        lock.withLock {
            self.outcome = outcome
            lock.broadcast()
        }
    }

    /// Waits up to `seconds`; nil when nothing came.
    func wait(seconds: Double) -> Outcome? {
        lock.withLock {
            if outcome == nil { lock.wait(timeoutSeconds: seconds) }
            return outcome
        }
    }
}

/// The exit codes attaches received, by container ID: a `--rm` container's state goes with it,
/// and its waiter still has to report how it ended. Bounded: the oldest are forgotten.
final class ExitCodes: Sendable {
    private let codes = Mutex<(byID: [String: Int32], order: [String])>(([:], []))

    func record(_ id: String, _ code: Int32) {
        codes.withLock { state in
            if state.byID.updateValue(code, forKey: id) == nil { state.order.append(id) }
            if state.order.count > 1024 { state.byID[state.order.removeFirst()] = nil }
        }
    }

    func code(_ id: String) -> Int32? { codes.withLock { $0.byID[id] } }
}
