import ContainerSpec
import Foundation
import GoCompat
@testable import Kube
import LinuxSys
import Testing

/// Watches read the change log from a revision on, then block for new changes; a revision the
/// compacted log no longer holds is `expired`.
struct WatchTests {
    @Test func aWatchReplaysTheChangesAfterItsVersionInOrder() throws {
        let temporary = try TemporaryStore()
        let store = temporary.store
        let first = try store.create(pods, object("a", namespace: "default"))
        let start = first.resourceVersion
        try store.create(pods, object("b", namespace: "default"))
        try store.create(configMaps, object("other-resource", namespace: "default"))
        try store.create(pods, object("c", namespace: "kube-system"))
        try store.update(pods, object("a", namespace: "default", labels: ["x": "1"]))
        try store.delete(ObjectKey(pods, namespace: "default", name: "b"))

        let watch = try store.watch(pods, from: start)
        var seen: [String] = []
        while let event = try watch.next(timeoutSeconds: 0.2) {
            seen.append("\(event.kind.rawValue) \(event.object.key.namespace)/\(event.object.key.name) \(event.object.resourceVersion)")
            #expect(try event.object.metadata("resourceVersion") == .string(String(event.object.resourceVersion)))
        }
        #expect(seen == ["ADDED default/b 3", "ADDED kube-system/c 5", "MODIFIED default/a 6", "DELETED default/b 7"])
        #expect(watch.resourceVersion == 7)

        let inDefault = try store.watch(pods, namespace: "default", from: 0)
        var names: [String] = []
        while let event = try inDefault.next(timeoutSeconds: 0.2) { names.append("\(event.kind.rawValue) \(event.object.key.name)") }
        #expect(names == ["ADDED a", "ADDED b", "MODIFIED a", "DELETED b"])
    }

    /// The watch is blocked in `next` when another thread writes: it wakes at once, not at its poll.
    @Test func aBlockedWatchWakesForAnotherThreadsWrite() throws {
        let temporary = try TemporaryStore(ObjectStore.Options(pollSeconds: 30))
        let store = temporary.store
        let watch = try store.watch(configMaps, namespace: "default", from: try store.currentRevision())
        let writer = DispatchSemaphore(value: 0)
        Threads.detach {
            // Writes once the watch is asleep (only its broadcast, not its poll, can wake it then).
            while store.signal.sleeping == 0 { usleep(1_000) }
            usleep(300_000)
            _ = try? store.create(pods, object("not-watched", namespace: "default"))
            _ = try? store.create(configMaps, object("late", namespace: "default"))
            writer.signal()
        }
        let started = Date()
        let event = try watch.next(timeoutSeconds: 20)
        let waited = Date().timeIntervalSince(started)
        writer.wait()
        #expect(event?.kind == .added)
        #expect(event?.object.key.name == "late")
        #expect(waited >= 0.25 && waited < 5, "waited \(waited) s")
    }

    @Test func stopEndsABlockedWatch() throws {
        let temporary = try TemporaryStore(ObjectStore.Options(pollSeconds: 30))
        let watch = try temporary.store.watch(pods, from: 1)
        Threads.detach {
            usleep(200_000)
            watch.stop()
        }
        let started = Date()
        #expect(try watch.next() == nil)
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(watch.isStopped)
        #expect(try watch.next() == nil)
    }

    @Test func aTimeoutReturnsNilAndTheWatchGoesOn() throws {
        let temporary = try TemporaryStore()
        let watch = try temporary.store.watch(pods, from: 1)
        let started = Date()
        #expect(try watch.next(timeoutSeconds: 0.3) == nil)
        #expect(Date().timeIntervalSince(started) >= 0.25)
        try temporary.store.create(pods, object("after", namespace: "default"))
        #expect(try watch.next(timeoutSeconds: 5)?.object.key.name == "after")
    }

    /// Another process's write (a second store on the same file stands in for one) reaches the
    /// watch by its poll.
    @Test func aWriteFromAnotherStoreIsSeenByThePoll() throws {
        let temporary = try TemporaryStore(ObjectStore.Options(pollSeconds: 0.2))
        let other = try ObjectStore.open(root: temporary.root)
        let watch = try temporary.store.watch(pods, from: 1)
        try other.create(pods, object("elsewhere", namespace: "default"))
        #expect(try watch.next(timeoutSeconds: 5)?.object.key.name == "elsewhere")
    }

    @Test func aVersionBeforeTheCompactedLogIsExpired() throws {
        let temporary = try TemporaryStore(ObjectStore.Options(keepChanges: 3, compactEvery: 1_000_000))
        let store = temporary.store
        for index in 0..<2 { try store.create(pods, object("p\(index)", namespace: "default")) }
        // A watch that has read the log through revision 3 and then falls behind.
        let lagging = try store.watch(pods, from: 2)
        #expect(try lagging.next()?.object.key.name == "p1")
        for index in 2..<10 { try store.create(pods, object("p\(index)", namespace: "default")) }
        #expect(try store.compact() == 8, "revisions 2…11 written, the last three kept")
        // From the compacted start on, the log is whole.
        let fromStart = try store.watch(pods, from: 8)
        var names: [String] = []
        while let event = try fromStart.next(timeoutSeconds: 0.1) { names.append(event.object.key.name) }
        #expect(names == ["p7", "p8", "p9"])
        // Older than that is expired: for a new watch, and for the one that fell behind when it reads on.
        let error = #expect(throws: EngineError.self) { _ = try store.watch(pods, from: 7) }
        #expect(error?.kind == .expired)
        var lagError: EngineError?
        do {
            while try lagging.next(timeoutSeconds: 0.1) != nil {}
        } catch {
            lagError = error
        }
        #expect(lagError?.kind == .expired)
        // The objects themselves are all there.
        #expect(try store.list(pods).items.count == 10)
    }

    @Test func writesCompactTheLogByThemselves() throws {
        let temporary = try TemporaryStore(ObjectStore.Options(keepChanges: 5, compactEvery: 4))
        let store = temporary.store
        for index in 0..<20 { try store.create(configMaps, object("c\(index)", namespace: "default")) }
        // Revision 20 compacted through 15; 21 did not compact.
        #expect(errorKind { _ = try store.watch(configMaps, from: 14) } == .expired)
        #expect(errorKind { _ = try store.watch(configMaps, from: 15) } == nil)
    }

    @Test func oldChangesAreCompactedByAge() throws {
        let temporary = try TemporaryStore(ObjectStore.Options(keepChanges: 1_000, keepSeconds: 0.3, compactEvery: 1_000_000))
        let store = temporary.store
        try store.create(pods, object("old", namespace: "default"))
        usleep(500_000)
        try store.create(pods, object("new", namespace: "default"))
        #expect(try store.compact() == 2)
        #expect(errorKind { _ = try store.watch(pods, from: 1) } == .expired)
        #expect(try store.watch(pods, from: 2).next(timeoutSeconds: 0.1)?.object.key.name == "new")
    }
}
