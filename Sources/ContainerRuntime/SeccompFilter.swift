import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// `linux.seccomp` compiled with libseccomp and loaded into the calling process.
///
/// The semantics are runc's: unknown syscall names are skipped (profiles name syscalls of newer
/// kernels), a rule whose action is the default is dropped, conditions on different arguments of one
/// rule must all hold, and several conditions on the same argument make one rule each.
enum SeccompFilter {
    static let actions = ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                          "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"]
    static let operators = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                            "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"]
    static let architectures = ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
                                "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
                                "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
                                "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
                                "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64"]
    static let knownFlags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                             "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
    /// libseccomp 2.5 has no attribute for WAIT_KILLABLE_RECV.
    static let supportedFlags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]

    /// Whether the profile hands a listener fd to `listenerPath` (some rule notifies).
    static func notifies(_ seccomp: Seccomp) -> Bool {
        seccomp.defaultAction == "SCMP_ACT_NOTIFY" || (seccomp.syscalls ?? []).contains { $0.action == "SCMP_ACT_NOTIFY" }
    }

    /// Checks what can be checked without loading, so create fails early with the field's path.
    static func validate(_ seccomp: Seccomp) throws(RuntimeError) {
        _ = try action(seccomp.defaultAction, errnoRet: seccomp.defaultErrnoRet, path: "linux.seccomp.defaultAction")
        for (index, architecture) in (seccomp.architectures ?? []).enumerated() where !architectures.contains(architecture) {
            throw RuntimeError("linux.seccomp.architectures[\(index)]: unknown architecture \"\(architecture)\"")
        }
        for (index, flag) in (seccomp.flags ?? []).enumerated() where !supportedFlags.contains(flag) {
            throw RuntimeError("linux.seccomp.flags[\(index)]: \(knownFlags.contains(flag) ? "unsupported" : "unknown") flag \"\(flag)\"")
        }
        for (index, syscall) in (seccomp.syscalls ?? []).enumerated() {
            _ = try action(syscall.action, errnoRet: syscall.errnoRet, path: "linux.seccomp.syscalls[\(index)].action")
            for (argIndex, arg) in (syscall.args ?? []).enumerated() {
                guard operators.contains(arg.op) else {
                    throw RuntimeError("linux.seccomp.syscalls[\(index)].args[\(argIndex)].op: unknown operator \"\(arg.op)\"")
                }
                guard arg.index < 6 else {
                    throw RuntimeError("linux.seccomp.syscalls[\(index)].args[\(argIndex)].index: \(arg.index) is not a syscall argument (0-5)")
                }
            }
        }
        if notifies(seccomp) && (seccomp.listenerPath ?? "").isEmpty {
            throw RuntimeError("linux.seccomp.listenerPath: required when an action is SCMP_ACT_NOTIFY")
        }
    }

    /// Compiles and loads the filter with libseccomp. Returns the notify listener fd when the
    /// profile notifies.
    static func load(_ seccomp: Seccomp) throws(RuntimeError) -> Int32? {
        let context = try makeContext(seccomp)
        defer { seccomp_release(context) }
        try check(seccomp_load(context), "seccomp_load")
        guard notifies(seccomp) else { return nil }
        let fd = seccomp_notify_fd(context)
        try check(fd, "seccomp_notify_fd")
        return fd
    }

    private static func check(_ result: Int32, _ what: String) throws(RuntimeError) {
        if result < 0 { throw SysError(what, "seccomp", errno: -result).context("load seccomp profile") }
    }

    /// libseccomp's filter for the profile, not loaded yet.
    private static func makeContext(_ seccomp: Seccomp) throws(RuntimeError) -> scmp_filter_ctx {
        let defaultAction = try action(seccomp.defaultAction, errnoRet: seccomp.defaultErrnoRet, path: "defaultAction")
        guard let context = seccomp_init(defaultAction) else { throw RuntimeError("seccomp: cannot initialise a filter") }
        do throws(RuntimeError) {
            // noNewPrivileges is the config's to set, not libseccomp's.
            try check(seccomp_attr_set(context, SCMP_FLTATR_CTL_NNP, 0), "seccomp_attr_set(CTL_NNP)")
            for flag in seccomp.flags ?? [] {
                switch flag {
                case "SECCOMP_FILTER_FLAG_TSYNC": try check(seccomp_attr_set(context, SCMP_FLTATR_CTL_TSYNC, 1), "seccomp_attr_set(CTL_TSYNC)")
                case "SECCOMP_FILTER_FLAG_LOG": try check(seccomp_attr_set(context, SCMP_FLTATR_CTL_LOG, 1), "seccomp_attr_set(CTL_LOG)")
                case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": try check(seccomp_attr_set(context, SCMP_FLTATR_CTL_SSB, 1), "seccomp_attr_set(CTL_SSB)")
                default: throw RuntimeError("seccomp: unsupported flag \"\(flag)\"")
                }
            }
            for name in seccomp.architectures ?? [] {
                let token = seccomp_arch_resolve_name(String(name.dropFirst("SCMP_ARCH_".count)).lowercased())
                guard token != 0 else { throw RuntimeError("seccomp: unknown architecture \"\(name)\"") }
                let added = seccomp_arch_add(context, token)
                if added < 0 && added != -EEXIST { try check(added, "seccomp_arch_add(\(name))") }
            }
            for (index, syscall) in (seccomp.syscalls ?? []).enumerated() {
                let ruleAction = try action(syscall.action, errnoRet: syscall.errnoRet, path: "syscalls[\(index)].action")
                if ruleAction == defaultAction { continue }
                for name in syscall.names {
                    let number = seccomp_syscall_resolve_name(name)
                    if number == BERTH_NR_SCMP_ERROR { continue }
                    for conditions in try conditionSets(syscall.args ?? []) {
                        let result = conditions.withUnsafeBufferPointer {
                            seccomp_rule_add_array(context, ruleAction, number, UInt32($0.count), $0.baseAddress)
                        }
                        try check(result, "seccomp_rule_add(\(name))")
                    }
                }
            }
        } catch {
            seccomp_release(context)
            throw error
        }
        return context
    }

    /// Conditions on distinct arguments form one rule; repeated ones on the same argument, a rule each.
    private static func conditionSets(_ args: [SeccompArg]) throws(RuntimeError) -> [[scmp_arg_cmp]] {
        var conditions: [scmp_arg_cmp] = []
        for arg in args {
            guard let index = operators.firstIndex(of: arg.op) else { throw RuntimeError("seccomp: unknown operator \"\(arg.op)\"") }
            conditions.append(scmp_arg_cmp(arg: arg.index, op: scmp_compare(rawValue: UInt32(index + 1)),
                                           datum_a: arg.value, datum_b: arg.valueTwo ?? 0))
        }
        let indices = args.map(\.index)
        if Set(indices).count == indices.count { return [conditions] }
        return conditions.map { [$0] }
    }

    private static func action(_ name: String, errnoRet: UInt32?, path: String) throws(RuntimeError) -> UInt32 {
        switch name {
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return 0x0000_0000
        case "SCMP_ACT_KILL_PROCESS": return 0x8000_0000
        case "SCMP_ACT_TRAP": return 0x0003_0000
        case "SCMP_ACT_ERRNO": return 0x0005_0000 | ((errnoRet ?? UInt32(EPERM)) & 0xffff)
        case "SCMP_ACT_TRACE": return 0x7ff0_0000 | ((errnoRet ?? UInt32(EPERM)) & 0xffff)
        case "SCMP_ACT_ALLOW": return 0x7fff_0000
        case "SCMP_ACT_LOG": return 0x7ffc_0000
        case "SCMP_ACT_NOTIFY": return 0x7fc0_0000
        default: throw RuntimeError("\(path): unknown seccomp action \"\(name)\"")
        }
    }
}

/// A filter ready to install in the container's process. Compiling the default profile with
/// libseccomp costs more CPU than the rest of starting a container, so the runtime compiles it
/// once, before clone, to classic BPF, and keeps the program in a cache keyed by the profile; the
/// init then only makes one seccomp(2) call. A profile that notifies an agent goes through
/// libseccomp, which hands out the listener fd.
enum PreparedSeccomp {
    case program(instructions: [UInt8], flags: UInt32)
    case libseccomp(Seccomp)

    /// The profile's program, from `cacheDirectory` when it has it (the cache holds the whole key
    /// and it is compared byte for byte, so a hash collision can only cost a compile).
    /// `cacheDirectory` is only worked out (and made) when there is a profile to compile.
    static func prepare(_ seccomp: Seccomp?, cacheDirectory: @autoclosure () -> String?) throws(RuntimeError) -> PreparedSeccomp? {
        guard let seccomp else { return nil }
        if SeccompFilter.notifies(seccomp) { return .libseccomp(seccomp) }
        var flags: UInt32 = 0
        for flag in seccomp.flags ?? [] {
            switch flag {
            case "SECCOMP_FILTER_FLAG_TSYNC": flags |= 1
            case "SECCOMP_FILTER_FLAG_LOG": flags |= 2
            case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": flags |= 4
            default: throw RuntimeError("seccomp: unsupported flag \"\(flag)\"")
            }
        }
        let key = cacheKey(seccomp)
        let cacheDirectory = cacheDirectory()
        let path = cacheDirectory.map { $0 + "/" + fnv1a(key) }
        if let path, let cached = try? FS.readFile(path), cached.count > 4 {
            let keyLength = Int(cached[0]) | Int(cached[1]) << 8 | Int(cached[2]) << 16 | Int(cached[3]) << 24
            if cached.count >= 4 + keyLength, cached[4..<(4 + keyLength)].elementsEqual(key) {
                return .program(instructions: Array(cached[(4 + keyLength)...]), flags: flags)
            }
        }
        let instructions = try SeccompFilter.compile(seccomp)
        if let path {
            let length = UInt32(key.count)
            let header = (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
            // Atomic (a temporary name per process, then rename): concurrent creates never read a torn program.
            try? FS.writeFileAtomically(path, header + key + instructions, mode: 0o600)
        }
        return .program(instructions: instructions, flags: flags)
    }

    /// The profile, and what else decides the program: libseccomp's version, the kernel, the machine.
    static func cacheKey(_ seccomp: Seccomp) -> [UInt8] {
        var name = utsname()
        _ = uname(&name)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        var version = "libseccomp"
        if let v = seccomp_version() { version += " \(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)" }
        return Array("\(version) \(field(name.release)) \(field(name.machine))\n".utf8) + encodeCompact(seccomp)
    }

    static func fnv1a(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Installs the filter in the calling process; a notify listener fd when the profile has one.
    func install() throws(RuntimeError) -> Int32? {
        switch self {
        case .libseccomp(let seccomp):
            return try SeccompFilter.load(seccomp)
        case .program(let instructions, let flags):
            let count = instructions.count / 8
            let result = instructions.withUnsafeBytes { berth_seccomp_install(flags, $0.baseAddress, UInt16(count)) }
            if result < 0 { throw SysError("seccomp", "SECCOMP_SET_MODE_FILTER").context("load seccomp profile") }
            return nil
        }
    }
}

extension SeccompFilter {
    /// The profile compiled to classic BPF, as libseccomp would load it.
    static func compile(_ seccomp: Seccomp) throws(RuntimeError) -> [UInt8] {
        let context = try makeContext(seccomp)
        defer { seccomp_release(context) }
        let fd = berth_memfd("seccomp")
        guard fd >= 0 else { throw SysError("memfd_create", "seccomp").context("compile seccomp profile") }
        defer { FS.close(fd) }
        let exported = seccomp_export_bpf(context, fd)
        if exported < 0 { throw SysError("seccomp_export_bpf", "seccomp", errno: -exported).context("compile seccomp profile") }
        _ = lseek(fd, 0, SEEK_SET)
        let bytes: [UInt8]
        do { bytes = try FS.read(fd, max: 1 << 22) } catch { throw error.context("compile seccomp profile") }
        guard bytes.count % 8 == 0, bytes.count / 8 <= 4096, !bytes.isEmpty else {
            throw RuntimeError("seccomp: the compiled filter has \(bytes.count) bytes, not a program the kernel takes")
        }
        return bytes
    }
}

/// What a seccomp agent gets at `listenerPath` with the listener fd: the runtime spec's
/// containerProcessState.
struct ContainerProcessState: Encodable {
    var ociVersion: String
    var fds: [String]
    var pid: Int32
    var metadata: String
    var state: OCI.State

    /// Connects to the agent's socket and sends it the listener fd with this state.
    static func send(listenerFD: Int32, to path: String, pid: pid_t, state: OCI.State, metadata: String?) throws(RuntimeError) {
        let socket = berth_connect_unix(path)
        guard socket >= 0 else { throw SysError("connect", path).context("send seccomp listener fd") }
        defer { FS.close(socket) }
        let payload = encodeCompact(ContainerProcessState(ociVersion: Spec.currentVersion, fds: ["seccompFd"], pid: pid,
                                                          metadata: metadata ?? "", state: state))
        let sent = payload.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { berth_send_fd(socket, listenerFD, $0.baseAddress, $0.count) }
        }
        if sent < 0 { throw SysError("sendmsg", path).context("send seccomp listener fd") }
    }
}
