import Archive
import Foundation
import LinuxSys
import Testing

/// A fresh directory under /tmp, removed (without following symlinks out of it) at the end.
final class TempDir {
    let path: String

    init(base: String = "/tmp") throws {
        var template = Array((base + "/berth-archive-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw SysError("mkdtemp", base) }
        path = String(cString: made)
    }

    /// A new empty subdirectory.
    func sub(_ name: String) throws -> String {
        let full = path + "/" + name
        try FS.mkdirAll(full)
        return full
    }

    deinit { FS.removeAll(path) }
}

struct ShellResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a shell command line; throws if it fails unless `check` is false.
@discardableResult
func shell(_ command: String, check: Bool = true) throws -> ShellResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let result = ShellResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                             stderr: String(decoding: stderr, as: UTF8.self))
    if check && result.status != 0 {
        throw ArchiveError("shell", "\(command) exited \(result.status): \(result.stderr)")
    }
    return result
}

func has(_ program: String) -> Bool {
    ["/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"].contains { access($0 + program, X_OK) == 0 }
}

func readBytes(_ path: String) throws -> [UInt8] { try FS.readFile(path) }

func writeBytes(_ path: String, _ bytes: [UInt8]) throws {
    let fd = try FS.open(path, O_WRONLY | O_CREAT | O_TRUNC)
    defer { FS.close(fd) }
    try FS.write(fd, bytes)
}

/// FNV-1a: enough to tell file contents apart in a listing.
func fingerprint(_ bytes: [UInt8]) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    return String(hash, radix: 16)
}

/// One line per entry of a tree: what a layer unpack must reproduce (type, mode, owner, size, mtime,
/// link target, device numbers, link count, content and xattrs), sorted by path. The root itself is left out.
func listing(_ root: String, mtimes: Bool = true) throws -> [String] {
    var lines: [String] = []
    func walk(_ relative: String) throws {
        for name in try FS.list(path: root + "/" + relative).sorted() {
            let rel = relative.isEmpty ? name : relative + "/" + name
            let full = root + "/" + rel
            let st = try FS.lstat(full)
            let type: String
            var extra = ""
            switch st.st_mode & S_IFMT {
            case S_IFDIR: type = "d"
            case S_IFLNK: type = "l"; extra = "-> " + (try FS.readlink(full))
            case S_IFREG: type = "f"; extra = "size=\(st.st_size) nlink=\(st.st_nlink) \(fingerprint(try readBytes(full)))"
            case S_IFCHR: type = "c"; extra = "dev=\(major(st.st_rdev)),\(minor(st.st_rdev))"
            case S_IFBLK: type = "b"; extra = "dev=\(major(st.st_rdev)),\(minor(st.st_rdev))"
            case S_IFIFO: type = "p"
            default: type = "?"
            }
            let mode = type == "l" ? "" : String(st.st_mode & 0o7777, radix: 8)
            let time = mtimes ? "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)" : ""
            let xattrs = Xattr.names(path: full).sorted().map { "\($0)=\(fingerprint(Xattr.get(path: full, name: $0) ?? []))" }
            lines.append("\(rel) \(type) \(mode) \(st.st_uid):\(st.st_gid) \(time) \(extra) \(xattrs.joined(separator: ","))")
            if type == "d" { try walk(rel) }
        }
    }
    try walk("")
    return lines
}

func major(_ dev: dev_t) -> UInt32 { UInt32((dev >> 8) & 0xfff) | UInt32((dev >> 32) & ~0xfff) }
func minor(_ dev: dev_t) -> UInt32 { UInt32(dev & 0xff) | UInt32((dev >> 12) & ~0xff) }

/// Feeds `bytes` to a fresh unpacker in chunks of `chunk` bytes.
@discardableResult
func unpack(_ bytes: [UInt8], into directory: String, chunk: Int = 64 * 1024, options: UnpackOptions = UnpackOptions()) throws -> UnpackedLayer {
    let unpacker = try LayerUnpacker(into: directory, options: options)
    try bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = min(chunk, raw.count - offset)
            try unpacker.consume(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n)]))
            offset += n
        }
    }
    return try unpacker.finish()
}

/// The error an expression throws, as an ArchiveError (nil if it did not throw).
func archiveError(_ body: () throws -> Void) -> ArchiveError? {
    do {
        try body()
        return nil
    } catch let error as ArchiveError {
        return error
    } catch {
        return ArchiveError("unexpected", "\(error)")
    }
}

func file(_ path: String, _ text: String, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0, mtime: Int64 = 1_700_000_000) -> (TarHeader, [UInt8]) {
    (TarHeader(path: path, type: .file, mode: mode, uid: uid, gid: gid, mtime: .init(seconds: mtime)), Array(text.utf8))
}

func dir(_ path: String, mode: UInt32 = 0o755, mtime: Int64 = 1_600_000_000) -> (TarHeader, [UInt8]) {
    (TarHeader(path: path, type: .directory, mode: mode, mtime: .init(seconds: mtime)), [])
}

func symlink(_ path: String, to target: String) -> (TarHeader, [UInt8]) {
    (TarHeader(path: path, type: .symlink, mode: 0o777, linkName: target), [])
}

func hardlink(_ path: String, to target: String) -> (TarHeader, [UInt8]) {
    (TarHeader(path: path, type: .hardlink, linkName: target), [])
}

/// User plus system CPU time of the calling thread.
func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// "0m1.230s 0m0.450s" (a line of sh's `times`) as seconds, summed.
func parseTimes(_ line: Substring) -> Double {
    line.split(separator: " ").reduce(0.0) { total, field in
        let parts = field.dropLast().split(separator: "m")
        guard parts.count == 2, let minutes = Double(parts[0]), let seconds = Double(parts[1]) else { return total }
        return total + minutes * 60 + seconds
    }
}
