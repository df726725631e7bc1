import Glibc

/// iptables for the other layers that program the host (the Kubernetes Service proxy): the same
/// tools, host-wide lock and input checks as the bridge networks' rules, and `ip` for links and routes.
public enum IPTables {
    /// `iptables-save -t TABLE`.
    public static func save(table: String) throws(NetworkError) -> String {
        let saved = try HostFirewall.tool("iptables-save", ["-t", table], input: [])
        guard saved.status == 0 else { throw failure("iptables-save -t \(table)", saved) }
        return String(decoding: saved.stdout, as: UTF8.self)
    }

    /// One `iptables-restore --noflush` transaction per table, under the host-wide lock of Berth's rules.
    public static func restore(_ lines: [String: [String]]) throws(NetworkError) {
        let lock = HostFirewall.hostLock()
        defer { if lock >= 0 { close(lock) } }
        let result = try HostFirewall.restore(lines)
        guard result.status == 0 else { throw failure("iptables-restore", result) }
    }

    /// `ip ARGUMENTS...`; the status and standard error when it fails.
    @discardableResult
    public static func ip(_ arguments: [String]) throws(NetworkError) -> (status: Int32, stderr: String) {
        let candidates: [String] = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        guard let binary = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw NetworkError("ip not found (Debian: apt-get install iproute2)")
        }
        let result = try PluginProcess.run([binary] + arguments, environment: HostFirewall.environment, input: [])
        return (result.status, String(decoding: result.stderr, as: UTF8.self).trimmingTrailingNewlines())
    }

    static func failure(_ operation: String, _ output: PluginProcess.Output) -> NetworkError {
        NetworkError("\(operation) (status \(output.status)): \(String(decoding: output.stderr, as: UTF8.self).trimmingTrailingNewlines())")
    }
}
