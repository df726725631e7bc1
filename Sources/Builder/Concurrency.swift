import Glibc
import Synchronization

/// Runs each body on a thread of its own and returns when all have ended. Plain threads, not
/// Swift concurrency: a stage's steps block on their containers for seconds at a time.
func runConcurrently(_ bodies: [() -> Void]) {
    final class Box: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
    var threads: [pthread_t] = []
    for body in bodies {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, box)
        if created == 0 {
            threads.append(thread)
        } else {
            // No thread to be had: run it here.
            Unmanaged<Box>.fromOpaque(box).takeRetainedValue().body()
        }
    }
    for thread in threads { pthread_join(thread, nil) }
}

/// What each stage of a wave ended with.
final class StageOutcomes: @unchecked Sendable {
    private let mutex = Mutex(())
    private var outcomes: [Int: Result<Builder.StageResult, any Error>] = [:]
    func set(_ index: Int, _ outcome: Result<Builder.StageResult, any Error>) { mutex.withLock { _ in outcomes[index] = outcome } }
    func get(_ index: Int) -> Result<Builder.StageResult, any Error>? {
        mutex.withLock { _ in outcomes[index] }
    }
}
