import Archive
import Foundation
import LinuxSys
import Testing

/// Xattrs through the library as the release binary calls them: set/read/list, a layer's
/// capability, user xattr and opaque directory unpacked, and written back into a layer tar.
@Suite struct XattrTests {
    /// security.capability v2 for cap_net_raw+ep (what `setcap cap_net_raw+ep` writes).
    static let netRawEP: [UInt8] = {
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        return le32(0x0200_0001) + le32(1 << 13) + le32(0) + le32(0) + le32(0)
    }()

    @Test func setReadAndListByPathAndFD() throws {
        let tmp = try TempDir()
        let path = tmp.path + "/f"
        try writeBytes(path, Array("x".utf8))
        #expect(Xattr.set(path: path, name: "user.a", value: Array("1".utf8), follow: false) == 0, "errno \(errno)")
        let fd = try FS.open(path, O_RDONLY)
        defer { close(fd) }
        #expect(Xattr.set(fd: fd, name: "user.b", value: Array("22".utf8)) == 0, "errno \(errno)")
        #expect(Xattr.get(path: path, name: "user.a") == Array("1".utf8))
        #expect(Xattr.get(fd: fd, name: "user.b") == Array("22".utf8))
        #expect(Xattr.get(path: path, name: "user.absent") == nil)
        #expect(Set(Xattr.names(path: path)).isSuperset(of: ["user.a", "user.b"]))
        #expect(Set(Xattr.names(fd: fd)).isSuperset(of: ["user.a", "user.b"]))
    }

    @Test(.enabled(if: getuid() == 0, "trusted.* and security.capability need root"))
    func opaqueCapabilityAndUserXattrSurviveUnpackAndWriteTree() throws {
        let tmp = try TempDir()
        let root = try tmp.sub("root")
        var ping = TarHeader(path: "bin/ping", type: .file, mode: 0o755)
        ping.xattrs = ["security.capability": Self.netRawEP, "user.note": Array("hi".utf8)]
        let layer = try unpack(try TarWriter.archive([
            dir("bin"), (ping, Array("ELF".utf8)), dir("etc/x"), file("etc/x/.wh..wh..opq", ""), file("etc/x/new", "n"),
        ]), into: root)
        #expect(layer.warnings.isEmpty, "\(layer.warnings)")
        #expect(Xattr.get(path: root + "/etc/x", name: "trusted.overlay.opaque") == Array("y".utf8))
        #expect(Xattr.get(path: root + "/bin/ping", name: "security.capability") == Self.netRawEP)
        #expect(Xattr.get(path: root + "/bin/ping", name: "user.note") == Array("hi".utf8))

        // As save/push write a snapshot: the opaque marker must come back as .wh..wh..opq.
        var tar: [UInt8] = []
        try TarWriter.writeTree(directory: root, options: .init(overlayWhiteouts: true)) { tar.append(contentsOf: $0) }
        let entries = try TarReader.entries(of: tar)
        #expect(entries.map(\.header.path).contains("etc/x/.wh..wh..opq"))
        let written = entries.first { $0.header.path == "bin/ping" }?.header.xattrs ?? [:]
        #expect(written["security.capability"] == Self.netRawEP)
        #expect(written["user.note"] == Array("hi".utf8))
        #expect(entries.allSatisfy { $0.header.xattrs.keys.allSatisfy { !$0.hasPrefix("trusted.overlay.") } })
    }
}
