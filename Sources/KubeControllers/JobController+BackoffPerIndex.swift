import GoCompat
import Kube

/// `backoffLimitPerIndex` (Indexed Jobs): each index has its own budget of failures; an index past
/// it (or failed by a FailIndex rule) is given up and listed in `status.failedIndexes`, the others go
/// on, each retry waiting its own index's backoff. The Job fails once every index has succeeded or
/// failed with some failed (FailedIndexes), or at once past `maxFailedIndexes`.
extension JobController {
    struct PerIndex {
        var failures: [Int: Int] = [:]
        var lastFailure: [Int: Int64] = [:]
        var failedIndexes: Set<Int>

        init(_ failed: [JSONValue], limit: Int, failIndex: Set<Int>, before: String?) {
            for pod in failed {
                guard let index = JobController.index(of: pod) else { continue }
                failures[index, default: 0] += 1
                if let end = JobController.finishedAt(pod) { lastFailure[index] = max(lastFailure[index] ?? 0, end) }
            }
            // Given up stays given up, though its Pods be deleted.
            failedIndexes = failIndex.union(failures.filter { $0.value > limit }.keys).union(before.map(JobController.indexes) ?? [])
        }
    }
}
