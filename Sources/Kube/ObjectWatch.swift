import ContainerSpec
import FoundationEssentials
import GRDB
import LinuxSys
import Synchronization

/// One change, as a watch delivers it.
public struct ObjectEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case added = "ADDED", modified = "MODIFIED", deleted = "DELETED"
    }

    public let kind: Kind
    /// The object after the change (before it, for a deletion), its resourceVersion the change's revision.
    public let object: StoredObject
}

extension ObjectStore {
    /// The changes to a resource's objects (in one namespace, or all) after `revision`, in order;
    /// once they are read, `next` blocks for new ones. A `revision` the compacted log no longer
    /// covers is `expired` (here or, for a watch that falls that far behind, from `next`).
    public func watch(_ resource: Resource, namespace: String? = nil, from revision: UInt64) throws(EngineError) -> ObjectWatch {
        let compacted = try read("watch \(resource)") { db in try Self.revisionRow(db).compacted }
        if revision < compacted {
            throw .expired("watch \(resource) from resourceVersion \(revision): too old, the change log starts after \(compacted)")
        }
        return ObjectWatch(store: self, resource: resource, namespace: namespace, from: revision)
    }

    /// Up to `limit` changes after `cursor`, and the revision the read reached: the newest
    /// revision when fewer came back (nothing between is this watch's), else the last change's.
    func changes(_ resource: Resource, namespace: String?, after cursor: UInt64, limit: Int) throws(EngineError) -> ([ObjectEvent], UInt64) {
        try read("watch \(resource)") { db -> ([ObjectEvent], UInt64) in
            let (revision, compacted) = try Self.revisionRow(db)
            if cursor < compacted {
                throw EngineError.expired("watch \(resource) from resourceVersion \(cursor): too old, the change log starts after \(compacted)")
            }
            var sql = "SELECT revision, type, namespace, name, object FROM kube_changes WHERE resource = ? AND revision > ?"
            var arguments: StatementArguments = [resource.description, Int64(cursor)]
            if let namespace {
                sql += " AND namespace = ?"
                arguments += [namespace]
            }
            let rows = try Row.fetchAll(db, sql: sql + " ORDER BY revision LIMIT ?", arguments: arguments + [limit])
            let events = try rows.map { row in
                guard let kind = ObjectEvent.Kind(rawValue: row["type"]) else {
                    throw EngineError.system("watch \(resource): change \(row["revision"] as Int64) has an unknown type")
                }
                let key = ObjectKey(resource, namespace: row["namespace"], name: row["name"])
                return ObjectEvent(kind: kind, object: StoredObject(key: key, resourceVersion: UInt64(row["revision"] as Int64), json: [UInt8](row["object"] as Data)))
            }
            return (events, rows.count < limit ? revision : events.last?.object.resourceVersion ?? cursor)
        }
    }
}

/// A watch's cursor in the change log. One thread reads it (`next`); any thread may `stop` it.
public final class ObjectWatch: Sendable {
    let store: ObjectStore
    public let resource: Resource
    public let namespace: String?
    private struct State {
        /// Every change up to here was read into `pending` or delivered.
        var readThrough: UInt64
        var pending: [ObjectEvent] = []
        var stopped = false
    }
    private let state: Mutex<State>
    /// Changes read from the log at a time.
    static let batch = 256

    init(store: ObjectStore, resource: Resource, namespace: String?, from revision: UInt64) {
        self.store = store
        self.resource = resource
        self.namespace = namespace
        state = Mutex(State(readThrough: revision))
    }

    /// The revision this watch has delivered everything up to: a bookmark's resourceVersion, and
    /// where a new watch resumes.
    public var resourceVersion: UInt64 {
        state.withLock { $0.pending.first.map { $0.object.resourceVersion - 1 } ?? $0.readThrough }
    }

    public var isStopped: Bool { state.withLock { $0.stopped } }

    /// The next change; nil when `timeoutSeconds` passed without one (send a bookmark, call again)
    /// or the watch was stopped.
    public func next(timeoutSeconds: Double? = nil) throws(EngineError) -> ObjectEvent? {
        let deadline = timeoutSeconds.map { MonotonicClock.seconds() + $0 }
        while true {
            let (event, readThrough, stopped) = state.withLock { state -> (ObjectEvent?, UInt64, Bool) in
                if state.stopped { return (nil, state.readThrough, true) }
                return (state.pending.isEmpty ? nil : state.pending.removeFirst(), state.readThrough, false)
            }
            if stopped { return nil }
            if let event { return event }
            let (events, reached) = try store.changes(resource, namespace: namespace, after: readThrough, limit: Self.batch)
            state.withLock { state in
                state.pending = events
                state.readThrough = reached
            }
            if !events.isEmpty { continue }
            var wait = store.options.pollSeconds
            if let deadline {
                let left = deadline - MonotonicClock.seconds()
                if left <= 0 { return nil }
                wait = min(wait, left)
            }
            store.signal.wait(after: reached, seconds: wait) { isStopped }
        }
    }

    /// Ends the watch: a blocked `next` returns nil at once, and every later one too.
    public func stop() {
        state.withLock { $0.stopped = true }
        store.signal.poke()
    }
}
