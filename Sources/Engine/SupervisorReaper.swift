import Glibc
import LinuxSys
import Synchronization

/// The supervisors a process starts are its children. A CLI exits soon and leaves them to init,
/// but `berth serve` lives on: each supervisor that ends (its container ended, or went) would stay
/// a zombie, holding a pid, for as long as the server runs. The reaper waits for exactly the
/// supervisors it was told of, without blocking — never `waitpid(-1)`, which would take the exit
/// status of a runtime, plugin or iptables call that another thread is waiting for.
public final class SupervisorReaper: Sendable {
    public static let shared = SupervisorReaper()
    private let pids = Mutex<Set<pid_t>>([])

    func track(_ pid: pid_t) {
        pids.withLock { _ = $0.insert(pid) }
    }

    /// Reaped by someone else (a failed start waits for its supervisor itself): its pid may be
    /// given to another child of ours later, whose status is not ours to take.
    func forget(_ pid: pid_t) {
        pids.withLock { _ = $0.remove(pid) }
    }

    /// Reaps every tracked supervisor that has ended. Returns how many.
    @discardableResult
    public func sweep() -> Int {
        let tracked = pids.withLock { $0 }
        var gone: [pid_t] = []
        for pid in tracked {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            // Reaped now, or already by a failed start's own wait (not our child any more).
            if result == pid || (result < 0 && errno == ECHILD) { gone.append(pid) }
        }
        if !gone.isEmpty { pids.withLock { $0.subtract(gone) } }
        return gone.count
    }

    /// Sweeps every `seconds` on a thread of its own, for the life of the process.
    public func start(every seconds: UInt32) {
        Threads.detach { [self] in
            while true {
                sleep(seconds)
                sweep()
            }
        }
    }
}
