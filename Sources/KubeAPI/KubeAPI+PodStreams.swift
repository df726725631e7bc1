import ContainerSpec
import Engine
import GoCompat
import HTTPServer
import Kube
import KubeModel

/// The Pod subresources that reach into running containers (`pods/log`, `exec`, `attach`,
/// `portforward`). The kubelet's contract: each Pod container is an Engine container labelled
/// with the Pod's name, namespace and uid and the container's name, named
/// `k8s_<container>_<pod>_<namespace>_<uid>_<restartCount>`; the highest restart count is the
/// current one, the one before it `--previous`.
extension KubeAPI {
    static let podNameLabel = "io.kubernetes.pod.name"
    static let podNamespaceLabel = "io.kubernetes.pod.namespace"
    static let podUIDLabel = "io.kubernetes.pod.uid"
    static let containerNameLabel = "io.kubernetes.container.name"

    /// A Pod as the streams need it.
    struct PodStreamTarget {
        let name: String
        let namespace: String
        let uid: String?
        let object: JSONValue
        /// Every container's name: init containers, containers, ephemeral containers (the
        /// apiserver's VisitContainers order, which its messages list).
        let containerNames: [String]
        let regularContainers: [String]
    }

    /// `/api/v1/namespaces/NS/pods/NAME/SUBRESOURCE` (parts after /api/v1/): served here, or nil
    /// when `parts` is not such a path.
    func podSubresource(_ request: HTTPServerRequest, _ parts: [String], _ writer: ResponseWriter) throws(KubeStatus) -> Bool {
        guard parts.count == 5, parts[0] == "namespaces", parts[2] == "pods" else { return false }
        switch parts[4] {
        case "log":
            guard request.method == .GET else { throw .methodNotAllowed(request.method.rawValue, "pods/log") }
            try podLogs(request, try podTarget(namespace: parts[1], name: parts[3]), writer)
        case "exec", "attach":
            guard request.method == .GET || request.method == .POST else { throw .methodNotAllowed(request.method.rawValue, "pods/" + parts[4]) }
            try remoteCommand(request, try podTarget(namespace: parts[1], name: parts[3]), attach: parts[4] == "attach", writer)
        case "portforward":
            guard request.method == .GET || request.method == .POST else { throw .methodNotAllowed(request.method.rawValue, "pods/portforward") }
            try portForward(request, try podTarget(namespace: parts[1], name: parts[3]), writer)
        default:
            // Not a stream (status, binding…): the object verbs' routing decides.
            return false
        }
        return true
    }

    func podTarget(namespace: String, name: String) throws(KubeStatus) -> PodStreamTarget {
        let stored: StoredObject
        do { stored = try store.get(ObjectKey(KubeKinds.pod.storeResource, namespace: namespace, name: name)) } catch {
            throw status(error, Target(kind: KubeKinds.pod, namespace: namespace, name: name))
        }
        let object: JSONValue
        do { object = try stored.value() } catch { throw .internalError(error.message) }
        func names(_ member: String) -> [String] {
            guard case .array(let items)? = object[member: "spec"]?[member: member] else { return [] }
            return items.compactMap { $0[member: "name"]?.stringValue }
        }
        let regular = names("containers")
        return PodStreamTarget(name: name, namespace: namespace, uid: object.metadataString("uid"), object: object,
                               containerNames: names("initContainers") + regular + names("ephemeralContainers"),
                               regularContainers: regular)
    }

    /// The container a request names, as the apiserver checks it: none named is the only
    /// container, or a 400 listing them; a name not in the Pod is a 400.
    func containerName(_ request: HTTPServerRequest, _ pod: PodStreamTarget) throws(KubeStatus) -> String {
        if let given = request.parameter("container"), !given.isEmpty {
            guard pod.containerNames.contains(given) else {
                throw .badRequest("container \(given) is not valid for pod \(pod.name)")
            }
            return given
        }
        switch pod.regularContainers.count {
        case 0: throw .badRequest("a container name must be specified for pod \(pod.name)")
        case 1: return pod.regularContainers[0]
        default:
            throw .badRequest("a container name must be specified for pod \(pod.name), choose one of: [\(pod.containerNames.joined(separator: " "))]")
        }
    }

    /// The Engine containers that ran `container` of `pod`, oldest first (by restart count).
    func engineContainers(_ pod: PodStreamTarget, _ container: String) throws(KubeStatus) -> [(restart: Int, container: Container)] {
        guard let engine else { throw KubeStatus(code: 503, reason: "ServiceUnavailable", message: "no container engine behind this API server") }
        let all: [Container]
        do { all = try engine.all() } catch { throw .internalError(error.message) }
        return all.compactMap { candidate -> (Int, Container)? in
            let labels = candidate.options.labels
            guard labels[Self.podNameLabel] == pod.name, labels[Self.podNamespaceLabel] == pod.namespace,
                  labels[Self.containerNameLabel] == container else { return nil }
            if let uid = pod.uid, let label = labels[Self.podUIDLabel], label != uid { return nil }
            let restart = candidate.name.split(separator: "_").last.flatMap { Int($0) } ?? 0
            return (restart, candidate)
        }.sorted { $0.0 < $1.0 }.map { (restart: $0.0, container: $0.1) }
    }

    /// The container's current run, which must be running (the kubelet's words otherwise).
    func runningContainer(_ pod: PodStreamTarget, _ name: String) throws(KubeStatus) -> Container {
        guard let current = try engineContainers(pod, name).last?.container, let engine, engine.status(current).isRunning else {
            throw KubeStatus(code: 404, reason: "NotFound", message: "container not found (\"\(name)\")")
        }
        return current
    }
}
