import Foundation
import TestSupport
import Testing

/// `berth cp` into a running container whose processes race it: the container swaps each name cp
/// has just created for a symlink to a host file, hoping cp's chmod follows it (CVE-2018-15664).
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct CopyRaceTests {
    static let names = 8

    @Test func swappedSymlinksNeverReachAHostFile() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let host = EngineEnv.scratch("h")
        defer { try? FileManager.default.removeItem(atPath: host) }
        var template = Array("/tmp/berth-victim-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        try #require(fd >= 0)
        let victim = String(cString: template)
        _ = write(fd, "victim\n", 7)
        close(fd)
        chmod(victim, 0o600)
        defer { unlink(victim) }

        // The source: directories and fifos of mode 0777, the entries cp chmods by name.
        let source = host + "/h"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        for i in 0..<Self.names {
            mkdir(source + "/d\(i)", 0o777)
            chmod(source + "/d\(i)", 0o777)
            mkfifo(source + "/p\(i)", 0o777)
            chmod(source + "/p\(i)", 0o777)
        }
        let swap = (0..<Self.names).map { i in
            "mv /dst/h/d\(i) /dst/h/x\(i) 2>/dev/null; ln -s \(victim) /dst/h/d\(i) 2>/dev/null; rm -rf /dst/h/x\(i); "
                + "ln -s \(victim) /dst/h/t\(i) 2>/dev/null; mv -f /dst/h/t\(i) /dst/h/p\(i) 2>/dev/null; "
        }.joined()
        try berth.call("run", "-d", "--name", "box", "busybox:test", "sh", "-c", "mkdir -p /dst/h; while :; do \(swap) done")

        var reached: Int?
        let deadline = Date().addingTimeInterval(20)
        for iteration in 1...200 where Date() < deadline {
            _ = try berth.callAnyway(["cp", source, "box:/dst"])
            var st = stat()
            try #require(lstat(victim, &st) == 0)
            if st.st_mode & 0o7777 != 0o600 || st.st_uid != 0 || st.st_gid != 0 {
                reached = iteration
                break
            }
        }
        var st = stat()
        _ = lstat(victim, &st)
        #expect(reached == nil, "cp changed the host file \(victim) at iteration \(reached ?? 0): mode \(String(st.st_mode & 0o7777, radix: 8)), owner \(st.st_uid):\(st.st_gid)")
        #expect((try? String(contentsOfFile: victim, encoding: .utf8)) == "victim\n")
    }
}
