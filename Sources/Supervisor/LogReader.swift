import Glibc
import LinuxSys

/// One json-file entry: the bytes the container wrote (with their newline, unless the entry is a
/// partial line), the stream and the time.
public struct LogEntry: Equatable, Sendable {
    public var stream: LogStream
    public var time: LogTimestamp
    public var bytes: [UInt8]

    public init(stream: LogStream, time: LogTimestamp, bytes: [UInt8]) {
        self.stream = stream
        self.time = time
        self.bytes = bytes
    }
}

/// What `logs` asks for, with Docker's meanings: `since` and `until` both inclusive, applied to
/// the entries `tail` selected; `tail` nil for all, 0 for none of the existing ones.
public struct LogReadOptions: Sendable {
    public var since: LogTimestamp?
    public var until: LogTimestamp?
    public var tail: Int?
    public var follow: Bool
    /// How long `follow` sleeps when it has caught up.
    public var pollMilliseconds: Int

    public init(since: LogTimestamp? = nil, until: LogTimestamp? = nil, tail: Int? = nil, follow: Bool = false, pollMilliseconds: Int = 100) {
        self.since = since
        self.until = until
        self.tail = tail
        self.follow = follow
        self.pollMilliseconds = pollMilliseconds
    }
}

/// Reads a json-file log and its rotated files (path.N … path.1, then path), as `docker logs` does.
public enum LogReader {
    /// Calls `emit` for each entry in order. With `follow`, keeps reading what the writer appends,
    /// across rotations, until `isRunning()` is false and everything written has been read. Lines
    /// that are not valid entries are skipped. Errors thrown by `emit` end the read and propagate.
    public static func read(
        path: String, options: LogReadOptions = LogReadOptions(), isRunning: () -> Bool = { false },
        emit: (LogEntry) throws -> Void
    ) throws {
        try withoutActuallyEscaping(emit) { emit in
            var reader = Reader(path: path, options: options, emit: emit)
            try reader.run(isRunning: isRunning)
        }
    }

    /// What `docker logs` prints for one entry: its bytes, after the fixed-width time and a space
    /// with `timestamps` (`-t`). Which of stdout or stderr it goes to is `entry.stream`.
    public static func format(_ entry: LogEntry, timestamps: Bool) -> [UInt8] {
        guard timestamps else { return entry.bytes }
        var out: [UInt8] = []
        out.reserveCapacity(31 + entry.bytes.count)
        entry.time.append(to: &out, fixedFraction: true)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: entry.bytes)
        return out
    }

    /// Decodes one line of a json-file log (without its newline); nil when it is not an entry.
    public static func decode(_ line: ArraySlice<UInt8>) -> LogEntry? {
        var parser = EntryParser(line)
        return parser.entry()
    }
}

// MARK: - Files

/// An open log file and the bytes read from it that do not yet end in a newline.
private struct LogFile {
    let fd: Int32
    let name: String
    let identity: FileIdentity
    var rest: [UInt8] = []

    /// `followed`: the file a follower reads as the current one. It holds a shared lock on it, so the
    /// writer does not drop it (as the oldest) before the follower has opened the files after it.
    static func open(_ name: String, followed: Bool = false) throws(SupervisorError) -> LogFile? {
        let fd: Int32
        do {
            fd = try FS.open(name, O_RDONLY)
        } catch {
            if error.errno == ENOENT { return nil }
            throw SupervisorError("open json-file log", error)
        }
        if followed { _ = flock(fd, LOCK_SH | LOCK_NB) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = SupervisorError("fstat json-file log \(name): \(String(cString: strerror(errno)))")
            FS.close(fd)
            throw e
        }
        return LogFile(fd: fd, name: name, identity: FileIdentity(st))
    }

    func close() { FS.close(fd) }
}

private struct FileIdentity: Equatable {
    var device: UInt64, inode: UInt64
    init(_ st: stat) { device = UInt64(st.st_dev); inode = UInt64(st.st_ino) }

    static func of(_ path: String) -> FileIdentity? {
        var st = stat()
        return stat(path, &st) == 0 ? FileIdentity(st) : nil
    }
}

private enum Verdict { case emit, skip, stop }

private struct Reader {
    let path: String
    let options: LogReadOptions
    let emit: (LogEntry) throws -> Void
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var stopped = false

    init(path: String, options: LogReadOptions, emit: @escaping (LogEntry) throws -> Void) {
        self.path = path
        self.options = options
        self.emit = emit
    }

    mutating func run(isRunning: () -> Bool) throws {
        // The current file is opened first: should a rotation happen while the older files are
        // read, the follow loop notices that this one was renamed.
        let current = try LogFile.open(path, followed: options.follow)
        var files: [LogFile]
        do {
            // Stopping at the current file if it was rotated since it was opened above.
            files = try openRotated(upTo: current?.identity).files.reversed()
        } catch {
            current?.close()
            throw error
        }
        if let current { files.append(current) }
        defer { files.forEach { $0.close() } }

        // Where reading starts in each file: after the entries that `tail` leaves out.
        if let tail = options.tail {
            var need = tail
            for i in files.indices.reversed() {
                let size = Int64(try fstat(files[i]).st_size)
                var start = size
                if need > 0 {
                    let (offset, lines) = try tailStart(files[i], size: size, lines: need)
                    start = offset
                    need -= lines
                }
                if lseek(files[i].fd, off_t(start), SEEK_SET) < 0 {
                    throw SupervisorError("seek json-file log \(files[i].name): \(String(cString: strerror(errno)))")
                }
            }
        }
        for i in files.indices {
            let isCurrent = current != nil && i == files.count - 1
            try drain(&files[i], final: !(isCurrent && options.follow))
            if stopped { return }
        }
        guard options.follow else { return }
        // The follow loop owns the current file from here (it closes it when it moves on).
        try follow(current == nil ? nil : files.removeLast(), isRunning: isRunning)
    }

    /// Polls `file` for new entries; when `path` names another file (rotated, or created at last),
    /// finishes the old one, reads any rotated file it skipped, and goes on with the new one.
    private mutating func follow(_ start: LogFile?, isRunning: () -> Bool) throws {
        var file = start
        defer { file?.close() }
        var idlePolls = 0
        while true {
            let running = isRunning()
            if var open = file {
                let before = lseek(open.fd, 0, SEEK_CUR)
                try drain(&open, final: false)
                idlePolls = lseek(open.fd, 0, SEEK_CUR) == before ? idlePolls + 1 : 0
                file = open
                if stopped { return }
            }
            let now = FileIdentity.of(path)
            if let now, now != file?.identity, let next = try LogFile.open(path, followed: true) {
                idlePolls = 0
                if var old = file {
                    file = nil
                    do {
                        try finish(&old, before: next)
                    } catch {
                        next.close()
                        throw error
                    }
                    if stopped { next.close(); return }
                }
                file = next
                continue
            }
            if !running { return }
            if let until = options.until, LogTimestamp.now() > until { return }
            // Soon again while the log is busy (the writer may be waiting at a rotation for this
            // reader to move on), backing off to the full interval when it is quiet.
            let wait = min(max(1, options.pollMilliseconds), 5 << min(idlePolls, 6))
            usleep(UInt32(wait) * 1000)
        }
    }

    /// Reads a file that `path` no longer names to its end, then the files rotated after it that
    /// the poll missed (several rotations between two polls), up to `next`, the one now at `path`.
    private mutating func finish(_ old: inout LogFile, before next: LogFile) throws {
        defer { old.close() }
        try drain(&old, final: true)
        if stopped { return }
        // Newest first. Had `old` itself been dropped already, every rotated file left is newer.
        var newer = try openRotated(upTo: old.identity).files
        defer { newer.forEach { $0.close() } }
        for k in newer.indices.reversed() where newer[k].identity != next.identity {
            try drain(&newer[k], final: true)
            if stopped { return }
        }
    }

    /// Opens path.1, path.2, … (newest first) until `stop` is met (not included) or none is left.
    /// One missing number is stepped over: a rotation in progress leaves a gap as it renames.
    private func openRotated(upTo stop: FileIdentity?) throws(SupervisorError) -> (files: [LogFile], reachedStop: Bool) {
        var files: [LogFile] = []
        var seen: [FileIdentity] = []
        var index = 1
        var missing = 0
        do {
            while missing < 2 {
                guard let file = try LogFile.open("\(path).\(index)") else {
                    missing += 1
                    index += 1
                    continue
                }
                missing = 0
                index += 1
                if file.identity == stop {
                    file.close()
                    return (files, true)
                }
                // A file moved up while the scan ran is met twice.
                if seen.contains(file.identity) { file.close(); continue }
                seen.append(file.identity)
                files.append(file)
            }
        } catch {
            files.forEach { $0.close() }
            throw error
        }
        return (files, false)
    }

    /// Reads `file` to its current end, emitting each complete line. With `final`, a last line
    /// without its newline is taken as it is (a file that will not grow again).
    private mutating func drain(_ file: inout LogFile, final: Bool) throws {
        while !stopped {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(file.fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SupervisorError("read json-file log \(file.name): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            var lineStart = 0
            var i = 0
            while i < n, !stopped {
                if buffer[i] == 0x0A {
                    if file.rest.isEmpty {
                        try handle(buffer[lineStart..<i])
                    } else {
                        file.rest.append(contentsOf: buffer[lineStart..<i])
                        try handle(file.rest[...])
                        file.rest.removeAll(keepingCapacity: true)
                    }
                    lineStart = i + 1
                }
                i += 1
            }
            file.rest.append(contentsOf: buffer[lineStart..<n])
        }
        if final && !stopped && !file.rest.isEmpty {
            try handle(file.rest[...])
            file.rest.removeAll()
        }
    }

    private mutating func handle(_ line: ArraySlice<UInt8>) throws {
        guard let entry = LogReader.decode(line) else { return }
        if let since = options.since, entry.time < since { return }
        if let until = options.until, entry.time > until {
            stopped = true
            return
        }
        try emit(entry)
    }

    private func fstat(_ file: LogFile) throws(SupervisorError) -> stat {
        var st = stat()
        guard Glibc.fstat(file.fd, &st) == 0 else {
            throw SupervisorError("fstat json-file log \(file.name): \(String(cString: strerror(errno)))")
        }
        return st
    }

    /// The offset of the start of the last `lines` lines of the file (counting newlines from the
    /// end, as Docker's tail does), and how many lines there are from there (fewer when the file
    /// has fewer). A last line still without its newline counts as a line.
    private mutating func tailStart(_ file: LogFile, size: Int64, lines: Int) throws -> (Int64, Int) {
        var count = 0
        var end = size
        while end > 0 {
            let chunk = Int(min(Int64(buffer.count), end))
            let offset = end - Int64(chunk)
            let n = buffer.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress!, chunk, off_t(offset)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SupervisorError("read json-file log \(file.name): \(String(cString: strerror(errno)))")
            }
            guard n == chunk else { break }  // the file shrank under us: start from its beginning
            for i in stride(from: chunk - 1, through: 0, by: -1) where buffer[i] == 0x0A {
                // Skip the newline that ends the file: it closes the last line, it doesn't start one.
                if offset + Int64(i) == size - 1 { continue }
                count += 1
                if count == lines { return (offset + Int64(i) + 1, count) }
            }
            end = offset
        }
        // The whole file: its first line has no newline before it.
        let last = size > 0 ? 1 : 0
        return (0, min(count + last, lines))
    }
}

// MARK: - Parsing one entry

/// A small JSON reader for `{"log":"…","stream":"…","time":"…"}` (other members, such as Docker's
/// `attrs`, are skipped), decoding the log text to bytes as Go's encoding/json does.
private struct EntryParser {
    let s: ArraySlice<UInt8>
    var i: Int

    init(_ s: ArraySlice<UInt8>) { self.s = s; self.i = s.startIndex }

    mutating func entry() -> LogEntry? {
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return nil }
        var log: [UInt8] = []
        var stream: LogStream?
        var time: LogTimestamp?
        skipSpace()
        if !take(UInt8(ascii: "}")) {
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                switch key {
                case Array("log".utf8):
                    guard let value = string() else { return nil }
                    log = value
                case Array("stream".utf8):
                    guard let value = string() else { return nil }
                    stream = LogStream(rawValue: String(decoding: value, as: UTF8.self))
                case Array("time".utf8):
                    guard let value = string(), let t = LogTimestamp(rfc3339: value[...]) else { return nil }
                    time = t
                default:
                    guard skipValue(depth: 0) else { return nil }
                }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "}")) else { return nil }
                break
            }
        }
        skipSpace()
        guard i == s.endIndex, let stream, let time else { return nil }
        return LogEntry(stream: stream, time: time, bytes: log)
    }

    private var peek: UInt8? { i < s.endIndex ? s[i] : nil }

    private mutating func take(_ c: UInt8) -> Bool {
        guard peek == c else { return false }
        i += 1
        return true
    }

    private mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
    }

    /// A JSON string as UTF-8 bytes; lone surrogates and invalid UTF-8 become U+FFFD, as in Go.
    private mutating func string() -> [UInt8]? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        var out: [UInt8] = []
        while let c = peek {
            switch c {
            case 0x22:
                i += 1
                return out
            case 0x5C:
                i += 1
                guard let e = peek else { return nil }
                i += 1
                switch e {
                case 0x22, 0x5C, 0x2F: out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate pairs with a following \uDC00-\uDFFF; alone it is invalid.
                        let save = i
                        if take(0x5C), take(UInt8(ascii: "u")), let low = hex4(), (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            i = save
                            scalar = 0xFFFD
                        }
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        scalar = 0xFFFD
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8))
                default:
                    return nil
                }
            case 0..<0x20:
                return nil
            case 0..<0x80:
                out.append(c)
                i += 1
            default:
                let length = s.withUnsafeBufferPointer { buffer in
                    utf8SequenceLength(buffer, at: i - s.startIndex)
                }
                if length == 0 {
                    out.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    i += 1
                } else {
                    out.append(contentsOf: s[i..<(i + length)])
                    i += length
                }
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard i + 4 <= s.endIndex else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = s[i]
            let digit: UInt8
            switch c {
            case 0x30...0x39: digit = c - 0x30
            case 0x41...0x46: digit = c - 0x41 + 10
            case 0x61...0x66: digit = c - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            i += 1
        }
        return value
    }

    /// Steps over one JSON value of a member this reader does not use.
    private mutating func skipValue(depth: Int) -> Bool {
        guard depth < 64, let c = peek else { return false }
        switch c {
        case 0x22:
            return string() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            i += 1
            skipSpace()
            if take(close) { return true }
            while true {
                skipSpace()
                if c == UInt8(ascii: "{") {
                    guard string() != nil else { return false }
                    skipSpace()
                    guard take(UInt8(ascii: ":")) else { return false }
                    skipSpace()
                }
                guard skipValue(depth: depth + 1) else { return false }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(close)
            }
        default:
            let start = i
            while let d = peek, (0x30...0x39).contains(d) || (0x61...0x7A).contains(d) || d == 0x2B || d == 0x2D || d == 0x2E || d == 0x45 { i += 1 }
            return i > start
        }
    }
}
