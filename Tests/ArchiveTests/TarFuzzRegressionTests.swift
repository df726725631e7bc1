@testable import Archive
import Testing

/// Inputs that crashed `TarReader` (found with Fuzz/, `BERTH_FUZZ_TARGET=tar`; the same bytes are
/// seeds in Fuzz/corpus/tar/regression-*). Each must now be an `ArchiveError`.
@Suite struct TarFuzzRegressionTests {
    /// GNU base-256 for Int64.max in a 12-byte size field.
    static let maxSizeField: [UInt8] = [0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]

    /// An archive whose first entry is a PAX header holding `record`, then `entry`.
    static func paxThen(_ record: String, _ entry: (TarHeader, [UInt8])) throws -> (archive: [UInt8], entryOffset: Int) {
        let body = " \(record)\n"
        var length = body.utf8.count + 1
        while String(length).utf8.count + body.utf8.count != length { length += 1 }
        let text = String(length) + body
        var archive = try TarWriter.archive([file("pax", text), entry])
        archive[156] = UInt8(ascii: "x")
        fixChecksum(&archive, at: 0)
        return (archive, 512 + (text.utf8.count + 511) / 512 * 512)
    }

    /// A skipped entry (GNU volume label, unknown type) of size Int64.max: size + padding overflowed.
    @Test(arguments: ["V", "Q"])
    func hugeSizeOfASkippedEntry(flag: String) throws {
        var archive = try TarWriter.archive([file("label", "")])
        archive[156] = UInt8(ascii: Unicode.Scalar(flag)!)
        archive.replaceSubrange(124..<136, with: Self.maxSizeField)
        fixChecksum(&archive, at: 0)
        let error = archiveError { _ = try TarReader.entries(of: archive, options: .init(skipUnknownEntryTypes: true)) }
        #expect(error?.reason == "size 9223372036854775807 is too large", "\(String(describing: error))")
    }

    /// A GNU dumpdir ('D') whose PAX size is Int64.max and whose header size is not a block multiple.
    @Test func dumpdirWithHugePaxSize() throws {
        var (archive, offset) = try Self.paxThen("size=9223372036854775807", dir("d"))
        archive[offset + 156] = UInt8(ascii: "D")
        archive.replaceSubrange((offset + 124)..<(offset + 136), with: Array("00000000001\0".utf8))
        fixChecksum(&archive, at: offset)
        let error = archiveError { _ = try TarReader.entries(of: archive) }
        #expect(error?.reason == "size 9223372036854775807 is too large", "\(String(describing: error))")
    }

    /// A PAX mtime of Int64.min seconds and a fraction: the borrow of a second overflowed.
    @Test func paxMtimeBelowInt64Min() throws {
        let (archive, _) = try Self.paxThen("mtime=-9223372036854775808.5", file("f", ""))
        let error = archiveError { _ = try TarReader.entries(of: archive) }
        #expect(error?.reason == "PAX mtime -9223372036854775808.5 is out of range", "\(String(describing: error))")
        // The same time without a fraction is representable.
        let (exact, _) = try Self.paxThen("mtime=-9223372036854775808", file("f", ""))
        #expect(try TarReader.entries(of: exact).first?.header.mtime.seconds == Int64.min)
    }
}
