import Glibc

/// A failed system call: what was attempted, on which path or object, and the errno.
public struct SysError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var path: String?
    public var errno: Int32

    public init(_ operation: String, _ path: String? = nil, errno: Int32 = Glibc.errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    /// The errno's text in Go's style (lowercase), as runc prints it: "no such file or directory".
    public var reason: String {
        let text = String(decoding: UnsafeRawBufferPointer(start: strerror(errno), count: strlen(strerror(errno))), as: UTF8.self)
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    public var description: String {
        let message = reason
        if let path { return "\(operation) \(path): \(message)" }
        return "\(operation): \(message)"
    }
}

/// Runs a syscall-shaped closure, retrying on EINTR, and throws a SysError on -1.
@inline(__always)
@discardableResult
public func sys<T: FixedWidthInteger>(_ operation: String, _ path: String? = nil, _ call: () -> T) throws(SysError) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        if errno == EINTR { continue }
        throw SysError(operation, path)
    }
}
