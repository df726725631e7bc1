import struct Crypto.SHA256
import struct Crypto.SHA512
import Glibc
import LinuxSys
import OCI

/// Blobs by digest: `<root>/blobs/<algorithm>/<hex>`. Content is hashed while it is written to a
/// temporary file under `blobs/ingest/`, and renamed into place only when its digest and size are
/// the expected ones, so a blob that exists is always whole and correct — even after a kill -9.
public struct ContentStore: Sendable {
    public let root: String

    public init(root: String) throws(ImageStoreError) {
        self.root = root
        do {
            for algorithm in Digest.Algorithm.allCases { try FS.mkdirAll("\(root)/\(algorithm.rawValue)", mode: 0o700) }
            try FS.mkdirAll("\(root)/ingest", mode: 0o700)
        } catch { throw .sys(error) }
    }

    public func path(_ digest: Digest) -> String { "\(root)/\(digest.algorithm.rawValue)/\(digest.hex)" }

    public func has(_ digest: Digest) -> Bool { FS.exists(path(digest)) }

    public func size(_ digest: Digest) -> Int64? {
        guard let st = try? FS.stat(path(digest)) else { return nil }
        return Int64(st.st_size)
    }

    /// A small blob (manifest, index, config) read whole.
    public func read(_ digest: Digest) throws(ImageStoreError) -> [UInt8] {
        do { return try FS.readFile(path(digest)) } catch {
            throw ImageStoreError(error.errno == ENOENT ? "blob \(digest) is not in the store" : error.description)
        }
    }

    /// Stores bytes already in memory, returning their sha256 digest.
    @discardableResult
    public func put(_ bytes: [UInt8]) throws(ImageStoreError) -> Digest {
        let writer = try BlobWriter(store: self, algorithm: .sha256)
        do throws(ImageStoreError) {
            let written = bytes.withUnsafeBytes { buffer in Result { () throws(ImageStoreError) in try writer.write(buffer) } }
            try written.get()
            return try writer.commit()
        } catch {
            writer.abandon()
            throw error
        }
    }

    public func remove(_ digest: Digest) {
        _ = unlink(path(digest))
    }

    /// Every stored digest (for garbage collection).
    public func all() -> [Digest] {
        var out: [Digest] = []
        for algorithm in Digest.Algorithm.allCases {
            for name in (try? FS.list(path: "\(root)/\(algorithm.rawValue)")) ?? [] {
                if let digest = try? Digest(algorithm: algorithm, hex: name) { out.append(digest) }
            }
        }
        return out
    }

    /// Removes ingest files that no writer owns any more (left by a killed process).
    /// Callers hold the store's exclusive lock, so no writer is running.
    public func removeStaleIngests() {
        for name in (try? FS.list(path: "\(root)/ingest")) ?? [] { _ = unlink("\(root)/ingest/\(name)") }
    }
}

/// Streams one blob into the store: bytes are hashed and written as they come, and `commit`
/// verifies digest and size before the rename that makes the blob visible.
public final class BlobWriter {
    let store: ContentStore
    let algorithm: Digest.Algorithm
    let temporaryPath: String
    private var fd: Int32
    private var sha256 = SHA256()
    private var sha512 = SHA512()
    public private(set) var written: Int64 = 0

    public init(store: ContentStore, algorithm: Digest.Algorithm) throws(ImageStoreError) {
        self.store = store
        self.algorithm = algorithm
        var random = SystemRandomNumberGenerator()
        temporaryPath = "\(store.root)/ingest/\(getpid())-\(String(random.next(), radix: 16))"
        do { fd = try FS.open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644) } catch { throw .sys(error) }
    }

    deinit { if fd >= 0 { abandon() } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(ImageStoreError) {
        switch algorithm {
        case .sha256: sha256.update(bufferPointer: bytes)
        case .sha512: sha512.update(bufferPointer: bytes)
        }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw .sys(SysError("write", temporaryPath))
            }
            offset += n
        }
        written += Int64(bytes.count)
    }

    /// The digest of what was written so far (the blob's digest once everything is in).
    public func currentDigest() -> Digest {
        let hex: String
        switch algorithm {
        case .sha256: hex = hexString(sha256.finalize())
        case .sha512: hex = hexString(sha512.finalize())
        }
        return Digest(computed: algorithm, hex: hex)
    }

    /// Verifies and renames into place. With `expected`, a different digest or size is an error
    /// and nothing is stored.
    @discardableResult
    public func commit(expected: Digest? = nil, size: Int64? = nil) throws(ImageStoreError) -> Digest {
        let digest = currentDigest()
        if let expected, expected != digest {
            abandon()
            throw ImageStoreError("blob \(expected): content has digest \(digest) (corrupted or tampered in transfer)")
        }
        if let size, size != written {
            abandon()
            throw ImageStoreError("blob \(digest): expected \(size) bytes, got \(written)")
        }
        let target = store.path(digest)
        // No fsync: a killed process loses nothing the kernel already holds, and the rename makes
        // the whole blob visible at once. (Power loss is the filesystem's journal's business.)
        _ = Glibc.close(fd)
        fd = -1
        if rename(temporaryPath, target) != 0 {
            let e = SysError("rename", target)
            _ = unlink(temporaryPath)
            throw .sys(e)
        }
        return digest
    }

    public func abandon() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
        _ = unlink(temporaryPath)
    }
}

package func hexString<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xf)])
    }
    return String(decoding: out, as: UTF8.self)
}

func sha256Digest(_ bytes: [UInt8]) -> Digest {
    Digest(computed: .sha256, hex: hexString(SHA256.hash(data: bytes)))
}
