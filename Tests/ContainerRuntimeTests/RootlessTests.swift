import Foundation
import OCI
import TestSupport
import Testing

/// berth-runtime run by an ordinary user (nobody, 65534): a bundle from `spec --rootless` runs in a
/// user namespace mapping that user to root, without cgroups, and exec, kill and delete work.
@Suite(.enabled(if: Env.canRunContainers && Env.has("setpriv"), "needs root (to become nobody), setpriv and a built berth-runtime"))
struct RootlessTests {
    static let uid: UInt32 = 65534

    /// Runs berth-runtime as nobody with its own state root.
    struct AsNobody {
        let root: String

        func callAsFunction(_ arguments: String...) throws -> Output {
            try sh(["/usr/bin/setpriv", "--reuid=\(RootlessTests.uid)", "--regid=\(RootlessTests.uid)", "--clear-groups",
                    Env.berth, "--root", root] + arguments,
                   environment: ["PATH": "/usr/bin:/bin", "HOME": "/"])
        }
    }

    func rootlessBundle(args: [String]) throws -> (TestBundle, AsNobody) {
        let bundle = try TestBundle(args: args)
        let state = bundle.directory + "/state-nobody"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        _ = try sh(["/bin/chown", "-R", "\(Self.uid):\(Self.uid)", bundle.directory])
        return (bundle, AsNobody(root: state))
    }

    @Test func specRootlessWritesAConfigForTheCaller() throws {
        let (bundle, berth) = try rootlessBundle(args: ["/bin/true"])
        let dir = bundle.directory + "/spec"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try sh(["/bin/chown", "\(Self.uid)", dir])
        let result = try berth("spec", "--rootless", "--bundle", dir)
        #expect(result.status == 0, "\(result.stderr)")
        let spec = try Spec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))))
        #expect(spec.linux?.uidMappings == [IDMapping(containerID: 0, hostID: Self.uid, size: 1)])
        #expect(spec.linux?.namespaces?.contains { $0.type == .user } == true)
        #expect(spec.linux?.namespaces?.contains { $0.type == .network } == false)
    }

    @Test func runsExecsAndDeletesWithoutRoot() throws {
        let (bundle, berth) = try rootlessBundle(args: ["/bin/sh", "-c", "id -u; cat /proc/self/uid_map; echo $$"])
        var spec = Spec.rootlessSpec(uid: Self.uid, gid: Self.uid)
        spec.process?.terminal = false
        spec.process?.args = bundle.spec.process?.args
        bundle.spec = spec
        try bundle.write()
        let run = try berth("run", "--bundle", bundle.path, Env.uniqueID("rl"))
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines == ["0", "0 65534 1", "1"])

        bundle.spec.process?.args = ["/bin/sleep", "100"]
        try bundle.write()
        let id = Env.uniqueID("rld")
        let started = try berth("run", "-d", "--bundle", bundle.path, id)
        #expect(started.status == 0, "\(started.stderr)")
        let exec = try berth("exec", id, "sh", "-c", "id -u; echo $$")
        #expect(exec.status == 0, "\(exec.stderr)")
        #expect(exec.stdout.split(separator: "\n").first == "0")
        let ps = try berth("ps", "--format", "json", id)
        #expect(ps.stdout.split(separator: ",").count == 1, "\(ps.stdout)")
        let paused = try berth("pause", id)
        #expect(paused.status == 1)
        #expect(paused.stderr.contains("no cgroup"))
        #expect(try berth("kill", id, "KILL").status == 0)
        try waitUntil { try berth("state", id).stdout.contains("stopped") }
        #expect(try berth("delete", id).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: berth.root).isEmpty)
    }

    @Test func limitsWithoutDelegatedCgroupsAreRefused() throws {
        let (bundle, berth) = try rootlessBundle(args: ["/bin/true"])
        var spec = Spec.rootlessSpec(uid: Self.uid, gid: Self.uid)
        spec.process?.terminal = false
        spec.process?.args = ["/bin/true"]
        spec.linux?.resources = Resources(memory: MemoryLimits(limit: 64 << 20))
        bundle.spec = spec
        try bundle.write()
        let result = try berth("run", "--bundle", bundle.path, Env.uniqueID("rlres"))
        #expect(result.status == 1)
        #expect(result.stderr.contains("linux.resources"), "\(result.stderr)")
    }
}
