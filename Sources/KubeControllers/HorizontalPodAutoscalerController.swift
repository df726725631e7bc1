import ContainerSpec
import Glibc
import GoCompat
import Kube
import KubeModel
import LinuxSys
import Synchronization

/// What the autoscaler reads CPU from: a namespace's PodMetrics as metrics.k8s.io serves them
/// (`berth serve` passes the API's own reader, so both measure the same way).
public typealias PodMetricsReader = @Sendable (_ namespace: String) throws(EngineError) -> [JSONValue]

/// The HorizontalPodAutoscaler controller (autoscaling/v2): every 15 s, for each HPA, the CPU
/// usage of the target's Pods against their requests, Kubernetes' replica formula
/// (`ceil(current × usage / target)`, nothing done within a 10 % tolerance), the behavior's
/// stabilisation windows and rate policies, minReplicas/maxReplicas, then the target's scale
/// (its `spec.replicas`, what the scale subresource sets), the HPA's status and conditions, and a
/// SuccessfulRescale Event.
public final class HorizontalPodAutoscalerController: Sendable {
    static let hpas = Resource(group: "autoscaling", "horizontalpodautoscalers")
    static let events = Resource("events")
    static let tolerance = 0.1
    /// The scalable kinds a scaleTargetRef may name (apps/v1, with a scale subresource).
    static let targets: [String: Resource] = [
        "Deployment": Workloads.deployments, "ReplicaSet": Workloads.replicaSets, "StatefulSet": Resource(group: "apps", "statefulsets"),
    ]

    let store: ObjectStore
    let writer: ObjectWriter
    let metrics: PodMetricsReader
    let period: Double
    let log: @Sendable (String) -> Void
    private let stopped = Mutex(false)

    /// What one HPA remembers between passes (lost on restart, as the controller manager's is):
    /// its recent recommendations and the scale changes it made, by time.
    struct Memory {
        var recommendations: [(time: Double, replicas: Int)] = []
        var changes: [(time: Double, delta: Int)] = []
    }
    private let memory = Mutex<[String: Memory]>([:])

    public init(store: ObjectStore, writer: ObjectWriter, metrics: @escaping PodMetricsReader, period: Double = 15,
                log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.writer = writer
        self.metrics = metrics
        self.period = period
        self.log = log
    }

    /// A pass every `period` seconds on a thread of its own (a pass measures CPU over half a second).
    public func start() {
        _ = Threads.detach { [self] in
            var failing: Set<String> = []
            while !stopped.withLock({ $0 }) {
                let started = SystemFields.now()
                let hpas: [JSONValue]
                do throws(EngineError) { hpas = try Workloads.values(try store.list(Self.hpas)) } catch {
                    log("horizontalpodautoscaler controller: \(error.message)")
                    hpas = []
                }
                var live: Set<String> = []
                for hpa in hpas {
                    let uid = hpa.metadataString("uid") ?? ""
                    live.insert(uid)
                    do throws(EngineError) {
                        try sync(hpa, now: SystemFields.now())
                        failing.remove(uid)
                    } catch {
                        if failing.insert(uid).inserted { log("horizontalpodautoscaler \(hpa.metadataString("name") ?? ""): \(error.message)") }
                    }
                }
                memory.withLock { remembered in remembered = remembered.filter { live.contains($0.key) } }
                // Until the next period, or sooner when a new HPA appears.
                let known = live
                while !stopped.withLock({ $0 }) && SystemFields.now() - started < period {
                    let seen = (try? store.currentRevision()) ?? 0
                    let remaining = period - (SystemFields.now() - started)
                    if remaining <= 0 { break }
                    store.waitForChange(after: seen, seconds: remaining) { [self] in stopped.withLock { $0 } }
                    let now = (try? Workloads.values(try store.list(Self.hpas)))?.compactMap { $0.metadataString("uid") } ?? []
                    if now.contains(where: { !known.contains($0) }) { break }
                }
            }
        }
    }

    public func stop() {
        stopped.withLock { $0 = true }
        store.wake()
    }

    // MARK: - One HPA

    /// What the metrics say: the replicas they ask for and the status entries to report.
    struct Measurement {
        var replicas: Int
        var utilization: Int
        var averageCores: Double
    }

    struct Failure: Error {
        let reason: String
        let message: String
    }

    func sync(_ hpa: JSONValue, now: Double) throws(EngineError) {
        guard let namespace = hpa.metadataString("namespace"), let name = hpa.metadataString("name"),
              let uid = hpa.metadataString("uid") else { return }
        let key = ObjectKey(Self.hpas, namespace: namespace, name: name)
        let spec = hpa[member: "spec"]
        let reference = spec?[member: "scaleTargetRef"]
        let minimum = spec?[member: "minReplicas"]?.intValue ?? 1
        let maximum = spec?[member: "maxReplicas"]?.intValue ?? 1
        let kind = reference?[member: "kind"]?.stringValue ?? ""
        let targetName = reference?[member: "name"]?.stringValue ?? ""
        var conditions = Conditions(old: hpa[member: "status"]?[member: "conditions"]?.arrayValue ?? [])
        var status: [(String, JSONValue)] = []
        if let generation = hpa[member: "metadata"]?[member: "generation"] { status.append(("observedGeneration", generation)) }
        if let last = hpa[member: "status"]?[member: "lastScaleTime"] { status.append(("lastScaleTime", last)) }

        // The target's scale.
        guard let resource = Self.targets[kind] else {
            conditions.set("AbleToScale", false, "FailedGetScale",
                           "the HPA controller was unable to get the target's current scale: no matches for kind \"\(kind)\" in group \"apps\"")
            return try write(key, status, current: 0, desired: 0, metrics: [], conditions)
        }
        let targetKey = ObjectKey(resource, namespace: namespace, name: targetName)
        let target: JSONValue
        do { target = try store.get(targetKey).value() } catch where error.kind == .notFound {
            conditions.set("AbleToScale", false, "FailedGetScale",
                           "the HPA controller was unable to get the target's current scale: \(resource.name).apps \"\(targetName)\" not found")
            event(hpa, type: "Warning", reason: "FailedGetScale", message: "\(resource.name).apps \"\(targetName)\" not found")
            return try write(key, status, current: 0, desired: 0, metrics: [], conditions)
        }
        let current = target[member: "spec"]?[member: "replicas"]?.intValue ?? 1

        // What the metrics ask for.
        var desired = current
        var metricStatus: [JSONValue] = []
        var metricsFailed = false
        if current == 0 && minimum != 0 {
            conditions.set("ScalingActive", false, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero")
            desired = 0
            metricsFailed = true
        } else {
            var proposals: [Int] = []
            for metric in spec?[member: "metrics"]?.arrayValue ?? [] {
                let resourceName = metric[member: "resource"]?[member: "name"]?.stringValue ?? ""
                guard metric[member: "type"]?.stringValue == "Resource", resourceName == "cpu",
                      let wanted = metric[member: "resource"]?[member: "target"]?[member: "averageUtilization"]?.intValue else {
                    conditions.set("ScalingActive", false, "InvalidMetricSourceType",
                                   "the HPA was unable to compute the replica count: berth measures CPU utilization only")
                    metricsFailed = true
                    continue
                }
                do {
                    let measured = try measure(namespace: namespace, selector: target[member: "spec"]?[member: "selector"],
                                               current: current, targetUtilization: wanted)
                    proposals.append(measured.replicas)
                    metricStatus.append(.ordered([
                        ("type", .string("Resource")),
                        ("resource", .ordered([("name", .string("cpu")), ("current", .ordered([
                            ("averageValue", .string(Quantities.milliText(measured.averageCores))),
                            ("averageUtilization", .int(measured.utilization)),
                        ]))])),
                    ]))
                } catch let failure as Failure {
                    conditions.set("ScalingActive", false, failure.reason, "the HPA was unable to compute the replica count: " + failure.message)
                    event(hpa, type: "Warning", reason: failure.reason, message: failure.message)
                    metricsFailed = true
                } catch {
                    metricsFailed = true
                }
            }
            if let highest = proposals.max(), !metricsFailed {
                desired = highest
                conditions.set("ScalingActive", true, "ValidMetricFound",
                               "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)")
            }
        }

        // Stabilisation and rate limits, then minReplicas and maxReplicas.
        let behavior = spec?[member: "behavior"]
        let up = behavior?[member: "scaleUp"] ?? Objects.hpaRules(scaleUp: true)
        let down = behavior?[member: "scaleDown"] ?? Objects.hpaRules(scaleUp: false)
        var remembered = memory.withLock { $0[uid] ?? Memory() }
        var limitedReason: (String, String)? = nil
        var stabilized: (String, String)? = nil
        if !metricsFailed {
            let proposal = desired
            remembered.recommendations.append((now, proposal))
            let upWindow = Double(up[member: "stabilizationWindowSeconds"]?.intValue ?? 0)
            let downWindow = Double(down[member: "stabilizationWindowSeconds"]?.intValue ?? 300)
            var upRecommendation = proposal, downRecommendation = proposal
            for entry in remembered.recommendations {
                if entry.time > now - upWindow { upRecommendation = min(upRecommendation, entry.replicas) }
                if entry.time > now - downWindow { downRecommendation = max(downRecommendation, entry.replicas) }
            }
            let keep = max(upWindow, downWindow)
            remembered.recommendations.removeAll { $0.time <= now - keep && $0.time != now }
            desired = min(max(current, upRecommendation), downRecommendation)
            if desired != proposal {
                stabilized = desired > proposal
                    ? ("ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation")
                    : ("ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation")
            }
            if desired > current {
                let limit = max(current, Self.scaleUpLimit(current, remembered.changes, up, now: now))
                if desired > limit {
                    desired = limit
                    limitedReason = ("ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate")
                }
            } else if desired < current {
                let limit = min(current, Self.scaleDownLimit(current, remembered.changes, down, now: now))
                if desired < limit {
                    desired = limit
                    limitedReason = ("ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate")
                }
            }
        }
        if desired > maximum {
            desired = maximum
            limitedReason = ("TooManyReplicas", "the desired replica count is more than the maximum replica count")
        } else if desired < minimum && !(current == 0 && minimum != 0) {
            desired = minimum
            limitedReason = ("TooFewReplicas", "the desired replica count is less than the minimum replica count")
        }
        if let limited = limitedReason {
            conditions.set("ScalingLimited", true, limited.0, limited.1)
        } else if !metricsFailed {
            conditions.set("ScalingLimited", false, "DesiredWithinRange", "the desired count is within the acceptable range")
        }

        // Scale.
        if desired != current && !(current == 0 && minimum != 0) {
            do {
                _ = try store.guaranteedUpdate(targetKey) { old throws(EngineError) in
                    old.setting("spec", to: (old[member: "spec"] ?? .ordered([])).setting("replicas", to: .int(desired)))
                }
            } catch {
                conditions.set("AbleToScale", false, "FailedUpdateScale", "the HPA controller was unable to update the target scale: \(error.message)")
                event(hpa, type: "Warning", reason: "FailedRescale", message: "New size: \(desired); error: \(error.message)")
                memory.withLock { $0[uid] = remembered }
                return try write(key, status, current: current, desired: desired, metrics: metricStatus, conditions)
            }
            remembered.changes.append((now, desired - current))
            remembered.changes.removeAll { $0.time < now - 1800 }
            let why = desired > current ? "cpu resource utilization (percentage of request) above target" : "All metrics below target"
            event(hpa, type: "Normal", reason: "SuccessfulRescale", message: "New size: \(desired); reason: \(why)")
            conditions.set("AbleToScale", true, "SucceededRescale", "the HPA controller was able to update the target scale to \(desired)")
            status.removeAll { $0.0 == "lastScaleTime" }
            status.append(("lastScaleTime", .string(SystemFields.timestamp())))
        } else if let stabilized {
            conditions.set("AbleToScale", true, stabilized.0, stabilized.1)
        } else {
            conditions.set("AbleToScale", true, "ReadyForNewScale", "recommended size matches current size")
        }
        memory.withLock { $0[uid] = remembered }
        try write(key, status, current: current, desired: desired, metrics: metricStatus, conditions)
    }

    /// The replica calculator for CPU utilization: the ready Pods' usage against their requests;
    /// Pods without a measurement count as using their whole request when scaling down and
    /// nothing when scaling up, so that missing data never makes the move larger.
    func measure(namespace: String, selector: JSONValue?, current: Int, targetUtilization: Int) throws -> Measurement {
        guard let selector else { throw Failure(reason: "FailedGetResourceMetric", message: "the target has no selector") }
        let match = LabelSelector(object: selector)
        let pods = try Workloads.values(try store.list(Workloads.pods, namespace: namespace)).filter {
            match.matches(LabelSelector.labels(of: $0)) && !Workloads.isTerminating($0)
                && $0[member: "status"]?[member: "phase"]?.stringValue != "Failed" && $0[member: "status"]?[member: "phase"]?.stringValue != "Succeeded"
        }
        if pods.isEmpty {
            throw Failure(reason: "FailedGetResourceMetric", message: "failed to get cpu utilization: no pods returned by selector while calculating replica count")
        }
        var usage: [String: Double] = [:]
        for item in try metrics(namespace) {
            guard let name = item.metadataString("name") else { continue }
            var cores = 0.0
            for container in item[member: "containers"]?.arrayValue ?? [] {
                cores += Quantities.value(container[member: "usage"]?[member: "cpu"]) ?? 0
            }
            usage[name] = cores
        }
        var requests: [String: Double] = [:]
        var measured: [String] = [], missing: [String] = [], unready: [String] = []
        for pod in pods {
            let name = pod.metadataString("name") ?? ""
            var request = 0.0
            for container in pod[member: "spec"]?[member: "containers"]?.arrayValue ?? [] {
                guard let cpu = Quantities.value(container[member: "resources"]?[member: "requests"]?[member: "cpu"]) else {
                    throw Failure(reason: "FailedGetResourceMetric",
                                  message: "failed to get cpu utilization: missing request for cpu in container \(container[member: "name"]?.stringValue ?? "") of Pod \(name)")
                }
                request += cpu
            }
            requests[name] = request
            if usage[name] == nil { missing.append(name) } else if !Workloads.isReady(pod) { unready.append(name) } else { measured.append(name) }
        }
        if measured.isEmpty {
            throw Failure(reason: "FailedGetResourceMetric", message: "failed to get cpu utilization: did not receive metrics for targeted pods (pods might be unready)")
        }
        func ratio(_ names: [String], _ usageOf: (String) -> Double) -> (ratio: Double, utilization: Int) {
            let used = names.reduce(0) { $0 + usageOf($1) }
            let requested = names.reduce(0) { $0 + (requests[$1] ?? 0) }
            let utilization = requested > 0 ? Int(used * 100 / requested) : 0
            return (Double(utilization) / Double(targetUtilization), utilization)
        }
        let (usageRatio, utilization) = ratio(measured) { usage[$0] ?? 0 }
        let average = measured.reduce(0) { $0 + (usage[$1] ?? 0) } / Double(measured.count)
        let scaleUpWithUnready = !unready.isEmpty && usageRatio > 1
        if !scaleUpWithUnready && missing.isEmpty {
            if abs(1 - usageRatio) <= Self.tolerance { return Measurement(replicas: current, utilization: utilization, averageCores: average) }
            return Measurement(replicas: Int((usageRatio * Double(measured.count)).rounded(.up)), utilization: utilization, averageCores: average)
        }
        var assumed: [String: Double] = [:]
        for name in missing { assumed[name] = usageRatio < 1 ? requests[name] ?? 0 : 0 }
        if scaleUpWithUnready { for name in unready { assumed[name] = 0 } }
        let all = measured + Array(assumed.keys)
        let (newRatio, _) = ratio(all) { usage[$0] ?? assumed[$0] ?? 0 }
        if abs(1 - newRatio) <= Self.tolerance || (usageRatio < 1 && newRatio > 1) || (usageRatio > 1 && newRatio < 1) {
            return Measurement(replicas: current, utilization: utilization, averageCores: average)
        }
        let replicas = Int((newRatio * Double(all.count)).rounded(.up))
        if (newRatio < 1 && replicas > current) || (newRatio > 1 && replicas < current) {
            return Measurement(replicas: current, utilization: utilization, averageCores: average)
        }
        return Measurement(replicas: replicas, utilization: utilization, averageCores: average)
    }

    /// The most replicas the scale-up policies allow now: per policy, from the replicas at the
    /// start of its period (less what was added since); `selectPolicy` picks among them.
    static func scaleUpLimit(_ current: Int, _ changes: [(time: Double, delta: Int)], _ rules: JSONValue, now: Double) -> Int {
        let select = rules[member: "selectPolicy"]?.stringValue ?? "Max"
        if select == "Disabled" { return current }
        var limits: [Int] = []
        for policy in rules[member: "policies"]?.arrayValue ?? [] {
            let period = Double(policy[member: "periodSeconds"]?.intValue ?? 15)
            let added = changes.filter { $0.time > now - period && $0.delta > 0 }.reduce(0) { $0 + $1.delta }
            let start = current - added
            let value = policy[member: "value"]?.intValue ?? 0
            switch policy[member: "type"]?.stringValue {
            case "Pods": limits.append(start + value)
            case "Percent": limits.append(Int((Double(start) * (1 + Double(value) / 100)).rounded(.up)))
            default: break
            }
        }
        guard !limits.isEmpty else { return Int.max }
        return select == "Min" ? limits.min()! : limits.max()!
    }

    /// The fewest replicas the scale-down policies allow now (mirror of scaleUpLimit).
    static func scaleDownLimit(_ current: Int, _ changes: [(time: Double, delta: Int)], _ rules: JSONValue, now: Double) -> Int {
        let select = rules[member: "selectPolicy"]?.stringValue ?? "Max"
        if select == "Disabled" { return current }
        var limits: [Int] = []
        for policy in rules[member: "policies"]?.arrayValue ?? [] {
            let period = Double(policy[member: "periodSeconds"]?.intValue ?? 15)
            let removed = changes.filter { $0.time > now - period && $0.delta < 0 }.reduce(0) { $0 - $1.delta }
            let start = current + removed
            let value = policy[member: "value"]?.intValue ?? 0
            switch policy[member: "type"]?.stringValue {
            case "Pods": limits.append(start - value)
            case "Percent": limits.append(Int(Double(start) * (1 - Double(value) / 100)))
            default: break
            }
        }
        guard !limits.isEmpty else { return 0 }
        // Max: the policy that allows the largest change, the lowest limit.
        return select == "Min" ? limits.max()! : limits.min()!
    }

    // MARK: - Writing

    /// The conditions, each keeping its lastTransitionTime while its status stays.
    struct Conditions {
        let old: [JSONValue]
        var entries: [(type: String, value: JSONValue)] = []

        init(old: [JSONValue]) { self.old = old }

        mutating func set(_ type: String, _ status: Bool, _ reason: String, _ message: String) {
            let text = status ? "True" : "False"
            let previous = (entries.first { $0.type == type }?.value) ?? old.first { $0[member: "type"]?.stringValue == type }
            let time = previous?[member: "status"]?.stringValue == text ? previous?[member: "lastTransitionTime"] : nil
            let value = JSONValue.ordered([
                ("type", .string(type)), ("status", .string(text)), ("lastTransitionTime", time ?? .string(SystemFields.timestamp())),
                ("reason", .string(reason)), ("message", .string(message)),
            ])
            if let index = entries.firstIndex(where: { $0.type == type }) { entries[index].value = value } else { entries.append((type, value)) }
        }

        /// In Kubernetes' order (AbleToScale, ScalingActive, ScalingLimited), old ones not set this pass kept.
        var list: [JSONValue] {
            ["AbleToScale", "ScalingActive", "ScalingLimited"].compactMap { type in
                entries.first { $0.type == type }?.value ?? old.first { $0[member: "type"]?.stringValue == type }
            }
        }
    }

    func write(_ key: ObjectKey, _ base: [(String, JSONValue)], current: Int, desired: Int, metrics: [JSONValue],
               _ conditions: Conditions) throws(EngineError) {
        var status = base
        if current > 0 { status.append(("currentReplicas", .int(current))) }
        status.append(("desiredReplicas", .int(desired)))
        if !metrics.isEmpty { status.append(("currentMetrics", .array(metrics))) }
        status.append(("conditions", .array(conditions.list)))
        try Workloads.writeStatus(store, key, .ordered(status))
    }

    /// A core/v1 Event about the HPA from the horizontal-pod-autoscaler component.
    func event(_ hpa: JSONValue, type: String, reason: String, message: String) {
        guard let namespace = hpa.metadataString("namespace"), let name = hpa.metadataString("name") else { return }
        var suffix = ""
        for _ in 0..<16 { suffix += String(UInt8.random(in: 0...15), radix: 16) }
        let now = JSONValue.string(SystemFields.timestamp())
        let event = JSONValue.ordered([
            ("apiVersion", .string("v1")), ("kind", .string("Event")),
            ("metadata", .ordered([("name", .string(name + "." + suffix)), ("namespace", .string(namespace))])),
            ("involvedObject", .ordered([("kind", .string("HorizontalPodAutoscaler")), ("namespace", .string(namespace)), ("name", .string(name)),
                                         ("uid", .string(hpa.metadataString("uid") ?? "")), ("apiVersion", .string("autoscaling/v2")),
                                         ("resourceVersion", .string(hpa.metadataString("resourceVersion") ?? ""))])),
            ("reason", .string(reason)), ("message", .string(message)),
            ("source", .ordered([("component", .string("horizontal-pod-autoscaler"))])),
            ("firstTimestamp", now), ("lastTimestamp", now), ("count", .int(1)), ("type", .string(type)),
            ("eventTime", .null), ("reportingComponent", .string("horizontal-pod-autoscaler")), ("reportingInstance", .string("")),
        ])
        do { try writer.create(Self.events, event) } catch { log("horizontalpodautoscaler \(name): record event \(reason): \(error.message)") }
    }
}
