/// A failure inside the supervisor or its file formats (logs, state), naming the operation and path.
public struct SupervisorError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
    public init(_ operation: String, _ error: any Error) { self.message = "\(operation): \(error)" }
}
