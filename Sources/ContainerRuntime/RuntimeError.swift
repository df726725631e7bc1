import LinuxSys
import OCI

/// Why a runtime operation failed. The message is what the user sees (and what containerd
/// reports from the log), so it says what failed, on which container or path, and why.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public var message: String

    public init(_ message: String) { self.message = message }

    public init(_ context: String, _ error: any Error) {
        self.message = "\(context): \(error)"
    }

    public var description: String { message }

    static func notExist(_ id: String) -> RuntimeError { RuntimeError("container does not exist") }
}

extension SysError {
    public func context(_ what: String) -> RuntimeError { RuntimeError("\(what): \(self)") }
}
