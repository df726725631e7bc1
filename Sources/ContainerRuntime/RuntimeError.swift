import LinuxSys
import OCI

/// Why a runtime operation failed. The message is what the user sees (and what containerd
/// reports from the log), so it says what failed, on which container or path, and why.
public struct RuntimeError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    /// Why a process could not be started, for callers that answer differently (Docker's 127 and 126).
    public var kind = Kind.other

    /// What kind of failure: most are `other`; starting a process says whether its executable was missing.
    public enum Kind: String, Sendable, Codable {
        case other
        /// Not in $PATH, or nothing at the path given (ENOENT).
        case executableNotFound
        /// There, but not executable: permission denied, a directory, not a program the kernel runs.
        case executableNotRunnable
    }

    public init(_ message: String, kind: Kind = .other) {
        self.message = message
        self.kind = kind
    }

    public init(_ context: String, _ error: any Error) {
        self.message = "\(context): \(error)"
    }

    public var description: String { message }

    static func notExist(_ id: String) -> RuntimeError { RuntimeError("container does not exist") }
}

extension SysError {
    public func context(_ what: String) -> RuntimeError { RuntimeError("\(what): \(self)") }
}
