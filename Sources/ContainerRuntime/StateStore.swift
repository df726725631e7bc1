import Glibc
import LinuxSys
import OCI

/// The runtime's state directory (`--root`, default /run/berth-runtime): one directory per
/// container holding state.json, the exec fifo and a lock.
///
/// Commands on one container are serialized with flock(2) on its directory. Writes are atomic
/// (temporary file + rename), so a kill -9 at any point leaves either the old record or the new.
public struct StateStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    func directory(_ id: String) -> String { root + "/" + id }
    func recordPath(_ id: String) -> String { directory(id) + "/state.json" }
    func fifoPath(_ id: String) -> String { directory(id) + "/exec.fifo" }
    func configPath(_ id: String) -> String { directory(id) + "/config.json" }

    /// Container ids become directory names, so they are restricted as runc restricts them.
    static func validate(id: String) throws(RuntimeError) {
        guard !id.isEmpty else { throw RuntimeError("container id cannot be empty") }
        let allowed = id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == 0x5f || byte == 0x2b || byte == 0x2d || byte == 0x2e
        }
        guard allowed, id != ".", id != "..", id.utf8.count <= 1024 else {
            throw RuntimeError("invalid id format: \(id)")
        }
    }

    /// Creates the container's directory; fails if the id is taken. Returns a locked fd of it.
    func claim(_ id: String) throws(RuntimeError) -> Int32 {
        try StateStore.validate(id: id)
        do {
            try FS.mkdirAll(root, mode: 0o700)
        } catch {
            throw error.context("create state directory")
        }
        if Glibc.mkdir(directory(id), 0o711) != 0 {
            if errno == EEXIST { throw RuntimeError("container with id exists: \(id)") }
            throw SysError("mkdir", directory(id)).context("create container state")
        }
        return try lock(id)
    }

    /// Takes the container's lock; blocks while another command holds it.
    func lock(_ id: String) throws(RuntimeError) -> Int32 {
        try StateStore.validate(id: id)
        let fd = berth_open_dir(directory(id))
        if fd < 0 {
            if errno == ENOENT { throw RuntimeError.notExist(id) }
            throw SysError("open", directory(id)).context("lock container")
        }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR {
                let error = SysError("flock", directory(id))
                FS.close(fd)
                throw error.context("lock container")
            }
        }
        return fd
    }

    func load(_ id: String) throws(RuntimeError) -> ContainerRecord {
        let bytes: [UInt8]
        do {
            bytes = try FS.readFile(recordPath(id))
        } catch {
            if error.errno == ENOENT {
                if FS.exists(directory(id)) {
                    throw RuntimeError("container \(id) was not fully created (its creator was interrupted); delete it")
                }
                throw RuntimeError.notExist(id)
            }
            throw error.context("read container state")
        }
        do {
            return try decodeJSON(ContainerRecord.self, bytes)
        } catch {
            throw RuntimeError("state of container \(id) is unreadable (\(recordPath(id))): \(error)")
        }
    }

    func save(_ record: ContainerRecord) throws(RuntimeError) {
        do {
            try FS.writeFileAtomically(recordPath(record.id), encodeCompact(record))
        } catch {
            throw error.context("write container state")
        }
    }

    /// The config.json the container was created from, kept for exec, update and events.
    func saveConfig(_ id: String, _ bytes: [UInt8]) throws(RuntimeError) {
        do {
            try FS.writeFileAtomically(configPath(id), bytes)
        } catch {
            throw error.context("save container config")
        }
    }

    func loadConfig(_ id: String) throws(RuntimeError) -> Spec {
        let bytes: [UInt8]
        do { bytes = try FS.readFile(configPath(id)) } catch { throw error.context("read container config") }
        do {
            return try Spec.decode(bytes)
        } catch {
            throw RuntimeError("config of container \(id) is unreadable (\(configPath(id))): \(error)")
        }
    }

    func remove(_ id: String) {
        FS.removeAll(directory(id))
    }

    func ids() -> [String] {
        ((try? FS.list(path: root)) ?? []).filter { name in
            (try? StateStore.validate(id: name)) != nil && (try? FS.lstat(directory(name))).map(FS.isDirectory) == true
        }.sorted()
    }
}

private func berth_open_dir(_ path: String) -> Int32 {
    Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
}
