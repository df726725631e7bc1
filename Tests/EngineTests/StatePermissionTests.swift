import Foundation
import TestSupport
import Testing

/// A local user against the engine's state: container records hold every `-e` value, so the
/// database (and its WAL and SHM) must be unreadable to anyone but root, also where an older
/// Berth left it world-readable.
@Suite(.enabled(if: EngineEnv.ready && EngineEnv.executable("/usr/bin/setpriv")), .serialized)
struct StatePermissionTests {
    /// `cat PATH` as the unprivileged user nobody; its status.
    static func readAsNobody(_ path: String) throws -> Int32 {
        try sh(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/cat", path]).status
    }

    @Test func aLocalUserCannotReadContainerSecrets() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        // The engine root is 0711: a user can reach files inside it by name.
        #expect(chmod(berth.base, 0o755) == 0)
        _ = try berth.call("create", "--name", "holder", "-e", "API_TOKEN=s3cr3t-token", "busybox:test", "true")
        let database = berth.root + "/berth.db"
        let bytes = try #require(FileManager.default.contents(atPath: database))
        #expect(bytes.count > 0)
        for path in [database, database + "-wal", database + "-shm"] where FileManager.default.fileExists(atPath: path) {
            #expect(try Self.readAsNobody(path) != 0, "\(path) is readable by nobody")
        }
        // A database an older Berth made world-readable is narrowed on the next command.
        for path in [database, database + "-wal", database + "-shm"] { _ = chmod(path, 0o644) }
        _ = try berth.call("ps", "-a")
        for path in [database, database + "-wal", database + "-shm"] where FileManager.default.fileExists(atPath: path) {
            #expect(try Self.readAsNobody(path) != 0, "\(path) stayed readable by nobody")
        }
    }
}
