import Glibc

/// Streaming a file through a caller's buffers: what `save`, `load` and `import` do with archives.
extension FS {
    /// Writes all of `bytes`, retrying short writes.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, describe: String? = nil) throws(SysError) {
        var offset = 0
        while offset < bytes.count {
            let n = try sys("write", describe) { Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset) }
            offset += n
        }
    }

    /// One read(2) into `buffer`: the count read, 0 at the end.
    public static func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, describe: String? = nil) throws(SysError) -> Int {
        try sys("read", describe) { Glibc.read(fd, buffer.baseAddress!, buffer.count) }
    }

    /// Writes `path` through `temporary` (created with `mode`), made durable and renamed over it,
    /// so a failed write leaves no torn file; on failure the temporary file is removed.
    public static func replaceDurably(_ path: String, temporary: String, mode: mode_t = 0o644, _ body: (Int32) throws -> Void) throws {
        let fd = try FS.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        do {
            try body(fd)
            guard fsync(fd) == 0, Glibc.close(fd) == 0 else { throw SysError("write", temporary) }
            guard rename(temporary, path) == 0 else { throw SysError("rename", path) }
        } catch {
            _ = Glibc.close(fd)
            unlink(temporary)
            throw error
        }
    }
}
