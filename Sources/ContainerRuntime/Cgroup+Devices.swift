import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// Device access control: the v1 `devices` controller's allow/deny lists, or on v2 (which has no
/// such files) an eBPF program attached to the cgroup that answers each open/mknod.
extension Cgroup {
    /// Devices every container may use, whatever the config says (the list runc and crun allow):
    /// mknod of anything, and the standard character devices, ptys and tun.
    static let defaultDeviceRules: [DeviceRule] = [
        DeviceRule(allow: true, type: "c", major: nil, minor: nil, access: "m"),
        DeviceRule(allow: true, type: "b", major: nil, minor: nil, access: "m"),
        DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),   // null
        DeviceRule(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),   // random
        DeviceRule(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),   // full
        DeviceRule(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),   // tty
        DeviceRule(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),   // zero
        DeviceRule(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),   // urandom
        DeviceRule(allow: true, type: "c", major: 136, minor: nil, access: "rwm"), // pts
        DeviceRule(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),   // ptmx
        DeviceRule(allow: true, type: "c", major: 10, minor: 200, access: "rwm"), // tun
    ]

    /// The config's rules, then the defaults, then every device the config creates.
    static func effectiveDeviceRules(_ rules: [DeviceRule]?, specDevices: [Device]) -> [DeviceRule] {
        var all = rules ?? []
        all += defaultDeviceRules
        for device in specDevices where device.type != "p" {
            all.append(DeviceRule(allow: true, type: device.type == "u" ? "c" : device.type,
                                  major: device.major, minor: device.minor, access: "rwm"))
        }
        return all
    }

    func applyDevices(_ rules: [DeviceRule]?, specDevices: [Device]) throws(RuntimeError) {
        let all = Cgroup.effectiveDeviceRules(rules, specDevices: specDevices)
        if let devices = directory(for: "devices"), !devices.isV2 {
            // Start from nothing allowed, then replay the list in order as the kernel expects.
            try write("devices", "devices.deny", "a")
            for rule in all {
                try write("devices", rule.allow ? "devices.allow" : "devices.deny", Cgroup.v1Line(rule))
            }
            return
        }
        if CgroupHierarchy.isUnifiedOnly(hierarchies), let unified = unifiedPath {
            try DeviceFilter.attach(rules: all, to: unified)
        }
    }

    static func v1Line(_ rule: DeviceRule) -> String {
        let type = rule.type ?? "a"
        if type == "a" { return "a" }
        let major = rule.major.map { $0 < 0 ? "*" : "\($0)" } ?? "*"
        let minor = rule.minor.map { $0 < 0 ? "*" : "\($0)" } ?? "*"
        return "\(type) \(major):\(minor) \(rule.access ?? "rwm")"
    }
}

/// A BPF_PROG_TYPE_CGROUP_DEVICE program built from device rules. The kernel passes
/// `{access_type = access << 16 | type, major, minor}`; the program returns 1 to allow, 0 to deny.
/// Rules are checked last to first, so a later rule overrides an earlier one as in v1's list.
enum DeviceFilter {
    struct Instruction {
        var code: UInt8
        var dst: UInt8 = 0
        var src: UInt8 = 0
        var offset: Int16 = 0
        var immediate: Int32 = 0

        var bytes: [UInt8] {
            let off = UInt16(bitPattern: offset)
            let imm = UInt32(bitPattern: immediate)
            return [code, (src << 4) | (dst & 0x0f), UInt8(off & 0xff), UInt8(off >> 8),
                    UInt8(imm & 0xff), UInt8((imm >> 8) & 0xff), UInt8((imm >> 16) & 0xff), UInt8(imm >> 24)]
        }
    }

    private static let loadWord: UInt8 = 0x61      // BPF_LDX | BPF_MEM | BPF_W
    private static let andImmediate: UInt8 = 0x54  // BPF_ALU | BPF_AND | BPF_K
    private static let shiftRight: UInt8 = 0x74    // BPF_ALU | BPF_RSH | BPF_K
    private static let moveImmediate: UInt8 = 0xb4 // BPF_ALU | BPF_MOV | BPF_K
    private static let moveRegister: UInt8 = 0xbc  // BPF_ALU | BPF_MOV | BPF_X
    private static let jumpNotEqual: UInt8 = 0x55  // BPF_JMP | BPF_JNE | BPF_K
    private static let exit: UInt8 = 0x95          // BPF_JMP | BPF_EXIT

    static func program(_ rules: [DeviceRule]) -> [Instruction] {
        // r2 = type, r3 = access, r4 = major, r5 = minor
        var code: [Instruction] = [
            Instruction(code: loadWord, dst: 2, src: 1, offset: 0),
            Instruction(code: andImmediate, dst: 2, immediate: 0xffff),
            Instruction(code: loadWord, dst: 3, src: 1, offset: 0),
            Instruction(code: shiftRight, dst: 3, immediate: 16),
            Instruction(code: loadWord, dst: 4, src: 1, offset: 4),
            Instruction(code: loadWord, dst: 5, src: 1, offset: 8),
        ]
        for rule in rules.reversed() {
            var block: [Instruction] = []
            var jumps: [Int] = []  // indexes of instructions that jump past this block
            switch rule.type ?? "a" {
            case "c": jumps.append(block.count); block.append(Instruction(code: jumpNotEqual, dst: 2, immediate: 2))
            case "b": jumps.append(block.count); block.append(Instruction(code: jumpNotEqual, dst: 2, immediate: 1))
            default: break
            }
            let access = rule.access ?? "rwm"
            var mask: Int32 = 0
            if access.contains("m") { mask |= 1 }
            if access.contains("r") { mask |= 2 }
            if access.contains("w") { mask |= 4 }
            if mask != 7 && (rule.type ?? "a") != "a" {
                // Allowed only if the request asks for nothing outside the rule's access.
                block.append(Instruction(code: moveRegister, dst: 1, src: 3))
                block.append(Instruction(code: andImmediate, dst: 1, immediate: ~mask & 7))
                jumps.append(block.count); block.append(Instruction(code: jumpNotEqual, dst: 1, immediate: 0))
            }
            if let major = rule.major, major >= 0, (rule.type ?? "a") != "a" {
                jumps.append(block.count); block.append(Instruction(code: jumpNotEqual, dst: 4, immediate: Int32(major)))
            }
            if let minor = rule.minor, minor >= 0, (rule.type ?? "a") != "a" {
                jumps.append(block.count); block.append(Instruction(code: jumpNotEqual, dst: 5, immediate: Int32(minor)))
            }
            block.append(Instruction(code: moveImmediate, dst: 0, immediate: rule.allow ? 1 : 0))
            block.append(Instruction(code: exit))
            for index in jumps { block[index].offset = Int16(block.count - index - 1) }
            code += block
            // A rule that matches everything decides every request: the verifier rejects code after it.
            if jumps.isEmpty { return code }
        }
        code.append(Instruction(code: moveImmediate, dst: 0, immediate: 0))
        code.append(Instruction(code: exit))
        return code
    }

    static let attachType: UInt32 = 6  // BPF_CGROUP_DEVICE

    static func attach(rules: [DeviceRule], to cgroupPath: String) throws(RuntimeError) {
        let bytes = program(rules).flatMap(\.bytes)
        var log = [CChar](repeating: 0, count: 4096)
        let programFD = bytes.withUnsafeBytes { raw in
            berth_bpf_prog_load_cgroup_device(raw.baseAddress, UInt32(bytes.count / 8), &log, UInt32(log.count))
        }
        guard programFD >= 0 else {
            let error = SysError("bpf(BPF_PROG_LOAD)", "device filter for \(cgroupPath)")
            let verifier = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw RuntimeError("load device cgroup program: \(error)" + (verifier.isEmpty ? "" : " (verifier: \(verifier))"))
        }
        defer { FS.close(programFD) }
        let cgroupFD: Int32
        do { cgroupFD = try FS.open(cgroupPath, O_RDONLY | O_DIRECTORY) } catch { throw error.context("open cgroup") }
        defer { FS.close(cgroupFD) }
        // Replace programs attached earlier (by a previous create or update), so only this one decides.
        var ids = [UInt32](repeating: 0, count: 64)
        var count: UInt32 = 64
        let existing = berth_bpf_prog_query(cgroupFD, attachType, &ids, &count) == 0 ? Array(ids.prefix(Int(count))) : []
        if berth_bpf_prog_attach(programFD, cgroupFD, attachType, 2 /* BPF_F_ALLOW_MULTI */) != 0 {
            throw SysError("bpf(BPF_PROG_ATTACH)", cgroupPath).context("attach device cgroup program")
        }
        for id in existing {
            let old = berth_bpf_prog_get_fd_by_id(id)
            if old >= 0 {
                _ = berth_bpf_prog_detach(old, cgroupFD, attachType)
                FS.close(old)
            }
        }
    }
}
