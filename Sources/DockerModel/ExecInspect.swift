/// Docker's `GET /exec/{id}/json` (its backend.ExecInspect). ExitCode is null until the process
/// has ended; DetachKeys is Go's `[]byte`, so base64.
public struct ExecInspect: Codable, Sendable, Equatable {
    public var id: String
    public var running: Bool
    public var exitCode: Int?
    public var processConfig: ProcessConfig
    public var openStdin: Bool
    public var openStderr: Bool
    public var openStdout: Bool
    public var canRemove: Bool
    public var containerID: String
    public var detachKeys: String
    public var pid: Int

    /// Docker spells these members in lower case, in this order: tty, entrypoint, arguments,
    /// privileged, then user only when set.
    public struct ProcessConfig: Codable, Sendable, Equatable {
        public var privileged: Bool
        public var user: String
        public var tty: Bool
        public var entrypoint: String
        public var arguments: [String]

        public init(privileged: Bool, user: String, tty: Bool, entrypoint: String, arguments: [String]) {
            self.privileged = privileged
            self.user = user
            self.tty = tty
            self.entrypoint = entrypoint
            self.arguments = arguments
        }

        enum CodingKeys: String, CodingKey { case tty, entrypoint, arguments, privileged, user }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(tty, forKey: .tty)
            try c.encode(entrypoint, forKey: .entrypoint)
            try c.encode(arguments, forKey: .arguments)
            try c.encode(privileged, forKey: .privileged)
            if !user.isEmpty { try c.encode(user, forKey: .user) }
        }
    }

    public init(id: String, running: Bool, exitCode: Int?, processConfig: ProcessConfig, openStdin: Bool, openStderr: Bool,
                openStdout: Bool, canRemove: Bool, containerID: String, detachKeys: String, pid: Int) {
        self.id = id
        self.running = running
        self.exitCode = exitCode
        self.processConfig = processConfig
        self.openStdin = openStdin
        self.openStderr = openStderr
        self.openStdout = openStdout
        self.canRemove = canRemove
        self.containerID = containerID
        self.detachKeys = detachKeys
        self.pid = pid
    }

    enum CodingKeys: String, CodingKey {
        case id = "ID", running = "Running", exitCode = "ExitCode", processConfig = "ProcessConfig", openStdin = "OpenStdin"
        case openStderr = "OpenStderr", openStdout = "OpenStdout", canRemove = "CanRemove", containerID = "ContainerID"
        case detachKeys = "DetachKeys", pid = "Pid"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(running, forKey: .running)
        try c.encode(exitCode, forKey: .exitCode)
        try c.encode(processConfig, forKey: .processConfig)
        try c.encode(openStdin, forKey: .openStdin)
        try c.encode(openStderr, forKey: .openStderr)
        try c.encode(openStdout, forKey: .openStdout)
        try c.encode(canRemove, forKey: .canRemove)
        try c.encode(containerID, forKey: .containerID)
        try c.encode(detachKeys, forKey: .detachKeys)
        try c.encode(pid, forKey: .pid)
    }
}
