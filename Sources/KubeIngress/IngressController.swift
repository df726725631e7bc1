import ContainerSpec
import GoCompat
import Glibc
import Kube
import KubeModel
import LinuxSys
import Synchronization

/// The Ingress controller's role: Berth's own IngressClass (`berth`, controller `berth.dev/ingress`,
/// the default class), and for the Ingresses of that class an HTTP(S) reverse proxy on the host's
/// ports 80 and 443. Level-triggered like the other loops: each pass reads the Ingresses,
/// Services, Endpoints and Secrets and installs the routes they make (connections in flight keep
/// theirs). The ports are bound only while an Ingress of the class exists, and each such Ingress
/// gets the node's address in status.loadBalancer.
public final class IngressController: Sendable {
    public struct Configuration: Sendable {
        /// The address the listeners bind (every address of the host by default).
        public var address: String
        /// 0 turns a listener off.
        public var httpPort: Int
        public var httpsPort: Int

        public init(address: String = "0.0.0.0", httpPort: Int = 80, httpsPort: Int = 443) {
            self.address = address
            self.httpPort = httpPort
            self.httpsPort = httpsPort
        }
    }

    public static let controllerName = "berth.dev/ingress"
    public static let className = "berth"
    /// Before IngressClass: the class named in an annotation (still honoured, as ingress-nginx does).
    static let classAnnotation = "kubernetes.io/ingress.class"
    static let resyncSeconds = 30.0

    let store: ObjectStore
    let configuration: Configuration
    let log: @Sendable (String) -> Void
    let table: RouteTable
    let proxy: IngressProxy

    private struct State {
        var stopped = false
        /// The last bind failure said (once per streak).
        var bindFailed = false
        var problems: Set<String> = []
    }
    private let state = Mutex(State())

    public init(store: ObjectStore, configuration: Configuration = Configuration(), log: @escaping @Sendable (String) -> Void) throws(EngineError) {
        self.store = store
        self.configuration = configuration
        self.log = log
        let table = RouteTable()
        self.table = table
        do { proxy = try IngressProxy(table: table) } catch { throw .system("start the Ingress proxy", error) }
    }

    /// Makes the IngressClass when missing, then runs the loop on a thread of its own until `stop`.
    public func start() {
        ensureClass()
        _ = Threads.detach { [self] in
            var seen: UInt64 = 0
            var failures = 0
            while !state.withLock({ $0.stopped }) {
                do {
                    seen = try sync()
                    failures = 0
                } catch {
                    failures += 1
                    if failures == 1 { log("Ingress controller: \(error)") }
                    usleep(UInt32(min(failures, 10)) * 200_000)
                    continue
                }
                // A bind that failed is tried again soon, not at the next resync.
                let wait = state.withLock { $0.bindFailed } ? 2.0 : Self.resyncSeconds
                store.waitForChange(after: seen, seconds: wait) { [self] in state.withLock { $0.stopped } }
            }
            proxy.shutdown()
        }
    }

    public func stop() {
        state.withLock { $0.stopped = true }
        store.wake()
    }

    /// `berth`, marked the default class; a class a user changed or deleted on purpose is theirs
    /// until the next start.
    func ensureClass() {
        let body = JSONValue.ordered([
            ("apiVersion", .string(KubeKinds.ingressClass.apiVersion)), ("kind", .string("IngressClass")),
            ("metadata", .ordered([
                ("name", .string(Self.className)),
                ("annotations", .ordered([(KubeKinds.defaultIngressClassAnnotation, .string("true"))])),
                ("labels", .ordered([("app.kubernetes.io/component", .string("controller")), ("app.kubernetes.io/name", .string("berth-ingress"))])),
            ])),
            ("spec", .ordered([("controller", .string(Self.controllerName))])),
        ])
        guard let (decoded, _) = try? Objects.decode(KubeKinds.ingressClass, body, validation: .strict) else { return }
        do { try store.create(KubeKinds.ingressClass.storeResource, decoded) } catch where error.kind == .conflict {} catch {
            log("Ingress controller: create IngressClass \(Self.className): \(error)")
        }
    }

    /// The Ingresses this controller serves: those of a class whose controller is Berth's, and
    /// those naming no class when such a class is the default.
    static func ours(_ ingresses: [JSONValue], classes: [JSONValue]) -> [JSONValue] {
        let mine = classes.filter { $0[member: "spec"]?[member: "controller"]?.stringValue == controllerName }
        let names = Set(mine.compactMap { $0.metadataString("name") })
        let defaultIsMine = mine.contains { KubeKinds.isDefaultIngressClass($0) }
        return ingresses.filter { ingress in
            if ingress[member: "metadata"]?[member: "deletionTimestamp"] != nil { return false }
            if let name = ingress[member: "spec"]?[member: "ingressClassName"]?.stringValue { return names.contains(name) }
            if let name = ingress[member: "metadata"]?[member: "annotations"]?[member: classAnnotation]?.stringValue { return names.contains(name) }
            return defaultIsMine
        }
    }

    /// One pass; returns the revision it saw.
    @discardableResult
    func sync() throws(EngineError) -> UInt64 {
        let revision = try store.currentRevision()
        func values(_ resource: Resource) throws(EngineError) -> [JSONValue] {
            try store.list(resource).items.map { stored throws(EngineError) in try stored.value() }
        }
        let ingresses = Self.ours(try values(KubeKinds.ingress.storeResource), classes: try values(KubeKinds.ingressClass.storeResource))
        let routes = IngressRoutes.make(ingresses: ingresses, services: try values(KubeKinds.service.storeResource),
                                        endpoints: try values(KubeKinds.endpoints.storeResource), secrets: try values(KubeKinds.secret.storeResource))
        let problems = Set(table.replace(routes))
        let fresh = state.withLock { state in
            defer { state.problems = problems }
            return problems.subtracting(state.problems)
        }
        for problem in fresh.sorted() { log("Ingress controller: \(problem)") }

        // Listen while there is something to route; nothing stays bound after the last Ingress goes.
        if ingresses.isEmpty {
            if proxy.isListening { proxy.close() }
            state.withLock { $0.bindFailed = false }
        } else if !proxy.isListening {
            do {
                try proxy.open(address: configuration.address, httpPort: configuration.httpPort, httpsPort: configuration.httpsPort)
                state.withLock { $0.bindFailed = false }
            } catch {
                if !state.withLock({ $0.bindFailed }) { log("Ingress controller: \(error)") }
                state.withLock { $0.bindFailed = true }
            }
        }
        try updateStatus(ingresses)
        return revision
    }

    /// status.loadBalancer.ingress: the node's address (its InternalIP, else the host's first
    /// IPv4 address that is up and not loopback), as k3s's ingress gives it.
    func updateStatus(_ ingresses: [JSONValue]) throws(EngineError) {
        let nodes = try store.list(Resource("nodes")).items.map { stored throws(EngineError) in try stored.value() }
        let address = nodes.lazy.compactMap { node in
            (node[member: "status"]?[member: "addresses"]?.arrayItems ?? []).first { $0[member: "type"]?.stringValue == "InternalIP" }?[member: "address"]?.stringValue
        }.first ?? Self.interfaceAddress()
        guard let address, proxy.isListening else { return }
        let wanted = JSONValue.ordered([("ingress", .array([.ordered([("ip", .string(address))])]))])
        for ingress in ingresses where ingress[member: "status"]?[member: "loadBalancer"] != wanted {
            guard let name = ingress.metadataString("name"), let namespace = ingress.metadataString("namespace") else { continue }
            let key = ObjectKey(KubeKinds.ingress.storeResource, namespace: namespace, name: name)
            do {
                try store.guaranteedUpdate(key, keepingGeneration: true) { old throws(EngineError) in
                    old.setting("status", to: (old[member: "status"] ?? .ordered([])).setting("loadBalancer", to: wanted))
                }
            } catch where error.kind == .notFound {}
        }
    }

    static func interfaceAddress() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK) == 0, entry.pointee.ifa_flags & UInt32(IFF_UP) != 0 else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            var value = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            inet_ntop(AF_INET, &value, &text, socklen_t(text.count))
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return nil
    }
}
