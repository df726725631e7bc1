import ContainerSpec
import GRDB

/// The change log keeps its newest changes only (etcd compacts the same way): a watch that asks
/// for changes before them is `expired`, and the client lists again.
extension ObjectStore {
    /// Compacts the log now (writes do it every `options.compactEvery` revisions). Returns the
    /// revision the log now starts after.
    @discardableResult
    public func compact() throws(EngineError) -> UInt64 {
        try write("compact the Kubernetes store's change log") { db -> (UInt64, UInt64?) in
            (try self.compact(db), nil)
        }
    }

    /// Drops the changes beyond the newest `keepChanges` and those older than `keepSeconds`; the
    /// log stays one run of revisions, so "every change after `compacted`" stays true.
    func compact(_ db: Database) throws -> UInt64 {
        let (revision, compacted) = try Self.revisionRow(db)
        let byCount = Int64(revision) - Int64(options.keepChanges)
        let byAge = try Int64.fetchOne(db, sql: "SELECT MAX(revision) FROM kube_changes WHERE at < ?",
                                       arguments: [SystemFields.now() - options.keepSeconds]) ?? 0
        let through = max(byCount, byAge)
        guard through > Int64(compacted) else { return compacted }
        try db.execute(sql: "DELETE FROM kube_changes WHERE revision <= ?", arguments: [through])
        try db.execute(sql: "UPDATE kube_revision SET compacted = ? WHERE id = 1", arguments: [through])
        return UInt64(through)
    }
}
