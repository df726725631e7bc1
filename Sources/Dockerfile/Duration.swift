import GoCompat

/// Go's `time.ParseDuration`, which HEALTHCHECK's --interval/--timeout/--start-period/--start-interval
/// use: a sequence of decimal numbers with units (`1h30m`, `1.5s`, `300ms`, `10us`), result in nanoseconds.
public func parseGoDuration(_ text: String) throws(DockerfileError) -> Int64 {
    do { return try GoTime.parseDuration(text) } catch { throw DockerfileError(error.message) }
}
