import LinuxSys
import Network

/// The engine's side of the DNS server: records for each attachment, the server started on first use.
enum DNSControl {
    static func publish(_ directory: String, _ attachment: NetworkAttachment, container: Container) {
        DNSRecords.publish(directory, attachment, names: DNSRecords.names(containerName: container.name, containerID: container.id,
                                                                            aliases: attachment.aliases))
    }

    static func withdraw(_ directory: String, _ attachment: NetworkAttachment) {
        DNSRecords.withdraw(directory, attachment)
    }

    static func removeNetwork(_ directory: String, _ network: BridgeNetwork) {
        DNSRecords.removeNetwork(directory, name: network.name)
    }
}
