#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An errno from a local file operation, naming the operation and the path.
struct LocalFileError: Error, CustomStringConvertible {
    var operation: String
    var path: String
    var errno: Int32
    var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
}

/// An open, read-only file that several tasks may read at once (`pread` carries its own offset).
final class ReadOnlyFile: Sendable {
    let fd: Int32
    let path: String
    let size: Int64

    init(path: String) throws(LocalFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LocalFileError(operation: "open", path: path, errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw LocalFileError(operation: "stat", path: path, errno: code)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw LocalFileError(operation: "open", path: path, errno: EISDIR)
        }
        self.fd = fd
        self.path = path
        self.size = Int64(info.st_size)
    }

    deinit { close(fd) }

    /// Up to `count` bytes at `offset` (fewer only at the end of the file).
    func read(at offset: Int64, count: Int) throws(LocalFileError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = buffer.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress.map { $0 + filled }, count - filled, off_t(offset) + off_t(filled))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw LocalFileError(operation: "read", path: path, errno: errno)
            }
            if n == 0 { break }
            filled += n
        }
        if filled < count { buffer.removeSubrange(filled...) }
        return buffer
    }
}

enum LocalFiles {
    /// The whole file, or nil when it does not exist.
    static func readIfExists(_ path: String, limit: Int = 16 << 20) throws(LocalFileError) -> [UInt8]? {
        let file: ReadOnlyFile
        do { file = try ReadOnlyFile(path: path) } catch {
            if error.errno == ENOENT { return nil }
            throw error
        }
        guard file.size <= Int64(limit) else { throw LocalFileError(operation: "read", path: path, errno: EFBIG) }
        var out: [UInt8] = []
        while true {
            let piece = try file.read(at: Int64(out.count), count: 64 << 10)
            if piece.isEmpty { break }
            out += piece
            guard out.count <= limit else { throw LocalFileError(operation: "read", path: path, errno: EFBIG) }
        }
        return out
    }

    /// Writes `bytes` to a temporary file beside `path`, with `mode`, flushes it and renames it over `path`,
    /// so a reader sees the old file or the new one, never a part. A symlink at `path` is followed.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(LocalFileError) {
        var target = path
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK, let resolved = realpath(path, nil) {
            target = String(cString: resolved)
            free(resolved)
        }
        let directory = target.lastIndex(of: "/").map { String(target[..<$0]) } ?? "."
        try makeDirectories(directory.isEmpty ? "/" : directory)
        let temporary = "\(target).tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw LocalFileError(operation: "create", path: temporary, errno: errno) }
        var failure: LocalFileError?
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress.map { $0 + written }, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                failure = LocalFileError(operation: "write", path: temporary, errno: errno)
                break
            }
            written += n
        }
        if failure == nil, fchmod(fd, mode) != 0 { failure = LocalFileError(operation: "chmod", path: temporary, errno: errno) }
        if failure == nil, fsync(fd) != 0 { failure = LocalFileError(operation: "fsync", path: temporary, errno: errno) }
        close(fd)
        if failure == nil, rename(temporary, target) != 0 { failure = LocalFileError(operation: "rename to \(target)", path: temporary, errno: errno) }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }

    /// `mkdir -p` with mode 0700 for the directories it makes.
    static func makeDirectories(_ path: String) throws(LocalFileError) {
        var info = stat()
        if stat(path, &info) == 0 { return }
        if let slash = path.lastIndex(of: "/"), slash > path.startIndex {
            try makeDirectories(String(path[..<slash]))
        }
        if mkdir(path, 0o700) != 0, errno != EEXIST { throw LocalFileError(operation: "mkdir", path: path, errno: errno) }
    }

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}
