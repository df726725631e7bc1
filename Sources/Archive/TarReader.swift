/// Receives what a `TarReader` parses: for each entry its header, then its data in chunks (only
/// for `.file`; chunk buffers are valid only during the call), then the end of the entry.
public protocol TarEntryHandler: AnyObject {
    func entry(_ header: TarHeader) throws
    func data(_ chunk: UnsafeRawBufferPointer) throws
    func endOfEntry() throws
}

/// A streaming push parser for tar archives (ustar, GNU and PAX).
///
/// Feed it the uncompressed stream in chunks of any size; it never holds more than one header block
/// and one extension record, so a file's data goes straight from the caller's buffer to the handler.
///
/// Understood: ustar names with prefixes, GNU long names and link names (`L`, `K`), PAX extended
/// headers (`x`: path, linkpath, size, uid, gid, uname, gname, mtime, `SCHILY.xattr.*`), base-256
/// numbers. PAX global headers (`g`) and GNU volume labels are skipped. Every header's checksum is
/// verified. Two zero blocks end the archive; what follows them is ignored. GNU sparse files and
/// multi-volume archives are errors, as are unknown entry types unless `skipUnknownEntryTypes`.
public final class TarReader {
    public struct Options: Sendable {
        /// Skip entries of types this reader does not know (vendor extensions) instead of failing.
        public var skipUnknownEntryTypes: Bool

        public init(skipUnknownEntryTypes: Bool = false) {
            self.skipUnknownEntryTypes = skipUnknownEntryTypes
        }
    }

    /// Bytes of the archive taken in so far.
    public private(set) var offset: Int64 = 0
    /// Entries handed to the handler so far (extension headers not counted).
    public private(set) var entryCount = 0
    /// Whether the end-of-archive marker (two zero blocks) has been seen.
    public var reachedEnd: Bool { if case .end = state { true } else { false } }

    private let options: Options
    private var state = State.header
    /// The header block being assembled. Raw memory: header parsing is the reader's hot loop, and
    /// pointer loops stay cheap even in unoptimised builds.
    private let block = UnsafeMutablePointer<UInt8>.allocate(capacity: TarField.blockSize)
    private var blockFill = 0
    private var headerOffset: Int64 = 0
    private var sawZeroBlock = false
    private var currentPath = ""
    private var currentSize: Int64 = 0
    // Extensions that apply to the next real header.
    private var extended: [UInt8] = []
    private var paxRecords: [(key: String, value: [UInt8])] = []
    private var longName: [UInt8]?
    private var longLink: [UInt8]?

    /// PAX and GNU long-name records are held in memory; real ones are a few hundred bytes.
    static let maxExtensionSize = 1 << 20
    /// The largest entry size taken (4 EiB): a size plus its padding must not overflow.
    static let maxEntrySize: Int64 = 1 << 62

    private enum Extension { case pax, globalPax, longName, longLink }

    private enum State {
        case header
        case data(remaining: Int64, padding: Int64)
        case extensionData(Extension, remaining: Int, padding: Int64)
        case skip(remaining: Int64)
        case end
    }

    public init(options: Options = Options()) {
        self.options = options
        block.initialize(repeating: 0, count: TarField.blockSize)
    }

    deinit { block.deallocate() }

    /// Parses the next chunk of the archive, calling `handler` for what it completes.
    public func feed(_ bytes: UnsafeRawBufferPointer, to handler: some TarEntryHandler) throws {
        guard let base = bytes.baseAddress else { return }
        var p = 0
        let count = bytes.count
        while p < count {
            switch state {
            case .end:
                offset += Int64(count - p)
                return
            case .header:
                let n = min(TarField.blockSize - blockFill, count - p)
                UnsafeMutableRawPointer(block + blockFill).copyMemory(from: base + p, byteCount: n)
                blockFill += n
                p += n
                offset += Int64(n)
                if blockFill == TarField.blockSize {
                    blockFill = 0
                    headerOffset = offset - Int64(TarField.blockSize)
                    try headerBlock(handler)
                }
            case .data(let remaining, let padding):
                let n = Int(min(remaining, Int64(count - p)))
                try handler.data(UnsafeRawBufferPointer(start: base + p, count: n))
                p += n
                offset += Int64(n)
                if Int64(n) == remaining {
                    try handler.endOfEntry()
                    state = padding > 0 ? .skip(remaining: padding) : .header
                } else {
                    state = .data(remaining: remaining - Int64(n), padding: padding)
                }
            case .extensionData(let kind, let remaining, let padding):
                let n = min(remaining, count - p)
                extended.append(contentsOf: UnsafeRawBufferPointer(start: base + p, count: n))
                p += n
                offset += Int64(n)
                if n == remaining {
                    try finishExtension(kind)
                    state = padding > 0 ? .skip(remaining: padding) : .header
                } else {
                    state = .extensionData(kind, remaining: remaining - n, padding: padding)
                }
            case .skip(let remaining):
                let n = Int(min(remaining, Int64(count - p)))
                p += n
                offset += Int64(n)
                state = Int64(n) == remaining ? .header : .skip(remaining: remaining - Int64(n))
            }
        }
    }

    /// Says whether the archive ended cleanly: at an entry boundary, with no extension header left
    /// dangling. A missing end-of-archive marker is tolerated, as GNU tar and Go do.
    public func finish() throws {
        switch state {
        case .end:
            return
        case .header:
            if blockFill != 0 {
                throw ArchiveError.header(at: offset - Int64(blockFill), "archive truncated inside a header block")
            }
            if !paxRecords.isEmpty || longName != nil || longLink != nil {
                throw ArchiveError.header(at: offset, "archive ends after an extended header, without its entry")
            }
        case .data(let remaining, _):
            throw ArchiveError("tar entry \(ArchiveError.printable(currentPath))",
                               "archive truncated: \(currentSize - remaining) of \(currentSize) data bytes present")
        case .extensionData:
            throw ArchiveError.header(at: headerOffset, "archive truncated inside an extended header")
        case .skip:
            throw ArchiveError("tar entry \(ArchiveError.printable(currentPath))", "archive truncated inside its padding")
        }
    }

    /// Parses a whole archive in memory (small archives and tests).
    public static func entries(of bytes: [UInt8], options: Options = Options()) throws -> [(header: TarHeader, data: [UInt8])] {
        final class Collector: TarEntryHandler {
            var entries: [(header: TarHeader, data: [UInt8])] = []
            func entry(_ header: TarHeader) throws { entries.append((header, [])) }
            func data(_ chunk: UnsafeRawBufferPointer) throws { entries[entries.count - 1].data.append(contentsOf: chunk) }
            func endOfEntry() throws {}
        }
        let reader = TarReader(options: options)
        let collector = Collector()
        try bytes.withUnsafeBytes { try reader.feed($0, to: collector) }
        try reader.finish()
        return collector.entries
    }

    // MARK: - Headers

    private func headerBlock(_ handler: some TarEntryHandler) throws {
        if isZeroBlock() {
            if sawZeroBlock { state = .end } else { sawZeroBlock = true }
            return
        }
        if sawZeroBlock { throw ArchiveError.header(at: headerOffset - 512, "a single zero block inside the archive") }
        try verifyChecksum()

        let flag = block[TarField.typeflag]
        let size = try number(TarField.size, "size")
        guard size >= 0 else { throw ArchiveError.header(at: headerOffset, "negative size") }
        guard size <= Self.maxEntrySize else { throw ArchiveError.header(at: headerOffset, "size \(size) is too large") }
        let padding = (Int64(TarField.blockSize) - size % Int64(TarField.blockSize)) % Int64(TarField.blockSize)

        switch flag {
        case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            guard size <= Self.maxExtensionSize else {
                throw ArchiveError.header(at: headerOffset, "extended header of \(size) bytes is too large")
            }
            let kind: Extension = switch flag {
            case UInt8(ascii: "x"): .pax
            case UInt8(ascii: "g"): .globalPax
            case UInt8(ascii: "L"): .longName
            default: .longLink
            }
            extended.removeAll(keepingCapacity: true)
            if size == 0 {
                try finishExtension(kind)
            } else {
                state = .extensionData(kind, remaining: Int(size), padding: padding)
            }
            return
        case UInt8(ascii: "V"):
            // A GNU volume label names the archive, not a file.
            state = size + padding > 0 ? .skip(remaining: size + padding) : .header
            return
        case UInt8(ascii: "S"):
            throw ArchiveError.header(at: headerOffset, "GNU sparse files are not supported")
        case UInt8(ascii: "M"), UInt8(ascii: "N"):
            throw ArchiveError.header(at: headerOffset, "GNU multi-volume archives are not supported")
        default:
            break
        }

        let header = try entryHeader(flag: flag, size: size)
        defer {
            paxRecords.removeAll()
            longName = nil
            longLink = nil
        }
        guard var header else {
            // An entry type we do not know, and the options say to skip it.
            state = size + padding > 0 ? .skip(remaining: size + padding) : .header
            return
        }
        try applyExtensions(to: &header)
        if header.path.isEmpty { throw ArchiveError.header(at: headerOffset, "entry with an empty name") }

        // Only regular files carry data; a size on other types (some writers set it on hardlinks) is ignored.
        let dataSize: Int64
        var skipAfter: Int64 = 0
        if header.type == .file {
            dataSize = header.size
        } else {
            dataSize = 0
            if flag == UInt8(ascii: "D") { skipAfter = header.size + padding }   // GNU dumpdir listing
            header.size = 0
        }
        let dataPadding = (Int64(TarField.blockSize) - dataSize % Int64(TarField.blockSize)) % Int64(TarField.blockSize)

        currentPath = header.path
        currentSize = dataSize
        entryCount += 1
        try handler.entry(header)
        if dataSize > 0 {
            state = .data(remaining: dataSize, padding: dataPadding)
        } else {
            try handler.endOfEntry()
            state = skipAfter > 0 ? .skip(remaining: skipAfter) : .header
        }
    }

    /// Builds the header from the block; nil for an unknown type that is to be skipped.
    private func entryHeader(flag: UInt8, size: Int64) throws -> TarHeader? {
        var name = bytes(TarField.name)
        let isUstar = field(TarField.magic).elementsEqual("ustar\0".utf8)
        if isUstar {
            // POSIX ustar splits long names into prefix "/" name. (GNU headers keep other fields there.)
            let prefix = bytes(TarField.prefix)
            if !prefix.isEmpty { name = prefix + [UInt8(ascii: "/")] + name }
        }
        let type: TarHeader.EntryType
        switch flag {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"):
            // Pre-POSIX archives mark directories only by a trailing slash.
            type = flag == 0 && name.last == UInt8(ascii: "/") ? .directory : .file
        case UInt8(ascii: "1"): type = .hardlink
        case UInt8(ascii: "2"): type = .symlink
        case UInt8(ascii: "3"): type = .characterDevice
        case UInt8(ascii: "4"): type = .blockDevice
        case UInt8(ascii: "5"), UInt8(ascii: "D"): type = .directory
        case UInt8(ascii: "6"): type = .fifo
        default:
            if options.skipUnknownEntryTypes { return nil }
            throw ArchiveError.header(at: headerOffset, "unknown entry type \(Self.describe(flag)) for \(ArchiveError.printable(text(name)))")
        }
        return TarHeader(
            path: text(name), type: type, mode: UInt32(truncatingIfNeeded: try number(TarField.mode, "mode") & 0o7777),
            uid: Int(try number(TarField.uid, "uid")), gid: Int(try number(TarField.gid, "gid")),
            uname: text(bytes(TarField.uname)), gname: text(bytes(TarField.gname)), size: size,
            mtime: TarHeader.Time(seconds: try number(TarField.mtime, "mtime")),
            linkName: text(bytes(TarField.linkName)),
            devMajor: UInt32(truncatingIfNeeded: try number(TarField.devMajor, "devmajor")),
            devMinor: UInt32(truncatingIfNeeded: try number(TarField.devMinor, "devminor")))
    }

    private func verifyChecksum() throws {
        let stored = try number(TarField.checksum, "checksum")
        // The checksum field itself counts as eight spaces. Some old writers summed signed bytes.
        var unsigned = 8 * 32
        var signed = 8 * 32
        var i = 0
        while i < TarField.blockSize {
            if i == 148 { i = 156 }
            unsigned &+= Int(block[i])
            signed &+= Int(Int8(bitPattern: block[i]))
            i += 1
        }
        if stored != Int64(unsigned) && stored != Int64(signed) {
            throw ArchiveError.header(at: headerOffset, "bad checksum (stored \(stored), computed \(unsigned))")
        }
    }

    // MARK: - Extensions

    private func finishExtension(_ kind: Extension) throws {
        switch kind {
        case .globalPax:
            break   // Archive-wide defaults; layer writers do not use them for anything we apply.
        case .longName:
            longName = Array(extended.prefix { $0 != 0 })
        case .longLink:
            longLink = Array(extended.prefix { $0 != 0 })
        case .pax:
            try parsePax()
        }
    }

    /// PAX records: "<length> <key>=<value>\n", where length counts the whole record in bytes.
    private func parsePax() throws {
        var i = 0
        let data = extended
        while i < data.count {
            if data[i] == 0 { break }   // some writers pad the record block with NULs
            var length = 0
            var j = i
            while j < data.count, data[j] >= UInt8(ascii: "0"), data[j] <= UInt8(ascii: "9"), length < Self.maxExtensionSize {
                length = length * 10 + Int(data[j] - UInt8(ascii: "0"))
                j += 1
            }
            guard j < data.count, data[j] == UInt8(ascii: " "), length > j - i + 1, i + length <= data.count,
                  data[i + length - 1] == UInt8(ascii: "\n") else {
                throw ArchiveError.header(at: headerOffset, "malformed PAX record at byte \(i) of the extended header")
            }
            let record = data[(j + 1)..<(i + length - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else {
                throw ArchiveError.header(at: headerOffset, "PAX record without '=' at byte \(i) of the extended header")
            }
            let key = text(Array(record[record.startIndex..<equals]))
            if key.hasPrefix("GNU.sparse.") {
                throw ArchiveError.header(at: headerOffset, "GNU sparse files are not supported")
            }
            paxRecords.append((key, Array(record[(equals + 1)...])))
            i += length
        }
    }

    private func applyExtensions(to header: inout TarHeader) throws {
        if let longName { header.path = text(longName) }
        if let longLink { header.linkName = text(longLink) }
        for (key, value) in paxRecords {
            switch key {
            case "path": header.path = text(value)
            case "linkpath": header.linkName = text(value)
            case "uname": header.uname = text(value)
            case "gname": header.gname = text(value)
            case "size": header.size = try paxNumber(key, value)
            case "uid": header.uid = Int(try paxNumber(key, value))
            case "gid": header.gid = Int(try paxNumber(key, value))
            case "mtime": header.mtime = try paxTime(value)
            default:
                if key.hasPrefix("SCHILY.xattr.") {
                    header.xattrs[String(key.dropFirst("SCHILY.xattr.".count))] = value
                }
                // Other keys (atime, ctime, comments, vendor records) do not change what is unpacked.
            }
        }
        guard header.size >= 0 else { throw ArchiveError.header(at: headerOffset, "negative size") }
        guard header.size <= Self.maxEntrySize else {
            throw ArchiveError.header(at: headerOffset, "size \(header.size) is too large")
        }
    }

    private func paxNumber(_ key: String, _ value: [UInt8]) throws -> Int64 {
        guard let number = Int64(text(value)), number >= 0 else {
            throw ArchiveError.header(at: headerOffset, "PAX \(key) \(ArchiveError.printable(text(value))) is not a number")
        }
        return number
    }

    /// "seconds[.fraction]", maybe negative; the fraction is kept to nanoseconds.
    private func paxTime(_ value: [UInt8]) throws -> TarHeader.Time {
        let string = text(value)
        let parts = string.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let negative = string.hasPrefix("-")
        guard let seconds = Int64(parts[0].isEmpty || parts[0] == "-" ? "\(parts[0])0" : String(parts[0])) else {
            throw ArchiveError.header(at: headerOffset, "PAX mtime \(ArchiveError.printable(string)) is not a time")
        }
        var nanoseconds: Int32 = 0
        if parts.count == 2 {
            let digits = parts[1].prefix(9)
            guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let fraction = Int32(digits.isEmpty ? "0" : String(digits)) else {
                throw ArchiveError.header(at: headerOffset, "PAX mtime \(ArchiveError.printable(string)) is not a time")
            }
            var scale: Int32 = 1
            for _ in digits.count..<9 { scale *= 10 }
            nanoseconds = fraction * scale
        }
        // -1.5 is 1.5 s before the epoch: seconds -2, nanoseconds 500000000.
        if negative && nanoseconds > 0 {
            guard seconds > Int64.min else {
                throw ArchiveError.header(at: headerOffset, "PAX mtime \(ArchiveError.printable(string)) is out of range")
            }
            return TarHeader.Time(seconds: seconds - 1, nanoseconds: 1_000_000_000 - nanoseconds)
        }
        return TarHeader.Time(seconds: seconds, nanoseconds: nanoseconds)
    }

    // MARK: - Fields

    private func isZeroBlock() -> Bool {
        var i = 0
        while i < TarField.blockSize {
            if block[i] != 0 { return false }
            i += 1
        }
        return true
    }

    private func field(_ range: (Int, Int)) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: block + range.0, count: range.1)
    }

    /// A NUL-terminated string field.
    private func bytes(_ range: (Int, Int)) -> [UInt8] {
        var n = 0
        while n < range.1 && block[range.0 + n] != 0 { n += 1 }
        return Array(UnsafeBufferPointer(start: block + range.0, count: n))
    }

    private func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// Octal (space or NUL terminated), or GNU base-256 when the high bit of the first byte is set.
    private func number(_ range: (Int, Int), _ name: String) throws -> Int64 {
        let start = block + range.0
        let first = start[0]
        if first & 0x80 != 0 {
            // Big-endian two's complement in the remaining bits; 0xff-led fields are negative.
            let invert: UInt8 = first & 0x40 != 0 ? 0xff : 0
            var value: UInt64 = 0
            for i in 0..<range.1 {
                var b = start[i] ^ invert
                if i == 0 { b &= 0x7f }
                guard value >> 56 == 0 else { throw ArchiveError.header(at: headerOffset, "\(name) field overflows") }
                value = value << 8 | UInt64(b)
            }
            guard value >> 63 == 0 else { throw ArchiveError.header(at: headerOffset, "\(name) field overflows") }
            return invert == 0xff ? ~Int64(value) : Int64(value)
        }
        var value: Int64 = 0
        var started = false
        var i = 0
        while i < range.1 {
            let byte = start[i]
            i += 1
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                guard value >> 60 == 0 else { throw ArchiveError.header(at: headerOffset, "\(name) field overflows") }
                value = value << 3 | Int64(byte - UInt8(ascii: "0"))
                started = true
            case UInt8(ascii: " "), 0:
                if started { return value }
            default:
                throw ArchiveError.header(at: headerOffset, "\(name) field is not an octal number")
            }
        }
        return value
    }

    private static func describe(_ flag: UInt8) -> String {
        flag >= 0x21 && flag < 0x7f ? "'\(Character(Unicode.Scalar(flag)))'" : "0x\(String(flag, radix: 16))"
    }
}
