import ContainerSpec
import Engine
import Glibc
import GoCompat
import Kube
import LinuxSys

/// Lifecycle hooks (postStart, preStop) as the kubelet runs them: exec in the container, or an
/// HTTP GET from the node to the pod's address (any response is success, as the kubelet's
/// handler runner has it: only a request that gets no answer fails), or a sleep.
extension Kubelet {
    /// Runs the container's `hook` handler; nil when it succeeded (or there is none), otherwise the
    /// kubelet's message for the FailedPostStartHook / FailedPreStopHook Event.
    func runHook(_ hook: String, of spec: JSONValue, in container: Container, pod: String, podIP: String?, timeout: Double) -> String? {
        guard let handler = spec[member: "lifecycle"]?[member: hook] else { return nil }
        let name = spec.podString("name") ?? ""
        if let command = Self.hookCommand(spec, hook) {
            let result = execIn(container, command, timeout: timeout)
            if result.exitCode == 0 { return nil }
            let quoted = command.joined(separator: " ")
            let error = result.timedOut ? "command '\(quoted)' timed out"
                : result.exitCode.map { "command '\(quoted)' exited with \($0): \(result.output)" } ?? result.output
            return "Exec lifecycle hook ([\(quoted)]) for Container \"\(name)\" in Pod \"\(pod)\" failed - error: \(error), message: \(GoStrconv.quote(result.output))"
        }
        if let http = handler[member: "httpGet"] {
            let path = http.podString("path") ?? "/"
            let failed = "HTTP lifecycle hook (\(path)) for Container \"\(name)\" in Pod \"\(pod)\" failed - error: "
            guard let port = port(http[member: "port"], spec) else { return failed + "invalid port \(http[member: "port"].map { "\($0)" } ?? "")" }
            if http.podString("scheme")?.uppercased() == "HTTPS" { return failed + "HTTPS hooks are not supported by this node" }
            let host = http.podString("host") ?? podIP ?? "127.0.0.1"
            let headers = (http[member: "httpHeaders"] ?? .null).podArray.compactMap { header -> (String, String)? in
                guard let name = header.podString("name") else { return nil }
                return (name, header.podString("value") ?? "")
            }
            let (answered, message) = Self.httpGet(host: host, port: port, path: path, headers: headers, timeout: timeout, anyStatus: true)
            return answered ? nil : failed + message
        }
        if let seconds = handler[member: "sleep"]?[member: "seconds"]?.podInt {
            usleep(UInt32(min(Double(seconds), timeout) * 1_000_000))
            return nil
        }
        return nil
    }

    /// A lifecycle handler's exec command (`lifecycle.postStart.exec.command`), if any.
    static func hookCommand(_ container: JSONValue, _ hook: String) -> [String]? {
        let command = (container[member: "lifecycle"]?[member: hook]?[member: "exec"]?[member: "command"] ?? .null).podArray.compactMap(\.stringValue)
        return command.isEmpty ? nil : command
    }

    /// The pod as the kubelet names it in messages (`format.Pod`): NAME_NAMESPACE(UID).
    static func podText(_ key: ObjectKey, uid: String) -> String { "\(key.name)_\(key.namespace)(\(uid))" }
}
