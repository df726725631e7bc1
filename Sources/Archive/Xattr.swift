import Glibc

/// Extended-attribute calls. Swift's Glibc module does not import <sys/xattr.h>, so the libc
/// functions are looked up once with dlsym and called through C function pointers.
public enum Xattr {
    private typealias SetPath = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    private typealias SetFD = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    private typealias GetPath = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    private typealias ListPath = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>?, Int) -> Int

    private struct Functions: @unchecked Sendable {
        let setxattr: SetPath?
        let lsetxattr: SetPath?
        let fsetxattr: SetFD?
        let lgetxattr: GetPath?
        let llistxattr: ListPath?

        init() {
            let libc = dlopen(nil, RTLD_NOW)
            func symbol<T>(_ name: String, as type: T.Type) -> T? {
                dlsym(libc, name).map { unsafeBitCast($0, to: type) }
            }
            setxattr = symbol("setxattr", as: SetPath.self)
            lsetxattr = symbol("lsetxattr", as: SetPath.self)
            fsetxattr = symbol("fsetxattr", as: SetFD.self)
            lgetxattr = symbol("lgetxattr", as: GetPath.self)
            llistxattr = symbol("llistxattr", as: ListPath.self)
        }
    }

    private static let functions = Functions()

    /// setxattr(2) (`follow`) or lsetxattr(2). Returns 0 or -1 with errno set.
    public static func set(path: String, name: String, value: [UInt8], follow: Bool) -> Int32 {
        guard let call = follow ? functions.setxattr : functions.lsetxattr else { errno = ENOSYS; return -1 }
        return value.withUnsafeBytes { call(path, name, $0.baseAddress, $0.count, 0) }
    }

    /// fsetxattr(2). Returns 0 or -1 with errno set.
    public static func set(fd: Int32, name: String, value: [UInt8]) -> Int32 {
        guard let call = functions.fsetxattr else { errno = ENOSYS; return -1 }
        return value.withUnsafeBytes { call(fd, name, $0.baseAddress, $0.count, 0) }
    }

    /// The names of `path`'s xattrs (not following a final symlink); empty if it has none or the
    /// filesystem has no xattrs.
    public static func names(path: String) -> [String] {
        guard let call = functions.llistxattr else { return [] }
        let size = call(path, nil, 0)
        guard size > 0 else { return [] }
        var buffer = [CChar](repeating: 0, count: size)
        let n = call(path, &buffer, size)
        guard n > 0 else { return [] }
        return buffer[0..<n].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }

    /// lgetxattr(2): the value, or nil if absent.
    public static func get(path: String, name: String) -> [UInt8]? {
        guard let call = functions.lgetxattr else { return nil }
        let size = call(path, name, nil, 0)
        guard size >= 0 else { return nil }
        var value = [UInt8](repeating: 0, count: size)
        let n = value.withUnsafeMutableBytes { call(path, name, $0.baseAddress, size) }
        guard n >= 0 else { return nil }
        return Array(value.prefix(n))
    }
}
