import ContainerSpec
import GoCompat
import Glibc
import Kube
import KubeModel
import LinuxSys
import Synchronization

/// How controllers change objects: through the store directly, or (in `berth serve`) through the
/// API's own paths, so a Pod a controller creates gets the same defaults and a deletion the same
/// grace as a user's.
public struct ObjectWriter: Sendable {
    public var create: @Sendable (Resource, JSONValue) throws(EngineError) -> Void
    public var delete: @Sendable (ObjectKey) throws(EngineError) -> Void
    /// Takes a finalizer off an object; one being deleted goes when it was the last.
    public var removeFinalizer: @Sendable (ObjectKey, String) throws(EngineError) -> Void

    public init(create: @escaping @Sendable (Resource, JSONValue) throws(EngineError) -> Void,
                delete: @escaping @Sendable (ObjectKey) throws(EngineError) -> Void,
                removeFinalizer: @escaping @Sendable (ObjectKey, String) throws(EngineError) -> Void) {
        self.create = create
        self.delete = delete
        self.removeFinalizer = removeFinalizer
    }

    public static func direct(_ store: ObjectStore) -> ObjectWriter {
        ObjectWriter(create: { resource, object throws(EngineError) in try store.create(resource, object) },
                     delete: { key throws(EngineError) in _ = try store.delete(key) },
                     removeFinalizer: { key, finalizer throws(EngineError) in
                         let stored = try store.guaranteedUpdate(key) { value in
                             let left = (value[member: "metadata"]?[member: "finalizers"]?.arrayItems ?? []).filter { $0 != .string(finalizer) }
                             return value.settingMetadata("finalizers", to: left.isEmpty ? nil : .array(left))
                         }
                         let value = try stored.value()
                         if Workloads.isTerminating(value) && value[member: "metadata"]?[member: "finalizers"] == nil {
                             _ = try store.delete(key)
                         }
                     })
    }
}

/// A control loop's one pass: read the store, make one step toward what it asks for.
public protocol Controller: Sendable {
    var name: String { get }
    func sync() throws(EngineError)
    /// When the controller needs its next pass without a change (nil: only on changes).
    var timer: WakeTimer? { get }
}

extension Controller {
    public var timer: WakeTimer? { nil }
}

/// The controller manager's role: every controller's pass after each change to the store (and
/// each minute), in one thread, so each pass sees the previous one's writes.
public final class ControllerManager: Sendable {
    let store: ObjectStore
    let controllers: [any Controller]
    let log: @Sendable (String) -> Void
    private let stopped = Mutex(false)
    /// The HorizontalPodAutoscaler controller, on a 15 s period of its own (nil without a metrics reader).
    let autoscaler: HorizontalPodAutoscalerController?

    public init(store: ObjectStore, writer: ObjectWriter? = nil, metrics: PodMetricsReader? = nil,
                log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.log = log
        let writer = writer ?? .direct(store)
        autoscaler = metrics.map { HorizontalPodAutoscalerController(store: store, writer: writer, metrics: $0, log: log) }
        controllers = [
            DeploymentController(store: store, writer: writer),
            ReplicaSetController(store: store, writer: writer),
            EndpointsController(store: store, log: log),
            JobController(store: store, writer: writer),
            CronJobController(store: store, writer: writer),
            StatefulSetController(store: store, writer: writer),
            DaemonSetController(store: store, writer: writer),
            EndpointSliceController(store: store, log: log),
            ServiceLBController(store: store),
            NamespaceController(store: store, writer: writer),
            VolumeProtectionController(store: store, writer: writer),
        ]
    }

    public func start() {
        autoscaler?.start()
        _ = Threads.detach { [self] in
            var failing: Set<String> = []
            while !stopped.withLock({ $0 }) {
                let seen = (try? store.currentRevision()) ?? 0
                IdleTrimmer.shared.begin()
                for controller in controllers {
                    do throws(EngineError) {
                        try controller.sync()
                        failing.remove(controller.name)
                    } catch {
                        // Said once per failure streak; the next change or minute tries again.
                        if failing.insert(controller.name).inserted { log("\(controller.name) controller: \(error.message)") }
                    }
                }
                var seconds: Double = failing.isEmpty ? 60 : 1
                // A backoff, deadline or schedule that ends sooner wakes the loop then.
                let now = Int64(time(nil))
                for controller in controllers {
                    if let at = controller.timer?.take() { seconds = min(seconds, Double(max(at - now, 1))) }
                }
                IdleTrimmer.shared.end()
                store.waitForChange(after: seen, seconds: seconds) { [self] in stopped.withLock { $0 } }
            }
        }
    }

    public func stop() {
        autoscaler?.stop()
        stopped.withLock { $0 = true }
        store.wake()
    }
}

/// What the workload controllers share about Pods and owners.
enum Workloads {
    static let pods = Resource("pods")
    static let replicaSets = Resource(group: "apps", "replicasets")
    static let deployments = Resource(group: "apps", "deployments")
    static let jobs = Resource(group: "batch", "jobs")
    static let cronJobs = Resource(group: "batch", "cronjobs")
    static let statefulSets = Resource(group: "apps", "statefulsets")
    static let daemonSets = Resource(group: "apps", "daemonsets")
    static let nodes = Resource("nodes")

    static func values(_ list: ObjectList) throws(EngineError) -> [JSONValue] {
        var values: [JSONValue] = []
        for item in list.items { values.append(try item.value()) }
        return values
    }

    /// The uid of the object's controller (the ownerReference with `controller: true`).
    static func controllerUID(_ object: JSONValue) -> String? {
        (object[member: "metadata"]?[member: "ownerReferences"]?.arrayValue ?? []).first {
            $0[member: "controller"] == .bool(true)
        }?[member: "uid"]?.stringValue
    }

    static func ownerReference(_ owner: JSONValue, kind: String, apiVersion: String) -> JSONValue {
        .ordered([("apiVersion", .string(apiVersion)), ("kind", .string(kind)),
                  ("name", .string(owner.metadataString("name") ?? "")), ("uid", .string(owner.metadataString("uid") ?? "")),
                  ("controller", .bool(true)), ("blockOwnerDeletion", .bool(true))])
    }

    static func isTerminating(_ object: JSONValue) -> Bool { object[member: "metadata"]?[member: "deletionTimestamp"] != nil }

    /// Counted as one of the replicas: not finished, not being deleted.
    static func isActive(_ pod: JSONValue) -> Bool {
        let phase = pod[member: "status"]?[member: "phase"]?.stringValue ?? ""
        return phase != "Succeeded" && phase != "Failed" && !isTerminating(pod)
    }

    static func readyCondition(_ pod: JSONValue) -> JSONValue? {
        (pod[member: "status"]?[member: "conditions"]?.arrayValue ?? []).first { $0[member: "type"]?.stringValue == "Ready" }
    }

    static func isReady(_ pod: JSONValue) -> Bool { readyCondition(pod)?[member: "status"]?.stringValue == "True" }

    /// Ready for at least `minReadySeconds`.
    static func isAvailable(_ pod: JSONValue, minReadySeconds: Int, now: Int64) -> Bool {
        guard isReady(pod) else { return false }
        if minReadySeconds <= 0 { return true }
        guard let since = readyCondition(pod)?[member: "lastTransitionTime"]?.stringValue.flatMap(Tables.parseTimestamp) else { return false }
        return now - since >= Int64(minReadySeconds)
    }

    static func int(_ value: JSONValue?, default fallback: Int) -> Int { value?.intValue ?? fallback }

    /// An intOrString like maxSurge: a number, or a percentage of `total` rounded up or down.
    static func scaled(_ value: JSONValue?, total: Int, default fallback: String, roundUp: Bool) -> Int {
        if let number = value?.intValue { return max(number, 0) }
        let text = value?.stringValue ?? fallback
        guard text.hasSuffix("%"), let percent = Int(text.dropLast()) else { return 0 }
        let product = percent * total
        return max(roundUp ? (product + 99) / 100 : product / 100, 0)
    }

    /// The object with its `status` replaced, written only when it changed.
    static func writeStatus(_ store: ObjectStore, _ key: ObjectKey, _ status: JSONValue, annotations: [String: String] = [:]) throws(EngineError) {
        do {
            try store.guaranteedUpdate(key) { old throws(EngineError) in
                var new = old.setting("status", to: status)
                if !annotations.isEmpty {
                    var current = old[member: "metadata"]?[member: "annotations"] ?? .ordered([])
                    for (key, value) in annotations.sorted(by: { $0.key < $1.key }) { current = current.setting(key, to: .string(value)) }
                    new = new.settingMetadata("annotations", to: current)
                }
                return new
            }
        } catch where error.kind == .notFound {}
    }

    /// JSON with every object's keys sorted: the same content always hashes the same.
    static func canonical(_ value: JSONValue) -> String {
        switch value {
        case .object(let members, _):
            return "{" + members.keys.sorted().map { GoStrconv.quote($0) + ":" + canonical(members[$0]!) }.joined(separator: ",") + "}"
        case .array(let items): return "[" + items.map(canonical).joined(separator: ",") + "]"
        default: return String(decoding: value.serialized, as: UTF8.self)
        }
    }

    /// FNV-1a (32 bits) of the text, in the alphabet Kubernetes' names use (pod-template-hash).
    static func hash(_ text: String) -> String {
        var hash: UInt32 = 0x811c_9dc5
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var digits = ""
        // Each digit's character code picks a letter, as the apiserver's SafeEncodeString does.
        for byte in String(hash, radix: 10).utf8 { digits.append(alphabet[Int(byte) % alphabet.count]) }
        return digits
    }
}
