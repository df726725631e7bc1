import ContainerSpec
import Engine
import GoCompat

/// `POST /containers/{id}/exec`: Docker's container.ExecOptions.
public struct ExecCreateRequest: Decodable, Sendable, GoNamed {
    public var user: String?
    public var privileged: Bool?
    public var tty: Bool?
    public var consoleSize: ConsoleSize?
    public var attachStdin: Bool?
    public var attachStderr: Bool?
    public var attachStdout: Bool?
    /// Sent by the CLI, unused by dockerd (detaching is ExecStartRequest's).
    public var detach: Bool?
    public var detachKeys: String?
    public var env: [String]?
    public var workingDir: String?
    public var cmd: [String]?
    public static var goName: String { "container.ExecOptions" }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case user = "User", privileged = "Privileged", tty = "Tty", consoleSize = "ConsoleSize", attachStdin = "AttachStdin"
        case attachStderr = "AttachStderr", attachStdout = "AttachStdout", detach = "Detach", detachKeys = "DetachKeys"
        case env = "Env", workingDir = "WorkingDir", cmd = "Cmd"
    }

    public init(body: [UInt8]) throws(EngineError) {
        self = try RequestBody.decode(Self.self, from: body, .optional)
    }

    /// The exec as `berth exec` asks the engine for it (`detach` is left to ExecStartRequest).
    /// `DetachKeys` stays in `detachKeys` for the attach that follows.
    public func execRequest() throws(EngineError) -> ExecRequest {
        guard let command = cmd, !command.isEmpty else { throw .invalid("No exec command specified") }
        var request = ExecRequest(command: command)
        request.tty = tty ?? false
        request.interactive = attachStdin ?? false
        request.privileged = privileged ?? false
        request.user = user.nonEmpty
        request.workdir = workingDir.nonEmpty
        for item in env ?? [] {
            if let entry = try RunOptions.Parse.env(item, lookup: { _ in nil }) { request.env.append(entry) }
        }
        // dockerd drops a console size without a tty.
        if request.tty { request.consoleSize = consoleSize?.rowsAndColumns }
        return request
    }
}

/// `POST /exec/{id}/start`: Docker's container.ExecStartOptions.
public struct ExecStartRequest: Decodable, Sendable, GoNamed {
    public var detach: Bool?
    public var tty: Bool?
    public var consoleSize: ConsoleSize?
    public static var goName: String { "container.ExecStartOptions" }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case detach = "Detach", tty = "Tty", consoleSize = "ConsoleSize"
    }

    public init(body: [UInt8]) throws(EngineError) {
        self = try RequestBody.decode(Self.self, from: body, .optional)
    }

    /// The tty's first size, when there is a tty and a size.
    public var ttySize: (rows: Int, columns: Int)? { tty == true ? consoleSize?.rowsAndColumns : nil }
}
