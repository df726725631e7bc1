import Engine
import GoCompat
import HTTPServer
import KubeModel
import LinuxSys
import Supervisor

extension KubeAPI {
    private struct LogLimitReached: Error {}
    private struct LogClientGone: Error {}

    /// `GET pods/NAME/log` (kubectl logs): the container's json-file log as plain text, in
    /// order, as the kubelet serves it: `previous` is the run before the current one,
    /// `tailLines`, `sinceSeconds`/`sinceTime`, `timestamps` (RFC 3339 with nine fraction
    /// digits), `limitBytes`, `follow` until the container ends.
    func podLogs(_ request: HTTPServerRequest, _ pod: PodStreamTarget, _ writer: ResponseWriter) throws(KubeStatus) {
        let name = try containerName(request, pod)
        let previous = Self.isTrue(request.parameter("previous"))
        var options = LogReadOptions(follow: Self.isTrue(request.parameter("follow")) && !previous)
        var problems: [String] = []
        func integer(_ parameter: String) -> Int? {
            guard let text = request.parameter(parameter), !text.isEmpty else { return nil }
            guard let value = Int(text) else {
                problems.append("\(parameter): Invalid value: \"\(text)\": must be an integer")
                return nil
            }
            return value
        }
        let tail = integer("tailLines"), sinceSeconds = integer("sinceSeconds"), limitBytes = integer("limitBytes")
        // The apiserver's PodLogOptions validation, with its words.
        if let tail, tail < 0 { problems.append("tailLines: Invalid value: \(tail): must be greater than or equal to 0") }
        if let limitBytes, limitBytes < 1 { problems.append("limitBytes: Invalid value: \(limitBytes): must be greater than 0") }
        if let sinceSeconds, sinceSeconds < 1 { problems.append("sinceSeconds: Invalid value: \(sinceSeconds): must be greater than 0") }
        let sinceTime = request.parameter("sinceTime").flatMap { $0.isEmpty ? nil : $0 }
        if sinceSeconds != nil && sinceTime != nil { problems.append("sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified") }
        if let sinceTime {
            if let time = LogTimestamp(jsonText: sinceTime) { options.since = time } else {
                problems.append("sinceTime: Invalid value: \"\(sinceTime)\": must be RFC 3339")
            }
        }
        guard problems.isEmpty else {
            throw KubeStatus(code: 422, reason: "Invalid", message: "PodLogOptions \"\(pod.name)\" is invalid: " + problems.joined(separator: ", "), name: pod.name, kind: "PodLogOptions")
        }
        if let sinceSeconds { options.since = LogTimestamp.now().adding(nanoseconds: -Int64(sinceSeconds) * 1_000_000_000) }
        options.tail = tail
        let timestamps = Self.isTrue(request.parameter("timestamps"))

        let runs = try engineContainers(pod, name)
        let chosen: Container
        if previous {
            guard runs.count >= 2 else { throw .badRequest("previous terminated container \"\(name)\" in pod \"\(pod.name)\" not found") }
            chosen = runs[runs.count - 2].container
        } else {
            guard let last = runs.last else { throw .badRequest("container \"\(name)\" in pod \"\(pod.name)\" is waiting to start: ContainerCreating") }
            chosen = last.container
        }
        guard let engine else { return }
        writer.startStream(headers: [("Content-Type", "text/plain")])
        let path = engine.logPath(chosen.id)
        guard FS.exists(path) else { return }
        var left = limitBytes
        do {
            try LogReader.read(path: path, options: options, isRunning: {
                if writer.clientGone { return false }
                let state = engine.status(chosen)
                return state.isRunning || state.status == .restarting
            }) { entry in
                var bytes = LogReader.format(entry, timestamps: false)
                if timestamps { bytes = Array(Self.kubeletTime(entry.time).utf8) + [UInt8(ascii: " ")] + bytes }
                if let budget = left {
                    if bytes.count > budget { bytes = Array(bytes.prefix(budget)) }
                    left = budget - bytes.count
                }
                guard writer.write(bytes) else { throw LogClientGone() }
                if left == 0 { throw LogLimitReached() }
            }
        } catch {}
    }

    /// The kubelet's log timestamp: RFC 3339 in UTC with nine fraction digits.
    static func kubeletTime(_ time: LogTimestamp) -> String {
        let text = time.fixedText
        // Docker's fixed form is the same layout; UTC is written as Z.
        return text.hasSuffix("+00:00") ? String(text.dropLast(6)) + "Z" : text
    }
}
