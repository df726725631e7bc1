/// The host's resolver configuration: where names the server does not know are forwarded, and
/// the search domains it strips. The server runs in the host's network namespace, so a loopback
/// resolver (systemd-resolved's 127.0.0.53) is reachable.
public struct ResolvConf: Equatable, Sendable {
    public var nameservers: [SocketAddress] = []
    public var search: [String] = []

    public init(nameservers: [SocketAddress] = [], search: [String] = []) {
        self.nameservers = nameservers
        self.search = search
    }

    /// `nameserver IP` lines (IPv4; IPv6 ones are skipped, the server forwards over IPv4 only) and
    /// the last `search` or `domain` line. `nameserver IP#PORT`, the notation of dnsmasq and BIND's
    /// tools, names another port; glibc ignores such a line, so it is harmless in a real file.
    public init(parsing text: String) {
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.first, words.count >= 2 else { continue }
            switch keyword {
            case "nameserver":
                let parts = words[1].split(separator: "#", maxSplits: 1)
                guard let address = parts.first, let ip = IPv4(address) else { continue }  // `nameserver #`: no address
                let port = parts.count == 2 ? UInt16(parts[1]) : 53
                if let port, port > 0 { nameservers.append(SocketAddress(ip, port)) }
            case "search", "domain":
                search = words.dropFirst().map(String.init)
            default:
                continue
            }
        }
    }
}
