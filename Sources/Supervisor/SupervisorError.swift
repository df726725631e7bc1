import ContainerRuntime

/// A failure inside the supervisor or its file formats (logs, state), naming the operation and path.
public struct SupervisorError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// Why the container's process could not be started, as the runtime classified it.
    public var startFailure: RuntimeError.Kind = .other
    public var description: String { message }
    public init(_ message: String) { self.message = message }
    public init(_ operation: String, _ error: any Error) { self.message = "\(operation): \(error)" }
    public init(_ error: RuntimeError) {
        self.message = error.message
        self.startFailure = error.kind
    }
}
