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
/// and its waiter still has to report how it ended. Bounded: the oldest are forgotten. Waiters
/// (`wait`) sleep on it and wake when an exit or a removal passes through this server, instead of
/// noticing at their next poll.
final class ExitCodes: @unchecked Sendable {
    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var byID: [String: Int32] = [:]
    private var order: [String] = []
    private var changes: UInt64 = 0

    func record(_ id: String, _ code: Int32) {
        lock.withLock {
            if byID.updateValue(code, forKey: id) == nil { order.append(id) }
            if order.count > 1024 { byID[order.removeFirst()] = nil }
            changes += 1
            lock.broadcast()
        }
    }

    /// A container was removed through this server.
    func noteRemoval() {
        lock.withLock {
            changes += 1
            lock.broadcast()
        }
    }

    func code(_ id: String) -> Int32? { lock.withLock { byID[id] } }

    /// A count of the exits and removals seen so far, for `sleep(after:)`.
    var seen: UInt64 { lock.withLock { changes } }

    /// Sleeps up to `seconds`, less when an exit or removal comes after `seen`.
    func sleep(after seen: UInt64, seconds: Double) {
        lock.withLock {
            if changes == seen { lock.wait(timeoutSeconds: seconds) }
        }
    }
}
