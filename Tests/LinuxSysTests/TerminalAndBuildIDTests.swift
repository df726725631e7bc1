import CLinuxSys
import Foundation
import Glibc
@testable import LinuxSys
import Testing

/// The caller's terminal and the program's own build identity.
@Suite struct TerminalAndBuildIDTests {
    /// A pty pair: the master fd and the slave's, both the caller's to close.
    func pty() throws -> (master: Int32, slave: Int32) {
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        try #require(master >= 0 && berth_pty_unlock(master) == 0)
        let slave = berth_pty_peer(master, O_RDWR | O_NOCTTY | O_CLOEXEC)
        try #require(slave >= 0)
        return (master, slave)
    }

    func echoes(_ fd: Int32) -> Bool {
        var settings = termios()
        tcgetattr(fd, &settings)
        return settings.c_lflag & tcflag_t(ECHO) != 0
    }

    @Test func withoutEchoTurnsEchoOffAndBackEvenOnError() throws {
        let (master, slave) = try pty()
        defer { close(master); close(slave) }
        #expect(echoes(slave))
        let inside = Terminal.withoutEcho(slave) { echoes(slave) }
        #expect(!inside)
        #expect(echoes(slave))
        struct Boom: Error {}
        #expect(throws: Boom.self) { try Terminal.withoutEcho(slave) { () throws(Boom) in throw Boom() } }
        #expect(echoes(slave))
        // Not a terminal: the body runs all the same.
        let devNull = open("/dev/null", O_RDWR)
        defer { close(devNull) }
        #expect(Terminal.withoutEcho(devNull) { 7 } == 7)
    }

    /// What `readelf -n` shows as this test executable's build ID.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/readelf")))
    func buildIDIsTheLinkersNote() throws {
        let id = try #require(ProcessSys.buildID)
        #expect(id.range(of: "^[0-9a-f]{16,}$", options: .regularExpression) != nil, "\(id)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/readelf")
        process.arguments = ["-n", "/proc/\(getpid())/exe"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let notes = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(notes.contains("Build ID: \(id)\n"), "\(notes)")
    }

    @Test func gnuBuildIDSkipsOtherNotes() {
        // An ABI-tag note, then the build ID: name sizes padded to 4, descriptors too.
        var notes: [UInt8] = []
        func note(_ name: [UInt8], _ type: UInt32, _ desc: [UInt8]) {
            for value in [UInt32(name.count), UInt32(desc.count), type] { withUnsafeBytes(of: value.littleEndian) { notes += $0 } }
            notes += name + [UInt8](repeating: 0, count: (4 - name.count % 4) % 4)
            notes += desc + [UInt8](repeating: 0, count: (4 - desc.count % 4) % 4)
        }
        note(Array("GNU\0".utf8), 1, [0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])
        note(Array("Go\0".utf8), 3, [9, 9])
        note(Array("GNU\0".utf8), 3, [0xde, 0xad, 0xbe, 0xef, 0x01])
        #expect(notes.withUnsafeBytes { ProcessSys.gnuBuildID(notes: $0) } == [0xde, 0xad, 0xbe, 0xef, 0x01])
        #expect(Array(notes.prefix(40)).withUnsafeBytes { ProcessSys.gnuBuildID(notes: $0) } == nil)
    }
}
