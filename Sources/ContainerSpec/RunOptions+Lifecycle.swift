import ContainerRuntime

// MARK: restart, stop signal, pull

extension RunOptions.Parse {
    /// `--restart no|always|unless-stopped|on-failure[:N]`.
    public static func restart(_ text: String) throws(EngineError) -> RestartPolicy {
        if text.isEmpty { return .no }
        let (name, count) = cut(text, ":")
        if count != nil, name.isEmpty { throw .invalid("invalid restart policy format: no policy provided before colon") }
        var retries: Int?
        if let count, !count.isEmpty {
            guard let value = Int(count) else {
                throw .invalid("invalid restart policy format: maximum retry count must be an integer")
            }
            retries = value
        }
        switch name {
        case "no", "always", "unless-stopped":
            if let retries, retries != 0 {
                throw .invalid("invalid restart policy: maximum retry count can only be used with 'on-failure'" + (retries < 0 ? " and cannot be negative" : ""))
            }
            return name == "no" ? .no : name == "always" ? .always : .unlessStopped
        case "on-failure":
            if let retries, retries < 0 { throw .invalid("invalid restart policy: maximum retry count cannot be negative") }
            // Docker's 0 means "no maximum", as does leaving it out.
            return .onFailure(maximumRetries: retries == 0 ? nil : retries)
        default:
            throw .invalid("invalid restart policy: unknown policy '\(name)'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'")
        }
    }

    /// `--stop-signal`: a name with or without SIG, or a number (1…64). Kept as given when valid.
    public static func stopSignal(_ text: String) throws(EngineError) -> String {
        guard Signals.parse(text) != nil else { throw .invalid("invalid signal: \(text)") }
        return text
    }

    /// `--pull always|missing|never`.
    public static func pull(_ text: String) throws(EngineError) -> PullPolicy {
        if text.isEmpty { return .missing }
        guard let policy = PullPolicy(rawValue: text) else {
            throw .invalid("invalid pull option: '\(text)': must be one of \"always\", \"missing\" or \"never\"")
        }
        return policy
    }
}

extension RunOptions {
    /// The `--health-*` flags (each parsed as its flag was read) against `--no-healthcheck`, with
    /// Docker's CLI's checks.
    public mutating func applyHealth(_ health: HealthOverride, noHealthcheck: Bool) throws(EngineError) {
        if noHealthcheck {
            if health != HealthOverride() { throw .invalid("--no-healthcheck conflicts with --health-* options") }
            self.noHealthcheck = true
        } else {
            for (label, value) in [("interval", health.interval), ("timeout", health.timeout), ("start-period", health.startPeriod), ("start-interval", health.startInterval)] {
                if let value, value < 0 { throw .invalid("--health-\(label) cannot be negative") }
            }
            if let retries = health.retries, retries < 0 { throw .invalid("--health-retries cannot be negative") }
            self.health = health
        }
    }

    /// `--rm` with a restart policy, refused by the CLI and again by the daemon.
    public func checkRestartAndRemove() throws(EngineError) {
        if autoRemove, restart != .no { throw .invalid("conflicting options: cannot specify both --restart and --rm") }
    }
}

