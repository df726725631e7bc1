import Glibc
import LinuxSys
import OCI

/// Unpacked layers, one directory per layer, named by the layer's diffID (the digest of its
/// uncompressed tar): `<root>/snapshots/<hex>`. Each holds a layer as overlayfs reads a lower
/// directory (whiteouts as 0:0 devices, opaque directories marked by xattr), so a container's
/// root is an overlay of its image's snapshots — shared by every image that has the layer.
/// A layer is unpacked under `snapshots/ingest/` and renamed into place whole.
public struct SnapshotStore: Sendable {
    public let root: String

    public init(root: String) throws(ImageStoreError) {
        self.root = root
        do { try FS.mkdirAll("\(root)/ingest", mode: 0o700) } catch { throw .sys(error) }
    }

    public func path(_ diffID: Digest) -> String { "\(root)/\(diffID.hex)" }
    public func has(_ diffID: Digest) -> Bool { FS.exists(path(diffID)) }

    /// A fresh, empty directory to unpack into; `commit` or `abandon` it.
    public func prepare() throws(ImageStoreError) -> String {
        var random = SystemRandomNumberGenerator()
        let path = "\(root)/ingest/\(getpid())-\(String(random.next(), radix: 16))"
        do { try FS.mkdir(path, mode: 0o755) } catch { throw .sys(error) }
        return path
    }

    public func commit(_ prepared: String, as diffID: Digest) throws(ImageStoreError) {
        let target = path(diffID)
        if rename(prepared, target) != 0 {
            let error = SysError("rename", target)
            abandon(prepared)
            // Another pull unpacked the same layer meanwhile: theirs is as good as ours.
            if error.errno == ENOTEMPTY || error.errno == EEXIST { return }
            throw .sys(error)
        }
    }

    public func abandon(_ prepared: String) { FS.removeAll(prepared) }

    public func remove(_ diffID: Digest) {
        // Renamed away first, so a half-deleted snapshot never sits under a trusted name.
        let doomed = "\(root)/ingest/removing-\(diffID.hex)"
        if rename(path(diffID), doomed) == 0 { FS.removeAll(doomed) }
    }

    /// The layer's size as Docker reports it (`docker images` SIZE, inspect's `Size`): the sizes
    /// of what is in the unpacked layer, not of its tar stream — every entry but directories
    /// counted by its lstat size (a symlink by its target's length; whiteouts, devices and fifos
    /// are 0), each inode once (hard links), and not its blocks (a sparse file counts whole).
    /// That is the walk dockerd's overlay2 driver makes over a layer it has just applied.
    public func contentSize(_ diffID: Digest) throws(ImageStoreError) -> Int64 {
        let directory = path(diffID)
        let root: FileDescriptor
        do { root = try FS.openOwned(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) } catch { throw .sys(error) }
        var seen = Set<SecureTree.FileKey>()
        var total: Int64 = 0
        do {
            try SecureTree.walk(contentsOf: root.raw, sorted: false) { entry in
                if entry.kind != .directory, entry.status.st_size > 0, seen.insert(entry.key).inserted {
                    total += Int64(entry.status.st_size)
                }
                return .into
            }
        } catch let failure as SecureTree.Failure {
            throw .sys(failure.sysError("\(directory)/\(failure.path)"))
        } catch {
            throw ImageStoreError("measure layer \(diffID): \(error)")
        }
        return total
    }

    public func all() -> [Digest] {
        ((try? FS.list(path: root)) ?? []).compactMap { try? Digest(algorithm: .sha256, hex: $0) }
    }

    public func removeStaleIngests() {
        for name in (try? FS.list(path: "\(root)/ingest")) ?? [] { FS.removeAll("\(root)/ingest/\(name)") }
    }
}

/// An advisory lock on the store: ingest (pull, load, import) holds it shared, garbage collection
/// exclusive, so content that a running pull has written but not yet recorded is never collected.
public final class StoreLock: Sendable {
    let fd: Int32

    public init(root: String, exclusive: Bool) throws(ImageStoreError) {
        do { fd = try FS.open("\(root)/lock", O_RDWR | O_CREAT, mode: 0o600) } catch { throw .sys(error) }
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            if errno == EINTR { continue }
            let error = SysError("flock", "\(root)/lock")
            _ = close(fd)
            throw .sys(error)
        }
    }

    deinit { _ = close(fd) }
}
