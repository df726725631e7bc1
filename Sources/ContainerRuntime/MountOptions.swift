import Glibc
import OCI

/// A mount's `options` split the way mount(8) splits them: flags for mount(2), propagation
/// changes (applied in a second call), recursive attributes for mount_setattr(2) (`rro`, `rnosuid` ...),
/// and whatever is left as the filesystem's data string (`mode=755,size=64k`).
struct MountOptions: Equatable {
    var flags: UInt = 0
    var clearedFlags: UInt = 0
    var propagation: [UInt] = []
    var recursiveSet: UInt64 = 0
    var recursiveClear: UInt64 = 0
    var data: [String] = []
    var isBind = false
    var isRecursiveBind = false
    var copyUp = false
    var idmap = false

    private static let setting: [String: UInt] = [
        "ro": UInt(MS_RDONLY), "nosuid": UInt(MS_NOSUID), "nodev": UInt(MS_NODEV), "noexec": UInt(MS_NOEXEC),
        "sync": UInt(MS_SYNCHRONOUS), "remount": UInt(MS_REMOUNT), "mand": UInt(MS_MANDLOCK),
        "dirsync": UInt(MS_DIRSYNC), "noatime": UInt(MS_NOATIME), "nodiratime": UInt(MS_NODIRATIME),
        "relatime": UInt(MS_RELATIME), "strictatime": UInt(MS_STRICTATIME), "silent": UInt(MS_SILENT),
        "lazytime": UInt(MS_LAZYTIME), "iversion": UInt(MS_I_VERSION), "nosymfollow": 256,
    ]
    private static let clearing: [String: UInt] = [
        "rw": UInt(MS_RDONLY), "suid": UInt(MS_NOSUID), "dev": UInt(MS_NODEV), "exec": UInt(MS_NOEXEC),
        "async": UInt(MS_SYNCHRONOUS), "nomand": UInt(MS_MANDLOCK), "atime": UInt(MS_NOATIME),
        "diratime": UInt(MS_NODIRATIME), "norelatime": UInt(MS_RELATIME), "nostrictatime": UInt(MS_STRICTATIME),
        "loud": UInt(MS_SILENT), "nolazytime": UInt(MS_LAZYTIME), "noiversion": UInt(MS_I_VERSION),
        "symfollow": 256, "defaults": 0,
    ]
    private static let propagations: [String: UInt] = [
        "private": UInt(MS_PRIVATE), "rprivate": UInt(MS_PRIVATE | MS_REC),
        "shared": UInt(MS_SHARED), "rshared": UInt(MS_SHARED | MS_REC),
        "slave": UInt(MS_SLAVE), "rslave": UInt(MS_SLAVE | MS_REC),
        "unbindable": UInt(MS_UNBINDABLE), "runbindable": UInt(MS_UNBINDABLE | MS_REC),
    ]
    // MOUNT_ATTR_* values for mount_setattr(2) with AT_RECURSIVE.
    static let attrRdonly: UInt64 = 0x1, attrNosuid: UInt64 = 0x2, attrNodev: UInt64 = 0x4,
               attrNoexec: UInt64 = 0x8, attrAtimeMask: UInt64 = 0x70, attrRelatime: UInt64 = 0,
               attrNoatime: UInt64 = 0x10, attrStrictatime: UInt64 = 0x20, attrNodiratime: UInt64 = 0x80,
               attrNosymfollow: UInt64 = 0x200000
    private static let recursive: [String: (set: UInt64, clear: UInt64)] = [
        "rro": (attrRdonly, 0), "rrw": (0, attrRdonly), "rnosuid": (attrNosuid, 0), "rsuid": (0, attrNosuid),
        "rnodev": (attrNodev, 0), "rdev": (0, attrNodev), "rnoexec": (attrNoexec, 0), "rexec": (0, attrNoexec),
        "rnodiratime": (attrNodiratime, 0), "rdiratime": (0, attrNodiratime),
        "rrelatime": (attrRelatime, attrAtimeMask), "rnorelatime": (0, 0),
        "rnoatime": (attrNoatime, attrAtimeMask), "ratime": (0, attrNoatime),
        "rstrictatime": (attrStrictatime, attrAtimeMask), "rnostrictatime": (0, 0),
        "rnosymfollow": (attrNosymfollow, 0), "rsymfollow": (0, attrNosymfollow),
    ]

    /// Every option name this runtime understands (reported by `features`).
    static var known: [String] {
        (Array(setting.keys) + Array(clearing.keys) + Array(propagations.keys) + Array(recursive.keys)
            + ["bind", "rbind", "tmpcopyup", "idmap", "ridmap"]).sorted()
    }

    init(_ options: [String]) {
        for option in options {
            if option == "bind" { isBind = true; continue }
            if option == "rbind" { isBind = true; isRecursiveBind = true; continue }
            if option == "tmpcopyup" { copyUp = true; continue }
            if option == "idmap" || option == "ridmap" { idmap = true; continue }
            if let flag = Self.setting[option] { flags |= flag; clearedFlags &= ~flag; continue }
            if let flag = Self.clearing[option] { flags &= ~flag; clearedFlags |= flag; continue }
            if let flag = Self.propagations[option] { propagation.append(flag); continue }
            if let attr = Self.recursive[option] {
                recursiveSet = (recursiveSet & ~attr.clear) | attr.set
                recursiveClear = (recursiveClear & ~attr.set) | attr.clear
                continue
            }
            data.append(option)
        }
    }

    var dataString: String { data.joined(separator: ",") }
}
