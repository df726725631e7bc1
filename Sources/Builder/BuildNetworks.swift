import ContainerSpec

/// What a build needs of the engine's networks: each RUN gets a namespace of its own on the default
/// bridge (Docker's "default" network mode). The engine's implementation is handed in by whoever
/// starts the build (the CLI), so Builder does not depend on Engine.
public protocol BuildNetworks {
    /// Attaches a fresh namespace for step `id`; `hostname` goes into the step's hosts file.
    func attach(stepID id: String, hostname: String) throws(EngineError) -> BuildStepNetwork
}

/// One RUN step's network.
public struct BuildStepNetwork {
    /// The namespace the step's container joins.
    public var netns: String
    /// /etc/hosts and /etc/resolv.conf for the step.
    public var etcFiles: [String: String]
    /// Detaches the namespace and releases its address.
    public var release: () -> Void

    public init(netns: String, etcFiles: [String: String], release: @escaping () -> Void) {
        self.netns = netns
        self.etcFiles = etcFiles
        self.release = release
    }
}
