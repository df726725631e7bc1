import Dockerfile
import OCI

/// What `berth build` was asked for (Docker's flag names in comments).
public struct BuildOptions: Sendable {
    /// The context directory, absolute (a `-` tar on stdin is unpacked into one first).
    public var contextDirectory: String
    /// `-f`: the Dockerfile's path; nil: `Dockerfile` in the context.
    public var dockerfilePath: String?
    /// `-f -`: the Dockerfile's text itself.
    public var dockerfileText: String?
    /// `-t`, each normalised.
    public var tags: [ImageReference] = []
    /// `--build-arg K=V` (a bare `K` takes the value from the environment, as Docker does).
    public var buildArgs: [String: String] = [:]
    /// `--target`.
    public var target: String?
    /// `--no-cache`.
    public var noCache = false
    /// `--label`: added to the final image.
    public var labels: [String: String] = [:]
    /// `-q`: no progress, only the image ID on stdout.
    public var quiet = false
    public var platform: OCI.Platform = .current
    /// `--network`: the network RUN steps get unless they name one; "default" is a namespace of
    /// their own on the default bridge, as in Docker; "host" shares the host's (its loopback
    /// services and abstract sockets included), so the user must ask for it.
    public var network: RunNetworkMode = .default
    /// `--allow network.host`: lets `RUN --network=host` have the host's network (BuildKit's entitlement).
    public var allowHostNetwork = false
    /// `ADD https://…` sources, fetched before the build (the CLI does the HTTP): URL → local file.
    public var downloads: [String: String] = [:]

    public init(contextDirectory: String) {
        self.contextDirectory = contextDirectory
    }
}

/// A build failure: which instruction of which file (when there is one), and why.
public struct BuildError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// For a RUN whose command failed: its argv and exit status (the legacy builder's
    /// "The command '…' returned a non-zero code: N", and the client's exit status).
    public var command: [String]?
    public var exitCode: Int?
    public init(_ message: String, command: [String]? = nil, exitCode: Int? = nil) {
        self.message = message
        self.command = command
        self.exitCode = exitCode
    }
    public init(_ operation: String, _ error: any Error) { self.message = "\(operation): \(error)" }
    public var description: String { message }

    /// The same failure with more context in front of its message.
    func prefixed(_ context: String) -> BuildError {
        BuildError(context + message, command: command, exitCode: exitCode)
    }
}
