import ContainerSpec
import Foundation
import GoCompat
import Kube
import LinuxSys
import Synchronization
import Testing

/// Several threads writing at once: every change gets its own revision, in commit order, and no
/// update is lost, whether it is guaranteed or optimistic with retries.
struct ConcurrencyTests {
    static let threads = 4
    static let rounds = 25

    /// Runs `body(thread)` on `threads` threads at once and waits for them all.
    static func together(_ body: @escaping @Sendable (Int) throws -> Void) -> [String] {
        let failures = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        for thread in 0..<threads {
            Threads.detach {
                do { try body(thread) } catch { failures.withLock { $0.append("thread \(thread): \(error)") } }
                done.signal()
            }
        }
        for _ in 0..<threads { done.wait() }
        return failures.withLock { $0 }
    }

    static func count(_ object: JSONValue) -> Int {
        Int(object[member: "data"]?[member: "n"]?.stringValue ?? "") ?? -1
    }

    static func counting(_ object: JSONValue, _ n: Int) -> JSONValue {
        object.setting("data", to: .object(["n": .string(String(n))], keys: ["n"]))
    }

    @Test func concurrentWritersLoseNothing() throws {
        let temporary = try TemporaryStore()
        let store = temporary.store
        let guaranteed = try store.create(configMaps, Self.counting(object("guaranteed", namespace: "default"), 0)).key
        let optimistic = try store.create(configMaps, Self.counting(object("optimistic", namespace: "default"), 0)).key
        let start = try store.currentRevision()
        let versions = Mutex<[Int: [UInt64]]>([:])
        let conflicts = Atomic<Int>(0)

        let failures = Self.together { thread in
            var mine: [UInt64] = []
            for round in 0..<Self.rounds {
                mine.append(try store.create(pods, object("t\(thread)-\(round)", namespace: "default")).resourceVersion)
                mine.append(try store.guaranteedUpdate(guaranteed) { value throws(EngineError) in
                    Self.counting(value, Self.count(value) + 1)
                }.resourceVersion)
                // Read, change, write back with the read version; on a conflict read again.
                while true {
                    let current = try store.get(optimistic).value()
                    do {
                        mine.append(try store.update(configMaps, Self.counting(current, Self.count(current) + 1)).resourceVersion)
                        break
                    } catch let error as EngineError where error.kind == .conflict {
                        conflicts.add(1, ordering: .relaxed)
                    }
                }
            }
            versions.withLock { $0[thread] = mine }
        }
        #expect(failures.isEmpty, "\(failures)")

        let writes = Self.threads * Self.rounds * 3
        #expect(Self.count(try store.get(guaranteed).value()) == Self.threads * Self.rounds)
        #expect(Self.count(try store.get(optimistic).value()) == Self.threads * Self.rounds)
        let all = versions.withLock { $0 }
        for (thread, mine) in all {
            #expect(zip(mine, mine.dropFirst()).allSatisfy { $0 < $1 }, "thread \(thread)'s versions go back: \(mine)")
        }
        // Every write took its own revision, and together they are the next `writes` revisions.
        #expect(all.values.flatMap { $0 }.sorted() == Array(start + 1...start + UInt64(writes)))
        #expect(try store.currentRevision() == start + UInt64(writes))
        #expect(try store.list(pods).items.count == Self.threads * Self.rounds)
        // The log holds them in revision order.
        let watch = try store.watch(configMaps, from: start)
        var last = start
        var events = 0
        while let event = try watch.next(timeoutSeconds: 0.1) {
            #expect(event.object.resourceVersion > last)
            last = event.object.resourceVersion
            events += 1
        }
        #expect(events == 2 * Self.threads * Self.rounds)
        print("ConcurrencyTests: \(conflicts.load(ordering: .relaxed)) optimistic conflicts retried")
    }

    /// Writers in one process share the store's single writer: watches on other threads see every
    /// change exactly once while the writes go on.
    @Test func watchersSeeEveryChangeWhileWritersWrite() throws {
        let temporary = try TemporaryStore()
        let store = temporary.store
        let start = try store.currentRevision()
        let watch = try store.watch(pods, from: start)
        let seen = Mutex<[UInt64]>([])
        let watching = DispatchSemaphore(value: 0)
        let total = Self.threads * Self.rounds
        Threads.detach {
            while seen.withLock({ $0.count }) < total, let event = try? watch.next(timeoutSeconds: 20) {
                seen.withLock { $0.append(event.object.resourceVersion) }
            }
            watching.signal()
        }
        let failures = Self.together { thread in
            for round in 0..<Self.rounds { try store.create(pods, object("w\(thread)-\(round)", namespace: "default")) }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(watching.wait(timeout: .now() + 30) == .success)
        #expect(seen.withLock { $0 } == Array(start + 1...start + UInt64(total)))
    }
}
