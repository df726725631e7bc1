import GoCompat
import HTTPServer
import ContainerSpec
import Kube
import KubeModel
import Synchronization

/// The apiserver's allocators for Services: a cluster IP from the service CIDR and node ports from
/// 30000–32767, each unique among all Services. What is allocated is what the stored Services hold,
/// so deleting a Service frees its addresses; one lock orders allocations with the writes that keep them.
extension KubeAPI {
    /// 10.96.0.0/16: .1 is the `kubernetes` Service's and .10 the cluster DNS's, as on kubeadm clusters.
    public static let serviceCIDR = (base: UInt32(10 << 24 | 96 << 16), prefix: 16)
    public static let nodePorts = 30000...32767
    static let reservedServiceIPs: Set<UInt32> = [serviceCIDR.base, serviceCIDR.base | 1, serviceCIDR.base | 10]

    static let serviceAllocation = Mutex(())

    /// What other Services hold: cluster IPs and node ports.
    struct ServiceAllocations {
        var addresses: Set<UInt32> = []
        var nodePorts: Set<Int> = []
    }

    func serviceAllocations(excluding key: ObjectKey?) throws(KubeStatus) -> ServiceAllocations {
        var used = ServiceAllocations()
        let listed: ObjectList
        do { listed = try store.list(KubeKinds.service.storeResource) } catch { throw .internalError(error.message) }
        for stored in listed.items where stored.key != key {
            guard let service = try? stored.value(), let spec = service[member: "spec"] else { continue }
            for ip in (spec[member: "clusterIPs"]?.arrayValue ?? []).compactMap(\.stringValue) + [spec[member: "clusterIP"]?.stringValue ?? ""] {
                if let address = Self.ipv4(ip) { used.addresses.insert(address) }
            }
            for port in spec[member: "ports"]?.arrayValue ?? [] {
                if let node = port[member: "nodePort"]?.intValue, node != 0 { used.nodePorts.insert(node) }
            }
        }
        return used
    }

    /// The Service with its cluster IP and node ports: kept from `old` when the new spec leaves
    /// them out (kubectl apply and replace send none), allocated when missing, checked when given.
    func allocated(_ service: JSONValue, old: JSONValue?, used: ServiceAllocations) throws(KubeStatus) -> JSONValue {
        let name = service.metadataString("name") ?? ""
        var spec = service[member: "spec"] ?? .ordered([])
        let type = spec[member: "type"]?.stringValue ?? "ClusterIP"
        let oldSpec = old?[member: "spec"]
        var errors: [FieldError] = []
        if type == "ExternalName" {
            spec = spec.setting("clusterIP", to: nil).setting("clusterIPs", to: nil)
        } else {
            var ip = spec[member: "clusterIP"]?.stringValue ?? ""
            if ip.isEmpty, let given = spec[member: "clusterIPs"]?.arrayValue?.first?.stringValue { ip = given }
            if ip.isEmpty, oldSpec?[member: "type"]?.stringValue != "ExternalName", let kept = oldSpec?[member: "clusterIP"]?.stringValue { ip = kept }
            if ip.isEmpty {
                guard let address = Self.freeAddress(used.addresses) else {
                    throw .internalError("failed to allocate a serviceIP: range is full")
                }
                ip = Self.dotted(address)
            } else if ip != "None" && ip != oldSpec?[member: "clusterIP"]?.stringValue {
                if let address = Self.ipv4(ip) {
                    if address >> (32 - Self.serviceCIDR.prefix) != Self.serviceCIDR.base >> (32 - Self.serviceCIDR.prefix) {
                        errors.append(FieldError("spec.clusterIPs", .invalid(ip), "failed to allocate IP \(ip): the provided IP (\(ip)) is not in the valid range. The range of valid IPs is 10.96.0.0/16"))
                    } else if used.addresses.contains(address) {
                        errors.append(FieldError("spec.clusterIPs", .invalid(ip), "failed to allocate IP \(ip): provided IP is already allocated"))
                    }
                } else {
                    errors.append(FieldError("spec.clusterIPs[0]", .invalid(ip), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
                }
            }
            spec = spec.setting("clusterIP", to: .string(ip)).setting("clusterIPs", to: .array([.string(ip)]))
            if spec[member: "ipFamilies"] == nil { spec = spec.setting("ipFamilies", to: .array([.string("IPv4")])) }
            if spec[member: "ipFamilyPolicy"] == nil { spec = spec.setting("ipFamilyPolicy", to: .string("SingleStack")) }
        }
        let wantsNodePorts = type == "NodePort" || (type == "LoadBalancer" && spec[member: "allocateLoadBalancerNodePorts"] != .bool(false))
        if var ports = spec[member: "ports"]?.arrayValue {
            let oldPorts = oldSpec?[member: "ports"]?.arrayValue ?? []
            var taken = used.nodePorts
            for index in ports.indices {
                guard wantsNodePorts else { continue }
                var node = ports[index][member: "nodePort"]?.intValue ?? 0
                if node == 0 {
                    // Kept from the old Service: the same port number and protocol had one.
                    node = oldPorts.first {
                        $0[member: "port"] == ports[index][member: "port"] && $0[member: "protocol"] == ports[index][member: "protocol"]
                    }?[member: "nodePort"]?.intValue ?? 0
                    if node != 0 && taken.contains(node) { node = 0 }
                }
                if node == 0 {
                    guard let free = Self.nodePorts.shuffled().first(where: { !taken.contains($0) }) else {
                        throw .internalError("failed to allocate a nodePort: range is full")
                    }
                    node = free
                } else if !Self.nodePorts.contains(node) {
                    errors.append(FieldError("spec.ports[\(index)].nodePort", .invalidNumber((node)), "provided port is not in the valid range. The range of valid ports is 30000-32767"))
                } else if taken.contains(node) {
                    errors.append(FieldError("spec.ports[\(index)].nodePort", .invalidNumber((node)), "provided port is already allocated"))
                }
                taken.insert(node)
                ports[index] = ports[index].setting("nodePort", to: .int(node))
            }
            spec = spec.setting("ports", to: .array(ports))
        }
        if !errors.isEmpty { throw .invalid(KubeKinds.service, name, errors) }
        return service.setting("spec", to: spec)
    }

    static func freeAddress(_ used: Set<UInt32>) -> UInt32? {
        let size = UInt32(1) << (32 - serviceCIDR.prefix)
        // Random first, as the apiserver's allocator; a scan when the range is crowded.
        for _ in 0..<64 {
            let candidate = serviceCIDR.base | UInt32.random(in: 1..<(size - 1))
            if !used.contains(candidate) && !reservedServiceIPs.contains(candidate) { return candidate }
        }
        return (1..<(size - 1)).lazy.map { serviceCIDR.base | $0 }.first { !used.contains($0) && !reservedServiceIPs.contains($0) }
    }

    static func ipv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isNumber), let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    static func dotted(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 255).\(address >> 8 & 255).\(address & 255)"
    }
}

extension KubeAPI {
    /// Create of a Service: its addresses allocated and the object stored under one lock, so two
    /// creates never take the same IP. A dry run shows the allocation and keeps nothing.
    func createService(_ service: JSONValue, _ target: Target, dryRun: Bool, warnings: [String], _ writer: ResponseWriter) throws(KubeStatus) {
        let name = service.metadataString("name") ?? ""
        let stored = try Self.serviceAllocation.withLock { (_: inout ()) throws(KubeStatus) -> StoredObject? in
            if dryRun {
                let exists: Bool
                do throws(EngineError) { _ = try store.get(key(target, name: name)); exists = true } catch where error.kind == .notFound { exists = false } catch {
                    throw status(error, target, name: name)
                }
                if exists { throw .alreadyExists(target.kind, name) }
                return nil
            }
            let object = try allocated(service, old: nil, used: try serviceAllocations(excluding: nil))
            do throws(EngineError) { return try store.create(target.kind.storeResource, object) } catch {
                throw status(error, target, name: name, creating: true)
            }
        }
        if let stored { return send(writer, 201, outgoing(target.kind, stored.json), warnings: warnings) }
        let preview = try allocated(service, old: nil, used: try serviceAllocations(excluding: nil))
            .settingMetadata("uid", to: .string(SystemFields.uuid()))
            .settingMetadata("creationTimestamp", to: .string(SystemFields.timestamp()))
        try sendJSON(writer, 201, preview, warnings: warnings)
    }

    /// Update and patch of a Service: what it keeps and what it gets allocated decided under the
    /// allocation lock, from the other Services as stored.
    func changeService(_ target: Target, dryRun: Bool, warnings: [String], _ writer: ResponseWriter, manager: String?,
                       addWarnings: () -> [String], _ transform: (JSONValue) throws(KubeStatus) -> JSONValue) throws(KubeStatus) {
        try Self.serviceAllocation.withLock { (_: inout ()) throws(KubeStatus) in
            let used = try serviceAllocations(excluding: key(target, name: target.name!))
            try changeObject(target, dryRun: dryRun, warnings: warnings, writer, manager: manager, addWarnings: addWarnings) { old throws(KubeStatus) in
                try allocated(try transform(old), old: old, used: used)
            }
        }
    }
}
