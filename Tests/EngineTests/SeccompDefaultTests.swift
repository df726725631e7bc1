import ContainerSpec
import Foundation
import OCI
import TestSupport
import Testing

/// The built-in default seccomp profile (Docker 28's, `SeccompProfile.dockerDefault`): what it
/// allows and refuses against the other copy of Docker's profile on this machine, and that a
/// container is filtered by it when the host has no profile file at all.
struct SeccompDefaultTests {
    static let containersCommonProfile = "/usr/share/containers/seccomp.json"

    /// How a filter treats one syscall name: allowed, refused with an errno, or a set of rules
    /// with argument conditions (described as text).
    enum Treatment: Hashable, CustomStringConvertible {
        case allow
        case deny(UInt32)
        case conditional(Set<String>)

        var description: String {
            switch self {
            case .allow: "allow"
            case .deny(let errno): "deny(\(errno))"
            case .conditional(let rules): "conditional\(rules.sorted())"
            }
        }
    }

    /// Every syscall a converted filter names, with its treatment: a name with one plain errno rule
    /// is refused like an unnamed one; an unconditional allow wins over conditional rules.
    static func treatments(_ seccomp: Seccomp) -> [String: Treatment] {
        var rules: [String: Set<String>] = [:]
        var plain: [String: [(allow: Bool, errno: UInt32?)]] = [:]
        for rule in seccomp.syscalls ?? [] {
            let errno = rule.action == "SCMP_ACT_ERRNO" ? (rule.errnoRet ?? seccomp.defaultErrnoRet) : nil
            let args = (rule.args ?? []).map { "\($0.index) \($0.op) \($0.value) \($0.valueTwo ?? 0)" }.sorted()
            for name in rule.names {
                rules[name, default: []].insert("\(rule.action) \(errno.map(String.init) ?? "-") [\(args.joined(separator: ", "))]")
                if args.isEmpty { plain[name, default: []].append((rule.action == "SCMP_ACT_ALLOW", errno)) }
            }
        }
        var result: [String: Treatment] = [:]
        for (name, described) in rules {
            let unconditional = plain[name] ?? []
            if unconditional.contains(where: { $0.allow }) {
                result[name] = .allow
            } else if described.count == 1, let only = unconditional.first, let errno = only.errno {
                result[name] = .deny(errno)
            } else {
                result[name] = .conditional(described)
            }
        }
        return result
    }

    /// Issue 15 item 9 follow-up: the built-in profile, converted for amd64, this kernel and Docker's
    /// default capabilities, against containers-common's copy of Docker's profile (Debian 12's
    /// containers-common 0.50.1, an older and Podman-adjusted edition). Where they agree nothing is
    /// listed; every difference is listed here, with why Docker 28 differs.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: containersCommonProfile), "needs containers-common's seccomp.json"))
    func builtInProfileAgainstContainersCommon() throws {
        let kernel = HostInfo.current.kernel
        let ours = try #require(try SeccompProfile.dockerDefault.converted(architecture: "amd64", kernel: kernel,
                                                                          capabilities: SpecBuilder.defaultCapabilities))
        let theirs = try #require(try SeccompProfile.load(path: Self.containersCommonProfile)
            .converted(architecture: "amd64", kernel: kernel, capabilities: SpecBuilder.defaultCapabilities))

        #expect(ours.defaultAction == "SCMP_ACT_ERRNO" && theirs.defaultAction == "SCMP_ACT_ERRNO")
        // Docker refuses what it does not name with EPERM; Podman's edition with ENOSYS (and names
        // the syscalls it wants refused with EPERM explicitly).
        #expect(ours.defaultErrnoRet == 1)
        #expect(theirs.defaultErrnoRet == 38)
        #expect(ours.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        #expect(ours.architectures == theirs.architectures)

        let mine = Self.treatments(ours)
        let other = Self.treatments(theirs)
        func unnamed(_ seccomp: Seccomp) -> Treatment { .deny(seccomp.defaultErrnoRet ?? 1) }
        var differences: [String: (docker28: Treatment, containersCommon: Treatment)] = [:]
        for name in Set(mine.keys).union(other.keys) {
            let a = mine[name] ?? unnamed(ours)
            let b = other[name] ?? unnamed(theirs)
            if a != b { differences[name] = (a, b) }
        }

        var expected: [String: (docker28: Treatment, containersCommon: Treatment)] = [:]
        // Allowed by Docker 28, refused (EPERM) by containers-common's edition.
        for name in ["io_pgetevents", "vmsplice"] { expected[name] = (.allow, .deny(1)) }
        // Newer syscalls Docker added (2024: kernel 5.16-6.7, moby#47341; Docker 28.2: libseccomp
        // 2.6.0's list, moby#50077); the older edition does not name them, so they get its ENOSYS.
        for name in ["cachestat", "fchmodat2", "futex_requeue", "futex_wait", "futex_waitv", "futex_wake",
                     "getxattrat", "io_pgetevents_time64", "listmount", "listxattrat", "map_shadow_stack", "mseal",
                     "removexattrat", "riscv_hwprobe", "setxattrat", "statmount", "uretprobe"] {
            expected[name] = (.allow, .deny(38))
        }
        // Refused by Docker 28 without the capability the kernel checks (CAP_SYS_ADMIN: mounts,
        // namespaces, syslog; CAP_SYS_BOOT: reboot; CAP_SYS_NICE: NUMA policy; CAP_SYS_PTRACE:
        // pidfd_getfd), or never allowed (keyctl: the kernel keyring is not namespaced; pivot_root;
        // obsolete or non-amd64 calls); containers-common's edition allows them all.
        for name in ["fsconfig", "fsmount", "fsopen", "fspick", "get_mempolicy", "keyctl", "mbind", "mount",
                     "mount_setattr", "move_mount", "open_tree", "pidfd_getfd", "pivot_root", "readdir", "reboot",
                     "set_mempolicy", "setns", "sigaction", "signal", "sigpending", "sigsuspend", "syscall", "syslog",
                     "timerfd", "umount", "umount2", "unshare"] {
            expected[name] = (.deny(1), .allow)
        }
        // clone3 without CAP_SYS_ADMIN: ENOSYS so libc falls back to clone, whose flags seccomp can
        // read (containers-common allows clone3 outright).
        expected["clone3"] = (.deny(38), .allow)
        // clone without CAP_SYS_ADMIN: no namespace flags (NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET).
        expected["clone"] = (.conditional(["SCMP_ACT_ALLOW - [0 SCMP_CMP_MASKED_EQ 2114060288 0]"]), .allow)
        // socket: every family but AF_VSOCK (40), since Docker 23 (containers-common 0.50 allows all
        // when the container holds CAP_AUDIT_WRITE, as Docker's defaults do).
        expected["socket"] = (.conditional(["SCMP_ACT_ALLOW - [0 SCMP_CMP_NE 40 0]"]), .allow)

        for name in Set(differences.keys).union(expected.keys).sorted() {
            let found = differences[name].map { "\($0.docker28) / \($0.containersCommon)" } ?? "agree"
            let listed = expected[name].map { "\($0.docker28) / \($0.containersCommon)" } ?? "agree"
            #expect(found == listed, "\(name): docker28 / containers-common")
        }
        // Where they agree, the built-in profile allows the everyday calls and refuses the dangerous ones.
        for name in ["read", "write", "openat", "execve", "clone", "socket", "chroot", "personality", "ptrace", "arch_prctl"] {
            #expect(mine[name] != nil, "\(name) is named")
        }
        for name in ["kexec_load", "init_module", "bpf", "perf_event_open", "open_by_handle_at", "add_key", "request_key",
                     "userfaultfd", "io_uring_setup", "swapon", "acct", "settimeofday", "iopl"] {
            #expect(mine[name] == nil && other[name] != .allow, "\(name) is refused by both")
        }
    }

    /// The same conversions as Docker for the capability- and argument-gated rules.
    @Test func builtInProfileFollowsCapabilities() throws {
        func treatment(_ name: String, _ capabilities: [String], architecture: String = "amd64") throws -> Treatment? {
            let seccomp = try #require(try SeccompProfile.dockerDefault.converted(architecture: architecture, kernel: (6, 1),
                                                                                  capabilities: capabilities))
            return Self.treatments(seccomp)[name]
        }
        let defaults = SpecBuilder.defaultCapabilities
        #expect(try treatment("unshare", defaults) == nil)
        #expect(try treatment("unshare", defaults + ["CAP_SYS_ADMIN"]) == .allow)
        #expect(try treatment("clone3", defaults + ["CAP_SYS_ADMIN"]) == .allow)
        #expect(try treatment("clone", defaults + ["CAP_SYS_ADMIN"]) == .allow)
        #expect(try treatment("chroot", defaults.filter { $0 != "CAP_SYS_CHROOT" }) == nil)
        #expect(try treatment("ptrace", defaults) == .allow)  // kernel 4.8 on
        #expect(try treatment("process_madvise", defaults) == nil)
        #expect(try treatment("process_madvise", defaults + ["CAP_SYS_PTRACE"]) == .allow)
        #expect(try treatment("bpf", defaults + ["CAP_BPF"]) == .allow)
        #expect(try treatment("perf_event_open", defaults + ["CAP_PERFMON"]) == .allow)
        #expect(try treatment("syslog", defaults + ["CAP_SYSLOG"]) == .allow)
        #expect(try treatment("set_mempolicy_home_node", defaults + ["CAP_SYS_NICE"]) == .allow)
        #expect(try treatment("clock_settime64", defaults + ["CAP_SYS_TIME"]) == .allow)
        #expect(try treatment("open_by_handle_at", defaults + ["CAP_DAC_READ_SEARCH"]) == .allow)
        #expect(try treatment("lsm_set_self_attr", defaults) == nil)
        #expect(try treatment("arch_prctl", defaults, architecture: "arm64") == nil)
        #expect(try treatment("set_tls", defaults, architecture: "arm64") == .allow)
        // On s390 the clone flags are the second argument.
        #expect(try treatment("clone", defaults, architecture: "s390x")
            == .conditional(["SCMP_ACT_ALLOW - [1 SCMP_CMP_MASKED_EQ 2114060288 0]"]))
        let personality = try #require(try treatment("personality", defaults))
        #expect(personality == .conditional(Set([0, 8, 0x20000, 0x20008, 0xffff_ffff].map { "SCMP_ACT_ALLOW - [0 SCMP_CMP_EQ \($0) 0]" })))
        let arm = try #require(try SeccompProfile.dockerDefault.converted(architecture: "arm64", kernel: (6, 1), capabilities: defaults))
        #expect(arm.architectures == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"])
    }
}

/// Attack: a host without /usr/share/containers/seccomp.json (containers-common not installed, or
/// the file removed). Before the built-in profile, `berth run` refused every container there
/// ("the default seccomp profile /usr/share/containers/seccomp.json does not exist: install it
/// (containers-common) or run with --security-opt seccomp=unconfined"), and before that
/// fix it ran them unfiltered. Now the container runs, filtered by the built-in profile.
@Suite(.enabled(if: EngineEnv.ready && EngineEnv.executable("/usr/bin/unshare")), .serialized)
struct SeccompWithoutHostProfileTests {
    /// `berth ARGS` in a private mount namespace where /usr/share/containers is an empty tmpfs.
    static func berthWithoutHostProfile(_ berth: BerthEngine, _ arguments: [String]) throws -> Output {
        let quoted = ([berth.binary, "--root", berth.root, "--runroot", berth.runRoot] + arguments)
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let script = """
            set -e
            if [ -d /usr/share/containers ]; then mount -t tmpfs -o size=64k,mode=755 berth-no-profile /usr/share/containers; fi
            if [ -e /usr/share/containers/seccomp.json ]; then echo 'seccomp.json still visible' >&2; exit 99; fi
            exec \(quoted)
            """
        return try sh(["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script])
    }

    @Test func containerIsFilteredWithoutHostProfile() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        // unshare(CLONE_NEWUSER) needs no capability, so only the filter refuses it: Docker's
        // profile allows unshare only with CAP_SYS_ADMIN.
        let probe = "grep '^Seccomp:' /proc/self/status; unshare -U true 2>/dev/null; echo unshare=$?"
        let filtered = try Self.berthWithoutHostProfile(berth, ["run", "--rm", "--network", "none", "busybox:test", "sh", "-c", probe])
        #expect(filtered.status == 0, "\(filtered.stderr)")
        #expect(filtered.stdout == "Seccomp:\t2\nunshare=1\n", "\(filtered.stderr)")
        #expect(!filtered.stderr.contains("seccomp.json"), "\(filtered.stderr)")

        // The same without the filter: the call is the kernel's to allow, so the refusal above is
        // the profile's (where the host allows user namespaces at all).
        let unfiltered = try Self.berthWithoutHostProfile(berth, ["run", "--rm", "--network", "none", "--security-opt", "seccomp=unconfined",
                                                                  "busybox:test", "sh", "-c", probe])
        #expect(unfiltered.status == 0, "\(unfiltered.stderr)")
        #expect(unfiltered.stdout.hasPrefix("Seccomp:\t0\n"), "\(unfiltered.stdout)")
        if (try? String(contentsOfFile: "/proc/sys/user/max_user_namespaces", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) != "0" {
            #expect(unfiltered.stdout.hasSuffix("unshare=0\n"), "\(unfiltered.stdout)")
        }
    }

    /// A build's RUN steps get the built-in profile as well (they used to fail where the file was missing).
    @Test func buildRunIsFilteredWithoutHostProfile() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let context = berth.base + "/context"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        try """
            FROM busybox:test
            RUN grep '^Seccomp:' /proc/self/status > /seccomp.txt; unshare -U true 2>/dev/null; echo "unshare=$?" >> /seccomp.txt
            """.write(toFile: context + "/Dockerfile", atomically: false, encoding: .utf8)
        let built = try Self.berthWithoutHostProfile(berth, ["build", "-t", "seccomp-probe:test", context])
        #expect(built.status == 0, "\(built.stderr)\(built.stdout)")
        let out = try berth.callAnyway(["run", "--rm", "--network", "none", "seccomp-probe:test", "cat", "/seccomp.txt"])
        #expect(out.stdout == "Seccomp:\t2\nunshare=1\n", "\(out.stderr)")
    }
}
