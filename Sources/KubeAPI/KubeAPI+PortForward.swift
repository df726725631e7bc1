import Engine
import Glibc
import HTTPServer
import KubeModel
import LinuxSys

extension KubeAPI {
    static let portForwardProtocol = "portforward.k8s.io"
    /// kubectl ≥ 1.30 tunnels the same SPDY connection through a WebSocket of this subprotocol.
    static let portForwardTunnelProtocol = "SPDY/3.1+portforward.k8s.io"
    /// How long the kubelet waits for a request's second stream.
    static let streamPairSeconds = 30.0

    /// `pods/NAME/portforward` (kubectl port-forward): a SPDY connection (plain, or tunnelled
    /// in a WebSocket) on which each forwarded connection is a pair of streams with one
    /// `requestID`: `error` and `data`, for the `port` header's port. The data goes to a TCP
    /// connection to that port on the Pod's loopback, made inside its network namespace.
    func portForward(_ request: HTTPServerRequest, _ pod: PodStreamTarget, _ writer: ResponseWriter) throws(KubeStatus) {
        let pid = try podNetworkPID(pod)
        let upgrade = (request.header("Upgrade") ?? "").lowercased()
        let connection: SPDYConnection
        if upgrade == "websocket" {
            let offered = Self.headerValues(request, "Sec-WebSocket-Protocol")
            guard offered.contains(Self.portForwardTunnelProtocol) else {
                throw .badRequest("unable to upgrade: unable to negotiate protocol: client supports \(Self.goList(offered)), server supports [\(Self.portForwardTunnelProtocol)]")
            }
            guard let socket = writer.upgradeToWebSocket(request, protocols: [Self.portForwardTunnelProtocol]) else { return }
            connection = SPDYConnection(socket)
        } else if upgrade.hasPrefix("spdy/3.1") {
            let offered = Self.headerValues(request, "X-Stream-Protocol-Version")
            guard offered.contains(Self.portForwardProtocol) else {
                throw KubeStatus(code: 403, reason: "Forbidden",
                                 message: "unable to upgrade: unable to negotiate protocol: client supports \(Self.goList(offered)), server supports [\(Self.portForwardProtocol)]")
            }
            guard let raw = writer.switchProtocols(headers: [("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1"),
                                                             ("X-Stream-Protocol-Version", Self.portForwardProtocol)]) else { return }
            connection = SPDYConnection(raw)
        } else {
            throw .badRequest("Upgrade request required")
        }
        let namespacePath = "/proc/\(pid)/ns/net"
        var halves: [String: (error: SPDYStream?, data: SPDYStream?)] = [:]
        while let stream = connection.accept() {
            guard let requestID = stream.header("requestID"), let type = stream.header("streamType"), type == "error" || type == "data" else {
                stream.reset(status: SPDYFrame.protocolError)
                continue
            }
            var pair = halves[requestID] ?? (nil, nil)
            if type == "error" { pair.error = stream } else { pair.data = stream }
            guard let error = pair.error, let data = pair.data else {
                halves[requestID] = pair
                continue
            }
            halves[requestID] = nil
            let podName = pod.name, uid = pod.uid ?? ""
            Threads.detach { Self.forward(error: error, data: data, namespace: namespacePath, pod: podName, uid: uid) }
        }
        connection.close()
    }

    /// One forwarded connection: the data stream both ways with a TCP connection in the Pod;
    /// a failure to connect is told on the error stream, in the kubelet's words.
    static func forward(error: SPDYStream, data: SPDYStream, namespace: String, pod: String, uid: String) {
        let portText = data.header("port") ?? ""
        guard let port = UInt16(portText), port > 0 else {
            error.write(Array("invalid port \(portText)".utf8))
            error.finish()
            data.finish()
            return
        }
        let socket: StreamDescriptor
        do { socket = StreamDescriptor(try NetworkNamespace.connectLoopback(namespace: namespace, port: port)) } catch let failure {
            error.write(Array("error forwarding port \(port) to pod \(pod), uid \(uid): failed to connect to localhost:\(port) inside namespace of pod \(pod): \(failure)".utf8))
            error.finish()
            data.finish()
            return
        }
        // The client's half: its FIN is our shutdown of the socket's sending side; a reset or
        // the connection's end shuts both ways, so the read below ends too.
        Threads.detach {
            while let bytes = data.read() {
                guard (try? FS.write(socket.raw, bytes)) != nil else { break }
            }
            _ = Glibc.shutdown(socket.raw, Int32(data.inputFailed ? SHUT_RDWR : SHUT_WR))
        }
        copy(from: socket.raw) { data.write($0) }
        data.finish()
        error.finish()
        socket.close()
    }

    /// The pid of a running container of `pod`: its network namespace is the Pod's.
    func podNetworkPID(_ pod: PodStreamTarget) throws(KubeStatus) -> Int32 {
        guard let engine else { throw KubeStatus(code: 503, reason: "ServiceUnavailable", message: "no container engine behind this API server") }
        for name in pod.containerNames {
            for run in try engineContainers(pod, name).reversed() {
                let state = engine.status(run.container)
                if state.isRunning && state.state.pid > 0 { return state.state.pid }
            }
        }
        throw .badRequest("pod \(pod.name) has no running container to forward to")
    }
}
