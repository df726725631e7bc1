import ContainerNetwork
import ContainerRuntime
import ContainerSpec

/// The pod network of the kubelet's role: one bridge network, `berth-cni0` on 10.42.0.0/16 (k3s'
/// default pod CIDR), made on first use. Pods' sandboxes attach to it through the same CNI bridge and
/// host-local plugins as every network, with the network's masquerading out.
extension Engine {
    public static let podNetworkName = "berth-pods"

    public func podNetwork() throws(EngineError) -> BridgeNetwork {
        if let existing = try networkRecords.lookup(Self.podNetworkName) { return existing }
        // One bridge for every root, as berth0: a fixed ID (the firewall rules are keyed by it, so
        // they are installed once) and leases kept beside the default network's, not per root.
        let network = BridgeNetwork(id: "b3e7f10a" + "c0de" + String(repeating: "0", count: 52), name: Self.podNetworkName, bridge: "berth-cni0",
                                    subnet: "10.42.0.0/16", gateway: "10.42.0.1", internal: false, labels: ["io.berth.kubernetes": "pods"],
                                    created: Clock.rfc3339Nano(), ipamDirectory: "/var/lib/cni/berth")
        return try networkRecords.insert(network, ifMissing: true)
    }
}
