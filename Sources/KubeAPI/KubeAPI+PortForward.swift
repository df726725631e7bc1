import HTTPServer
import KubeModel

extension KubeAPI {
    /// `pods/NAME/portforward` (kubectl port-forward).
    func portForward(_ request: HTTPServerRequest, _ pod: PodStreamTarget, _ writer: ResponseWriter) throws(KubeStatus) {
        throw KubeStatus(code: 501, reason: "NotImplemented", message: "port forwarding is not served yet")
    }
}
