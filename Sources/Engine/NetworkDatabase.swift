import ContainerSpec
import FoundationEssentials
import GRDB
import ImageStore
import ContainerNetwork
import OCI

/// One container's connection to one network, as `run --network`, `network connect` recorded it
/// (the addresses themselves are given out at each start and live in the attachment records).
public struct NetworkEndpoint: Sendable, Equatable {
    public var containerID: String
    public var networkID: String
    public var aliases: [String]
    /// `--ip`: the address asked for, if any.
    public var ipv4: String?
    /// Order of connection: the first network is eth0.
    public var position: Int
}

/// The `networks` and `network_endpoints` tables in the engine database. A network's definition is
/// kept whole as JSON (`BridgeNetwork`), so what a container attached with is what it detaches with.
final class NetworkDatabase: Sendable {
    let pool: DatabasePool

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// The networks tables' schema, in the order it grew (StateDatabase applies it).
    static func registerMigrations(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("networks-v1") { db in
            try db.execute(sql: """
                CREATE TABLE networks (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL UNIQUE,
                    definition BLOB NOT NULL
                );
                CREATE TABLE network_endpoints (
                    container_id TEXT NOT NULL,
                    network_id TEXT NOT NULL,
                    aliases TEXT NOT NULL,
                    ip TEXT,
                    position INTEGER NOT NULL,
                    PRIMARY KEY (container_id, network_id)
                );
                CREATE INDEX network_endpoints_by_network ON network_endpoints(network_id);
                """)
        }
    }

    /// Records `network` unless its name is taken; `ifMissing` returns the existing one instead
    /// (how the default network is made on first use by whichever CLI gets there first).
    func insert(_ network: BridgeNetwork, ifMissing: Bool = false) throws(EngineError) -> BridgeNetwork {
        let bytes: [UInt8]
        do { bytes = try JSONTreeEncoder.encode(network) } catch { throw .system("encode network \(network.name)", error) }
        do {
            return try pool.write { db in
                if let row = try Row.fetchOne(db, sql: "SELECT definition FROM networks WHERE name = ?", arguments: [network.name]) {
                    guard ifMissing, let existing = Self.decode(row) else {
                        throw EngineError.conflict("network with name \(network.name) already exists")
                    }
                    return existing
                }
                try db.execute(sql: "INSERT INTO networks (id, name, definition) VALUES (?, ?, ?)",
                               arguments: [network.id, network.name, Data(bytes)])
                return network
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .system("record network \(network.name)", error)
        }
    }

    func all() throws(EngineError) -> [BridgeNetwork] {
        do {
            return try pool.read { db in try Row.fetchAll(db, sql: "SELECT definition FROM networks ORDER BY name").compactMap(Self.decode) }
        } catch {
            throw .system("list networks", error)
        }
    }

    /// Docker's lookup: a name, a full ID, or a unique ID prefix.
    func lookup(_ text: String) throws(EngineError) -> BridgeNetwork? {
        let all = try all()
        if let byName = all.first(where: { $0.name == text }) { return byName }
        if let byID = all.first(where: { $0.id == text }) { return byID }
        let prefixed = all.filter { $0.id.hasPrefix(text) }
        if prefixed.count > 1 { throw .notFound("network \(text) is ambiguous (\(prefixed.count) matches found based on ID prefix)") }
        return prefixed.first
    }

    /// Removes the network's record unless a container is connected to it.
    func remove(_ network: BridgeNetwork) throws(EngineError) {
        do {
            try pool.write { db in
                let users = try Int.fetchOne(db, sql: """
                    SELECT COUNT(*) FROM network_endpoints e JOIN containers c ON c.id = e.container_id WHERE e.network_id = ?
                    """, arguments: [network.id]) ?? 0
                if users > 0 {
                    throw EngineError.forbidden("error while removing network: network \(network.name) id \(network.id) has active endpoints")
                }
                try db.execute(sql: "DELETE FROM network_endpoints WHERE network_id = ?", arguments: [network.id])
                try db.execute(sql: "DELETE FROM networks WHERE id = ?", arguments: [network.id])
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .system("remove network \(network.name)", error)
        }
    }

    func connect(_ endpoint: NetworkEndpoint, networkName: String, containerName: String) throws(EngineError) -> NetworkEndpoint {
        do {
            return try pool.write { db in
                if try Row.fetchOne(db, sql: "SELECT 1 FROM network_endpoints WHERE container_id = ? AND network_id = ?",
                                    arguments: [endpoint.containerID, endpoint.networkID]) != nil {
                    throw EngineError.forbidden("endpoint with name \(containerName) already exists in network \(networkName)")
                }
                var recorded = endpoint
                recorded.position = (try Int.fetchOne(db, sql: "SELECT MAX(position) FROM network_endpoints WHERE container_id = ?",
                                                      arguments: [endpoint.containerID]) ?? -1) + 1
                let aliases = String(decoding: try JSONTreeEncoder.encode(endpoint.aliases), as: UTF8.self)
                try db.execute(sql: "INSERT INTO network_endpoints (container_id, network_id, aliases, ip, position) VALUES (?, ?, ?, ?, ?)",
                               arguments: [endpoint.containerID, endpoint.networkID, aliases, endpoint.ipv4, recorded.position])
                return recorded
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .system("connect \(containerName) to \(networkName)", error)
        }
    }

    func disconnect(containerID: String, networkID: String) throws(EngineError) -> Bool {
        do {
            return try pool.write { db in
                try db.execute(sql: "DELETE FROM network_endpoints WHERE container_id = ? AND network_id = ?", arguments: [containerID, networkID])
                return db.changesCount > 0
            }
        } catch {
            throw .system("disconnect container \(containerID.prefix(12))", error)
        }
    }

    func removeEndpoints(containerID: String) {
        _ = try? pool.write { db in try db.execute(sql: "DELETE FROM network_endpoints WHERE container_id = ?", arguments: [containerID]) }
    }

    func endpoints(containerID: String) throws(EngineError) -> [NetworkEndpoint] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM network_endpoints WHERE container_id = ? ORDER BY position", arguments: [containerID]).map(Self.endpoint)
            }
        } catch {
            throw .system("read the networks of container \(containerID.prefix(12))", error)
        }
    }

    /// The containers connected to a network (records only; whether they run is the caller's question).
    func containerIDs(networkID: String) throws(EngineError) -> [String] {
        do {
            return try pool.read { db in
                try String.fetchAll(db, sql: """
                    SELECT e.container_id FROM network_endpoints e JOIN containers c ON c.id = e.container_id WHERE e.network_id = ? ORDER BY e.container_id
                    """, arguments: [networkID])
            }
        } catch {
            throw .system("read the containers of network \(networkID.prefix(12))", error)
        }
    }

    static func decode(_ row: Row) -> BridgeNetwork? {
        guard let data: Data = row["definition"] else { return nil }
        return try? JSONTreeDecoder.decode(BridgeNetwork.self, from: Array(data))
    }

    static func endpoint(_ row: Row) -> NetworkEndpoint {
        let aliasesText: String = row["aliases"]
        let aliases = (try? JSONTreeDecoder.decode([String].self, from: Array(aliasesText.utf8))) ?? []
        return NetworkEndpoint(containerID: row["container_id"], networkID: row["network_id"], aliases: aliases,
                               ipv4: row["ip"], position: row["position"])
    }
}
