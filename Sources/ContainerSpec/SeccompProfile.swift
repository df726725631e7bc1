import Glibc
import LinuxSys
import OCI

/// A seccomp profile in Docker's JSON format (what `--security-opt seccomp=FILE` takes), and its
/// conversion to the OCI `linux.seccomp` for one architecture, kernel and capability set, with
/// Docker's rules. The default profile is built in: `dockerDefault` (SeccompProfile+Default.swift).
public struct SeccompProfile: Codable, Sendable, Equatable {
    /// The operator's replacement for the built-in default profile, as dockerd's `--seccomp-profile`:
    /// the file `BERTH_SECCOMP_PROFILE` names (a missing one is an error, never "no filter").
    /// nil when unset: containers get `dockerDefault`.
    public static var overridePath: String? {
        if let path = getenv("BERTH_SECCOMP_PROFILE"), path.pointee != 0 { return String(cString: path) }
        return nil
    }

    public var defaultAction: String?
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]?
    public var archMap: [ArchMap]?
    public var syscalls: [Rule]?
    public var flags: [String]?
    public var listenerPath: String?
    public var listenerMetadata: String?

    public struct ArchMap: Codable, Sendable, Equatable {
        public var architecture: String
        public var subArchitectures: [String]?
    }

    public struct Rule: Codable, Sendable, Equatable {
        public var name: String?
        public var names: [String]?
        public var action: String
        public var errnoRet: UInt32?
        public var args: [Arg]?
        public var includes: Filter?
        public var excludes: Filter?
    }

    public struct Arg: Codable, Sendable, Equatable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64?
        public var op: String
    }

    /// When a rule applies: on these architectures, with these capabilities, from this kernel on.
    public struct Filter: Codable, Sendable, Equatable {
        public var arches: [String]?
        public var caps: [String]?
        public var minKernel: String?
    }

    /// Decodes a profile; the error names the file and the JSON path of what is wrong.
    public static func decode(_ bytes: [UInt8], source: String) throws(EngineError) -> SeccompProfile {
        do {
            return try decodeJSON(SeccompProfile.self, bytes)
        } catch {
            throw .invalid("Decoding seccomp profile \(source) failed: \(error)")
        }
    }

    /// Reads a profile from a host file (the user named it, or the operator's override).
    public static func load(path: String) throws(EngineError) -> SeccompProfile {
        let bytes: [UInt8]
        do { bytes = try FS.readFile(path) } catch {
            throw .invalid("opening seccomp profile (\(path)) failed: \(error.reason)")
        }
        return try decode(bytes, source: path)
    }

    /// seccomp's name for Docker's architecture name (`HostInfo.architecture`).
    static let nativeArchitectures: [String: String] = [
        "amd64": "SCMP_ARCH_X86_64", "x86": "SCMP_ARCH_X86", "arm64": "SCMP_ARCH_AARCH64", "arm": "SCMP_ARCH_ARM",
        "ppc64le": "SCMP_ARCH_PPC64LE", "ppc64": "SCMP_ARCH_PPC64", "s390x": "SCMP_ARCH_S390X", "s390": "SCMP_ARCH_S390",
        "mips64": "SCMP_ARCH_MIPS64", "mipsel64": "SCMP_ARCH_MIPSEL64", "riscv64": "SCMP_ARCH_RISCV64",
    ]

    /// The OCI seccomp config for a container: rules kept or dropped by their `includes`/`excludes`
    /// against the architecture, the kernel and the container's bounding capabilities, exactly as
    /// Docker filters them; `archMap` reduced to this architecture and its sub-architectures.
    /// nil when the profile has neither a default action nor rules (Docker: seccomp disabled).
    public func converted(architecture: String, kernel: (major: Int, minor: Int), capabilities: [String]) throws(EngineError) -> Seccomp? {
        if (defaultAction ?? "").isEmpty && (syscalls ?? []).isEmpty { return nil }
        guard let defaultAction, !defaultAction.isEmpty else {
            throw .invalid("seccomp profile: defaultAction is required")
        }
        if !(architectures ?? []).isEmpty && !(archMap ?? []).isEmpty {
            throw .invalid("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'")
        }
        var arches = architectures ?? []
        if let native = Self.nativeArchitectures[architecture],
           let entry = (archMap ?? []).first(where: { $0.architecture == native }) {
            arches = [entry.architecture] + (entry.subArchitectures ?? [])
        }

        func kernelAtLeast(_ version: String) throws(EngineError) -> Bool {
            let parts = version.split(separator: ".").map { Int($0) }
            guard parts.count >= 2, let major = parts[0], let minor = parts[1] else {
                throw .invalid("seccomp profile: invalid minKernel \"\(version)\"")
            }
            return (kernel.major, kernel.minor) >= (major, minor)
        }

        var rules: [SeccompSyscall] = []
        for (index, rule) in (syscalls ?? []).enumerated() {
            if let excluded = rule.excludes {
                if (excluded.arches ?? []).contains(architecture) { continue }
                if (excluded.caps ?? []).contains(where: capabilities.contains) { continue }
                if let minimum = excluded.minKernel, !minimum.isEmpty, try kernelAtLeast(minimum) { continue }
            }
            if let included = rule.includes {
                if let needed = included.arches, !needed.isEmpty, !needed.contains(architecture) { continue }
                if let needed = included.caps, !needed.allSatisfy(capabilities.contains) { continue }
                if let minimum = included.minKernel, !minimum.isEmpty, !(try kernelAtLeast(minimum)) { continue }
            }
            let names: [String]
            switch (rule.name, rule.names) {
            case (let name?, let list?) where !name.isEmpty && !list.isEmpty:
                throw .invalid("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'")
            case (let name?, _) where !name.isEmpty:
                names = [name]
            default:
                names = rule.names ?? []
            }
            guard !names.isEmpty else { throw .invalid("seccomp profile: syscalls[\(index)] names no syscall") }
            let args = (rule.args ?? []).map { SeccompArg(index: $0.index, value: $0.value, valueTwo: $0.valueTwo, op: $0.op) }
            rules.append(SeccompSyscall(names: names, action: rule.action, errnoRet: rule.errnoRet,
                                        args: args.isEmpty ? nil : args))
        }
        return Seccomp(defaultAction: defaultAction, defaultErrnoRet: defaultErrnoRet,
                       architectures: arches.isEmpty ? nil : arches, flags: flags, listenerPath: listenerPath,
                       listenerMetadata: listenerMetadata, syscalls: rules)
    }
}

extension SpecBuilder {
    /// Docker's choice: none when privileged or `seccomp=unconfined`, the named profile, else the
    /// operator's override of the default, else the built-in Docker 28 default profile. Nothing on
    /// the host can leave a container unfiltered by its absence.
    static func seccomp(_ input: SpecInput, bounding: [String]) throws(EngineError) -> Seccomp? {
        if input.options.privileged { return nil }
        let profile: SeccompProfile
        switch input.options.seccomp {
        case .unconfined:
            return nil
        case .builtin:
            profile = .dockerDefault
        case .profile(let path):
            profile = try SeccompProfile.load(path: path)
        case nil:
            if let path = input.defaultSeccompProfile {
                // An override that is missing must not silently fall back to another profile.
                guard FS.exists(path) else {
                    throw .invalid("the seccomp profile \(path) configured to replace the default (BERTH_SECCOMP_PROFILE) does not exist: fix or unset it, or run with --security-opt seccomp=unconfined")
                }
                profile = try SeccompProfile.load(path: path)
            } else {
                profile = .dockerDefault
            }
        }
        return try profile.converted(architecture: input.host.architecture, kernel: input.host.kernel,
                                     capabilities: bounding)
    }
}
