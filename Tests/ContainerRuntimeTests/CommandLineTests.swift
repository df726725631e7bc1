import Foundation
import OCI
import TestSupport
import Testing

/// runc's command line as engines call it: flag spellings, spec, features, pid files, --no-pivot.
@Suite(.enabled(if: Env.canRunContainers, "needs root, busybox-static and a built berth-runtime"))
struct CommandLineTests {
    @Test func rootWithEqualsSignAsConmonPassesIt() throws {
        let bundle = try TestBundle(args: ["/bin/sleep", "100"])
        try bundle.write()
        let root = bundle.directory + "/eq-root"
        let id = Env.uniqueID("eq")
        #expect(try sh([Env.berth, "--root=\(root)", "create", "--bundle=\(bundle.path)", id]).status == 0)
        #expect(try sh([Env.berth, "-root", root, "state", id]).stdout.contains("\"created\""))
        #expect(try sh([Env.berth, "--root", root, "kill", id, "KILL"]).status == 0)
        #expect(try sh([Env.berth, "--root", root, "delete", "--force", id]).status == 0)
    }

    @Test func pidFileHoldsTheInitPid() throws {
        let bundle = try TestBundle(args: ["/bin/sleep", "100"])
        try bundle.write()
        let berth = RuntimeCLI.berth(bundle)
        let id = Env.uniqueID("pidfile")
        let pidFile = bundle.directory + "/init.pid"
        #expect(try berth("create", "--bundle", bundle.path, "--pid-file", pidFile, id).status == 0)
        defer { _ = try? berth("delete", "-f", id) }
        let written = try String(contentsOfFile: pidFile, encoding: .utf8)
        #expect(Int(written) == (try berth.state(id)?["pid"] as? Int))
    }

    @Test func specWritesRuncsDefaultsAndRefusesToOverwrite() throws {
        let bundle = try TestBundle()
        let directory = bundle.directory + "/fresh"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(try sh([Env.berth, "spec", "--bundle", directory]).status == 0)
        let spec = try Spec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/config.json"))))
        try spec.validate()
        #expect(spec.process?.args == ["sh"] && spec.root?.path == "rootfs" && spec.root?.readonly == true)
        let again = try sh([Env.berth, "spec", "--bundle", directory])
        #expect(again.status == 1 && again.stderr.contains("exists"))
        #expect(try sh([Env.berth, "spec", "--rootless", "--bundle", bundle.directory]).status == 0)
        let rootless = try Spec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: bundle.directory + "/config.json"))))
        #expect(rootless.linux?.namespaces?.contains { $0.type == .user } == true)
    }

    @Test func featuresDescribesThisBuild() throws {
        let output = try sh([Env.berth, "features"])
        #expect(output.status == 0)
        let features = try JSONDecoder().decode(Features.self, from: Data(output.stdout.utf8))
        #expect(features.ociVersionMin == "1.0.0")
        #expect(features.hooks.contains("createContainer"))
        #expect(features.mountOptions.contains("rro"))
        #expect(Set(features.linux.namespaces) == ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"])
        #expect(features.linux.capabilities.count == 41)
        #expect(features.linux.seccomp.enabled == true)
        #expect(features.linux.seccomp.supportedFlags?.contains("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == false,
                "libseccomp 2.5 cannot set it, so it must not be claimed")
        #expect(features.linux.mountExtensions.idmap.enabled == true)
    }

    @Test func systemdCgroupWithoutSystemdIsAClearError() throws {
        try #require(!FileManager.default.fileExists(atPath: "/run/systemd/system"))
        let output = try sh([Env.berth, "--systemd-cgroup", "list"])
        #expect(output.status == 1)
        #expect(output.stderr.contains("systemd is not running"))
    }

    @Test func versionAndUnknownFlags() throws {
        #expect(try sh([Env.berth, "--version"]).stdout.hasPrefix("berth-runtime version"))
        let bad = try sh([Env.berth, "create", "--no-such-flag", "x"])
        #expect(bad.status == 1 && bad.stderr.contains("flag provided but not defined: -no-such-flag"))
        let signal = try sh([Env.berth, "--root", "/tmp/berth-nonexistent-root", "kill", "x", "NOPE"])
        #expect(signal.status == 1 && signal.stderr.contains("unknown signal"))
    }

    @Test func noPivotAndAbsoluteCgroupsPathWork() throws {
        let bundle = try TestBundle()
        let cgroupName = Env.uniqueID("berth-abs")
        bundle.spec.linux?.cgroupsPath = "/" + cgroupName
        bundle.spec.linux?.resources?.pids = PidsLimit(limit: 42)
        try bundle.shell("cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; grep -c . /proc/self/mountinfo >/dev/null && echo ok")
        let id = Env.uniqueID("nopivot")
        let output = try sh([Env.berth, "--root", bundle.directory + "/s", "run", "--no-pivot", "--bundle", bundle.path, id])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout == "42\nok\n")
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/" + cgroupName))
    }

    @Test func timeNamespaceShiftsTheMonotonicClock() throws {
        let bundle = try TestBundle()
        bundle.spec.linux?.namespaces?.append(Namespace(type: .time))
        bundle.spec.linux?.timeOffsets = try JSONDecoder().decode([String: TimeOffset].self, from: Data(#"{"monotonic":{"secs":31536000,"nanosecs":0},"boottime":{"secs":31536000}}"#.utf8))
        try bundle.shell("cut -d. -f1 /proc/uptime")
        let output = try RuntimeCLI.berth(bundle).run(Env.uniqueID("timens"), bundle: bundle)
        #expect(output.status == 0, "\(output.stderr)")
        let uptime = try #require(Int(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(uptime >= 86400 * 365)
    }
}
