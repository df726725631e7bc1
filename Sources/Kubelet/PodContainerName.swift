/// The names and labels a pod's Engine containers carry (dockershim's scheme, which the streaming
/// endpoints rely on): `k8s_<container>_<pod>_<namespace>_<uid>_<restartCount>`, the sandbox's
/// container being `POD`.
public struct PodContainerName: Sendable, Equatable {
    public static let sandbox = "POD"

    public enum Label {
        public static let podName = "io.kubernetes.pod.name"
        public static let podNamespace = "io.kubernetes.pod.namespace"
        public static let podUID = "io.kubernetes.pod.uid"
        public static let containerName = "io.kubernetes.container.name"
        /// Berth's own: what teardown needs once the Pod object is gone.
        static let restartCount = "io.kubernetes.container.restartCount"
        static let gracePeriod = "io.kubernetes.pod.terminationGracePeriod"
        static let initContainer = "io.berth.kubernetes.init"
    }

    public var container: String
    public var pod: String
    public var namespace: String
    public var uid: String
    public var restartCount: Int

    public init(container: String, pod: String, namespace: String, uid: String, restartCount: Int) {
        self.container = container
        self.pod = pod
        self.namespace = namespace
        self.uid = uid
        self.restartCount = restartCount
    }

    public var description: String { "k8s_\(container)_\(pod)_\(namespace)_\(uid)_\(restartCount)" }

    /// Parsed from an Engine container's labels and name (nil for a container that is no pod's).
    init?(labels: [String: String], name: String) {
        guard let uid = labels[Label.podUID], let pod = labels[Label.podName], let namespace = labels[Label.podNamespace],
              let container = labels[Label.containerName] else { return nil }
        let count = name.split(separator: "_").last.flatMap { Int($0) } ?? 0
        self.init(container: container, pod: pod, namespace: namespace, uid: uid, restartCount: count)
    }
}
