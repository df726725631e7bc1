/// Writes a tar archive to a sink, entry by entry: `writeHeader`, then exactly `size` bytes of data
/// through `writeData` (regular files only), and `finish()` at the end.
///
/// Output is POSIX ustar, with a PAX extended header in front of an entry whenever ustar cannot hold
/// it exactly: a path or link target over 100 bytes, a user or group name over 32, ids, sizes or
/// mtimes out of octal range, an mtime with nanoseconds, or any xattrs (as `SCHILY.xattr.*`, which
/// GNU tar and Go read). The same entries always give the same bytes: PAX records are sorted, the
/// extended header has fixed metadata, nothing depends on the clock or the writing host.
public final class TarWriter {
    public typealias Sink = (UnsafeRawBufferPointer) throws -> Void

    /// Bytes handed to the sink so far.
    public private(set) var bytesWritten: Int64 = 0

    private let sink: Sink
    private var remaining: Int64 = 0
    private var padding = 0
    private var currentPath = ""
    private var finished = false
    private static let zeros = [UInt8](repeating: 0, count: 1024)

    public init(sink: @escaping Sink) {
        self.sink = sink
    }

    /// Starts an entry. The previous entry's data must be complete. Directory names get a trailing
    /// `/`; `size` is ignored (written as 0) for every type but `.file`.
    public func writeHeader(_ header: TarHeader) throws {
        guard !finished else { throw ArchiveError("tar writer", "writeHeader after finish()") }
        try checkPreviousComplete()
        var header = header
        if header.type != .file { header.size = 0 }
        if header.type == .directory && !header.path.hasSuffix("/") { header.path += "/" }
        guard !header.path.isEmpty, !header.path.utf8.contains(0), !header.linkName.utf8.contains(0) else {
            throw ArchiveError("tar entry \(ArchiveError.printable(header.path))", "empty name, or a name containing NUL")
        }
        guard header.size >= 0 else { throw ArchiveError("tar entry \(header.path)", "negative size") }

        let records = paxRecords(for: header)
        if !records.isEmpty {
            let body = records.sorted { $0.key < $1.key }.flatMap { Self.paxRecord($0.key, $0.value) }
            let base = header.path.split(separator: "/").last.map(String.init) ?? "entry"
            var pax = TarHeader(path: "PaxHeaders/" + base, size: Int64(body.count))
            pax.mode = 0o644
            try emit(block(for: pax, flag: UInt8(ascii: "x")))
            try body.withUnsafeBytes { try emit($0) }
            try emitPadding(for: Int64(body.count))
        }
        try emit(block(for: header, flag: Self.flag(header.type)))
        currentPath = header.path
        remaining = header.size
        padding = Int((512 - header.size % 512) % 512)
        if remaining == 0 { padding = 0 }
    }

    /// Appends data to the current entry; at most the size its header announced.
    public func writeData(_ bytes: UnsafeRawBufferPointer) throws {
        guard Int64(bytes.count) <= remaining else {
            throw ArchiveError("tar entry \(ArchiveError.printable(currentPath))", "more data than the \(remaining) bytes left of its size")
        }
        try emit(bytes)
        remaining -= Int64(bytes.count)
        if remaining == 0 && padding > 0 {
            try Self.zeros.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[0..<padding])) }
            padding = 0
        }
    }

    public func writeData(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeData($0) }
    }

    /// A whole entry at once: header, then data (whose count must equal `header.size` for files).
    public func write(_ header: TarHeader, data: [UInt8] = []) throws {
        var header = header
        if header.type == .file { header.size = Int64(data.count) }
        try writeHeader(header)
        if !data.isEmpty { try writeData(data) }
    }

    /// Ends the archive with two zero blocks.
    public func finish() throws {
        guard !finished else { return }
        try checkPreviousComplete()
        finished = true
        try Self.zeros.withUnsafeBytes { try emit($0) }
    }

    /// An archive of the given entries, in memory (tests, small archives).
    public static func archive(_ entries: [(TarHeader, [UInt8])]) throws -> [UInt8] {
        var out: [UInt8] = []
        let writer = TarWriter { out.append(contentsOf: $0) }
        for (header, data) in entries { try writer.write(header, data: data) }
        try writer.finish()
        return out
    }

    // MARK: - Encoding

    private func checkPreviousComplete() throws {
        if remaining > 0 {
            throw ArchiveError("tar entry \(ArchiveError.printable(currentPath))", "\(remaining) bytes of its data were never written")
        }
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        bytesWritten += Int64(bytes.count)
        try sink(bytes)
    }

    private func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try emit($0) }
    }

    private func emitPadding(for size: Int64) throws {
        let n = Int((512 - size % 512) % 512)
        if n > 0 { try Self.zeros.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[0..<n])) } }
    }

    private static let maxOctal7: Int64 = 0o7777777
    private static let maxOctal11: Int64 = 0o77777777777

    private func paxRecords(for header: TarHeader) -> [(key: String, value: [UInt8])] {
        var records: [(key: String, value: [UInt8])] = []
        if header.path.utf8.count > 100 { records.append(("path", Array(header.path.utf8))) }
        if header.linkName.utf8.count > 100 { records.append(("linkpath", Array(header.linkName.utf8))) }
        if header.uname.utf8.count > 32 { records.append(("uname", Array(header.uname.utf8))) }
        if header.gname.utf8.count > 32 { records.append(("gname", Array(header.gname.utf8))) }
        if header.uid < 0 || Int64(header.uid) > Self.maxOctal7 { records.append(("uid", Array(String(header.uid).utf8))) }
        if header.gid < 0 || Int64(header.gid) > Self.maxOctal7 { records.append(("gid", Array(String(header.gid).utf8))) }
        if header.size > Self.maxOctal11 { records.append(("size", Array(String(header.size).utf8))) }
        let t = header.mtime
        if t.nanoseconds != 0 || t.seconds < 0 || t.seconds > Self.maxOctal11 {
            records.append(("mtime", Array(Self.formatTime(t).utf8)))
        }
        for (name, value) in header.xattrs { records.append(("SCHILY.xattr." + name, value)) }
        return records
    }

    /// "seconds.nnnnnnnnn" with trailing zeros trimmed; before the epoch, "-s.f" counts down from 0.
    static func formatTime(_ t: TarHeader.Time) -> String {
        var seconds = t.seconds
        var nanoseconds = Int64(t.nanoseconds)
        var sign = ""
        if seconds < 0 {
            sign = "-"
            if nanoseconds > 0 {
                seconds += 1
                nanoseconds = 1_000_000_000 - nanoseconds
            }
            seconds = -seconds
        }
        guard nanoseconds > 0 else { return sign + String(seconds) }
        var fraction = String(nanoseconds)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return sign + String(seconds) + "." + fraction
    }

    /// "<length> <key>=<value>\n"; the length counts its own digits.
    static func paxRecord(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let payload = key.utf8.count + value.count + 3
        var length = payload + String(payload).count
        if String(length).count != String(payload).count { length = payload + String(length).count }
        return Array("\(length) \(key)=".utf8) + value + [UInt8(ascii: "\n")]
    }

    private static func flag(_ type: TarHeader.EntryType) -> UInt8 {
        switch type {
        case .file: UInt8(ascii: "0")
        case .hardlink: UInt8(ascii: "1")
        case .symlink: UInt8(ascii: "2")
        case .characterDevice: UInt8(ascii: "3")
        case .blockDevice: UInt8(ascii: "4")
        case .directory: UInt8(ascii: "5")
        case .fifo: UInt8(ascii: "6")
        }
    }

    private func block(for header: TarHeader, flag: UInt8) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: some Collection<UInt8>, _ field: (Int, Int)) {
            for (i, byte) in bytes.prefix(field.1).enumerated() { block[field.0 + i] = byte }
        }
        /// Octal with a NUL terminator; GNU base-256 when it does not fit (the PAX record has the value too).
        func putNumber(_ value: Int64, _ field: (Int, Int)) {
            let digits = String(value, radix: 8)
            if value >= 0 && digits.count < field.1 {
                put((String(repeating: "0", count: field.1 - 1 - digits.count) + digits).utf8, field)
                return
            }
            var v = value   // arithmetic shifts: negative values sign-extend into the leading bytes
            for i in stride(from: field.1 - 1, through: 0, by: -1) {
                block[field.0 + i] = UInt8(truncatingIfNeeded: v)
                v >>= 8
            }
            block[field.0] = value < 0 ? 0xff : 0x80
        }
        put(header.path.utf8, TarField.name)
        putNumber(Int64(header.mode & 0o7777), TarField.mode)
        putNumber(Int64(header.uid), TarField.uid)
        putNumber(Int64(header.gid), TarField.gid)
        putNumber(header.size, TarField.size)
        putNumber(header.mtime.seconds, TarField.mtime)
        block[TarField.typeflag] = flag
        put(header.linkName.utf8, TarField.linkName)
        put("ustar\0".utf8, TarField.magic)
        put("00".utf8, TarField.version)
        put(header.uname.utf8, TarField.uname)
        put(header.gname.utf8, TarField.gname)
        if header.type == .characterDevice || header.type == .blockDevice {
            putNumber(Int64(header.devMajor), TarField.devMajor)
            putNumber(Int64(header.devMinor), TarField.devMinor)
        }
        // The checksum is summed with its own field as spaces, then written as 6 digits, NUL, space.
        for i in 148..<156 { block[i] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(Array((String(repeating: "0", count: 6 - digits.count) + digits).utf8) + [0, UInt8(ascii: " ")], TarField.checksum)
        return block
    }
}
