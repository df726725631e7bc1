import ContainerNetwork
import LinuxSys

/// The engine's side of the networks' DNS server: records for each attachment; the server
/// (`berth-dns`, beside `berth` or `BERTH_DNS`) started on first use.
enum DNSControl {
    @discardableResult
    static func publish(_ directory: String, _ attachment: NetworkAttachment, container: Container) -> Bool {
        DNSRecords.publish(directory, attachment,
                           names: DNSRecords.names(containerName: container.name, containerID: container.id, aliases: attachment.aliases),
                           server: Executables.sibling("berth-dns"))
    }

    static func withdraw(_ directory: String, _ attachment: NetworkAttachment) {
        DNSRecords.withdraw(directory, attachment)
    }

    static func removeNetwork(_ directory: String, _ network: BridgeNetwork) {
        DNSRecords.removeNetwork(directory, id: network.id)
    }
}
