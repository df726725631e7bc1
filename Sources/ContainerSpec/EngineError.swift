/// A failure of an engine operation, as a value: what was attempted, on what, and why.
/// `kind` decides the CLI's exit status and, later, the Docker API's HTTP status.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The user's input is wrong (a flag, a reference, a file they named): Docker answers 125 / HTTP 400.
        case invalidArgument
        /// No such container, image, volume: 125 / HTTP 404.
        case notFound
        /// The object is in a state that forbids the operation (name in use, container running): 125 / HTTP 409.
        case conflict
        /// The system failed (a syscall, the database, the runtime): 125 / HTTP 500.
        case system
    }

    public let kind: Kind
    public let message: String
    public var description: String { message }

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func invalid(_ message: String) -> EngineError { EngineError(.invalidArgument, message) }
    public static func notFound(_ message: String) -> EngineError { EngineError(.notFound, message) }
    public static func conflict(_ message: String) -> EngineError { EngineError(.conflict, message) }
    public static func system(_ message: String) -> EngineError { EngineError(.system, message) }

    /// Wraps any error with the operation that failed: `EngineError.system("mount rootfs", error)`.
    public static func system(_ operation: String, _ error: any Error) -> EngineError {
        EngineError(.system, "\(operation): \(error)")
    }
}
