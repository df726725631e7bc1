import Glibc
import LinuxSys
import OCI

/// Calls CNI plugins as the CNI spec says a runtime must: the plugin's network configuration on
/// stdin, the operation and the container in `CNI_*` variables, the result (or an error object)
/// as JSON on stdout. Debian's `containernetworking-plugins` live in /usr/lib/cni.
public enum CNI {
    public static let version = "1.0.0"

    /// Where plugins are looked for: `BERTH_CNI_PATH` (colon-separated), else Debian's and the usual.
    public static var pluginDirectories: [String] {
        if let value = getenvString("BERTH_CNI_PATH"), !value.isEmpty {
            return value.split(separator: ":").map(String.init)
        }
        return ["/usr/lib/cni", "/opt/cni/bin", "/usr/libexec/cni"]
    }

    public enum Command: String, Sendable {
        case add = "ADD", del = "DEL", check = "CHECK"
    }

    /// The error object a failing plugin prints (`{"code":…,"msg":…,"details":…}`).
    struct PluginError: Decodable {
        var code: Int?
        var msg: String?
        var details: String?
    }

    /// Runs one plugin; returns its stdout (the result JSON for ADD, usually empty for DEL and CHECK).
    public static func invoke(_ type: String, _ command: Command, containerID: String, netns: String,
                              ifname: String, config: [UInt8]) throws(NetworkError) -> [UInt8] {
        try start(type, command, containerID: containerID, netns: netns, ifname: ifname, config: config).finish()
    }

    /// A plugin started but not waited for, so independent ones (lo and eth0) run at once.
    public struct Pending {
        var type: String
        var command: Command
        var ifname: String
        var process: PluginProcess.Running

        public func finish() throws(NetworkError) -> [UInt8] {
            let output = process.wait()
            guard output.status == 0 else {
                var message = String(decoding: output.stderr, as: UTF8.self).trimmingTrailingNewlines()
                if let error = try? JSONTreeDecoder.decode(PluginError.self, from: output.stdout) {
                    message = [error.msg, error.details].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
                } else if message.isEmpty {
                    message = String(decoding: output.stdout, as: UTF8.self).trimmingTrailingNewlines()
                }
                throw NetworkError("CNI \(type) \(command.rawValue) for \(ifname): \(message.isEmpty ? "exit status \(output.status)" : message)")
            }
            return output.stdout
        }
    }

    public static func start(_ type: String, _ command: Command, containerID: String, netns: String,
                             ifname: String, config: [UInt8]) throws(NetworkError) -> Pending {
        let dirs = pluginDirectories
        guard let plugin = dirs.map({ $0 + "/" + type }).first(where: { access($0, X_OK) == 0 }) else {
            throw NetworkError("CNI plugin \(type) not found in \(dirs.joined(separator: ":")) (Debian: apt-get install containernetworking-plugins)")
        }
        let environment = [
            "CNI_COMMAND=\(command.rawValue)", "CNI_CONTAINERID=\(containerID)", "CNI_NETNS=\(netns)",
            "CNI_IFNAME=\(ifname)", "CNI_PATH=\(dirs.joined(separator: ":"))",
            // iptables and ip, which some plugins run, are found on the usual path.
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        let process = try PluginProcess.start([plugin], environment: environment, input: config)
        return Pending(type: type, command: command, ifname: ifname, process: process)
    }
}

/// What an ADD returns (CNI 1.0 result), the parts Berth reads.
public struct CNIResult: Codable, Sendable, Equatable {
    public struct Interface: Codable, Sendable, Equatable {
        public var name: String
        public var mac: String?
        public var sandbox: String?
    }
    public struct IPConfig: Codable, Sendable, Equatable {
        public var address: String
        public var gateway: String?
        public var interface: Int?
    }
    public var cniVersion: String?
    public var interfaces: [Interface]?
    public var ips: [IPConfig]?

    public static func decode(_ bytes: [UInt8]) throws(NetworkError) -> CNIResult {
        do { return try JSONTreeDecoder.decode(CNIResult.self, from: bytes) } catch {
            throw NetworkError("read a CNI result", error)
        }
    }

    /// The container-side interface (the one with a sandbox) named `ifname`.
    public func containerInterface(_ ifname: String) -> Interface? {
        interfaces?.first { $0.name == ifname && $0.sandbox != nil }
    }

    /// The first IPv4 address given to the container's interface: address, prefix, gateway.
    public var firstIPv4: (address: IPv4Address, prefix: Int, gateway: IPv4Address?)? {
        for ip in ips ?? [] {
            let parts = ip.address.split(separator: "/")
            if parts.count == 2, let address = IPv4Address(parts[0]), let prefix = Int(parts[1]) {
                return (address, prefix, ip.gateway.flatMap { IPv4Address($0) })
            }
        }
        return nil
    }
}

func getenvString(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = self
        while text.last == "\n" || text.last == "\r" || text.last == " " { text.removeLast() }
        return text
    }
}
