// MARK: --pid, --ipc, --uts, --userns

extension RunOptions.Parse {
    /// `--pid host|container:NAME` (an empty value: a namespace of its own). Docker's CLI checks it.
    public static func pidMode(_ text: String) throws(EngineError) -> NamespaceMode {
        guard let mode = namespaceMode(text, allowsContainer: true) else { throw .invalid("--pid: invalid PID mode") }
        return mode
    }

    /// `--ipc private|shareable|host|none|container:NAME`; "" is Docker's default (private). The
    /// daemon checks it, so the message is the daemon's.
    public static func ipcMode(_ text: String) throws(EngineError) -> NamespaceMode {
        switch text {
        case "", "private": return .private
        case "shareable": return .shareable
        case "none": return .none
        default:
            guard let mode = namespaceMode(text, allowsContainer: true), mode != .private else {
                throw .invalid("Invalid IPC mode: \(text)", reportedByDaemon: true)
            }
            return mode
        }
    }

    /// `--uts host`.
    public static func utsMode(_ text: String) throws(EngineError) -> NamespaceMode {
        guard let mode = namespaceMode(text, allowsContainer: false) else { throw .invalid("--uts: invalid UTS mode") }
        return mode
    }

    /// `--userns host`.
    public static func usernsMode(_ text: String) throws(EngineError) -> NamespaceMode {
        guard let mode = namespaceMode(text, allowsContainer: false) else { throw .invalid("--userns: invalid USER mode") }
        return mode
    }

    /// "", "host" and (where allowed) "container:NAME" with a name.
    static func namespaceMode(_ text: String, allowsContainer: Bool) -> NamespaceMode? {
        if text.isEmpty { return .private }
        if text == "host" { return .host }
        if allowsContainer, text.hasPrefix("container:") {
            let name = String(text.dropFirst("container:".count))
            return name.isEmpty ? nil : .container(name)
        }
        return nil
    }
}

extension NamespaceMode {
    /// The container whose namespace this joins, if any.
    public var containerName: String? {
        if case .container(let name) = self { return name }
        return nil
    }

    /// Docker's string for it in PidMode/UTSMode/UsernsMode ("" for one of its own).
    public var dockerValue: String {
        switch self {
        case .private: ""
        case .host: "host"
        case .container(let name): "container:" + name
        case .shareable: "shareable"
        case .none: "none"
        }
    }
}

extension RunOptions {
    /// HostConfig.IpcMode as Docker reports it: "private" unless asked otherwise.
    public var ipcModeValue: String {
        let mode = ipcMode ?? .private
        return mode == .private ? "private" : mode.dockerValue
    }

    /// Whether the container gets a namespace of its own of this kind (what the spec asks the runtime for).
    public var ownsPIDNamespace: Bool { (pidMode ?? .private) == .private }
    public var ownsUTSNamespace: Bool {
        switch utsMode {
        case .host?, .container?: false
        default: true
        }
    }
}
