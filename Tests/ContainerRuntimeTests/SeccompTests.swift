import CLinuxSys
import Foundation
import OCI
import TestSupport
import Testing
@testable import ContainerRuntime

/// Turns a containers-common/Docker seccomp profile (archMap, includes/excludes by capability and
/// architecture) into the runtime spec's `linux.seccomp` for x86_64 and the given capabilities, as
/// podman does before it calls the runtime.
func ociSeccomp(fromEngineProfile path: String, capabilities: [String]) throws -> Seccomp {
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    var syscalls: [SeccompSyscall] = []
    for entry in json["syscalls"] as? [[String: Any]] ?? [] {
        let includes = entry["includes"] as? [String: Any] ?? [:]
        let excludes = entry["excludes"] as? [String: Any] ?? [:]
        let arches = includes["arches"] as? [String] ?? []
        if !arches.isEmpty && !arches.contains("amd64") { continue }
        if (excludes["arches"] as? [String] ?? []).contains("amd64") { continue }
        if !(includes["caps"] as? [String] ?? []).allSatisfy(capabilities.contains) { continue }
        if (excludes["caps"] as? [String] ?? []).contains(where: capabilities.contains) { continue }
        let args = (entry["args"] as? [[String: Any]] ?? []).map { arg in
            SeccompArg(index: (arg["index"] as? NSNumber)?.uint32Value ?? 0, value: (arg["value"] as? NSNumber)?.uint64Value ?? 0,
                       valueTwo: (arg["valueTwo"] as? NSNumber)?.uint64Value, op: arg["op"] as? String ?? "")
        }
        syscalls.append(SeccompSyscall(names: entry["names"] as? [String] ?? [], action: entry["action"] as? String ?? "",
                                       errnoRet: (entry["errnoRet"] as? NSNumber)?.uint32Value, args: args.isEmpty ? nil : args))
    }
    return Seccomp(defaultAction: json["defaultAction"] as? String ?? "SCMP_ACT_ERRNO",
                   defaultErrnoRet: (json["defaultErrnoRet"] as? NSNumber)?.uint32Value,
                   architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], syscalls: syscalls)
}

/// `linux.seccomp` loaded with libseccomp, compared with runc on the same bundles.
@Suite(.enabled(if: Env.canRunContainers, "needs root, busybox-static and a built berth-runtime"))
struct SeccompTests {
    static let podmanProfile = "/usr/share/containers/seccomp.json"

    /// Podman's default profile loads, and blocks what it names: sethostname is refused to a
    /// profile made for the default capabilities even when the process holds CAP_SYS_ADMIN.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: podmanProfile), "needs containers-common's seccomp.json"),
          arguments: ["berth", "runc"])
    func podmansDefaultProfileBlocksWhatItNames(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle()
        var caps = bundle.spec.process?.capabilities ?? Capabilities()
        let profile = try ociSeccomp(fromEngineProfile: Self.podmanProfile, capabilities: caps.bounding ?? [])
        caps.bounding = (caps.bounding ?? []) + ["CAP_SYS_ADMIN"]
        caps.effective = (caps.effective ?? []) + ["CAP_SYS_ADMIN"]
        caps.permitted = (caps.permitted ?? []) + ["CAP_SYS_ADMIN"]
        bundle.spec.process?.capabilities = caps
        let runtime = RuntimeCLI.named(name, bundle)
        try bundle.shell("hostname renamed 2>&1; echo hostname=$?; echo still-running")
        let open = try runtime.run(Env.uniqueID("noprof"), bundle: bundle)
        #expect(open.stdout == "hostname=0\nstill-running\n", "\(open.stderr)")

        bundle.spec.linux?.seccomp = profile
        try bundle.write()
        let confined = try runtime.run(Env.uniqueID("prof"), bundle: bundle)
        #expect(confined.status == 0, "\(confined.stderr)")
        #expect(confined.stdout == "hostname: sethostname: Operation not permitted\nhostname=1\nstill-running\n")
    }

    /// Issue 20: compiled programs are cached in berth-runtime's own directory (root's:
    /// /run/berth-runtime-seccomp, 0700), never under --root, which belongs to the caller
    /// (containerd's shim passes /run/containerd/runc/k8s.io): after run the root is empty.
    @Test func compiledProgramsAreCachedOutsideTheRoot() throws {
        let bundle = try TestBundle()
        // A profile no other test uses, so its program is compiled and written by this run.
        let profile = Seccomp(
            defaultAction: "SCMP_ACT_ALLOW",
            syscalls: [SeccompSyscall(names: ["sethostname"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32.random(in: 256...4095))])
        bundle.spec.linux?.seccomp = profile
        try bundle.shell("grep ^Seccomp: /proc/self/status")
        let berth = RuntimeCLI.berth(bundle)
        let result = try berth.run(Env.uniqueID("cache"), bundle: bundle)
        #expect(result.stdout == "Seccomp:\t2\n", "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: berth.root) == [], "nothing but containers under --root")

        let directory = "/run/berth-runtime-seccomp"
        var st = stat()
        #expect(lstat(directory, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR && st.st_mode & 0o777 == 0o700 && st.st_uid == 0)
        let cached = directory + "/" + PreparedSeccomp.fnv1a(PreparedSeccomp.cacheKey(profile))
        #expect(FileManager.default.fileExists(atPath: cached), "the program is cached at \(cached)")
        try? FileManager.default.removeItem(atPath: cached)
    }

    /// Issue 15 (1d): with no_new_privs the filter goes on last, after the working directory is
    /// entered and checked, so a profile that refuses chdir/getcwd still starts the process (as runc).
    @Test(arguments: ["berth", "runc"])
    func profileRefusingGetcwdStillStarts(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle(args: ["/bin/sleep", "100"])
        bundle.spec.process?.noNewPrivileges = true
        bundle.spec.process?.cwd = "/tmp"
        bundle.spec.linux?.seccomp = Seccomp(
            defaultAction: "SCMP_ACT_ALLOW",
            syscalls: [SeccompSyscall(names: ["getcwd", "chdir", "fchdir"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EPERM))])
        try bundle.write()
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "scwd", started: true)
        defer { _ = try? runtime("delete", "-f", id) }
        let pid = try #require(try runtime.state(id)?["pid"] as? Int)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd").hasSuffix("/tmp"))
        let result = try runtime("exec", "--cwd", "/tmp", id, "grep", "^Seccomp:", "/proc/self/status")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "Seccomp:\t2\n")
    }

    /// Rules with errnoRet and argument conditions, for the init and for exec'd processes, loaded
    /// early (no no_new_privs) and late (with it).
    @Test(arguments: ["berth", "runc"], [false, true])
    func errnoAndArgumentRules(_ name: String, noNewPrivileges: Bool) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle(args: ["/bin/sleep", "100"])
        bundle.spec.process?.noNewPrivileges = noNewPrivileges
        bundle.spec.linux?.seccomp = Seccomp(
            defaultAction: "SCMP_ACT_ALLOW",
            syscalls: [
                SeccompSyscall(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(EACCES)),
                // kill(pid, SIGUSR1) is refused; other signals pass.
                SeccompSyscall(names: ["kill"], action: "SCMP_ACT_ERRNO",
                               args: [SeccompArg(index: 1, value: UInt64(SIGUSR1), op: "SCMP_CMP_EQ")]),
                SeccompSyscall(names: ["no_such_syscall_at_all"], action: "SCMP_ACT_ERRNO"),
            ])
        try bundle.write()
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "scmp", started: true)
        defer { _ = try? runtime("delete", "-f", id) }
        let result = try runtime("exec", id, "sh", "-c",
                                 "mkdir /tmp/x 2>&1; kill -USR1 $$ 2>&1; echo usr1=$?; kill -0 $$; echo zero=$?; grep Seccomp: /proc/self/status")
        #expect(result.stdout.hasPrefix("mkdir: can't create directory '/tmp/x': Permission denied\n"), "\(result.stdout)")
        #expect(result.stdout.contains("Operation not permitted\nusr1=1\nzero=0\nSeccomp:\t2\n"), "\(result.stdout) \(result.stderr)")
    }

    /// SCMP_ACT_NOTIFY: the listener fd reaches the agent at listenerPath with the container's
    /// process state; once the agent closes it, the notifying syscall fails with ENOSYS.
    @Test(arguments: ["berth", "runc"])
    func notifyListenerGetsTheFd(_ name: String) throws {
        if name == "runc" { try #require(Env.hasRunc) }
        let bundle = try TestBundle()
        let listener = try ConsoleSocketListener(directory: bundle.directory)
        bundle.spec.linux?.seccomp = Seccomp(
            defaultAction: "SCMP_ACT_ALLOW", listenerPath: listener.path, listenerMetadata: "berth-test",
            syscalls: [SeccompSyscall(names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY")])
        try bundle.shell("mkdir /notified 2>/result; echo rc=$? >>/result")
        let runtime = RuntimeCLI.named(name, bundle)
        let id = try runtime.launch(bundle, prefix: "notify")
        defer { _ = try? runtime("delete", "-f", id) }
        let pid = try #require(try runtime.state(id)?["pid"] as? Int)
        let (fd, payload) = try listener.receiveMaster()
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")
        #expect(target.contains("seccomp"), "\(target)")
        let state = try #require(try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any])
        #expect(state["fds"] as? [String] == ["seccompFd"])
        #expect(state["pid"] as? Int == pid)
        #expect(state["metadata"] as? String == "berth-test")
        #expect((state["state"] as? [String: Any])?["id"] as? String == id)
        close(fd)
        #expect(try runtime("start", id).status == 0)
        try waitUntil { try runtime.state(id)?["status"] as? String == "stopped" }
        let result = try String(contentsOfFile: bundle.rootfs + "/result", encoding: .utf8)
        #expect(result == "mkdir: can't create directory '/notified': Function not implemented\nrc=1\n")
        #expect(!FileManager.default.fileExists(atPath: bundle.rootfs + "/notified"))
    }

    @Test func badProfilesAreRefusedWithTheirPath() throws {
        let bundle = try TestBundle()
        bundle.spec.linux?.seccomp = Seccomp(defaultAction: "SCMP_ACT_ALLOW",
                                             syscalls: [SeccompSyscall(names: ["mkdir"], action: "SCMP_ACT_EXPLODE")])
        try bundle.write()
        let berth = RuntimeCLI.berth(bundle)
        let id = Env.uniqueID("badscmp")
        let result = try berth("create", "--bundle", bundle.path, id)
        #expect(result.status == 1)
        #expect(result.stderr.contains("linux.seccomp.syscalls[0].action"), "\(result.stderr)")
        #expect(try berth("list", "-q").stdout.isEmpty, "nothing is left of a refused create")

        bundle.spec.linux?.seccomp = Seccomp(defaultAction: "SCMP_ACT_ALLOW",
                                             syscalls: [SeccompSyscall(names: ["mkdir"], action: "SCMP_ACT_NOTIFY")])
        try bundle.write()
        let noListener = try berth("create", "--bundle", bundle.path, id)
        #expect(noListener.status == 1)
        #expect(noListener.stderr.contains("listenerPath"))
    }

    @Test func featuresDescribeSeccomp() throws {
        let output = try sh([Env.berth, "features"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        let seccomp = try #require((json["linux"] as? [String: Any])?["seccomp"] as? [String: Any])
        #expect(seccomp["enabled"] as? Bool == true)
        #expect((seccomp["actions"] as? [String])?.contains("SCMP_ACT_NOTIFY") == true)
        #expect((seccomp["archs"] as? [String])?.contains("SCMP_ARCH_X86_64") == true)
    }
}
