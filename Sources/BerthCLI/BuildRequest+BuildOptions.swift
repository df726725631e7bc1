import Builder
import Dockerfile
import DockerModel

// For `POST /build` (DockerAPI): here until that target exists, since DockerModel does not depend on Builder.

extension BuildOptions {
    /// A `POST /build` request's options over its context, unpacked in `contextDirectory`.
    init(request: BuildRequest, contextDirectory: String) {
        self.init(contextDirectory: contextDirectory)
        dockerfilePath = contextDirectory + "/" + request.dockerfile
        tags = request.tags
        buildArgs = request.buildArgs
        labels = request.labels
        target = request.target
        noCache = request.noCache
        quiet = request.quiet
        if let platform = request.platform { self.platform = platform }
        network = RunNetworkMode(rawValue: request.network) ?? .default
    }
}
