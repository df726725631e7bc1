import Synchronization

/// Execs created but not yet started (`POST /containers/{id}/exec` then `POST /exec/{id}/start`).
final class ExecRegistry: Sendable {
    private let entries = Mutex<[String: String]>([:])
}
