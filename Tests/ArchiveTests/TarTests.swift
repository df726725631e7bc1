@testable import Archive
import Foundation
import Testing

@Suite struct TarTests {
    static let longName = String(repeating: "directory-with-a-long-name/", count: 4) + "and-a-file-name-over-one-hundred-bytes.txt"

    static let entries: [(TarHeader, [UInt8])] = [
        (TarHeader(path: "dir", type: .directory, mode: 0o1777, uid: 1, gid: 2, uname: "daemon", gname: "bin",
                   mtime: .init(seconds: 1_600_000_000)), []),
        (TarHeader(path: "dir/file", mode: 0o4755, uid: 1000, gid: 1000, mtime: .init(seconds: 1_700_000_000, nanoseconds: 123_456_789)),
         Array("hello\n".utf8)),
        (TarHeader(path: longName, mode: 0o600, size: 512), Array(repeating: 7, count: 512)),
        (TarHeader(path: "block-plus-one", size: 513), Array(repeating: 9, count: 513)),
        (TarHeader(path: "empty"), []),
        (TarHeader(path: "big-ids", uid: 3_000_000, gid: 70_000_000, uname: String(repeating: "u", count: 40)), Array("x".utf8)),
        (TarHeader(path: "before-epoch", mtime: .init(seconds: -2, nanoseconds: 500_000_000)), []),
        (TarHeader(path: "caps", xattrs: ["security.capability": [1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                                           "user.note": Array("a=b\nc".utf8)]), []),
        (TarHeader(path: "link", type: .symlink, mode: 0o777, linkName: "dir/" + String(repeating: "t", count: 150)), []),
        (TarHeader(path: "hard", type: .hardlink, linkName: "dir/file"), []),
        (TarHeader(path: "null", type: .characterDevice, mode: 0o666, devMajor: 1, devMinor: 3), []),
        (TarHeader(path: "loop", type: .blockDevice, mode: 0o660, devMajor: 7, devMinor: 3_000_000), []),
        (TarHeader(path: "pipe", type: .fifo, mode: 0o644), []),
        (TarHeader(path: "ünïcødé/名前", type: .directory), []),
    ]

    @Test func writerThenReaderRoundTrips() throws {
        let archive = try TarWriter.archive(Self.entries)
        #expect(archive.count % 512 == 0)
        #expect(try TarWriter.archive(Self.entries) == archive, "deterministic")
        let read = try TarReader.entries(of: archive)
        #expect(read.count == Self.entries.count)
        for ((expected, data), (header, readData)) in zip(Self.entries, read) {
            var expected = expected
            if expected.type == .directory { expected.path += "/" }
            if expected.type == .file { expected.size = Int64(data.count) }
            #expect(header == expected)
            #expect(readData == data, "\(expected.path)")
        }
    }

    @Test(arguments: [1, 7, 511, 513, 100_000])
    func chunkedFeedingGivesTheSameEntries(_ chunk: Int) throws {
        let archive = try TarWriter.archive(Self.entries)
        final class Recorder: TarEntryHandler {
            var events: [String] = []
            func entry(_ header: TarHeader) throws { events.append("h \(header.path) \(header.size)") }
            func data(_ chunk: UnsafeRawBufferPointer) throws {
                if events.last?.hasPrefix("d ") == true { events[events.count - 1] += fingerprint(Array(chunk)) } else { events.append("d " + fingerprint(Array(chunk))) }
            }
            func endOfEntry() throws { events.append("e") }
        }
        func run(_ size: Int) throws -> [String] {
            let reader = TarReader()
            let recorder = Recorder()
            try archive.withUnsafeBytes { raw in
                for start in stride(from: 0, to: raw.count, by: size) {
                    try reader.feed(UnsafeRawBufferPointer(rebasing: raw[start..<min(start + size, raw.count)]), to: recorder)
                }
            }
            try reader.finish()
            #expect(reader.reachedEnd)
            return recorder.events.map { $0.hasPrefix("d ") ? "d" : $0 }
        }
        #expect(try run(chunk) == run(archive.count))
    }

    @Test func gnuTarReadsWhatTheWriterWrites() throws {
        let tmp = try TempDir()
        try writeBytes(tmp.path + "/a.tar", try TarWriter.archive(Self.entries.filter { $0.0.type != .hardlink }))
        let listing = try shell("tar -tvf \(tmp.path)/a.tar --numeric-owner").stdout
        #expect(listing.contains(Self.longName))
        #expect(listing.contains("3000000/70000000"))
        #expect(listing.contains("-rwsr-xr-x 1000/1000"))
        #expect(listing.contains("drwxrwxrwt 1/2"))
        let xattrs = try shell("tar --xattrs --xattrs-include='*' -tvvf \(tmp.path)/a.tar").stdout
        #expect(xattrs.contains("user.note"), "\(xattrs)")
    }

    @Test(arguments: ["gnu", "pax", "ustar", "v7"])
    func readsGnuTarArchives(_ format: String) throws {
        let tmp = try TempDir()
        let src = try tmp.sub("src")
        // v7 has neither fifos nor names over 99 bytes; ustar no link targets over 100.
        let deep = format == "v7" ? "a/b" : "a/" + String(repeating: "n", count: 60) + "/" + String(repeating: "m", count: 60)
        let longFile = deep + "/file-" + String(repeating: "x", count: 20)
        let linkTarget = format == "gnu" || format == "pax" ? String(repeating: "t", count: 120) : "short"
        try shell("""
            cd \(src) && mkdir -p \(deep) && printf hello > \(longFile) && ln -s \(linkTarget) sym \
            && ln \(longFile) hard && touch -d @1700000000 \(longFile) && \(format == "v7" ? "true" : "mkfifo fifo")
            """)
        try shell("tar --format=\(format) -C \(src) -cf \(tmp.path)/a.tar .")
        let entries = try TarReader.entries(of: readBytes(tmp.path + "/a.tar"))
        let names = Set(entries.map { $0.header.path })
        let tarNames = Set(try shell("tar -tf \(tmp.path)/a.tar").stdout.split(separator: "\n").map(String.init))
        #expect(names == tarNames)
        // Whichever of the two names tar met first carries the data; the other links to it.
        let pair = entries.filter { $0.header.path == "./" + longFile || $0.header.path == "./hard" }
        let data = try #require(pair.first { $0.header.type == .file })
        let link = try #require(pair.first { $0.header.type == .hardlink })
        #expect(data.data == Array("hello".utf8))
        #expect(data.header.mtime.seconds == 1_700_000_000)
        #expect(link.header.linkName == data.header.path)
        #expect(entries.first { $0.header.path == "./sym" }?.header.linkName == linkTarget)
        if format != "v7" { #expect(entries.first { $0.header.path == "./fifo" }?.header.type == .fifo) }
    }

    @Test func base256NumbersAreRead() throws {
        var archive = try TarWriter.archive([(TarHeader(path: "f", uid: 5), [])])
        // uid field (108, 8 bytes) as GNU base-256: 0x80 then big-endian 2^40.
        let uid: [UInt8] = [0x80, 0, 0x01, 0, 0, 0, 0, 0]
        archive.replaceSubrange(108..<116, with: uid)
        fixChecksum(&archive, at: 0)
        #expect(try TarReader.entries(of: archive).first?.header.uid == 1 << 40)
        // A negative (0xff-led) mtime.
        archive.replaceSubrange(136..<148, with: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])
        fixChecksum(&archive, at: 0)
        #expect(try TarReader.entries(of: archive).first?.header.mtime.seconds == -2)
    }

    @Test func badChecksumNamesTheOffset() throws {
        var archive = try TarWriter.archive([file("a", "1"), file("b", "2")])
        archive[1024 + 3] ^= 0x20   // a byte of the second header's name
        let error = archiveError { _ = try TarReader.entries(of: archive) }
        #expect(error?.context == "tar header at offset 1024")
        #expect(error?.reason.hasPrefix("bad checksum") == true, "\(String(describing: error))")
    }

    @Test func truncatedArchivesAreErrors() throws {
        let archive = try TarWriter.archive([file("a", String(repeating: "z", count: 2000))])
        let midData = archiveError { _ = try TarReader.entries(of: Array(archive.prefix(1000))) }
        #expect(midData?.description == "tar entry a: archive truncated: 488 of 2000 data bytes present")
        let midHeader = archiveError { _ = try TarReader.entries(of: Array(archive.prefix(300))) }
        #expect(midHeader?.description == "tar header at offset 0: archive truncated inside a header block")
        let midPadding = archiveError { _ = try TarReader.entries(of: Array(archive.prefix(512 + 2000 + 10))) }
        #expect(midPadding != nil)
        // Missing end-of-archive blocks at an entry boundary are tolerated (as GNU tar and Go do).
        #expect(try TarReader.entries(of: Array(archive.prefix(512 + 2048))).count == 1)
    }

    @Test func garbageIsAnError() throws {
        var garbage = [UInt8](repeating: 0, count: 2048)
        for i in garbage.indices { garbage[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 7) }
        let error = archiveError { _ = try TarReader.entries(of: garbage) }
        #expect(error?.context == "tar header at offset 0", "\(String(describing: error))")
    }

    @Test func unsupportedAndUnknownTypes() throws {
        var archive = try TarWriter.archive([file("sparse", ""), file("next", "n")])
        archive[156] = UInt8(ascii: "S")
        fixChecksum(&archive, at: 0)
        #expect(archiveError { _ = try TarReader.entries(of: archive) }?.reason == "GNU sparse files are not supported")
        archive[156] = UInt8(ascii: "Q")
        fixChecksum(&archive, at: 0)
        #expect(archiveError { _ = try TarReader.entries(of: archive) }?.reason.hasPrefix("unknown entry type 'Q'") == true)
        let skipped = try TarReader.entries(of: archive, options: .init(skipUnknownEntryTypes: true))
        #expect(skipped.map(\.header.path) == ["next"])
    }

    @Test func paxRecordLengthsCountThemselves() {
        // 9 bytes of payload + 1 digit = 10: two digits, so 11.
        #expect(TarWriter.paxRecord("k", Array("12345".utf8)) == Array("11 k=12345\n".utf8))
        #expect(TarWriter.paxRecord("path", Array("a".utf8)) == Array("9 path=a\n".utf8))
        #expect(TarWriter.formatTime(.init(seconds: 5, nanoseconds: 120_000_000)) == "5.12")
        #expect(TarWriter.formatTime(.init(seconds: -2, nanoseconds: 500_000_000)) == "-1.5")
    }

    @Test func writerChecksSizes() throws {
        let writer = TarWriter { _ in }
        try writer.writeHeader(TarHeader(path: "a", size: 3))
        #expect(throws: ArchiveError.self) { try writer.writeData(Array("four".utf8)) }
        try writer.writeData(Array("ab".utf8))
        #expect(throws: ArchiveError.self) { try writer.writeHeader(TarHeader(path: "b")) }
        #expect(throws: ArchiveError.self) { try writer.finish() }
    }
}

func fixChecksum(_ archive: inout [UInt8], at offset: Int) {
    for i in 148..<156 { archive[offset + i] = UInt8(ascii: " ") }
    let sum = archive[offset..<(offset + 512)].reduce(0) { $0 + Int($1) }
    let digits = Array(String(sum, radix: 8).utf8)
    let field = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits + [0, UInt8(ascii: " ")]
    archive.replaceSubrange((offset + 148)..<(offset + 156), with: field)
}
