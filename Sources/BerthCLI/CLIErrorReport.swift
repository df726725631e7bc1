import ContainerSpec
import Engine
import ImageStore
import ArgumentParser

// How the CLI reports a service's failure: the one place that says "Error response from daemon:"
// for an engine error, and that maps error kinds to exit statuses.

/// The words Docker's CLI puts before a failure its daemon answered.
let daemonPrefix = "Error response from daemon: "

extension EngineError {
    /// The failure as Docker's CLI prints it: after the daemon prefix when dockerd would have reported it.
    var cliText: String { reportedByDaemon ? daemonPrefix + message : message }
}

extension EngineError.Kind {
    /// Docker's CLI exit status for a failure of this kind where the command fails as berth (not as
    /// the container): 125, for every kind (`run`, `create`, `start`; the other commands exit 1 on a
    /// daemon error as the docker CLI does, whatever its kind).
    var cliExitCode: Int32 {
        switch self {
        case .invalidArgument, .notFound, .conflict, .forbidden, .unavailable, .internal, .expired: 125
        }
    }
}

extension ExecError {
    /// The failure as Docker's CLI prints it.
    var cliText: String { reportedByDaemon ? daemonPrefix + message : message }
}

/// A failure as the CLI prints it, whatever threw it.
func describe(_ error: any Error) -> String {
    if let error = error as? EngineError { return error.cliText }
    if let error = error as? Engine.StartError { return error.error.cliText }
    if let error = error as? ExecError { return error.cliText }
    if let error = error as? ImageStoreError { return error.message }
    if let error = error as? ValidationError { return error.message }
    return "\(error)"
}

/// A failure as Docker's CLI prints what the daemon answered (a volume, network or inspect command):
/// always after the daemon prefix.
func daemonText(_ error: any Error) -> String {
    if let error = error as? EngineError { return error.fromDaemon.cliText }
    if let error = error as? Engine.StartError { return error.error.fromDaemon.cliText }
    if let error = error as? ExecError, error.reportedByDaemon { return error.cliText }
    return daemonPrefix + describe(error)
}
