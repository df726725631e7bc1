import Glibc
import LinuxSys

/// Where removed containers' directories go: `<root>/trash/`. A rename into it is the removal
/// (one atomic step; nothing reads the trash), and the deletion of its files, thousands of unlinks
/// for a container that wrote much, comes after. In the CLI that is at once, before the command
/// returns; `berth serve` deletes on a thread of its own, so `docker run --rm` does not wait for
/// it. What a kill -9 leaves in the trash is deleted the next time a server starts, or by
/// `system boot`.
final class Trash: Sendable {
    let directory: String
    private let queue = ConditionLock()
    // Guarded by `queue`: the paths waiting, and whether a worker deletes them.
    nonisolated(unsafe) private var waiting: [String] = []
    nonisolated(unsafe) private var worker = false

    init(directory: String) {
        self.directory = directory
    }

    /// Moves `path` (a directory on the trash's filesystem) into the trash and deletes it, now or
    /// on the worker. When it cannot be moved (another filesystem), it is deleted where it is.
    func discard(_ path: String) {
        guard FS.exists(path) else { return }
        let name = (path.split(separator: "/").last.map(String.init) ?? "x") + "." + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let target = directory + "/" + name
        _ = try? FS.mkdirAll(directory, mode: 0o700)
        guard rename(path, target) == 0 else {
            FS.removeAll(path)
            return
        }
        let later = queue.withLock { () -> Bool in
            guard worker else { return false }
            waiting.append(target)
            queue.broadcast()
            return true
        }
        if !later { FS.removeAll(target) }
    }

    /// From now on deletions happen on a thread of this process; what earlier runs left in the
    /// trash is queued first.
    func deleteInBackground() {
        let leftovers = ((try? FS.list(path: directory)) ?? []).map { directory + "/" + $0 }
        let start = queue.withLock { () -> Bool in
            waiting.append(contentsOf: leftovers)
            defer { worker = true }
            return !worker
        }
        guard start else { return }
        Threads.detach { [self] in
            while true {
                let next = queue.withLock { () -> String in
                    while waiting.isEmpty { queue.wait() }
                    return waiting.removeFirst()
                }
                FS.removeAll(next)
            }
        }
    }

    /// Deletes what is in the trash now (what a kill -9 left), on this thread.
    func empty() {
        for name in (try? FS.list(path: directory)) ?? [] { FS.removeAll(directory + "/" + name) }
    }
}

extension Engine {
    /// `berth serve`: removed containers' files are deleted on a thread of the server, off the
    /// path of the request that removed them.
    public func deleteRemovedFilesInBackground() { trash.deleteInBackground() }

    /// Deletes what removed containers left in the trash (a server killed while deleting).
    public func emptyTrash() { trash.empty() }
}
