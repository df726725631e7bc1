import Glibc
import LinuxSys

/// What a network's DNS server answers, kept as files the server reads (see ContainerDNS):
/// `<dir>/<network>/listen` holds the address it serves the network on (the bridge's gateway),
/// `<dir>/<network>/<container id>` the container's address and names.
public enum DNSRecords {
    /// The names a container answers to on a network: its name, its short ID, its aliases.
    public static func names(containerName: String, containerID: String, aliases: [String]) -> [String] {
        var names = [containerName, String(containerID.prefix(12))]
        for alias in aliases where !names.contains(alias) { names.append(alias) }
        return names
    }

    public static func publish(_ directory: String, _ attachment: NetworkAttachment, names: [String]) {
        guard let ip = attachment.ipAddress else { return }
        let networkDirectory = directory + "/" + attachment.network.name
        try? FS.mkdirAll(networkDirectory, mode: 0o755)
        try? FS.writeFileAtomically(networkDirectory + "/listen", Array((attachment.network.gateway + "\n").utf8), mode: 0o644)
        let line = ([ip] + names).joined(separator: " ") + "\n"
        try? FS.writeFileAtomically(networkDirectory + "/" + attachment.containerID, Array(line.utf8), mode: 0o644)
    }

    public static func withdraw(_ directory: String, _ attachment: NetworkAttachment) {
        _ = unlink(directory + "/" + attachment.network.name + "/" + attachment.containerID)
    }

    public static func removeNetwork(_ directory: String, name: String) {
        FS.removeAll(directory + "/" + name)
    }
}
