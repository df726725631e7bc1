import CLinuxSys
import Glibc

/// File and directory operations on raw descriptors. Every call names its path in the error.
public enum FS {
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(SysError) -> Int32 {
        try sys("open", path) { berth_open(path, flags | O_CLOEXEC, mode) }
    }

    public static func openat(_ dir: Int32, _ path: String, _ flags: Int32, mode: mode_t = 0o644, describe: String? = nil) throws(SysError) -> Int32 {
        try sys("open", describe ?? path) { berth_openat(dir, path, flags | O_CLOEXEC, mode) }
    }

    public static func close(_ fd: Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    public static func read(_ fd: Int32, max: Int = 1 << 20) throws(SysError) -> [UInt8] {
        // Grown as needed: most files read here (proc, cgroup, config.json) are a few KiB.
        var out = [UInt8](repeating: 0, count: 4096)
        var used = 0
        while used < max {
            if used == out.count { out.append(contentsOf: repeatElement(0, count: out.count)) }
            let n = try sys("read") { out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + used, $0.count - used) } }
            if n == 0 { break }
            used += n
        }
        out.removeSubrange(used...)
        return out
    }

    public static func write(_ fd: Int32, _ bytes: [UInt8], describe: String? = nil) throws(SysError) {
        var offset = 0
        while offset < bytes.count {
            let n = try sys("write", describe) {
                bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            }
            offset += n
        }
    }

    public static func readFile(_ path: String) throws(SysError) -> [UInt8] {
        let fd = try openOwned(path, O_RDONLY)
        do { return try read(fd.raw, max: 64 << 20) } catch { throw SysError("read", path, errno: error.errno) }
    }

    public static func readText(_ path: String) throws(SysError) -> String {
        String(decoding: try readFile(path), as: UTF8.self)
    }

    /// Writes a file's whole content in place (cgroup and proc files, which cannot be renamed into).
    public static func writeFile(_ path: String, _ text: String) throws(SysError) {
        let fd = try openOwned(path, O_WRONLY | O_TRUNC)
        try write(fd.raw, Array(text.utf8), describe: path)
    }

    /// Writes to a temporary name in the same directory and renames into place, so a reader (or a
    /// command after a kill -9) sees the old content or the new, never a torn file. `durable` adds an
    /// fsync for files that must survive a power loss; runtime state lives on tmpfs and needs none.
    public static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600, durable: Bool = false) throws(SysError) {
        let temporary = path + ".tmp-\(getpid())"
        do {
            let fd = try openOwned(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
            try write(fd.raw, bytes, describe: temporary)
            if durable { try sys("fsync", temporary) { fsync(fd.raw) } }
        } catch {
            _ = unlink(temporary)
            throw error
        }
        try sys("rename", path) { rename(temporary, path) }
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public static func stat(_ path: String) throws(SysError) -> Glibc.stat {
        var st = Glibc.stat()
        if fstatat(AT_FDCWD, path, &st, 0) != 0 { throw SysError("stat", path) }
        return st
    }

    public static func lstat(_ path: String) throws(SysError) -> Glibc.stat {
        var st = Glibc.stat()
        if fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) != 0 { throw SysError("lstat", path) }
        return st
    }

    public static func fstat(_ fd: Int32, describe: String? = nil) throws(SysError) -> Glibc.stat {
        var st = Glibc.stat()
        if Glibc.fstat(fd, &st) != 0 { throw SysError("fstat", describe) }
        return st
    }

    public static func isDirectory(_ st: Glibc.stat) -> Bool { (st.st_mode & S_IFMT) == S_IFDIR }

    public static func mkdir(_ path: String, mode: mode_t = 0o755) throws(SysError) {
        try sys("mkdir", path) { Glibc.mkdir(path, mode) }
    }

    public static func mkdirAll(_ path: String, mode: mode_t = 0o755) throws(SysError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if Glibc.mkdir(current, mode) != 0 && errno != EEXIST {
                throw SysError("mkdir", current)
            }
        }
    }

    /// Removes a directory tree without following symlinks out of it.
    public static func removeAll(_ path: String) {
        do {
            let fd = try openOwned(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            removeContents(of: fd.raw)
        } catch {
            _ = unlink(path)
            return
        }
        _ = rmdir(path)
    }

    private static func removeContents(of dirfd: Int32) {
        for name in (try? list(dirfd)) ?? [] {
            if unlinkat(dirfd, name, 0) == 0 { continue }
            if let child = try? openatOwned(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) {
                removeContents(of: child.raw)
                child.close()
                _ = unlinkat(dirfd, name, AT_REMOVEDIR)
            }
        }
    }

    /// Names in a directory (without `.` and `..`).
    public static func list(_ dirfd: Int32) throws(SysError) -> [String] {
        let copy = try dup(dirfd)
        guard let dir = fdopendir(copy.raw) else { throw SysError("opendir") }
        // The DIR stream owns the number from here on, and closedir closes it.
        _ = copy.take()
        defer { closedir(dir) }
        rewinddir(dir)
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public static func list(path: String) throws(SysError) -> [String] {
        let fd = try openOwned(path, O_RDONLY | O_DIRECTORY)
        return try list(fd.raw)
    }

    public static func readlink(_ path: String) throws(SysError) -> String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = try sys("readlink", path) { Glibc.readlink(path, &buffer, 4096) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Makes `path` absolute against the current directory, without touching the filesystem.
    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return clean(path) }
        var buffer = [CChar](repeating: 0, count: 4097)
        guard getcwd(&buffer, 4096) != nil else { return clean("/" + path) }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return clean(cwd + "/" + path)
    }

    /// Lexically cleans a path: no empty, `.` or `..` components (`..` stops at `/`).
    public static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}
