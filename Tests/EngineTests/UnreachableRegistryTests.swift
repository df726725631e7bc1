import Foundation
import TestSupport
import Testing

/// A registry that refuses connections, or a name that does not resolve, fails a pull at once
/// with an error naming it (it took 180 s: three attempts, each waiting out a 60 s deadline).
@Suite(.enabled(if: EngineEnv.ready))
struct UnreachableRegistryTests {
    @Test(arguments: ["127.0.0.1:PORT/x:1", "nosuch.invalid/x:1"])
    func pullFailsFast(reference: String) throws {
        let berth = try BerthEngine(loadBusybox: false)
        defer { berth.remove() }
        let name = reference.replacingOccurrences(of: "PORT", with: "\(NetworkTests.freePort())")
        let started = Date()
        let result = try berth.callAnyway(["pull", name])
        let took = Date().timeIntervalSince(started)
        #expect(result.status != 0)
        #expect(result.stderr.contains(String(name.split(separator: "/")[0])), "\(result.stderr)")
        #expect(took < 5, "pull \(name) took \(took) s")
    }
}
