import Glibc
import GoCompat
import LinuxSys

/// Which of the container's output streams a log entry came from.
public enum LogStream: String, Sendable, CaseIterable {
    case stdout, stderr
}

/// `--log-opt` values of the json-file driver: rotation by size and the number of files kept.
public struct LogOptions: Equatable, Sendable {
    /// Rotate once the file has reached this many bytes; nil: never rotate.
    public var maxSize: Int64?
    /// Files kept, the current one included (1: the current file is started afresh on rotation).
    public var maxFiles: Int

    public init(maxSize: Int64?, maxFiles: Int = 1) {
        self.maxSize = maxSize
        self.maxFiles = maxFiles
    }

    /// Berth rotates by default: Docker's json-file default (no max-size) lets a log grow without
    /// bound, and the issue asks that a chatty container cannot fill the disk. 20 MB x 5 files is
    /// the size Docker's own `local` driver keeps by default.
    public static let `default` = LogOptions(maxSize: 20_000_000, maxFiles: 5)

    /// Reads `--log-opt` pairs (`max-size=10m`, `max-file=3`) with Docker's names, units and errors.
    /// An option not given keeps Berth's default, so `max-file=3` alone rotates at 20m (Docker accepts
    /// max-file without max-size and then never rotates), and `max-size=10m` alone keeps 5 files.
    public static func parse(_ options: [String: String]) throws(SupervisorError) -> LogOptions {
        var result = LogOptions.default
        for (key, value) in options.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "max-size":
                guard let size = try? GoUnits.fromHumanSize(value) else {
                    throw SupervisorError("log opt max-size=\(value): invalid size '\(value)' (a number with an optional k, m, g, t or p suffix, as 10m)")
                }
                guard size > 0 else { throw SupervisorError("log opt max-size=\(value): max-size must be a positive number") }
                result.maxSize = size
            case "max-file":
                guard let count = Int(value) else {
                    throw SupervisorError("log opt max-file=\(value): not an integer")
                }
                guard count >= 1 else { throw SupervisorError("log opt max-file=\(value): max-file cannot be less than 1") }
                result.maxFiles = count
            case "compress":
                // Accepted when off; compressed rotated files are not written (yet).
                guard ["0", "f", "F", "false", "FALSE", "False"].contains(value) else {
                    throw SupervisorError("log opt compress=\(value): compressed json-file logs are not supported by berth")
                }
            case "labels", "labels-regex", "env", "env-regex", "tag":
                throw SupervisorError("log opt \(key)=\(value): not supported by berth's json-file logs (entries carry no attrs)")
            default:
                throw SupervisorError("unknown log opt '\(key)' for json-file log driver")
            }
        }
        return result
    }
}

/// Writes a container's output as Docker's json-file driver does: one JSON object per line,
///
///     {"log":"hello\n","stream":"stdout","time":"2024-05-06T07:08:09.123456789Z"}
///
/// with Docker's escaping and its line handling (each line an entry with its newline; a line still
/// open after 16 KiB written as a partial entry, the pieces sharing the first one's time; what is
/// left at end of stream written without a newline), and Docker's max-size/max-file rotation.
/// Single-threaded: the supervisor's event loop owns it.
public final class JSONFileLogWriter {
    /// Docker's copier buffer: a line longer than this is split into entries of this many bytes.
    public static let maxLineBytes = 16 * 1024

    public let path: String
    public let maxSize: Int64?
    public let maxFiles: Int
    private var fd: Int32 = -1
    private var size: Int64 = 0
    private var stdoutLine = PendingLine()
    private var stderrLine = PendingLine()
    private var entry: [UInt8] = []

    private struct PendingLine {
        var bytes: [UInt8] = []
        /// Set once part of this line was written: the time every further piece of it carries.
        var partialTime: LogTimestamp?
    }

    public init(path: String, maxSize: Int64? = nil, maxFiles: Int = 1) throws(SupervisorError) {
        guard maxFiles >= 1 else { throw SupervisorError("json-file log \(path): max-file cannot be less than 1") }
        if let maxSize, maxSize <= 0 { throw SupervisorError("json-file log \(path): max-size must be a positive number") }
        self.path = path
        self.maxSize = maxSize
        self.maxFiles = maxFiles
        try open(truncate: false)
    }

    public convenience init(path: String, options: LogOptions) throws(SupervisorError) {
        try self.init(path: path, maxSize: options.maxSize, maxFiles: options.maxFiles)
    }

    deinit { FS.close(fd) }

    /// Logs bytes read from one stream at `time`. Complete lines become entries at once; the rest
    /// waits for its newline (or `flush`, or 16 KiB).
    public func write(_ stream: LogStream, _ bytes: UnsafeRawBufferPointer, at time: LogTimestamp) throws(SupervisorError) {
        var line = take(stream)
        defer { put(stream, line) }
        var start = 0
        let count = bytes.count
        while start < count {
            let room = Self.maxLineBytes - line.bytes.count
            let searchEnd = min(count, start + room)
            var newline = -1
            if let base = bytes.baseAddress, let hit = memchr(base + start, 0x0A, searchEnd - start) {
                newline = base.distance(to: UnsafeRawPointer(hit))
            }
            if newline >= 0 {
                line.bytes.append(contentsOf: bytes[start..<newline])
                line.bytes.append(0x0A)
                try writeEntry(stream, line.bytes, time: line.partialTime ?? time)
                line = PendingLine(bytes: keepingCapacity(line.bytes))
                start = newline + 1
            } else {
                line.bytes.append(contentsOf: bytes[start..<searchEnd])
                start = searchEnd
                if line.bytes.count == Self.maxLineBytes {
                    let pieceTime = line.partialTime ?? time
                    try writeEntry(stream, line.bytes, time: pieceTime)
                    line = PendingLine(bytes: keepingCapacity(line.bytes), partialTime: pieceTime)
                }
            }
        }
    }

    public func write(_ stream: LogStream, _ bytes: [UInt8], at time: LogTimestamp) throws(SupervisorError) {
        var failure: SupervisorError?
        bytes.withUnsafeBytes { raw in
            do throws(SupervisorError) { try write(stream, raw, at: time) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// End of `stream`: a line still waiting for its newline is written as it is, without one.
    public func flush(_ stream: LogStream, at time: LogTimestamp = .now()) throws(SupervisorError) {
        let line = take(stream)
        if !line.bytes.isEmpty {
            try writeEntry(stream, line.bytes, time: line.partialTime ?? time)
        }
    }

    /// Closes the file. Lines still pending are dropped: flush the streams first.
    public func close() {
        FS.close(fd)
        fd = -1
    }

    // The pending line is moved out while it is worked on, so appending does not copy it.
    private func take(_ stream: LogStream) -> PendingLine {
        switch stream {
        case .stdout:
            defer { stdoutLine = PendingLine() }
            return stdoutLine
        case .stderr:
            defer { stderrLine = PendingLine() }
            return stderrLine
        }
    }

    private func put(_ stream: LogStream, _ line: PendingLine) {
        switch stream {
        case .stdout: stdoutLine = line
        case .stderr: stderrLine = line
        }
    }

    private func keepingCapacity(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        bytes.removeAll(keepingCapacity: true)
        return bytes
    }

    private func writeEntry(_ stream: LogStream, _ text: [UInt8], time: LogTimestamp) throws(SupervisorError) {
        entry.removeAll(keepingCapacity: true)
        entry.append(UInt8(ascii: "{"))
        if !text.isEmpty {
            entry.append(contentsOf: #""log":"#.utf8)
            Self.appendJSONString(text, to: &entry)
            entry.append(UInt8(ascii: ","))
        }
        entry.append(contentsOf: stream == .stdout ? #""stream":"stdout","time":""#.utf8 : #""stream":"stderr","time":""#.utf8)
        time.append(to: &entry, fixedFraction: false)
        entry.append(contentsOf: "\"}\n".utf8)

        // As Docker: rotate when the file has already reached max-size, so a file ends with the
        // entry that took it past the limit (sizes are max-size plus at most one entry).
        if let maxSize, size >= maxSize { try rotate() }
        if fd < 0 { try open(truncate: false) }
        var offset = 0
        while offset < entry.count {
            let n = entry.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SupervisorError("write json-file log \(path): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
        size += Int64(entry.count)
    }

    private func open(truncate: Bool) throws(SupervisorError) {
        do {
            fd = try FS.open(path, O_WRONLY | O_APPEND | O_CREAT | (truncate ? O_TRUNC : 0), mode: 0o640)
            size = Int64(try FS.fstat(fd, describe: path).st_size)
        } catch {
            throw SupervisorError("open json-file log", error)
        }
    }

    /// Docker's rotation: path.(n-1) is dropped, path.i moves to path.(i+1), path to path.1, and a
    /// new path is started. With max-file 1 Docker truncates the file in place; it is unlinked and
    /// created anew here instead, so a `logs --follow` holding the old file sees it replaced.
    private func rotate() throws(SupervisorError) {
        close()
        func fail(_ op: String, _ name: String) -> SupervisorError {
            SupervisorError("rotate json-file log: \(op) \(name): \(String(cString: strerror(errno)))")
        }
        if maxFiles >= 2 {
            let oldest = "\(path).\(maxFiles - 1)"
            Self.waitForFollower(oldest)
            if unlink(oldest) != 0 && errno != ENOENT { throw fail("unlink", oldest) }
            for i in stride(from: maxFiles - 1, to: 1, by: -1) {
                if rename("\(path).\(i - 1)", "\(path).\(i)") != 0 && errno != ENOENT { throw fail("rename", "\(path).\(i - 1)") }
            }
            if rename(path, "\(path).1") != 0 && errno != ENOENT { throw fail("rename", path) }
        } else if unlink(path) != 0 && errno != ENOENT {
            throw fail("unlink", path)
        }
        // Files past max-file left by an earlier, larger max-file: a reader would take them as the oldest.
        var extra = max(maxFiles, 1)
        while unlink("\(path).\(extra)") == 0 { extra += 1 }
        try open(truncate: true)
    }

    /// A `logs -f` holds a shared lock on the file it follows until it has opened the newer ones:
    /// dropping that file now would lose every file rotated since it last looked. So wait for it,
    /// as Docker's writer waits for its followers, but bounded: a stuck reader must not stop the
    /// container for long.
    static func waitForFollower(_ path: String, milliseconds: Int = 2000) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return }
        defer { Glibc.close(fd) }
        var waited = 0
        while flock(fd, LOCK_EX | LOCK_NB) != 0, errno == EWOULDBLOCK || errno == EINTR, waited < milliseconds {
            usleep(1000)
            waited += 1
        }
    }

    // MARK: Docker's JSON string escaping

    private static let hex = Array("0123456789abcdef".utf8)

    /// Appends `bytes` as a JSON string exactly as Docker's json-file driver writes it (its
    /// `ffjsonWriteJSONBytesAsString`): `"` and `\` escaped, `\n` and `\r` as such, every other byte
    /// below 0x20 and `<`, `>`, `&` as `\u00XX` (so a tab is `\u0009`, unlike encoding/json's `\t`),
    /// U+2028 and U+2029 as `\u2028`/`\u2029`, each byte that does not start a valid UTF-8 sequence
    /// as `\ufffd`, and everything else (DEL and valid UTF-8 included) as it is.
    static func appendJSONString(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        bytes.withUnsafeBufferPointer { s in
            var start = 0, i = 0
            let n = s.count
            while i < n {
                let b = s[i]
                if b < 0x80 {
                    if b >= 0x20 && b != 0x5C && b != 0x22 && b != 0x3C && b != 0x3E && b != 0x26 {
                        i += 1
                        continue
                    }
                    out.append(contentsOf: s[start..<i])
                    switch b {
                    case 0x5C, 0x22: out.append(0x5C); out.append(b)
                    case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                    case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
                    default: out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                    }
                    i += 1
                    start = i
                    continue
                }
                let size = utf8SequenceLength(s, at: i)
                if size == 0 {
                    out.append(contentsOf: s[start..<i])
                    out.append(contentsOf: #"\ufffd"#.utf8)
                    i += 1
                    start = i
                    continue
                }
                // U+2028 is E2 80 A8, U+2029 is E2 80 A9.
                if size == 3 && b == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9) {
                    out.append(contentsOf: s[start..<i])
                    out.append(contentsOf: #"\u202"#.utf8)
                    out.append(hex[Int(s[i + 2] & 0xF)])
                    i += 3
                    start = i
                    continue
                }
                i += size
            }
            out.append(contentsOf: s[start..<n])
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Length of the valid UTF-8 sequence starting at `i`, or 0 where Go's `utf8.DecodeRune` would
/// return RuneError of size 1 (bad lead byte, bad or missing continuation, overlong form,
/// surrogate, or beyond U+10FFFF).
func utf8SequenceLength(_ s: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
    let b = s[i]
    let n = s.count
    var length = 0
    var low: UInt8 = 0x80, high: UInt8 = 0xBF
    switch b {
    case 0xC2...0xDF: length = 2
    case 0xE0: length = 3; low = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: length = 3
    case 0xED: length = 3; high = 0x9F
    case 0xF0: length = 4; low = 0x90
    case 0xF1...0xF3: length = 4
    case 0xF4: length = 4; high = 0x8F
    default: return 0
    }
    guard i + length <= n else { return 0 }
    guard s[i + 1] >= low && s[i + 1] <= high else { return 0 }
    for k in 2..<length where s[i + k] < 0x80 || s[i + k] > 0xBF { return 0 }
    return length
}
