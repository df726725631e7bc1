@testable import Archive
import Foundation
import LinuxSys
import Testing

/// Layers built to escape the snapshot directory. Each must either land inside it or fail with an
/// error naming the entry, and never touch the host.
@Suite struct HostileLayerTests {
    static let marker = "berth-escape-test-\(getpid())"
    static let climb = String(repeating: "../", count: 20)

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var entries: @Sendable () -> [(TarHeader, [UInt8])]
        /// The entry an error must name, or nil if the layer must unpack (contained).
        var rejectedEntry: String?
        /// For contained cases: where the payload must land inside the root.
        var landsAt: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "dot-dot climbs out", entries: { [file(climb + "etc/" + marker, "x")] },
             rejectedEntry: climb + "etc/" + marker),
        Case(name: "dot-dot inside a path", entries: { [file("a/../../" + marker, "x")] }, rejectedEntry: "a/../../" + marker),
        Case(name: "absolute path", entries: { [file("/etc/" + marker, "x")] }, landsAt: "etc/" + marker),
        Case(name: "absolute symlink dir then a file beneath", entries: {
            [symlink("evil", to: "/etc"), file("evil/" + marker, "x")]
        }, landsAt: "etc/" + marker),
        Case(name: "relative symlink climbing out then a file beneath", entries: {
            [symlink("up", to: climb + "etc"), file("up/" + marker, "x")]
        }, landsAt: "etc/" + marker),
        Case(name: "symlink chain to the host", entries: {
            [dir("a"), symlink("a/b", to: "../../../.."), symlink("c", to: "a/b/etc"), file("c/" + marker, "x")]
        }, landsAt: "etc/" + marker),
        Case(name: "hardlink climbing out", entries: { [hardlink("h", to: climb + "etc/passwd")] },
             rejectedEntry: "h"),
        Case(name: "hardlink to an absolute host path", entries: { [hardlink("h", to: "/etc/passwd")] }, rejectedEntry: "h"),
        Case(name: "symlink then a hardlink through it", entries: {
            [symlink("s", to: "/etc"), hardlink("h", to: "s/passwd")]
        }, rejectedEntry: "h"),
        Case(name: "dir replaced by a symlink, then a file beneath", entries: {
            [dir("d"), file("d/x", "x"), symlink("d", to: "/etc"), file("d/" + marker, "x")]
        }, landsAt: "etc/" + marker),
        Case(name: "file over a symlink to the host", entries: {
            [symlink("f", to: "/etc/" + marker), file("f", "x")]
        }, landsAt: "f"),
        Case(name: "whiteout through a symlink", entries: {
            [symlink("w", to: "/etc"), file("w/.wh." + marker, "")]
        }, landsAt: "etc/" + marker),
        Case(name: "opaque marker through a symlink", entries: {
            [symlink("o", to: "/tmp"), file("o/.wh..wh..opq", "")]
        }, landsAt: "tmp"),
        Case(name: "final dot-dot", entries: { [dir("a"), file("a/..", "x")] }, rejectedEntry: "a/.."),
        Case(name: "non-directory at the root", entries: { [file("./", "x")] }, rejectedEntry: "./"),
    ]

    @Test(arguments: cases)
    func staysInsideTheRoot(_ hostile: Case) throws {
        let tmp = try TempDir()
        let root = try tmp.sub("a/b/c/root")
        let passwd = try FS.lstat("/etc/passwd")
        let error = archiveError { try unpack(try TarWriter.archive(hostile.entries()), into: root) }
        print("\(hostile.name): \(error?.description ?? "contained")")

        #expect(!FS.exists("/etc/" + Self.marker), "wrote the host's /etc")
        #expect(!FS.exists(tmp.path + "/a/b/c/etc/" + Self.marker) && !FS.exists(tmp.path + "/etc/" + Self.marker))
        #expect(!FS.exists("/tmp/etc/" + Self.marker))
        #expect(Xattr.get(path: "/tmp", name: "trusted.overlay.opaque") == nil)
        let after = try FS.lstat("/etc/passwd")
        #expect(after.st_nlink == passwd.st_nlink && after.st_mtim.tv_sec == passwd.st_mtim.tv_sec, "host /etc/passwd touched")
        _ = unlink("/etc/" + Self.marker)

        if let rejected = hostile.rejectedEntry {
            #expect(error?.context == "layer entry " + rejected, "\(hostile.name): \(String(describing: error))")
        } else {
            #expect(error == nil, "\(hostile.name): \(String(describing: error))")
            if let landsAt = hostile.landsAt { #expect(FS.exists(root + "/" + landsAt) || (try? FS.lstat(root + "/" + landsAt)) != nil) }
        }
    }

    @Test func pathsAreCleaned() throws {
        func clean(_ raw: String) throws -> String { try EntryPath(raw).cleaned }
        #expect(try clean("./a") == "a")
        #expect(try clean("a//b/") == "a/b")
        #expect(try clean("/abs/./x") == "abs/x")
        #expect(try clean("a/../b") == "b")
        #expect(try EntryPath("./").isRoot && EntryPath(".").isRoot && EntryPath("/").isRoot)
        #expect(throws: EntryPath.PathError.climbsOut) { try EntryPath("../x") }
        #expect(throws: EntryPath.PathError.dotComponent) { try EntryPath("a/..") }
        #expect(throws: EntryPath.PathError.dotComponent) { try EntryPath("a/.") }
        #expect(throws: EntryPath.PathError.containsNUL) { try EntryPath("a\0b") }
    }

    @Test func errorsShowControlCharactersEscaped() {
        #expect(ArchiveError.entry("a\nb\u{1b}", "x").description == "layer entry a\\xab\\x1b: x")
    }
}
