import GoCompat

// MARK: --log-driver and the local driver's --log-opt

extension RunOptions.Parse {
    /// Docker's other logging drivers: known, and refused here with a reason rather than "not found".
    static let otherDockerLogDrivers: Set<String> = [
        "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "etwlogs", "gcplogs", "logentries",
    ]

    /// `--log-driver json-file|local|none` ("" is json-file). The daemon checks it.
    public static func logDriver(_ text: String) throws(EngineError) -> LogDriver {
        if text.isEmpty { return .jsonFile }
        if let driver = LogDriver(rawValue: text) { return driver }
        if otherDockerLogDrivers.contains(text) {
            throw .invalid("failed to initialize logging driver: the \(text) logging driver is not supported by berth (json-file, local and none are)",
                           reportedByDaemon: true)
        }
        throw .notFound("error looking up logging plugin \(text): plugin \(goQuote(text)) not found", reportedByDaemon: true)
    }

    /// One `--log-opt` of the local driver: max-size, max-file, compress (its messages are the daemon's).
    public static func localLogOption(_ text: String) throws(EngineError) -> (key: String, value: String) {
        let (key, value) = cut(text, "=")
        guard let value else { throw .invalid("invalid log opt '\(text)': must be KEY=VALUE") }
        let failed = "failed to initialize logging driver: "
        switch key {
        case "max-size":
            guard let size = try? size(value), size >= 0 else {
                throw .invalid(failed + "invalid value for max-size: \(value): invalid size: '\(value)'", reportedByDaemon: true)
            }
        case "max-file":
            guard Int(value) != nil else {
                throw .invalid(failed + "invalid value for max-file: \(value): strconv.Atoi: parsing \(goQuote(value)): invalid syntax", reportedByDaemon: true)
            }
        case "compress":
            guard goBool(value) != nil else {
                throw .invalid(failed + "error reading compress log option: strconv.ParseBool: parsing \(goQuote(value)): invalid syntax", reportedByDaemon: true)
            }
        default:
            throw .invalid("unknown log opt '\(key)' for log driver local", reportedByDaemon: true)
        }
        return (key, value)
    }

    /// The local driver's options together: compressing (its default) needs more than one file.
    static func checkLocalLogOptions(_ options: [String: String]) throws(EngineError) {
        let compress = options["compress"].flatMap(goBool) ?? true
        if let files = options["max-file"].flatMap({ Int($0) }), files <= 1, compress {
            throw .invalid("failed to initialize logging driver: compression cannot be enabled when max file count is 1", reportedByDaemon: true)
        }
    }
}

extension RunOptions {
    /// The options the json-file writer rotates by: the local driver's compression is its own
    /// storage detail (the log stays readable either way), so it is not passed on.
    public var logWriterOptions: [String: String] {
        logDriver == .local ? logOptions.filter { $0.key != "compress" } : logOptions
    }

    /// `logs` on a container whose driver keeps nothing: Docker's daemon refuses.
    public func checkLogsReadable() throws(EngineError) {
        if logDriver == LogDriver.none {
            throw .invalid("configured logging driver does not support reading", reportedByDaemon: true)
        }
    }
}
