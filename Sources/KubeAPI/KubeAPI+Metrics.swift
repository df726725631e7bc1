import ContainerSpec
import Engine
import Glibc
import GoCompat
import HTTPServer
import Kube
import KubeModel
import LinuxSys

/// `metrics.k8s.io/v1beta1` (what metrics-server serves and `kubectl top` reads): PodMetrics from
/// each Pod container's cgroup through the Engine's stats, NodeMetrics from the host's
/// /proc/stat and /proc/meminfo. CPU is a rate: two readings `window` apart within the request.
extension KubeAPI {
    static let metricsGroup = "metrics.k8s.io"
    static let metricsVersion = "v1beta1"
    static let metricsWindowSeconds = 0.5

    /// The group as `/apis` lists it.
    static var metricsGroupEntry: JSONValue {
        let version = JSONValue.ordered([("groupVersion", .string(metricsGroup + "/" + metricsVersion)), ("version", .string(metricsVersion))])
        return .ordered([("name", .string(metricsGroup)), ("versions", .array([version])), ("preferredVersion", version)])
    }

    /// The group in aggregated discovery (what kubectl ≥ 1.30 and `api-resources` read).
    static var metricsDiscovery: JSONValue {
        func resource(_ name: String, _ kind: String, namespaced: Bool) -> JSONValue {
            .ordered([("resource", .string(name)),
                      ("responseKind", .ordered([("group", .string(metricsGroup)), ("version", .string(metricsVersion)), ("kind", .string(kind))])),
                      ("scope", .string(namespaced ? "Namespaced" : "Cluster")), ("singularResource", .string("")),
                      ("verbs", .array([.string("get"), .string("list")]))])
        }
        return .ordered([("metadata", .ordered([("name", .string(metricsGroup)), ("creationTimestamp", .null)])),
                         ("versions", .array([.ordered([("version", .string(metricsVersion)),
                                                        ("resources", .array([resource("nodes", "NodeMetrics", namespaced: false),
                                                                              resource("pods", "PodMetrics", namespaced: true)])),
                                                        ("freshness", .string("Current"))])]))])
    }

    /// `/apis/metrics.k8s.io…`; false when `path` is not under it.
    func metricsAPI(_ request: HTTPServerRequest, path: String, _ writer: ResponseWriter) throws(KubeStatus) -> Bool {
        let prefix = "/apis/" + Self.metricsGroup
        guard path == prefix || path.hasPrefix(prefix + "/") else { return false }
        try onlyGet(request) { () throws(KubeStatus) in
            let parts = path.dropFirst(prefix.count).split(separator: "/").map(String.init)
            if parts.isEmpty {
                var group = Self.metricsGroupEntry
                group = .ordered([("kind", .string("APIGroup")), ("apiVersion", .string("v1"))] + (group.orderedMembers))
                return try sendJSON(writer, 200, group)
            }
            guard parts[0] == Self.metricsVersion else { throw .pathNotFound(path) }
            let rest = Array(parts.dropFirst())
            switch rest.count {
            case 0: try sendJSON(writer, 200, metricsResourceList)
            case 1 where rest[0] == "nodes": try sendJSON(writer, 200, list("NodeMetricsList", try nodeMetrics(named: nil)))
            case 2 where rest[0] == "nodes":
                guard let item = try nodeMetrics(named: rest[1]).first else { throw Self.metricsNotFound("nodes", rest[1]) }
                try sendJSON(writer, 200, item)
            case 1 where rest[0] == "pods": try sendJSON(writer, 200, list("PodMetricsList", try podMetrics(request, namespace: nil, name: nil)))
            case 3 where rest[0] == "namespaces" && rest[2] == "pods":
                try sendJSON(writer, 200, list("PodMetricsList", try podMetrics(request, namespace: rest[1], name: nil)))
            case 4 where rest[0] == "namespaces" && rest[2] == "pods":
                guard let item = try podMetrics(request, namespace: rest[1], name: rest[3]).first else { throw Self.metricsNotFound("pods", rest[3]) }
                try sendJSON(writer, 200, item)
            default: throw .pathNotFound(path)
            }
        }
        return true
    }

    static func metricsNotFound(_ resource: String, _ name: String) -> KubeStatus {
        KubeStatus(code: 404, reason: "NotFound", message: "\(resource).\(metricsGroup) \"\(name)\" not found", name: name, group: metricsGroup, kind: resource)
    }

    var metricsResourceList: JSONValue {
        func resource(_ name: String, _ kind: String, namespaced: Bool) -> JSONValue {
            .ordered([("name", .string(name)), ("singularName", .string("")), ("namespaced", .bool(namespaced)), ("kind", .string(kind)),
                      ("verbs", .array([.string("get"), .string("list")]))])
        }
        return .ordered([("kind", .string("APIResourceList")), ("apiVersion", .string("v1")),
                         ("groupVersion", .string(Self.metricsGroup + "/" + Self.metricsVersion)),
                         ("resources", .array([resource("nodes", "NodeMetrics", namespaced: false), resource("pods", "PodMetrics", namespaced: true)]))])
    }

    private func list(_ kind: String, _ items: [JSONValue]) -> JSONValue {
        .ordered([("kind", .string(kind)), ("apiVersion", .string(Self.metricsGroup + "/" + Self.metricsVersion)), ("metadata", .ordered([])),
                  ("items", .array(items))])
    }

    // MARK: - Pods

    /// Metrics of the Pods in `namespace` (all when nil) with running containers, filtered by
    /// `labelSelector` as the Pods' labels match it.
    func podMetrics(_ request: HTTPServerRequest, namespace: String?, name: String?) throws(KubeStatus) -> [JSONValue] {
        try podMetrics(namespace: namespace, name: name, filter: try selector(request, KubeKinds.pod))
    }

    /// The PodMetrics of a namespace's Pods, as the endpoint serves them: what the
    /// HorizontalPodAutoscaler controller reads (metrics-server's role for the real one).
    public func podMetricsForController(namespace: String) throws(EngineError) -> [JSONValue] {
        do { return try podMetrics(namespace: namespace, name: nil, filter: nil) } catch {
            throw .unavailable("read the metrics of namespace \(namespace)'s pods: \(error.message)")
        }
    }

    func podMetrics(namespace: String?, name: String?, filter: (@Sendable (JSONValue) -> Bool)?) throws(KubeStatus) -> [JSONValue] {
        guard let engine else { return [] }
        var pods: [JSONValue] = []
        if let namespace, let name {
            do { pods = [try store.get(ObjectKey(KubeKinds.pod.storeResource, namespace: namespace, name: name)).value()] } catch {
                if error.kind == .notFound { throw Self.metricsNotFound("pods", name) }
                throw .internalError(error.message)
            }
        } else {
            do throws(EngineError) {
                for item in try store.list(KubeKinds.pod.storeResource, namespace: namespace).items { pods.append(try item.value()) }
            } catch {
                throw .internalError(error.message)
            }
        }
        let containers: [Container]
        do { containers = try engine.all() } catch { throw .internalError(error.message) }
        // Per Pod, its current containers (the highest restart count of each name).
        var members: [(pod: JSONValue, containers: [(name: String, container: Container)])] = []
        for pod in pods where filter.map({ $0(pod) }) ?? true {
            guard let podName = pod.metadataString("name"), let podNamespace = pod.metadataString("namespace") else { continue }
            let uid = pod.metadataString("uid")
            var current: [String: (Int, Container)] = [:]
            for container in containers {
                let labels = container.options.labels
                guard labels[Self.podNameLabel] == podName, labels[Self.podNamespaceLabel] == podNamespace,
                      let containerName = labels[Self.containerNameLabel], containerName != "POD" else { continue }
                // (POD: the sandbox, which metrics-server does not list either.)
                if let uid, let label = labels[Self.podUIDLabel], label != uid { continue }
                let restart = container.name.split(separator: "_").last.flatMap { Int($0) } ?? 0
                if let existing = current[containerName], existing.0 > restart { continue }
                current[containerName] = (restart, container)
            }
            let running = current.map { (name: $0.key, container: $0.value.1) }.filter { engine.status($0.container).isRunning }
                .sorted { $0.name < $1.name }
            if !running.isEmpty { members.append((pod, running)) }
        }
        let all = members.flatMap { $0.containers.map(\.container) }
        let first = all.map { engine.usage($0) }
        let started = SystemFields.now()
        usleep(UInt32(Self.metricsWindowSeconds * 1_000_000))
        let second = all.map { engine.usage($0) }
        let elapsed = SystemFields.now() - started
        var index = 0
        var items: [JSONValue] = []
        for member in members {
            var usages: [JSONValue] = []
            for entry in member.containers {
                defer { index += 1 }
                guard let before = first[index], let after = second[index] else { continue }
                let nanocores = after.containerCPU > before.containerCPU ? Double(after.containerCPU - before.containerCPU) / elapsed : 0
                usages.append(.ordered([("name", .string(entry.name)), ("usage", .ordered([
                    ("cpu", .string("\(UInt64(nanocores))n")), ("memory", .string("\(after.memoryUsage / 1024)Ki")),
                ]))]))
            }
            var metadata: [(String, JSONValue)] = [
                ("name", member.pod[member: "metadata"]?[member: "name"] ?? .string("")),
                ("namespace", member.pod[member: "metadata"]?[member: "namespace"] ?? .string("")),
                ("creationTimestamp", .string(SystemFields.timestamp())),
            ]
            if let labels = member.pod[member: "metadata"]?[member: "labels"] { metadata.append(("labels", labels)) }
            items.append(.ordered([
                ("kind", .string("PodMetrics")), ("apiVersion", .string(Self.metricsGroup + "/" + Self.metricsVersion)),
                ("metadata", .ordered(metadata)), ("timestamp", .string(SystemFields.timestamp())),
                ("window", .string(Self.window(elapsed))), ("containers", .array(usages)),
            ]))
        }
        return items
    }

    // MARK: - Nodes

    func nodeMetrics(named: String?) throws(KubeStatus) -> [JSONValue] {
        let name = Self.nodeName
        if let named, named != name { return [] }
        let before = Self.hostCPU()
        let started = SystemFields.now()
        usleep(UInt32(Self.metricsWindowSeconds * 1_000_000))
        let after = Self.hostCPU()
        let elapsed = SystemFields.now() - started
        let nanocores = after.busy > before.busy ? Double(after.busy - before.busy) / elapsed : 0
        return [.ordered([
            ("kind", .string("NodeMetrics")), ("apiVersion", .string(Self.metricsGroup + "/" + Self.metricsVersion)),
            ("metadata", .ordered([("name", .string(name)), ("creationTimestamp", .string(SystemFields.timestamp()))])),
            ("timestamp", .string(SystemFields.timestamp())), ("window", .string(Self.window(elapsed))),
            ("usage", .ordered([("cpu", .string("\(UInt64(nanocores))n")), ("memory", .string("\(Self.hostMemoryInUse() / 1024)Ki"))])),
        ])]
    }

    /// Busy CPU time of all CPUs in nanoseconds (the first line of /proc/stat without idle and iowait).
    static func hostCPU() -> (busy: UInt64, total: UInt64) {
        guard let text = try? FS.readText("/proc/stat"), let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else { return (0, 0) }
        let ticks = line.split(separator: " ").dropFirst().prefix(8).compactMap { UInt64($0) }
        guard ticks.count >= 5 else { return (0, 0) }
        let hz = UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
        let total = ticks.reduce(0, +)
        let busy = total - ticks[3] - ticks[4]
        return (busy * (1_000_000_000 / hz), total * (1_000_000_000 / hz))
    }

    /// MemTotal less MemAvailable, in bytes.
    static func hostMemoryInUse() -> UInt64 {
        guard let text = try? FS.readText("/proc/meminfo") else { return 0 }
        func value(_ key: String) -> UInt64 {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return 0 }
            return (line.split(separator: " ").dropFirst().first.flatMap { UInt64($0) } ?? 0) * 1024
        }
        let total = value("MemTotal"), available = value("MemAvailable")
        return total > available ? total - available : 0
    }

    /// A metav1.Duration's text (`500ms`, `1.5s`), Go's time.Duration.String for these sizes.
    static func window(_ seconds: Double) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        let whole = milliseconds / 1000, fraction = milliseconds % 1000
        if fraction == 0 { return "\(whole)s" }
        var digits = String(fraction + 1000).dropFirst()
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)s"
    }
}

private extension JSONValue {
    var orderedMembers: [(String, JSONValue)] {
        if case .object(let members, let keys) = self { return keys.compactMap { key in members[key].map { (key, $0) } } }
        return []
    }
}
