import LinuxSys

/// A networking failure: what was attempted, on which network or container, and why (a plugin's
/// own message, an errno, or bad input the user can fix).
public struct NetworkError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public init(_ operation: String, _ error: any Error) { self.message = "\(operation): \(error)" }
    public var description: String { message }
}
