/// `--restart no|on-failure[:N]|always|unless-stopped`.
public enum RestartPolicy: Codable, Sendable, Equatable {
    case no
    /// Restart after a non-zero exit, at most `maximumRetries` times (nil: forever).
    case onFailure(maximumRetries: Int?)
    case always
    case unlessStopped

    /// Docker's name for inspect's HostConfig.RestartPolicy.Name.
    public var name: String {
        switch self {
        case .no: "no"
        case .onFailure: "on-failure"
        case .always: "always"
        case .unlessStopped: "unless-stopped"
        }
    }
}
