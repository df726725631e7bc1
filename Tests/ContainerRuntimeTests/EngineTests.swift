import Foundation
import TestSupport
import Testing

/// Docker, Podman and containerd driving berth-runtime: each engine's script (Tests/Scripts/engines/) starts
/// its own daemon, runs containers from a locally made busybox image through berth-runtime and
/// checks what a user of that engine sees. The scripts were made known-good with runc.
/// Serialized: two engines setting up bridge networks and iptables at once would race.
@Suite(.serialized, .enabled(if: Env.canRunContainers, "needs root and a built berth-runtime"))
struct EngineTests {
    static let scripts = Env.packageRoot + "/Tests/Scripts/engines/"

    func runScript(_ name: String, needs programs: [String]) throws {
        for program in programs {
            try #require(Env.has(program), "\(program) is not installed (scripts/test installs it)")
        }
        let result = try sh(["/bin/bash", Self.scripts + name, Env.berth])
        let failures = result.stdout.split(separator: "\n").filter { $0.hasPrefix("not ok") || $0.hasPrefix("#") }
        #expect(result.status == 0, "\(name) with berth-runtime:\n\(failures.joined(separator: "\n"))\n\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains(" 0 failed"), "\(result.stdout.suffix(300))")
    }

    @Test func docker() throws {
        try runScript("docker.sh", needs: ["dockerd", "containerd"])
    }

    @Test func podman() throws {
        try runScript("podman.sh", needs: ["podman", "conmon"])
    }

    @Test func containerd() throws {
        try runScript("containerd.sh", needs: ["containerd", "ctr"])
    }
}
