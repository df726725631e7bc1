import Archive
import Foundation
import LinuxSys
import Testing

@Suite struct WhiteoutTests {
    @Test func whiteoutsBecomeOverlayMarkers() throws {
        let tmp = try TempDir()
        let root = try tmp.sub("root")
        let layer = try unpack(try TarWriter.archive([
            dir("etc"), file("etc/.wh.motd", ""), dir("var/cache"), file("var/cache/.wh..wh..opq", ""),
            file(".wh..wh.plnk", ""), file("etc/.wh.gone-dir", "whiteouts may carry data; it is ignored"),
            file("etc/kept", "k"),
        ]), into: root)
        #expect(layer.entryCount == 7)
        let motd = try FS.lstat(root + "/etc/motd")
        #expect(motd.st_mode & S_IFMT == S_IFCHR)
        #expect(motd.st_rdev == 0)
        #expect(motd.st_uid == 0 && motd.st_gid == 0)
        #expect(try FS.lstat(root + "/etc/gone-dir").st_mode & S_IFMT == S_IFCHR)
        #expect(Xattr.get(path: root + "/var/cache", name: "trusted.overlay.opaque") == Array("y".utf8))
        #expect(!FS.exists(root + "/.wh..wh.plnk") && !FS.exists(root + "/etc/.wh.motd") && !FS.exists(root + "/var/cache/.wh..wh..opq"))
        #expect(try FS.list(path: root).sorted() == ["etc", "var"])
    }

    @Test func overlayXattrsFromTheArchiveAreDropped() throws {
        let tmp = try TempDir()
        let root = try tmp.sub("root")
        var forged = TarHeader(path: "d", type: .directory, mode: 0o755)
        forged.xattrs = ["trusted.overlay.redirect": Array("/elsewhere".utf8), "user.fine": Array("ok".utf8)]
        let layer = try unpack(try TarWriter.archive([(forged, [])]), into: root)
        #expect(Xattr.get(path: root + "/d", name: "trusted.overlay.redirect") == nil)
        #expect(Xattr.get(path: root + "/d", name: "user.fine") == Array("ok".utf8))
        #expect(layer.warnings.count == 1 && layer.warnings[0].contains("trusted.overlay.redirect"))
    }

    @Test func invalidWhiteoutNamesAreErrors() throws {
        let tmp = try TempDir()
        let error = archiveError { try unpack(try TarWriter.archive([file("a/.wh.", "")]), into: try tmp.sub("r")) }
        #expect(error?.context == "layer entry a/.wh.")
    }

    /// The unpacked layers, stacked by the kernel's overlayfs, hide what the upper layer deleted.
    @Test(.enabled(if: getuid() == 0, "mounting overlayfs needs root"))
    func overlayStacksTheLayers() throws {
        let tmp = try TempDir()
        let lower = try tmp.sub("lower"), upper = try tmp.sub("upper"), merged = try tmp.sub("merged")
        try unpack(try TarWriter.archive([
            file("gone", "deleted above"), dir("cache"), file("cache/old", "hidden by opaque"), file("keep", "kept"),
            dir("dir"), file("dir/one", "1"), file("dir/two", "2"),
        ]), into: lower)
        try unpack(try GzipCompressor.compressAll(try TarWriter.archive([
            file(".wh.gone", ""), dir("cache"), file("cache/.wh..wh..opq", ""), file("cache/new", "new"),
            dir("dir"), file("dir/.wh.one", ""), file("dir/three", "3"),
        ])), into: upper)
        try MountSys.mount(source: "overlay", target: merged, type: "overlay", flags: 0, data: "lowerdir=\(upper):\(lower)")
        defer { try? MountSys.umount(merged) }
        #expect(!FS.exists(merged + "/gone"))
        #expect(try FS.readText(merged + "/keep") == "kept")
        #expect(try FS.list(path: merged + "/cache") == ["new"])
        #expect(try FS.list(path: merged + "/dir").sorted() == ["three", "two"])
    }
}
