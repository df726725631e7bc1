import ContainerSpec
import Glibc
import GoCompat
import Kube
import KubeModel

/// k3s' ServiceLB on one node: a Service of type LoadBalancer is given the node's address
/// (its InternalIP, or when the Node has none the host's first address on a link that is not
/// one of the container networks') in `status.loadBalancer.ingress`, where kube-proxy's role then
/// answers its ports; a Service that is no longer of the type loses the address.
public final class ServiceLBController: Controller {
    let store: ObjectStore

    public init(store: ObjectStore) {
        self.store = store
    }

    public var name: String { "service-lb" }

    public func sync() throws(EngineError) {
        let nodes = try store.list(KubeKinds.node.storeResource).items.map { stored throws(EngineError) in try stored.value() }
        let address = nodes.lazy.compactMap { node in
            (node[member: "status"]?[member: "addresses"]?.arrayValue ?? []).first { $0[member: "type"]?.stringValue == "InternalIP" }?[member: "address"]?.stringValue
        }.first ?? Self.hostAddress()
        for stored in try store.list(KubeKinds.service.storeResource).items {
            let service = try stored.value()
            let balanced = service[member: "spec"]?[member: "type"]?.stringValue == "LoadBalancer"
            // Without a node address yet the Service stays <pending>, as on a cluster without a balancer.
            let ingress: [JSONValue] = balanced && address != nil
                ? [.ordered([("ip", .string(address!)), ("ipMode", .string("VIP"))])] : []
            let current = service[member: "status"]?[member: "loadBalancer"]?[member: "ingress"]?.arrayValue ?? []
            if current == ingress || (!balanced && current.isEmpty) { continue }
            let loadBalancer: JSONValue = ingress.isEmpty ? .ordered([]) : .ordered([("ingress", .array(ingress))])
            do {
                try store.guaranteedUpdate(stored.key) { old throws(EngineError) in
                    old.setting("status", to: (old[member: "status"] ?? .ordered([])).setting("loadBalancer", to: loadBalancer))
                }
            } catch where error.kind == .notFound {}
        }
    }

    /// The first IPv4 address of a link that is up, not loopback and not a bridge or veth of
    /// Berth's, CNI's or Docker's.
    static func hostAddress() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            let name = String(cString: entry.pointee.ifa_name)
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK) == 0, entry.pointee.ifa_flags & UInt32(IFF_UP) != 0,
                  !["berth", "veth", "br-", "docker", "cni"].contains(where: { name.hasPrefix($0) }) else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            var value = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            inet_ntop(AF_INET, &value, &text, socklen_t(text.count))
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return nil
    }
}
