import Archive
import Foundation
import LinuxSys
import Testing

@Suite struct TreeWriterTests {
    /// A directory tarred by writeTree and unpacked again is the same tree, and the tar is deterministic.
    @Test func treeRoundTripsThroughTheUnpacker() throws {
        let tmp = try TempDir()
        let src = try tmp.sub("src"), copy = try tmp.sub("copy")
        try LayerUnpackerTests.makeSourceTree(src)
        var tar: [UInt8] = []
        try TarWriter.writeTree(directory: src) { tar.append(contentsOf: $0) }
        var again: [UInt8] = []
        try TarWriter.writeTree(directory: src) { again.append(contentsOf: $0) }
        #expect(tar == again)
        let layer = try unpack(tar, into: copy)
        #expect(layer.warnings.isEmpty)
        let expected = try listing(src), actual = try listing(copy)
        for (e, a) in zip(expected, actual) where e != a { Issue.record("source: \(e)\ncopy:   \(a)") }
        #expect(expected.count == actual.count)
        // And GNU tar reads it: hardlinks, long names and all.
        try writeBytes(tmp.path + "/tree.tar", tar)
        let names = try shell("tar -tf \(tmp.path)/tree.tar").stdout.split(separator: "\n")
        #expect(names.count == layer.entryCount)
    }

    /// An overlay upper directory tars back into OCI whiteouts.
    @Test func overlayMarkersBecomeWhiteouts() throws {
        let tmp = try TempDir()
        let root = try tmp.sub("root")
        try unpack(try TarWriter.archive([dir("etc"), file("etc/.wh.motd", ""), dir("var"), file("var/.wh..wh..opq", ""), file("var/x", "x")]), into: root)
        var tar: [UInt8] = []
        try TarWriter.writeTree(directory: root, options: .init(overlayWhiteouts: true)) { tar.append(contentsOf: $0) }
        let entries = try TarReader.entries(of: tar)
        #expect(entries.map(\.header.path) == ["etc/", "etc/.wh.motd", "var/", "var/.wh..wh..opq", "var/x"])
        #expect(entries.allSatisfy { $0.header.xattrs.isEmpty })
    }
}
