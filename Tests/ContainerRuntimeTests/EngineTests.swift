import Foundation
import TestSupport
import Testing

/// Docker, Podman and containerd (its own API and its CRI plugin) driving berth-runtime: each engine's
/// script (Tests/Scripts/engines/) starts its own daemon, runs containers from a locally made busybox
/// image through berth-runtime and checks what a user of that engine sees. The scripts were made
/// known-good with runc. Each must leave the host's links, iptables rules and mounts as it found them.
/// Serialized: two engines setting up bridge networks and iptables at once would race.
@Suite(.serialized, .enabled(if: Env.canRunContainers, "needs root and a built berth-runtime"))
struct EngineTests {
    static let scripts = Env.packageRoot + "/Tests/Scripts/engines/"

    func runScript(_ name: String, needs programs: [String]) throws {
        for program in programs {
            try #require(Env.has(program), "\(program) is not installed (scripts/test installs it)")
        }
        let before = try HostState.now()
        let result = try sh(["/bin/bash", Self.scripts + name, Env.berth])
        let failures = result.stdout.split(separator: "\n").filter { $0.hasPrefix("not ok") || $0.hasPrefix("#") }
        #expect(result.status == 0, "\(name) with berth-runtime:\n\(failures.joined(separator: "\n"))\n\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains(" 0 failed"), "\(result.stdout.suffix(300))")
        let after = try HostState.now()
        #expect(after.host == before.host, "\(name) changed the host: \(HostState.difference(before.host, after.host))")
        #expect(after.leftovers.isSubset(of: before.leftovers),
                "\(name) left behind: \(after.leftovers.subtracting(before.leftovers).sorted())")
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

    /// containerd's CRI plugin with handlers runc and berth, driven by a CRI client as a kubelet would
    /// (issue 20); also checks that berth-runtime answered each of the shim's calls with runc's status.
    @Test func cri() throws {
        try runScript("cri.sh", needs: ["containerd", "containerd-shim-runc-v2", "runc", "gcc", "skopeo", "docker-registry"])
    }
}

/// The host's network links, iptables rules (iptables-save, its packet counters left out) and mount
/// points, in two parts. `host`: what neither the engine scripts nor Berth's other tests make, which
/// those tests, running beside these, change meanwhile (veths, br-* and berth* links and the rules
/// naming them, CNI's chains, mounts under /tmp, /var/tmp, /run and /var/lib); no script may change
/// it (docker.sh once deleted the host dockerd's docker0). `leftovers`: what bears the scripts' own
/// names (their bridges, subnets, directories), none of which may stay behind.
struct HostState {
    var host: Set<String> = []
    var leftovers: Set<String> = []

    static let testMade = ["veth", "br-", "berth", "CNI-", "cni-podman", "10.88."]
    static let testDirectories = ["/tmp/", "/var/tmp/", "/run/", "/var/lib/"]
    /// podman.sh's and cri.sh's bridges and subnets (docker.sh's dockerd has a network namespace of its own).
    static let scriptNetworks = ["berth-pmsh0", "berth-cri", "10.89.254.", "10.89.252."]
    static let scriptDirectories = ["/var/tmp/berth-engine-tests/", "/run/berth-test-"]

    static func now() throws -> HostState {
        var state = HostState()
        func add(_ kind: String, _ item: String, madeByTests: Bool) {
            let names = kind == "mount" ? scriptDirectories : scriptNetworks
            if names.contains(where: item.contains) { state.leftovers.insert(kind + " " + item) }
            else if !madeByTests { state.host.insert(kind + " " + item) }
        }
        // "3: eth0@if5: <...>": the name, without the peer.
        for line in try sh(["/sbin/ip", "-o", "link", "show"]).stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { continue }
            let name = String(fields[1].split(separator: "@")[0].split(separator: ":")[0])
            add("link", name, madeByTests: testMade.contains { name.hasPrefix($0) })
        }
        if let iptablesSave = executable("iptables-save") {
            for line in try sh([iptablesSave]).stdout.split(separator: "\n") where !line.hasPrefix("#") {
                let rule = line.replacingOccurrences(of: #"\[\d+:\d+\]"#, with: "", options: .regularExpression)
                add("rule", rule, madeByTests: testMade.contains(where: rule.contains))
            }
        }
        // Field 5 of mountinfo is the mount point.
        for line in try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { continue }
            let point = String(fields[4])
            add("mount", point, madeByTests: testDirectories.contains { point.hasPrefix($0) })
        }
        return state
    }

    static func difference(_ before: Set<String>, _ after: Set<String>) -> String {
        "gone: \(before.subtracting(after).sorted()), new: \(after.subtracting(before).sorted())"
    }
}
