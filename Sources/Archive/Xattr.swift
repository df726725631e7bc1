import CLinuxSys
import Glibc

/// Extended-attribute calls. Swift's Glibc module does not import <sys/xattr.h>; the calls go
/// through CLinuxSys, linked directly, because a dlsym lookup returns nothing in the static
/// release executable (every xattr then failed with ENOSYS).
public enum Xattr {
    /// setxattr(2) (`follow`) or lsetxattr(2). Returns 0 or -1 with errno set.
    public static func set(path: String, name: String, value: [UInt8], follow: Bool) -> Int32 {
        value.withUnsafeBytes { berth_setxattr(path, name, $0.baseAddress, $0.count, follow ? 1 : 0) }
    }

    /// fsetxattr(2). Returns 0 or -1 with errno set.
    public static func set(fd: Int32, name: String, value: [UInt8]) -> Int32 {
        value.withUnsafeBytes { berth_fsetxattr(fd, name, $0.baseAddress, $0.count) }
    }

    /// The names of `path`'s xattrs (not following a final symlink); empty if it has none or the
    /// filesystem has no xattrs.
    public static func names(path: String) -> [String] {
        list { berth_llistxattr(path, $0, $1) }
    }

    /// The names of the xattrs of the file open on `fd`.
    public static func names(fd: Int32) -> [String] {
        list { berth_flistxattr(fd, $0, $1) }
    }

    /// lgetxattr(2): the value, or nil if absent.
    public static func get(path: String, name: String) -> [UInt8]? {
        value { berth_lgetxattr(path, name, $0, $1) }
    }

    /// fgetxattr(2): the value, or nil if absent.
    public static func get(fd: Int32, name: String) -> [UInt8]? {
        value { berth_fgetxattr(fd, name, $0, $1) }
    }

    private static func list(_ call: (UnsafeMutablePointer<CChar>?, Int) -> Int) -> [String] {
        let size = call(nil, 0)
        guard size > 0 else { return [] }
        var buffer = [CChar](repeating: 0, count: size)
        let n = buffer.withUnsafeMutableBufferPointer { call($0.baseAddress, size) }
        guard n > 0 else { return [] }
        return buffer[0..<n].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }

    private static func value(_ call: (UnsafeMutableRawPointer?, Int) -> Int) -> [UInt8]? {
        let size = call(nil, 0)
        guard size >= 0 else { return nil }
        var value = [UInt8](repeating: 0, count: size)
        let n = value.withUnsafeMutableBytes { call($0.baseAddress, size) }
        guard n >= 0 else { return nil }
        return Array(value.prefix(n))
    }
}
