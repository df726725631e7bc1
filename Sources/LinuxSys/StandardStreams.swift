import Glibc

/// The process's standard streams, switched for a while.
public enum StandardStreams {
    /// Runs `body` with standard output going to standard error (`run` shows the pull it needs on
    /// stderr, as Docker does), stdio flushed at both switches.
    public static func withStdoutOnStderr<T>(_ body: () async throws -> T) async rethrows -> T {
        fflush(nil)
        let saved = dup(1)
        dup2(2, 1)
        defer {
            fflush(nil)
            dup2(saved, 1)
            close(saved)
        }
        return try await body()
    }
}
