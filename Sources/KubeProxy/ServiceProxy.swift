import ContainerNetwork
import ContainerSpec
import GoCompat
import Glibc
import Kube
import KubeModel
import LinuxSys
import Synchronization

/// kube-proxy's role: keeps the host's iptables rules equal to the Services and their Endpoints in
/// the store, and the NetworkPolicies' per-Pod rules (in the same filter-table transaction, so
/// the policies' jump is put back first in FORWARD after the Services' own). Level-triggered: each pass lists both and rewrites the whole set (one transaction per
/// table), after any change to the store and every minute (rules someone removed come back).
public final class ServiceProxy: Sendable {
    let store: ObjectStore
    let log: @Sendable (String) -> Void
    /// A link that holds the route to the service CIDR, so a host without a default route still
    /// sends a cluster IP's packets to the nat table (which rewrites them). A bridge without ports:
    /// kernels without the dummy driver (kube-proxy's IPVS mode uses a dummy) all have bridges.
    public static let serviceLink = "berth-svc0"
    public static let serviceRoute = "10.96.0.0/16"
    static let resyncSeconds = 60.0

    private struct State {
        var applied: [ServicePort]?
        var appliedNames: [ClusterDNS.Entry]?
        var appliedRecords: ClusterDNS.Names?
        var appliedTargets: [PolicyTarget]?
        var appliedAt = 0.0
        var stopped = false
        var linkReady = false
        /// Rules were written by this process (from then on the set is kept, even when empty).
        var installed = false
    }
    private let state = Mutex(State())

    public init(store: ObjectStore, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.log = log
    }

    /// Runs the loop on a thread of its own until `stop`.
    public func start() {
        _ = Threads.detach { [self] in
            var seen: UInt64 = 0
            var failures = 0
            while !state.withLock({ $0.stopped }) {
                do {
                    seen = try sync()
                    failures = 0
                } catch {
                    failures += 1
                    // Say it once per failure streak, and retry with a growing pause.
                    if failures == 1 { log("Service proxy: \(error)") }
                    usleep(UInt32(min(failures, 10)) * 200_000)
                    continue
                }
                store.waitForChange(after: seen, seconds: Self.resyncSeconds) { [self] in state.withLock { $0.stopped } }
            }
        }
    }

    public func stop() {
        state.withLock { $0.stopped = true }
        store.wake()
    }

    /// One pass: the rules for the store as of the returned revision, applied when they changed
    /// (or a resync is due).
    @discardableResult
    public func sync() throws -> UInt64 {
        let revision = try store.currentRevision()
        let services = try store.list(KubeKinds.service.storeResource).items.map { try $0.value() }
        let endpoints = try store.list(KubeKinds.endpoints.storeResource).items.map { try $0.value() }
        let pods = try store.list(Resource("pods")).items.map { try $0.value() }
        let policies = try store.list(KubeKinds.networkPolicy.storeResource).items.map { try $0.value() }
        let namespaces: [JSONValue] = try policies.isEmpty ? [] : store.list(KubeKinds.namespace.storeResource).items.map { try $0.value() }
        let ports = ServicePort.from(services: services, endpoints: endpoints)
        let names = ClusterDNS.entries(services: services, endpoints: endpoints, pods: pods)
        let records = ClusterDNS.names(services: services, endpoints: endpoints)
        let targets = NetworkPolicies.targets(policies: policies, pods: pods, namespaces: namespaces)
        let now = MonotonicClock.seconds()
        // With policies in force, their jump must still be first in FORWARD (a bridge network
        // made since inserts its ACCEPTs at the top): checked on every pass.
        let filter: String? = try targets.isEmpty ? nil : IPTables.save(table: "filter")
        let jumpFirst = filter.map(PolicyRules.jumpIsFirst) ?? true
        if jumpFirst && state.withLock({
            $0.applied == ports && $0.appliedNames == names && $0.appliedRecords == records && $0.appliedTargets == targets && now - $0.appliedAt < Self.resyncSeconds
        }) { return revision }
        let saved = ["nat": try IPTables.save(table: "nat"), "filter": try filter ?? IPTables.save(table: "filter")]
        // A host with no Service (a Docker-only one) gets no chains and no link; rules a
        // previous run left for Services (or policies) now gone are still cleared.
        if ports.isEmpty && names.isEmpty && records.aliases.isEmpty && !state.withLock({ $0.installed }) && !saved["nat"]!.contains(":" + ServiceRules.servicesChain + " ")
            && !saved["filter"]!.contains(":" + PolicyRules.chain + " ") {
            state.withLock {
                $0.applied = ports
                $0.appliedNames = names
                $0.appliedRecords = records
                $0.appliedTargets = targets
                $0.appliedAt = now
            }
            return revision
        }
        try ensureServiceRoute()
        let turnedOn = try targets.isEmpty ? false : BridgeNetfilter.enable()
        if turnedOn {
            log("Network policies: turned on \(BridgeNetfilter.sysctl) so traffic between Pods on one bridge passes iptables")
        }
        var lines = ServiceRules.lines(ports, saved: saved)
        lines["filter", default: []] += PolicyRules.lines(targets, saved: saved["filter"]!)
        try IPTables.restore(lines)
        try ClusterDNS.publish(names, names: records)
        state.withLock {
            $0.installed = true
            $0.applied = ports
            $0.appliedNames = names
            $0.appliedRecords = records
            $0.appliedTargets = targets
            $0.appliedAt = now
        }
        return revision
    }

    func ensureServiceRoute() throws(NetworkError) {
        if state.withLock({ $0.linkReady }) { return }
        if try IPTables.ip(["link", "show", Self.serviceLink]).status != 0 {
            let added = try IPTables.ip(["link", "add", Self.serviceLink, "type", "bridge"])
            if added.status != 0 { throw NetworkError("add link \(Self.serviceLink): \(added.stderr)") }
        }
        for arguments in [["link", "set", Self.serviceLink, "up"], ["route", "replace", Self.serviceRoute, "dev", Self.serviceLink],
                          ["addr", "replace", ClusterDNS.address + "/32", "dev", Self.serviceLink]] {
            let result = try IPTables.ip(arguments)
            if result.status != 0 { throw NetworkError("ip \(arguments.joined(separator: " ")): \(result.stderr)") }
        }
        state.withLock { $0.linkReady = true }
    }
}
