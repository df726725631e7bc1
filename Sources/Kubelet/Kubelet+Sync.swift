import ContainerSpec
import Engine
import Glibc
import GoCompat
import Kube
import KubeModel
import LinuxSys

/// One Engine container of a pod, with its parsed name and its state now.
struct PodContainer {
    var container: Container
    var name: PodContainerName
    var state: ContainerState

    var isRunning: Bool { state.isRunning }
    var hasExited: Bool { state.status == .exited || state.status == .dead }
}

/// Why a container has not started: the waiting state's reason and message.
struct Waiting {
    var reason: String
    var message: String?
}

/// What a pass found and did for one pod, what its status is computed from.
struct PodPass {
    var containers: [PodContainer]
    var waiting: [String: Waiting] = [:]
    var initialized = false
    var initFailed = false
    var podIP: String?
    /// What the probes say of running containers (none: started and ready).
    var probed: [String: (started: Bool, ready: Bool)] = [:]

    /// A container's attempts, newest first.
    func attempts(_ name: String) -> [PodContainer] {
        containers.filter { $0.name.container == name }.sorted { $0.name.restartCount > $1.name.restartCount }
    }
}

extension Kubelet {
    func syncPod(_ key: ObjectKey, _ pod: JSONValue, uid: String, containers: [Container]) throws(EngineError) {
        if pod.podString("spec", "nodeName") == nil {
            // Only the default scheduler's Pods: one that names another scheduler waits for it, as on a cluster.
            let scheduler = pod.podString("spec", "schedulerName") ?? "default-scheduler"
            if scheduler == "default-scheduler" { try bind(key, uid: uid) }
            return
        }
        if pod.podString("metadata", "deletionTimestamp") != nil {
            // Graceful deletion: preStop hooks, TERM, the grace period, KILL; then the object goes.
            let grace = (pod[member: "metadata"]?[member: "deletionGracePeriodSeconds"] ?? .null).podInt
            let busy = wake.withLock { tearingDown.contains(uid) }
            if busy { return }
            for container in containers where engine.status(container).isRunning {
                let name = container.options.labels[PodContainerName.Label.containerName] ?? ""
                if name != PodContainerName.sandbox {
                    recordEvent(key, pod, container: name, type: "Normal", reason: "Killing", message: "Stopping container \(name)")
                }
            }
            let store = self.store
            tearDownInBackground(uid: uid, containers, grace: grace, specs: Self.allContainers(pod), key: key) {
                _ = try? store.delete(key, uid: uid)
            }
            return
        }
        let phase = pod.podString("status", "phase")
        if phase == "Succeeded" || phase == "Failed" {
            // A finished pod's sidecars stop too (the kubelet's TERM, then KILL after the grace), and
            // its sandbox (its address goes back to the pool); the containers stay for their logs.
            let grace = (pod[member: "spec"]?[member: "terminationGracePeriodSeconds"] ?? .null).podInt ?? 30
            let running = containers.filter { engine.status($0).isRunning }
            if !running.isEmpty { tearDownInBackground(uid: uid, running, grace: grace, removing: false) }
            return
        }
        let spec = pod[member: "spec"] ?? .null
        var pass = PodPass(containers: containers.compactMap { container in
            PodContainerName(labels: container.options.labels, name: container.name).map {
                PodContainer(container: container, name: $0, state: engine.status(container))
            }
        })
        let inits = (spec[member: "initContainers"] ?? .null).podArray
        let mains = (spec[member: "containers"] ?? .null).podArray
        let policy = spec.podString("restartPolicy") ?? "Always"

        // The sandbox: the pod's network, IPC and (when shared) PID namespaces, its hostname.
        // The sandbox's image: any of the pod's that is here (the pause process is bound in from the host).
        var sandboxImage = (inits + mains).compactMap { $0.podString("image") }.first { (try? engine.images.resolve($0)) != nil }
        if sandboxImage == nil && pass.attempts(PodContainerName.sandbox).isEmpty {
            for container in inits + mains {
                guard let name = container.podString("name"), let image = container.podString("image") else { continue }
                let policy = Self.pullPolicy(container)
                if policy != "Never" { recordEvent(key, pod, container: name, type: "Normal", reason: "Pulling", message: "Pulling image \"\(image)\"") }
                let pullStart = MonotonicClock.seconds()
                if let waiting = acquireImage(image, policy: policy) {
                    recordEvent(key, pod, container: name, type: "Warning", reason: waiting.reason == "ImagePullBackOff" ? "BackOff" : "Failed",
                                message: waiting.message ?? waiting.reason)
                    pass.waiting[name] = waiting
                } else {
                    recordEvent(key, pod, container: name, type: "Normal", reason: "Pulled",
                                message: "Successfully pulled image \"\(image)\" in \(Int((MonotonicClock.seconds() - pullStart) * 1000))ms")
                    sandboxImage = image
                    break
                }
            }
        }
        let sandbox: PodContainer
        do {
            sandbox = try ensureSandbox(key, pod, uid: uid, image: sandboxImage, spec: spec, pass: &pass)
        } catch {
            let message = "sandbox of \(key): \(error)"
            if logged[uid] != message { log(message) }
            logged[uid] = message
            for container in inits + mains {
                if let name = container.podString("name"), pass.waiting[name] == nil { pass.waiting[name] = Waiting(reason: "ContainerCreating", message: nil) }
            }
            try writeStatus(key, pod, uid: uid, pass: pass)
            return
        }
        pass.podIP = (spec[member: "hostNetwork"] ?? .null).podBool == true ? Self.hostIP : engine.attachments(sandbox.container).first?.ipAddress

        // Init containers one at a time, in order; each must exit 0 before the next.
        var initialized = true
        for container in inits {
            guard let name = container.podString("name") else { continue }
            // A sidecar (an init container with restartPolicy Always) runs beside the rest: the next
            // one starts once it has started, and it is restarted whenever it exits.
            if container.podString("restartPolicy") == "Always" {
                guard let latest = pass.attempts(name).first else {
                    startContainer(key, pod, uid: uid, container, attempt: 0, isInit: true, sandbox: sandbox, pass: &pass)
                    initialized = false
                    break
                }
                if latest.isRunning && pass.waiting[name] == nil {
                    let probed = runProbes(key, pod, container, latest, podIP: pass.podIP)
                    pass.probed[name] = probed
                    if probed.started { continue }
                    initialized = false
                    break
                }
                if latest.hasExited {
                    restartWithBackoff(key, pod, uid: uid, container, latest: latest, isInit: true, sandbox: sandbox, pass: &pass)
                    continue
                }
                replaceStale(key, pod, uid: uid, container, latest: latest, isInit: true, sandbox: sandbox, pass: &pass)
                initialized = false
                break
            }
            guard let latest = pass.attempts(name).first else {
                startContainer(key, pod, uid: uid, container, attempt: 0, isInit: true, sandbox: sandbox, pass: &pass)
                initialized = false
                break
            }
            if latest.isRunning { initialized = false; break }
            if latest.hasExited && latest.state.state.exitCode == 0 { continue }
            initialized = false
            if latest.hasExited {
                if policy == "Never" { pass.initFailed = true } else {
                    restartWithBackoff(key, pod, uid: uid, container, latest: latest, isInit: true, sandbox: sandbox, pass: &pass)
                }
            } else {
                replaceStale(key, pod, uid: uid, container, latest: latest, isInit: true, sandbox: sandbox, pass: &pass)
            }
            break
        }
        pass.initialized = initialized
        if initialized {
            for container in mains {
                guard let name = container.podString("name") else { continue }
                guard let latest = pass.attempts(name).first else {
                    startContainer(key, pod, uid: uid, container, attempt: 0, isInit: false, sandbox: sandbox, pass: &pass)
                    continue
                }
                if latest.isRunning { continue }
                if latest.hasExited {
                    let code = latest.state.state.exitCode
                    if policy == "Always" || (policy == "OnFailure" && code != 0) {
                        restartWithBackoff(key, pod, uid: uid, container, latest: latest, isInit: false, sandbox: sandbox, pass: &pass)
                    }
                } else {
                    replaceStale(key, pod, uid: uid, container, latest: latest, isInit: false, sandbox: sandbox, pass: &pass)
                }
            }
        }
        if initialized {
            for container in mains {
                guard let name = container.podString("name"), let latest = pass.attempts(name).first, latest.isRunning,
                      pass.waiting[name] == nil else { continue }
                pass.probed[name] = runProbes(key, pod, container, latest, podIP: pass.podIP)
            }
            // A probe may have stopped a container.
            for index in pass.containers.indices { pass.containers[index].state = engine.status(pass.containers[index].container) }
        }
        try writeStatus(key, pod, uid: uid, pass: pass)
    }

    /// The scheduler's role on one node: the pod goes to this node.
    func bind(_ key: ObjectKey, uid: String) throws(EngineError) {
        let now = SystemFields.timestamp()
        // A binding, not a new spec: the generation stays (the apiserver's pods/binding).
        try store.guaranteedUpdate(key, keepingGeneration: true) { value throws(EngineError) in
            guard value.metadataString("uid") == uid else { throw .conflict("bind \(key): the pod was replaced") }
            let spec = (value[member: "spec"] ?? .object([:], keys: [])).setting("nodeName", to: .string(nodeName))
            let condition = JSONValue.ordered([("type", .string("PodScheduled")), ("status", .string("True")),
                                               ("lastProbeTime", .null), ("lastTransitionTime", .string(now))])
            let status = (value[member: "status"] ?? .object([:], keys: []))
                .setting("phase", to: .string("Pending"))
                .setting("conditions", to: .array([condition]))
                .setting("qosClass", to: .string(Self.qosClass(spec)))
            return value.setting("spec", to: spec).setting("status", to: status)
        }
        if let pod = try? store.get(key).value() {
            recordEvent(key, pod, container: nil, type: "Normal", reason: "Scheduled",
                        message: "Successfully assigned \(key.namespace)/\(key.name) to \(nodeName)", component: "default-scheduler")
        }
    }

    /// The sandbox container, made and started when missing or not running.
    func ensureSandbox(_ key: ObjectKey, _ pod: JSONValue, uid: String, image: String?, spec: JSONValue,
                       pass: inout PodPass) throws(EngineError) -> PodContainer {
        var attempt = 0
        if let existing = pass.attempts(PodContainerName.sandbox).first {
            if existing.isRunning { return existing }
            // The sandbox ended (killed, the host restarted): its namespaces went with it. The pod's
            // containers stop and the pod starts again in a new sandbox, as the kubelet does.
            for index in pass.containers.indices where pass.containers[index].name.container != PodContainerName.sandbox && pass.containers[index].isRunning {
                try? engine.kill(pass.containers[index].container, signal: SIGKILL)
                _ = try? engine.wait(pass.containers[index].container)
                pass.containers[index].state = engine.status(pass.containers[index].container)
            }
            for old in pass.attempts(PodContainerName.sandbox) { try? engine.remove(old.container, force: true) }
            pass.containers.removeAll { $0.name.container == PodContainerName.sandbox }
            attempt = existing.name.restartCount + 1
        }
        guard let image else { throw .notFound("start the sandbox of \(key): none of the pod's images is here") }
        let network = try engine.podNetwork()
        let name = PodContainerName(container: PodContainerName.sandbox, pod: key.name, namespace: key.namespace, uid: uid, restartCount: attempt)
        var options = RunOptions()
        options.name = name.description
        options.labels = labels(name, spec: spec, isInit: false)
        let hostNetwork = (spec[member: "hostNetwork"] ?? .null).podBool == true
        options.network = hostNetwork ? .host : .named(network.name)
        if !hostNetwork { options.hostname = spec[member: "hostname"]?.stringValue ?? key.name }
        options.ipcMode = (spec[member: "hostIPC"] ?? .null).podBool == true ? .host : .shareable
        // The pause process: Debian's static busybox sleeping, bound in from the host so that any
        // image serves (Kubernetes pulls a pause image; none can be pulled here).
        guard let pause = Self.pauseBinary else {
            throw .unavailable("start the sandbox of \(key): no static busybox (/bin/busybox) on this host for the pause process")
        }
        options.mounts = [MountRequest(kind: .bind, source: pause, target: "/.berth-pause/busybox", readOnly: true)]
        options.entrypoint = ["/.berth-pause/busybox"]
        options.command = ["sleep", "2147483647"]
        var request = NetworkRequest()
        request.dnsSearch = Self.searchDomains(key.namespace)
        request.dnsOptions = ["ndots:5"]
        // berth-dns answers the pod's name (and NAME.NAMESPACE) on the pod network, as for any container.
        request.aliases = [key.name, "\(key.name).\(key.namespace)"]
        options.networking = hostNetwork ? nil : request
        let container = try engine.create(image: image, options: options)
        do { _ = try engine.start(container) } catch {
            try? engine.remove(container, force: true)
            throw error.error
        }
        let made = PodContainer(container: container, name: name, state: engine.status(container))
        pass.containers.append(made)
        return made
    }

    static func allContainers(_ pod: JSONValue) -> [JSONValue] {
        (pod[member: "spec"]?[member: "initContainers"] ?? .null).podArray + (pod[member: "spec"]?[member: "containers"] ?? .null).podArray
    }

    static func searchDomains(_ namespace: String) -> [String] {
        ["\(namespace).svc.cluster.local", "svc.cluster.local", "cluster.local"]
    }

    static let pauseBinary: String? = ["/bin/busybox", "/usr/bin/busybox"].first { access($0, X_OK) == 0 }

    /// The labels every container of the pod carries (the streaming endpoints find containers by them).
    func labels(_ name: PodContainerName, spec: JSONValue, isInit: Bool) -> [String: String] {
        var labels = [
            PodContainerName.Label.podName: name.pod, PodContainerName.Label.podNamespace: name.namespace,
            PodContainerName.Label.podUID: name.uid, PodContainerName.Label.containerName: name.container,
            PodContainerName.Label.restartCount: String(name.restartCount),
            PodContainerName.Label.gracePeriod: String((spec[member: "terminationGracePeriodSeconds"] ?? .null).podInt ?? 30),
        ]
        if isInit { labels[PodContainerName.Label.initContainer] = "true" }
        return labels
    }

    /// Creates and starts attempt `attempt` of a container; what stops it is the container's waiting reason.
    func startContainer(_ key: ObjectKey, _ pod: JSONValue, uid: String, _ container: JSONValue, attempt: Int, isInit: Bool,
                        sandbox: PodContainer, pass: inout PodPass) {
        guard let containerName = container.podString("name"), let image = container.podString("image") else { return }
        let name = PodContainerName(container: containerName, pod: key.name, namespace: key.namespace, uid: uid, restartCount: attempt)
        let options: RunOptions
        do {
            options = try runOptions(key, pod, container, name: name, isInit: isInit, sandbox: sandbox, podIP: pass.podIP)
        } catch {
            pass.waiting[containerName] = Waiting(reason: "CreateContainerConfigError", message: error.message)
            return
        }
        let policy = Self.pullPolicy(container)
        let present = (try? engine.images.resolve(image)) != nil
        if policy == "Always" || (policy == "IfNotPresent" && !present) {
            recordEvent(key, pod, container: containerName, type: "Normal", reason: "Pulling", message: "Pulling image \"\(image)\"")
        }
        let pullStart = MonotonicClock.seconds()
        if let waiting = acquireImage(image, policy: policy) {
            recordEvent(key, pod, container: containerName, type: "Warning", reason: waiting.reason == "ImagePullBackOff" ? "BackOff" : "Failed",
                        message: waiting.message ?? waiting.reason)
            pass.waiting[containerName] = waiting
            return
        }
        if policy == "Always" || (policy == "IfNotPresent" && !present) {
            let took = (MonotonicClock.seconds() - pullStart) * 1000
            recordEvent(key, pod, container: containerName, type: "Normal", reason: "Pulled",
                        message: "Successfully pulled image \"\(image)\" in \(Int(took))ms")
        } else {
            recordEvent(key, pod, container: containerName, type: "Normal", reason: "Pulled",
                        message: "Container image \"\(image)\" already present on machine")
        }
        // A leftover of the same attempt (a pass that crashed between create and start) goes first.
        if let stale = try? engine.container(name.description) { try? engine.remove(stale, force: true) }
        let made: Container
        do { made = try engine.create(image: image, options: options) } catch {
            pass.waiting[containerName] = Waiting(reason: "CreateContainerError", message: error.message)
            return
        }
        recordEvent(key, pod, container: containerName, type: "Normal", reason: "Created", message: "Created container: \(containerName)")
        do {
            _ = try engine.start(made)
            recordEvent(key, pod, container: containerName, type: "Normal", reason: "Started", message: "Started container \(containerName)")
            // postStart: the container is killed when its hook fails (and restarts as its policy says).
            if let command = Self.hookCommand(container, "postStart") {
                let result = execIn(made, command, timeout: 30)
                if result.exitCode != 0 {
                    log("postStart hook of \(made.name) failed: \(result.timedOut ? "timed out" : result.output)")
                    try? engine.kill(made, signal: SIGKILL)
                    _ = try? engine.wait(made)
                }
            }
        } catch {
            pass.waiting[containerName] = Waiting(reason: "RunContainerError", message: error.error.message)
        }
        pass.containers.append(PodContainer(container: made, name: name, state: engine.status(made)))
    }

    /// A container that exited and is to run again: at once the first time, then after 10 s, 20 s, …
    /// 5 min (the kubelet's CrashLoopBackOff); a run of 10 minutes resets the back-off.
    func restartWithBackoff(_ key: ObjectKey, _ pod: JSONValue, uid: String, _ container: JSONValue, latest: PodContainer, isInit: Bool,
                            sandbox: PodContainer, pass: inout PodPass) {
        let backoffKey = uid + "/" + latest.name.container
        let started = Self.seconds(latest.state.state.startedAt) ?? 0
        let finished = Self.seconds(latest.state.state.finishedAt) ?? 0
        if finished - started >= 600 { backoffs[backoffKey] = nil }
        let delay = backoffs[backoffKey] ?? 0
        if Int64(time(nil)) < finished + Int64(delay) {
            recordEvent(key, pod, container: latest.name.container, type: "Warning", reason: "BackOff",
                        message: "Back-off restarting failed container \(latest.name.container) in pod \(key.name)_\(key.namespace)(\(uid))")
            pass.waiting[latest.name.container] = Waiting(
                reason: "CrashLoopBackOff",
                message: "back-off \(Self.duration(delay)) restarting failed container=\(latest.name.container) pod=\(key.name)_\(key.namespace)(\(uid))")
            return
        }
        // Only the latest attempt is kept beside the new one (`logs --previous` reads it).
        for older in pass.attempts(latest.name.container) where older.name.restartCount < latest.name.restartCount {
            try? engine.remove(older.container, force: true)
            pass.containers.removeAll { $0.container.id == older.container.id }
        }
        backoffs[backoffKey] = min(max(delay * 2, 10), 300)
        startContainer(key, pod, uid: uid, container, attempt: latest.name.restartCount + 1, isInit: isInit, sandbox: sandbox, pass: &pass)
    }

    /// A container that was made but never ran (a pass ended between create and start): made again.
    func replaceStale(_ key: ObjectKey, _ pod: JSONValue, uid: String, _ container: JSONValue, latest: PodContainer, isInit: Bool,
                      sandbox: PodContainer, pass: inout PodPass) {
        guard latest.state.status == .created else { return }
        try? engine.remove(latest.container, force: true)
        pass.containers.removeAll { $0.container.id == latest.container.id }
        startContainer(key, pod, uid: uid, container, attempt: latest.name.restartCount, isInit: isInit, sandbox: sandbox, pass: &pass)
    }

    /// Go's time.Duration text for whole seconds, as the kubelet's back-off message prints it.
    static func duration(_ seconds: Int) -> String {
        seconds >= 60 ? "\(seconds / 60)m\(seconds % 60)s" : "\(seconds)s"
    }

    /// Epoch seconds of an Engine time (RFC 3339; nil for Docker's zero time).
    static func seconds(_ text: String) -> Int64? {
        text.hasPrefix("0001-") ? nil : Tables.parseTimestamp(text)
    }

    /// metav1.Time's form (to the second) of an Engine time.
    static func kubeTime(_ text: String) -> JSONValue {
        guard let seconds = seconds(text) else { return .null }
        return .string(SystemFields.timestamp(time_t(seconds)))
    }

    /// Stops a pod's containers (TERM, the pod's grace period, then KILL; all at once, the sandbox
    /// last) and removes them: its network attachment, address lease and files go with the sandbox.
    func tearDown(_ containers: [Container], grace given: Int? = nil, specs: [JSONValue] = [], key: ObjectKey? = nil, removing: Bool = true) {
        let sandboxes = containers.filter { $0.options.labels[PodContainerName.Label.containerName] == PodContainerName.sandbox }
        let others = containers.filter { $0.options.labels[PodContainerName.Label.containerName] != PodContainerName.sandbox }
        let grace = given ?? containers.compactMap { $0.options.labels[PodContainerName.Label.gracePeriod].flatMap { Int($0) } }.first ?? 30
        let running = others.filter { engine.status($0).isRunning }
        let began = MonotonicClock.seconds()
        var deadline = began + Double(grace)
        // preStop hooks first, inside the grace period (the kubelet's order).
        for container in running {
            let name = container.options.labels[PodContainerName.Label.containerName]
            guard let spec = specs.first(where: { $0.podString("name") == name }), let command = Self.hookCommand(spec, "preStop") else { continue }
            let result = execIn(container, command, timeout: max(1, deadline - MonotonicClock.seconds()))
            if result.exitCode != 0 { log("preStop hook of \(container.name) failed: \(result.timedOut ? "timed out" : result.output)") }
        }
        for container in running { try? engine.kill(container, signal: SIGTERM) }
        var polls = 0
        while running.contains(where: { engine.status($0).isRunning }) && MonotonicClock.seconds() < deadline {
            usleep(100_000)
            polls += 1
            // A second delete may shorten the grace period (`kubectl delete --grace-period=1`).
            if let key, polls % 5 == 0, let pod = try? store.get(key).value(),
               let shorter = (pod[member: "metadata"]?[member: "deletionGracePeriodSeconds"] ?? .null).podInt {
                deadline = min(deadline, began + Double(shorter))
            }
        }
        for container in running where engine.status(container).isRunning { try? engine.kill(container, signal: SIGKILL) }
        // A finished pod's containers are kept (their logs and statuses); only stopped.
        guard removing else {
            for sandbox in sandboxes where engine.status(sandbox).isRunning { try? engine.kill(sandbox, signal: SIGKILL) }
            return
        }
        for container in others + sandboxes {
            do { try engine.remove(container, force: true) } catch { log("remove \(container.name): \(error)") }
        }
        if let uid = containers.first?.options.labels[PodContainerName.Label.podUID] {
            FS.removeAll(podDirectory(uid))
        }
    }

    /// Where the pod's volumes (emptyDir, configMap, secret, downwardAPI) live on the host.
    func podDirectory(_ uid: String) -> String { engine.root + "/kubelet/pods/" + uid }
}
