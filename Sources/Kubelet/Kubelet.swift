import ContainerSpec
import Engine
import Glibc
import GoCompat
import Kube
import LinuxSys

/// The kubelet's role on this node: makes the Engine's containers what the store's Pods ask for.
/// Level-triggered: every pass reads all Pods and all pod containers and acts on the difference, so a
/// missed event, a crash or a restart of `berth serve` costs nothing (the containers are the Engine's
/// and are adopted by their names and labels). The store's watch only makes a pass come sooner; a pass
/// also runs every second for what no event announces (a container that exited, a backoff that ended).
/// It runs on threads of its own, never on NIO's: Engine calls block.
public final class Kubelet: @unchecked Sendable {
    let store: ObjectStore
    let engine: Engine
    public let nodeName: String
    static let pods = Resource("pods")

    let wake = ConditionLock()
    /// Under `wake`.
    var pending = true
    var stopped = false
    /// Under `wake`: pods (uids) whose containers a thread of their own is stopping.
    var tearingDown: Set<String> = []
    /// Sync thread only: each container's next back-off (seconds), keyed `uid/container`.
    var backoffs: [String: Int] = [:]
    /// Sync thread only: the last error logged per pod, so a lasting one is logged once.
    var logged: [String: String] = [:]
    /// Sync thread only: the events recorded, by what they say (a repeat counts up the same one).
    var eventNames: [String: String] = [:]
    /// Sync thread only: images whose pull failed, not tried again until `until` (monotonic seconds).
    var pullBackoffs: [String: (until: Double, delay: Double)] = [:]
    /// Sync thread only: each running container's probes (`<container id>/<kind>`).
    var probeStates: [String: ProbeState] = [:]

    public init(store: ObjectStore, engine: Engine, nodeName: String? = nil) {
        self.store = store
        self.engine = engine
        self.nodeName = nodeName ?? Self.hostName()
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased()
        return name.isEmpty ? "localhost" : name
    }

    /// Starts the watch and the sync threads.
    public func start() {
        Threads.detach { self.watchLoop() }
        Threads.detach { self.syncLoop() }
    }

    public func stop() {
        wake.withLock {
            stopped = true
            wake.broadcast()
        }
    }

    func poke() {
        wake.withLock {
            pending = true
            wake.broadcast()
        }
    }

    var isStopped: Bool { wake.withLock { stopped } }

    func watchLoop() {
        var revision = (try? store.currentRevision()) ?? 0
        while !isStopped {
            do {
                let watch = try store.watch(Self.pods, from: revision)
                while !isStopped {
                    if try watch.next(timeoutSeconds: 5) != nil { poke() }
                    revision = watch.resourceVersion
                }
            } catch {
                // Too old (compacted) or the store failed: list again from now.
                revision = (try? store.currentRevision()) ?? revision
                poke()
                sleep(1)
            }
        }
    }

    func syncLoop() {
        while true {
            let go = wake.withLock { () -> Bool in
                if !pending && !stopped { _ = wake.wait(timeoutSeconds: 1) }
                pending = false
                return !stopped
            }
            if !go { return }
            IdleTrimmer.shared.begin()
            syncAll()
            IdleTrimmer.shared.end()
        }
    }

    /// One pass over every Pod and every pod container.
    func syncAll() {
        let pods: [StoredObject]
        let containers: [Container]
        do {
            pods = try store.list(Self.pods).items
            containers = try engine.all()
        } catch {
            log("list pods and containers: \(error)")
            return
        }
        var byUID: [String: [Container]] = [:]
        for container in containers {
            guard let uid = container.options.labels[PodContainerName.Label.podUID] else { continue }
            byUID[uid, default: []].append(container)
        }
        var live: Set<String> = []
        for stored in pods {
            guard let pod = try? stored.value(), let uid = pod.metadataString("uid") else { continue }
            let node = pod.podString("spec", "nodeName")
            if let node, node != nodeName { continue }
            live.insert(uid)
            do {
                try syncPod(stored.key, pod, uid: uid, containers: byUID[uid] ?? [])
                logged[uid] = nil
            } catch {
                let message = "sync \(stored.key): \(error)"
                if logged[uid] != message { log(message) }
                logged[uid] = message
            }
        }
        let ids = Set(containers.map(\.id))
        probeStates = probeStates.filter { ids.contains(String($0.key.prefix { $0 != "/" })) }
        // Containers of Pods that are gone: stopped (with the grace the Pod had) and removed.
        for (uid, list) in byUID where !live.contains(uid) {
            tearDownInBackground(uid: uid, list)
            logged[uid] = nil
            backoffs = backoffs.filter { !$0.key.hasPrefix(uid + "/") }
            eventNames = eventNames.filter { !$0.key.hasPrefix(uid + "/") }
        }
    }

    /// Stops and removes a pod's containers on a thread of its own (a grace period must not hold up
    /// every other pod), then runs `after` (the deletion of the Pod object); once per pod at a time.
    func tearDownInBackground(uid: String, _ containers: [Container], grace: Int? = nil, specs: [JSONValue] = [], key: ObjectKey? = nil,
                              removing: Bool = true, after: @escaping @Sendable () -> Void = {}) {
        let started = wake.withLock { tearingDown.insert(uid).inserted }
        guard started else { return }
        let work = TearDownWork(kubelet: self, uid: uid, containers: containers, grace: grace, specs: specs, key: key, removing: removing, after: after)
        Threads.detach { work.run() }
    }

    func log(_ message: String) {
        let line = "berth serve: kubelet: \(message)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}

/// One pod's teardown, handed to its thread.
final class TearDownWork: @unchecked Sendable {
    let kubelet: Kubelet
    let uid: String
    let containers: [Container]
    let grace: Int?
    let specs: [JSONValue]
    let key: ObjectKey?
    let removing: Bool
    let after: @Sendable () -> Void

    init(kubelet: Kubelet, uid: String, containers: [Container], grace: Int?, specs: [JSONValue], key: ObjectKey?, removing: Bool,
         after: @escaping @Sendable () -> Void) {
        self.kubelet = kubelet
        self.uid = uid
        self.containers = containers
        self.grace = grace
        self.specs = specs
        self.key = key
        self.removing = removing
        self.after = after
    }

    func run() {
        kubelet.tearDown(containers, grace: grace, specs: specs, key: key, removing: removing)
        after()
        kubelet.wake.withLock { _ = kubelet.tearingDown.remove(uid) }
        kubelet.poke()
    }
}
