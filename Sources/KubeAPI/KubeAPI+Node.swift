import Glibc
import GoCompat
import Kube
import KubeModel
import LinuxSys

/// This machine as the cluster's one Node: named for the host, with its capacity and
/// allocatable (cpu, memory, pods, ephemeral-storage), a Ready condition, addresses and nodeInfo,
/// refreshed on every start of `berth serve`.
extension KubeAPI {
    /// The host's name, lowercased as a node name must be.
    static var nodeName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased()
        return name.isEmpty ? "localhost" : name
    }

    static func firstLine(_ path: String) -> String {
        ((try? FS.readText(path)) ?? "").split(separator: "\n").first.map { String($0).trimmingCharacters } ?? ""
    }

    /// MemTotal in Ki, as the kubelet reports memory.
    static var memoryKi: Int {
        let text = (try? FS.readText("/proc/meminfo")) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// The size of the filesystem holding `path`, in Ki.
    static func storageKi(_ path: String) -> Int {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        return Int(info.f_blocks) * Int(info.f_frsize) / 1024
    }

    /// The first IPv4 address of an interface that is up and not loopback.
    static var internalIP: String? {
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

    static var osImage: String {
        let text = (try? FS.readText("/etc/os-release")) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).replacing("\"", with: "")
        }
        return "Linux"
    }

    /// The Node object for this machine now (status as the kubelet would report it).
    func nodeObject(root: String) -> JSONValue {
        var name = utsname()
        uname(&name)
        func field<T>(_ value: T) -> String { withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } }
        let machine = field(name.machine)
        let architecture = ["x86_64": "amd64", "aarch64": "arm64"][machine] ?? machine
        let cpus = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let resources = JSONValue.ordered([
            ("cpu", .string(String(cpus))), ("ephemeral-storage", .string("\(Self.storageKi(root))Ki")),
            ("memory", .string("\(Self.memoryKi)Ki")), ("pods", .string("110")),
        ])
        let now = JSONValue.string(SystemFields.timestamp())
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> JSONValue {
            .ordered([("type", .string(type)), ("status", .string(status)), ("lastHeartbeatTime", now), ("lastTransitionTime", now),
                      ("reason", .string(reason)), ("message", .string(message))])
        }
        var addresses: [JSONValue] = []
        if let ip = Self.internalIP { addresses.append(.ordered([("type", .string("InternalIP")), ("address", .string(ip))])) }
        addresses.append(.ordered([("type", .string("Hostname")), ("address", .string(Self.nodeName))]))
        let version = "v\(Self.major).\(Self.minor).0+berth"
        return .ordered([
            ("kind", .string("Node")), ("apiVersion", .string("v1")),
            ("metadata", .ordered([("name", .string(Self.nodeName)), ("labels", .ordered([
                ("beta.kubernetes.io/arch", .string(architecture)), ("beta.kubernetes.io/os", .string("linux")),
                ("kubernetes.io/arch", .string(architecture)), ("kubernetes.io/hostname", .string(Self.nodeName)),
                ("kubernetes.io/os", .string("linux")), ("node-role.kubernetes.io/control-plane", .string("")),
            ]))])),
            ("spec", .ordered([])),
            ("status", .ordered([
                ("capacity", resources), ("allocatable", resources),
                ("conditions", .array([
                    condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
                ])),
                ("addresses", .array(addresses)),
                ("daemonEndpoints", .ordered([("kubeletEndpoint", .ordered([("Port", .int(10250))]))])),
                ("nodeInfo", .ordered([
                    ("machineID", .string(Self.firstLine("/etc/machine-id"))),
                    ("systemUUID", .string(Self.firstLine("/sys/class/dmi/id/product_uuid"))),
                    ("bootID", .string(Self.firstLine("/proc/sys/kernel/random/boot_id"))),
                    ("kernelVersion", .string(field(name.release))), ("osImage", .string(Self.osImage)),
                    ("containerRuntimeVersion", .string("berth://\(Self.major).\(Self.minor).0")),
                    ("kubeletVersion", .string(version)), ("kubeProxyVersion", .string(version)),
                    ("operatingSystem", .string("linux")), ("architecture", .string(architecture)),
                ])),
            ])),
        ])
    }

    /// The node's Lease in kube-node-lease, renewed now (what the kubelet's heartbeat keeps fresh).
    func renewNodeLease() {
        let now = JSONValue.string(SystemFields.microTimestamp())
        let key = ObjectKey(KubeKinds.lease.storeResource, namespace: "kube-node-lease", name: Self.nodeName)
        if (try? store.guaranteedUpdate(key, { old in
            old.setting("spec", to: (old[member: "spec"] ?? .ordered([])).setting("renewTime", to: now))
        })) != nil { return }
        let node = try? store.get(ObjectKey(KubeKinds.node.storeResource, name: Self.nodeName)).value()
        var metadata: [(String, JSONValue)] = [("name", .string(Self.nodeName)), ("namespace", .string("kube-node-lease"))]
        if let uid = node?.metadataString("uid") {
            metadata.append(("ownerReferences", .array([.ordered([("apiVersion", .string("v1")), ("kind", .string("Node")),
                                                                 ("name", .string(Self.nodeName)), ("uid", .string(uid))])])))
        }
        let lease = JSONValue.ordered([
            ("kind", .string("Lease")), ("apiVersion", .string("coordination.k8s.io/v1")), ("metadata", .ordered(metadata)),
            ("spec", .ordered([("holderIdentity", .string(Self.nodeName)), ("leaseDurationSeconds", .int(40)), ("renewTime", now)])),
        ])
        _ = try? store.create(KubeKinds.lease.storeResource, lease)
    }

    /// Registers this machine's Node, or refreshes its status (capacity may have changed).
    func ensureNode(root: String) {
        let node = nodeObject(root: root)
        let key = ObjectKey(KubeKinds.node.storeResource, name: Self.nodeName)
        if (try? store.get(key)) != nil {
            _ = try? store.guaranteedUpdate(key) { old in
                old.setting("status", to: Self.nodeStatus(node[member: "status"] ?? .null, keepingTransitionsOf: old[member: "status"] ?? .null))
            }
        } else {
            _ = try? store.create(KubeKinds.node.storeResource, ManagedFields.recordUpdate(KubeKinds.node, old: nil, new: node, manager: "kubelet"))
        }
        renewNodeLease()
    }

    // MARK: - Heartbeat

    /// The kubelet's heartbeats, on a thread of their own for the life of `berth serve`: every 10 s
    /// (nodeStatusUpdateFrequency) the node's Lease is renewed and its status computed; the status
    /// is posted, with a new lastHeartbeatTime, when it changed or when `reportFrequency` passed
    /// since the last post (nodeStatusReportFrequency, 5 min; `BERTH_NODE_STATUS_REPORT_FREQUENCY`
    /// seconds overrides it).
    public func startHeartbeat(updateFrequency: Double = 10) {
        let given = getenv("BERTH_NODE_STATUS_REPORT_FREQUENCY").flatMap { Double(String(cString: $0)) }
        let reportFrequency = given.map { max(1, $0) } ?? 300
        let root = self.root
        _ = Threads.detach { [self] in
            var lastReport = MonotonicClock.seconds()
            while true {
                usleep(UInt32(updateFrequency * 1_000_000))
                renewNodeLease()
                if postNodeStatus(root: root, force: MonotonicClock.seconds() - lastReport >= reportFrequency) {
                    lastReport = MonotonicClock.seconds()
                }
            }
        }
    }

    /// Posts the node's status if it changed (or `force`); whether it did.
    func postNodeStatus(root: String, force: Bool) -> Bool {
        let key = ObjectKey(KubeKinds.node.storeResource, name: Self.nodeName)
        guard let old = try? store.get(key).value() else {
            ensureNode(root: root)
            return true
        }
        let fresh = nodeObject(root: root)[member: "status"] ?? .null
        let oldStatus = old[member: "status"] ?? .null
        if !force && Self.withoutTimes(fresh) == Self.withoutTimes(oldStatus) { return false }
        let updated = try? store.guaranteedUpdate(key) { current in
            current.setting("status", to: Self.nodeStatus(fresh, keepingTransitionsOf: current[member: "status"] ?? .null))
        }
        return updated != nil
    }

    /// `fresh` with each condition's lastTransitionTime taken from `old` where its status is the
    /// same (a transition time marks a change of status, not a heartbeat).
    static func nodeStatus(_ fresh: JSONValue, keepingTransitionsOf old: JSONValue) -> JSONValue {
        let oldConditions = Self.items(old[member: "conditions"])
        let conditions = Self.items(fresh[member: "conditions"]).map { condition -> JSONValue in
            let type = condition[member: "type"]?.stringValue
            guard let previous = oldConditions.first(where: { $0[member: "type"]?.stringValue == type }),
                  previous[member: "status"] == condition[member: "status"], let since = previous[member: "lastTransitionTime"] else { return condition }
            return condition.setting("lastTransitionTime", to: since)
        }
        return fresh.setting("conditions", to: .array(conditions))
    }

    /// A node status without its conditions' times: what says whether anything changed.
    static func withoutTimes(_ status: JSONValue) -> JSONValue {
        let conditions = Self.items(status[member: "conditions"]).map {
            $0.setting("lastHeartbeatTime", to: .null).setting("lastTransitionTime", to: .null)
        }
        return status.setting("conditions", to: .array(conditions))
    }

    static func items(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let items)? = value { return items }
        return []
    }
}
