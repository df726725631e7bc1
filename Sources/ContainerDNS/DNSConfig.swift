import Glibc
import LinuxSys

/// The configuration directory the engine writes and the server reads, e.g. /run/berth/dns:
///
///     DIR/<network>/listen          "10.88.0.1" (the bridge gateway; port 53), or "127.0.0.1 5300"
///     DIR/<network>/clients         optional "10.88.0.0/16": only queries from there are answered
///     DIR/<network>/internal        present for an `--internal` network: names it does not know are
///                                   refused, never forwarded upstream (DNS would be a way out)
///     DIR/<network>/<containerID>   one line per address: "10.88.0.2 web 3f2a9c1b7d4e alias"
///     DIR/berth-dns.lock            flock'ed by the running server for its whole life
///     DIR/berth-dns.pid             that server's pid
///
/// Every file is written to a temporary name and renamed, so the server never reads half a file;
/// each write changes the directory's mtime, which is how the server notices without a signal.
public enum DNSConfig {
    public static let listenFile = "listen"
    public static let clientsFile = "clients"
    public static let internalFile = "internal"
    public static let zoneFile = "zone"
    /// Records name every container and its address: root only, as are the lock and pid files
    /// (a user who could create or hold the lock would keep the server from ever starting).
    public static let fileMode: mode_t = 0o600
    public static let directoryMode: mode_t = 0o700
    public static let lockFile = "berth-dns.lock"
    public static let pidFile = "berth-dns.pid"
    public static let defaultPort: UInt16 = 53

    /// Where the server for `network` listens. `port` other than 53 is for tests.
    public static func setListen(dir: String, network: String, address: String, port: UInt16? = nil) throws(SysError) {
        let path = try networkPath(dir, network)
        guard IPv4(address) != nil else { throw SysError("dns listen address", address, errno: EINVAL) }
        try FS.mkdirAll(path, mode: DNSConfig.directoryMode)
        let line = port.map { "\(address) \($0)\n" } ?? "\(address)\n"
        try FS.writeFileAtomically(path + "/" + listenFile, Array(line.utf8), mode: DNSConfig.fileMode)
    }

    /// Makes `dir` if missing and keeps it root's alone (0700, owned by us, not a link): inside
    /// are every container's names and addresses, and the server's lock.
    public static func secureDirectory(_ dir: String) throws(SysError) {
        try FS.mkdirAll(dir, mode: directoryMode)
        let fd = try FS.open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        defer { FS.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_uid == geteuid() else {
            throw SysError("dns config directory not owned by uid \(geteuid())", dir, errno: EPERM)
        }
        if st.st_mode & 0o7777 != directoryMode, fchmod(fd, directoryMode) != 0 { throw SysError("chmod", dir) }
    }

    /// Marks a network internal (or not). Written before its listen file, so the server never
    /// serves an internal network as an ordinary one.
    public static func setInternal(dir: String, network: String, _ isInternal: Bool) throws(SysError) {
        let path = try networkPath(dir, network)
        try FS.mkdirAll(path, mode: DNSConfig.directoryMode)
        let file = path + "/" + internalFile
        if isInternal {
            try FS.writeFileAtomically(file, Array("internal\n".utf8), mode: DNSConfig.fileMode)
        } else if unlink(file) != 0 && errno != ENOENT {
            throw SysError("unlink", file)
        }
    }

    /// Only queries from `subnet` (the network's own, "10.88.0.0/16") are answered: a container on
    /// another network that can reach this gateway must not learn this network's names.
    public static func setClients(dir: String, network: String, subnet: String) throws(SysError) {
        let path = try networkPath(dir, network)
        guard parseClients(subnet) != nil else { throw SysError("dns clients subnet", subnet, errno: EINVAL) }
        try FS.mkdirAll(path, mode: DNSConfig.directoryMode)
        try FS.writeFileAtomically(path + "/" + clientsFile, Array((subnet + "\n").utf8), mode: DNSConfig.fileMode)
    }

    /// Queries from any of `subnets` are answered (a cluster's DNS: its pods' and its services' ranges).
    public static func setClients(dir: String, network: String, subnets: [String]) throws(SysError) {
        let path = try networkPath(dir, network)
        for subnet in subnets where parseClients(subnet) == nil { throw SysError("dns clients subnet", subnet, errno: EINVAL) }
        try FS.mkdirAll(path, mode: DNSConfig.directoryMode)
        try FS.writeFileAtomically(path + "/" + clientsFile, Array((subnets.joined(separator: " ") + "\n").utf8), mode: DNSConfig.fileMode)
    }

    /// The network's names are a zone of their own (`cluster.local`): a name in it that no record
    /// has is answered NXDOMAIN here, never asked of the upstream resolvers.
    public static func setZone(dir: String, network: String, zone: String) throws(SysError) {
        let path = try networkPath(dir, network)
        guard DNSName(zone) != nil, !zone.contains(where: { $0 == " " || $0 == "\n" }) else { throw SysError("dns zone", zone, errno: EINVAL) }
        try FS.mkdirAll(path, mode: DNSConfig.directoryMode)
        try FS.writeFileAtomically(path + "/" + zoneFile, Array((zone + "\n").utf8), mode: DNSConfig.fileMode)
    }

    /// Every "A.B.C.D/N" of a clients file.
    public static func parseClientRanges(_ text: String) -> [(network: UInt32, mask: UInt32)] {
        text.split(whereSeparator: { $0 == "\n" || $0 == " " }).compactMap { parseClients(String($0)) }
    }

    /// "A.B.C.D/N" as (network in host order, mask).
    public static func parseClients(_ text: String) -> (network: UInt32, mask: UInt32)? {
        let parts = text.split(whereSeparator: { $0 == "\n" || $0 == " " }).first?.split(separator: "/") ?? []
        guard parts.count == 2, let ip = IPv4(parts[0]), let prefix = Int(parts[1]), (0...32).contains(prefix) else { return nil }
        let mask: UInt32 = prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix)
        let value = UInt32(ip.octets.0) << 24 | UInt32(ip.octets.1) << 16 | UInt32(ip.octets.2) << 8 | UInt32(ip.octets.3)
        return (value & mask, mask)
    }

    /// The names `containerID` has on `network`, replacing any it had.
    public static func setRecords(dir: String, network: String, containerID: String, entries: [(ip: String, names: [String])]) throws(SysError) {
        let path = try networkPath(dir, network)
        let file = try component(containerID, what: "dns container id")
        guard !reservedFiles.contains(file) else { throw SysError("dns container id", containerID, errno: EINVAL) }
        var text = ""
        for entry in entries {
            guard IPv4(entry.ip) != nil else { throw SysError("dns record address", entry.ip, errno: EINVAL) }
            for name in entry.names where DNSName(name) == nil || name.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
                throw SysError("dns record name", name, errno: EINVAL)
            }
            guard !entry.names.isEmpty else { continue }
            text += ([entry.ip] + entry.names).joined(separator: " ") + "\n"
        }
        try FS.mkdirAll(path, mode: DNSConfig.directoryMode)
        try FS.writeFileAtomically(path + "/" + file, Array(text.utf8), mode: DNSConfig.fileMode)
    }

    /// Writes a file of aliases (`CNAME NAME TARGET`) and SRV records (`SRV NAME PRIORITY WEIGHT
    /// PORT TARGET`) for a network: the cluster DNS's ExternalName Services and named ports.
    public static func setNameRecords(dir: String, network: String, file: String, aliases: [(name: String, target: String)],
                                      services: [(name: String, service: DNSService)]) throws(SysError) {
        let path = try networkPath(dir, network)
        let name = try component(file, what: "dns records file")
        guard !reservedFiles.contains(name) else { throw SysError("dns records file", file, errno: EINVAL) }
        func valid(_ text: String) -> Bool { DNSName(text) != nil && !text.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" }) }
        var text = ""
        for alias in aliases {
            guard valid(alias.name), valid(alias.target) else { throw SysError("dns alias", alias.name + " " + alias.target, errno: EINVAL) }
            text += "CNAME \(alias.name) \(alias.target)\n"
        }
        for entry in services {
            guard valid(entry.name), valid(entry.service.target) else { throw SysError("dns service record", entry.name, errno: EINVAL) }
            text += "SRV \(entry.name) \(entry.service.priority) \(entry.service.weight) \(entry.service.port) \(entry.service.target)\n"
        }
        try FS.mkdirAll(path, mode: DNSConfig.directoryMode)
        try FS.writeFileAtomically(path + "/" + name, Array(text.utf8), mode: DNSConfig.fileMode)
    }

    /// Forgets a container on a network; no error if it was not there.
    public static func removeRecords(dir: String, network: String, containerID: String) throws(SysError) {
        let path = try networkPath(dir, network) + "/" + (try component(containerID, what: "dns container id"))
        if unlink(path) != 0 && errno != ENOENT { throw SysError("unlink", path) }
    }

    /// Forgets a network and all its records; the server closes its sockets on its next rescan.
    public static func removeNetwork(dir: String, network: String) throws(SysError) {
        FS.removeAll(try networkPath(dir, network))
    }

    // MARK: - The server's side

    /// What the server knows of one network.
    public struct Network: Equatable, Sendable {
        public var name: String
        /// Nil while the listen file is missing or unreadable.
        public var listen: (address: IPv4, port: UInt16)? {
            get { listenAddress.map { ($0, listenPort) } }
            set { listenAddress = newValue?.address; listenPort = newValue?.port ?? DNSConfig.defaultPort }
        }
        public var records: NetworkRecords
        /// An `--internal` network: unknown names are refused rather than forwarded.
        public var isInternal = false
        /// Which container (its records file) each address belongs to, and those containers: a
        /// client is known by its address, and answered from every network its container is on.
        public var members: [IPv4: String] = [:]
        public var containerIDs: Set<String> = []
        /// The subnet queries must come from; nil answers anyone (tests on 127.0.0.1).
        public var clients: (network: UInt32, mask: UInt32)? {
            get { clientRanges.first }
            set { clientRanges = newValue.map { [$0] } ?? [] }
        }
        /// Every subnet queries may come from; empty answers anyone.
        public var clientRanges: [(network: UInt32, mask: UInt32)] {
            get { zip(clientNetworks, clientMasks).map { ($0, $1) } }
            set { clientNetworks = newValue.map(\.network); clientMasks = newValue.map(\.mask) }
        }
        /// The zone the records are all of (nil: none): unknown names in it get NXDOMAIN.
        public var zone: String?
        private var clientNetworks: [UInt32] = []
        private var clientMasks: [UInt32] = []
        private var listenAddress: IPv4?
        private var listenPort: UInt16 = DNSConfig.defaultPort

        public init(name: String, listen: (address: IPv4, port: UInt16)?, records: NetworkRecords) {
            self.name = name
            self.records = records
            self.listen = listen
        }
    }

    /// Reads every network directory. Unreadable files and malformed lines are skipped: the
    /// server serves what it can rather than nothing.
    public static func load(dir: String) -> [Network] {
        networkNames(dir: dir).map { name in
            let path = dir + "/" + name
            var records = NetworkRecords()
            var members: [IPv4: String] = [:]
            var containerIDs: Set<String> = []
            let files = ((try? FS.list(path: path)) ?? []).filter { isRecordsFile($0) }.sorted()
            for file in files {
                guard let text = try? FS.readText(path + "/" + file) else { continue }
                for entry in parseRecords(text) {
                    records.add(entry)
                    members[entry.ip] = file
                }
                for line in text.split(separator: "\n") {
                    let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                    if words.count == 3 && words[0] == "CNAME" { records.addAlias(words[1], target: words[2]) }
                    if words.count == 6 && words[0] == "SRV", let priority = UInt16(words[2]), let weight = UInt16(words[3]), let port = UInt16(words[4]) {
                        records.addService(words[1], DNSService(priority: priority, weight: weight, port: port, target: words[5]))
                    }
                }
                containerIDs.insert(file)
            }
            let listen = (try? FS.readText(path + "/" + listenFile)).flatMap(parseListen)
            var network = Network(name: name, listen: listen, records: records)
            network.clientRanges = (try? FS.readText(path + "/" + clientsFile)).map(parseClientRanges) ?? []
            network.zone = (try? FS.readText(path + "/" + zoneFile))?.split(separator: "\n").first.map(String.init)
            network.members = members
            network.containerIDs = containerIDs
            network.isInternal = access(path + "/" + internalFile, F_OK) == 0
            return network
        }
    }

    /// The directories in DIR, each a network.
    public static func networkNames(dir: String) -> [String] {
        ((try? FS.list(path: dir)) ?? []).filter { name in
            guard !name.hasPrefix("."), let st = try? FS.lstat(dir + "/" + name) else { return false }
            return FS.isDirectory(st)
        }.sorted()
    }

    /// "IP" or "IP PORT".
    public static func parseListen(_ text: String) -> (address: IPv4, port: UInt16)? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
        guard let first = words.first, let address = IPv4(first), words.count <= 2 else { return nil }
        guard words.count == 2 else { return (address, defaultPort) }
        guard let port = UInt16(words[1]), port > 0 else { return nil }
        return (address, port)
    }

    /// "IPV4 NAME [NAME...]" lines; blank lines and lines starting with # are skipped.
    public static func parseRecords(_ text: String) -> [DNSEntry] {
        text.split(separator: "\n").compactMap { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = words.first, !first.hasPrefix("#"), let ip = IPv4(first) else { return nil }
            let names = words.dropFirst().map(String.init).filter { DNSName($0) != nil }
            return names.isEmpty ? nil : DNSEntry(ip: ip, names: names)
        }
    }

    static let reservedFiles: Set<String> = [listenFile, clientsFile, internalFile, zoneFile]

    static func isRecordsFile(_ name: String) -> Bool {
        !reservedFiles.contains(name) && !name.hasPrefix(".") && !name.contains(".tmp-")
    }

    private static func networkPath(_ dir: String, _ network: String) throws(SysError) -> String {
        dir + "/" + (try component(network, what: "dns network name"))
    }

    /// A name used as one path component: no slash, not empty, not "." or "..", not hidden.
    private static func component(_ name: String, what: String) throws(SysError) -> String {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), !name.contains("\0") else {
            throw SysError(what, name, errno: EINVAL)
        }
        return name
    }
}
