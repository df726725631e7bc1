import Foundation
import OCI
import TestSupport
import Testing
@testable import ContainerRuntime

struct MountOptionTests {
    @Test func flagsDataAndPropagationAreSeparated() {
        let options = MountOptions(["nosuid", "noexec", "mode=755", "size=65536k", "rslave", "ro"])
        #expect(options.flags == UInt(MS_NOSUID | MS_NOEXEC | MS_RDONLY))
        #expect(options.dataString == "mode=755,size=65536k")
        #expect(options.propagation == [UInt(MS_SLAVE | MS_REC)])
        #expect(!options.isBind)
    }

    @Test func laterOptionsOverrideEarlierOnes() {
        let options = MountOptions(["ro", "rw", "nodev", "dev", "rbind"])
        #expect(options.flags == 0)
        #expect(options.isBind && options.isRecursiveBind)
    }

    @Test func recursiveAttributesGoToMountSetattr() {
        let options = MountOptions(["rro", "rnosuid", "rnoatime"])
        #expect(options.recursiveSet == MountOptions.attrRdonly | MountOptions.attrNosuid | MountOptions.attrNoatime)
        #expect(options.recursiveClear & MountOptions.attrAtimeMask == MountOptions.attrAtimeMask)
        #expect(options.flags == 0)
    }

    @Test func featuresListEveryKnownOption() {
        let known = MountOptions.known
        for option in ["ro", "rbind", "rro", "nosymfollow", "tmpcopyup", "rslave", "strictatime"] {
            #expect(known.contains(option))
        }
    }
}

/// The seccomp cache's directory is trusted only when no one else could have written a program into it.
struct SeccompCacheTests {
    @Test func onlyAPrivateDirectoryOfThisUserIsTrusted() throws {
        let base = NSTemporaryDirectory() + "berth-seccomp-cache-" + Env.uniqueID("t")
        defer { try? FileManager.default.removeItem(atPath: base) }
        #expect(mkdir(base, 0o700) == 0)
        #expect(SeccompCache.isTrusted(base, euid: geteuid()))
        #expect(!SeccompCache.isTrusted(base, euid: geteuid() + 1), "owned by someone else")
        #expect(chmod(base, 0o770) == 0)
        #expect(!SeccompCache.isTrusted(base, euid: geteuid()), "group-writable")
        #expect(chmod(base, 0o700) == 0)
        #expect(symlink(base, base + ".link") == 0)
        defer { unlink(base + ".link") }
        #expect(!SeccompCache.isTrusted(base + ".link", euid: geteuid()), "a symlink")
        #expect(!SeccompCache.isTrusted(base + "/missing", euid: geteuid()))
    }

    @Test func candidatesNeverNameARuntimeRoot() {
        #expect(SeccompCache.candidates(euid: 0, runtimeDir: nil) == ["/run/berth-runtime-seccomp", "/tmp/berth-runtime-seccomp-0"])
        #expect(SeccompCache.candidates(euid: 1000, runtimeDir: "/run/user/1000")
            == ["/run/user/1000/berth-runtime-seccomp", "/tmp/berth-runtime-seccomp-1000"])
        #expect(SeccompCache.candidates(euid: 1000, runtimeDir: "relative") == ["/tmp/berth-runtime-seccomp-1000"])
    }
}

struct SignalTests {
    @Test(arguments: [("KILL", SIGKILL), ("SIGKILL", SIGKILL), ("9", SIGKILL), ("term", SIGTERM), ("SIGHUP", SIGHUP),
                      ("RTMIN", Int32(34)), ("RTMIN+2", Int32(36)), ("WINCH", SIGWINCH)])
    func namesAndNumbers(_ text: String, _ expected: Int32) {
        #expect(Signals.parse(text) == expected)
    }

    @Test(arguments: ["NOPE", "0", "65", "SIGFOO", ""])
    func unknownSignalsAreRejected(_ text: String) {
        #expect(Signals.parse(text) == nil)
    }
}

struct CgroupConversionTests {
    @Test func sharesToWeightMatchesRuncAndCrun() {
        #expect(Cgroup.weight(fromShares: 2) == 1)
        #expect(Cgroup.weight(fromShares: 1024) == 39)
        #expect(Cgroup.weight(fromShares: 262_144) == 10_000)
    }

    @Test func blkioWeightToIOWeight() {
        #expect(Cgroup.ioWeight(fromBlkio: 10) == 1)
        #expect(Cgroup.ioWeight(fromBlkio: 1000) == 10_000)
    }

    @Test func v1DeviceLines() {
        #expect(Cgroup.v1Line(DeviceRule(allow: false, access: "rwm")) == "a")
        #expect(Cgroup.v1Line(DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rw")) == "c 1:3 rw")
        #expect(Cgroup.v1Line(DeviceRule(allow: true, type: "c", major: 136, minor: nil, access: "rwm")) == "c 136:* rwm")
    }

    @Test func relativeAndAbsoluteCgroupPaths() throws {
        let hierarchies = [
            CgroupHierarchy(mountPoint: "/sys/fs/cgroup/memory", isV2: false, controllers: ["memory"], ownPath: "/user/session"),
            CgroupHierarchy(mountPoint: "/sys/fs/cgroup/unified", isV2: true, controllers: ["hugetlb"], ownPath: "/user/session"),
        ]
        let relative = try Cgroup(cgroupsPath: nil, id: "abc", hierarchies: hierarchies)
        #expect(relative.paths == ["/sys/fs/cgroup/memory/user/session/abc", "/sys/fs/cgroup/unified/user/abc"])
        let absolute = try Cgroup(cgroupsPath: "/pods/x", id: "abc", hierarchies: hierarchies)
        #expect(absolute.paths == ["/sys/fs/cgroup/memory/pods/x", "/sys/fs/cgroup/unified/pods/x"])
        #expect(absolute.directory(for: "memory")?.isV2 == false)
        #expect(absolute.directory(for: "hugetlb")?.isV2 == true)
        #expect(throws: RuntimeError.self) { try Cgroup(cgroupsPath: "system.slice:berth:abc", id: "abc", hierarchies: hierarchies) }
    }

    @Test func mountinfoEscapesAreDecoded() {
        #expect(CgroupHierarchy.unescape("/a\\040b") == "/a b")
    }
}

/// cgroup v2 has no device files: berth attaches an eBPF program. This host's cgroup2 mount lets the
/// program be loaded and checked against real opens, whatever controllers it holds.
@Suite(.enabled(if: Env.isRoot && FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/cgroup.procs")
                  || (Env.isRoot && FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")),
                "needs root and a cgroup2 mount"))
struct DeviceFilterTests {
    @Test func programAllowsOnlyWhatTheRulesAllow() throws {
        let base = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/cgroup.procs") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup"
        let directory = base + "/" + Env.uniqueID("berth-devtest")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { rmdir(directory) }
        let rules = [DeviceRule(allow: false, access: "rwm"), DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rw")]
        try DeviceFilter.attach(rules: rules, to: directory)
        let result = try sh(["/bin/sh", "-c", """
            echo $$ > \(directory)/cgroup.procs
            head -c 1 /dev/null && echo null-ok
            head -c 1 /dev/zero >/dev/null 2>&1 && echo zero-ok || echo zero-denied
            """])
        #expect(result.stdout == "null-ok\nzero-denied\n", "\(result.stderr)")
    }
}

/// The clone audit that shows `exec` clones only from single-threaded processes can fail: called
/// from this test process, which has threads (Swift Testing's pool, and one more made here), it
/// records them.
struct CloneAuditTests {
    @Test func recordsAThreadedCaller() throws {
        let file = NSTemporaryDirectory() + "berth-clone-audit-" + Env.uniqueID("a")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let release = DispatchSemaphore(value: 0)
        let running = DispatchSemaphore(value: 0)
        let thread = Thread { running.signal(); release.wait() }
        thread.start()
        running.wait()
        defer { release.signal() }
        let saved = CloneAudit.path
        CloneAudit.path = file
        CloneAudit.record()
        CloneAudit.path = saved
        let record = try String(contentsOfFile: file, encoding: .utf8)
        #expect(record.hasPrefix("pid=\(getpid()) threads="), "\(record)")
        let threads = Int(record.dropFirst("pid=\(getpid()) threads=".count).prefix { $0.isNumber }) ?? 0
        #expect(threads > 1, "\(record)")
    }

    /// A set-up failure crosses the sync socket with its kind.
    @Test func syncFailuresKeepTheirKind() {
        let failure = RuntimeError("unable to start container process: exec: \"x\": executable file not found in $PATH", kind: .executableNotFound)
        #expect(SyncSocket.Message(SyncSocket.Message.failed(failure).encoded) == .failed(failure))
        #expect(SyncSocket.Message(SyncSocket.Message.failed(RuntimeError("plain")).encoded) == .failed(RuntimeError("plain")))
    }
}
