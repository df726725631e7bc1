import LinuxSys

/// A failure of an engine operation, as a value: what was attempted, on what, and why.
///
/// One shape for every service (Engine, Builder, ContainerSpec): a `kind`, a `message` that names the
/// operation and the object, and the `underlying` SysError when a syscall failed. Front ends decide
/// by `kind`, never by the text; Docker's mapping, which they follow:
///
/// | kind            | Docker API (`httpStatus`) | docker CLI exit |
/// |-----------------|---------------------------|-----------------|
/// | invalidArgument | 400 Bad Request           | 125             |
/// | notFound        | 404 Not Found             | 125             |
/// | conflict        | 409 Conflict              | 125             |
/// | forbidden       | 403 Forbidden             | 125             |
/// | unavailable     | 503 Service Unavailable   | 125             |
/// | internal        | 500 Internal Server Error | 125             |
/// | expired         | 410 Gone                  | 125             |
///
/// (The CLI's exit statuses are BerthCLI's business: see `EngineError.exitCode` there.)
/// "Error response from daemon:" is a front end's word too: `reportedByDaemon` says whether Docker's
/// CLI would print this failure with it (dockerd answered it) or without (the CLI checked it itself).
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable, CaseIterable {
        /// The user's input is wrong (a flag, a reference, a file they named).
        case invalidArgument
        /// No such container, image, volume.
        case notFound
        /// The object is in a state that forbids the operation (name in use, container running).
        case conflict
        /// The operation is not allowed on this object at all (a pre-defined network).
        case forbidden
        /// A service the operation needs cannot be reached now.
        case unavailable
        /// The system failed (a syscall, the database, the runtime).
        case `internal`
        /// What was asked for is no longer kept (a watch from a resourceVersion older than the
        /// Kubernetes store's compacted change log: the apiserver's 410 Gone, reason Expired).
        case expired
    }

    public let kind: Kind
    public let message: String
    /// The failed syscall's error, when one is the cause.
    public let underlying: SysError?
    /// Docker's daemon (not its CLI) reports this failure: a CLI prints it after "Error response from daemon: ".
    public let reportedByDaemon: Bool
    public var description: String { message }

    public init(_ kind: Kind, _ message: String, underlying: SysError? = nil, reportedByDaemon: Bool = false) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
        self.reportedByDaemon = reportedByDaemon
    }

    /// Docker's API status for the kind.
    public var httpStatus: Int {
        switch kind {
        case .invalidArgument: 400
        case .notFound: 404
        case .conflict: 409
        case .forbidden: 403
        case .unavailable: 503
        case .internal: 500
        case .expired: 410
        }
    }

    public static func invalid(_ message: String, reportedByDaemon: Bool = false) -> EngineError {
        EngineError(.invalidArgument, message, reportedByDaemon: reportedByDaemon)
    }
    public static func notFound(_ message: String, reportedByDaemon: Bool = false) -> EngineError {
        EngineError(.notFound, message, reportedByDaemon: reportedByDaemon)
    }
    public static func conflict(_ message: String, reportedByDaemon: Bool = false) -> EngineError {
        EngineError(.conflict, message, reportedByDaemon: reportedByDaemon)
    }
    public static func forbidden(_ message: String, reportedByDaemon: Bool = false) -> EngineError {
        EngineError(.forbidden, message, reportedByDaemon: reportedByDaemon)
    }
    public static func unavailable(_ message: String, reportedByDaemon: Bool = false) -> EngineError {
        EngineError(.unavailable, message, reportedByDaemon: reportedByDaemon)
    }
    public static func expired(_ message: String) -> EngineError {
        EngineError(.expired, message)
    }
    /// An internal failure (the system's, not the user's).
    public static func system(_ message: String, reportedByDaemon: Bool = false) -> EngineError {
        EngineError(.internal, message, reportedByDaemon: reportedByDaemon)
    }

    /// Wraps any error with the operation that failed: `EngineError.system("mount rootfs", error)`;
    /// a SysError stays reachable as `underlying`.
    public static func system(_ operation: String, _ error: any Error, reportedByDaemon: Bool = false) -> EngineError {
        EngineError(.internal, "\(operation): \(error)", underlying: error as? SysError, reportedByDaemon: reportedByDaemon)
    }

    /// The same failure with the daemon as its reporter.
    public var fromDaemon: EngineError {
        EngineError(kind, message, underlying: underlying, reportedByDaemon: true)
    }
}
