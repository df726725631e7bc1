import ContainerDNS
import ContainerNetwork
import GoCompat
import Kube
import LinuxSys

/// CoreDNS's role, served by `berth-dns`: the cluster's names as a network of its own in the DNS
/// server's configuration, answered on 10.96.0.10 (the address kubeadm gives kube-dns) to pods and
/// the host. `SERVICE.NAMESPACE.svc.cluster.local` is a Service's cluster IP, or for a headless one
/// its ready endpoints (and `HOSTNAME.SERVICE...` an endpoint with a hostname);
/// `A-B-C-D.NAMESPACE.pod.cluster.local` a Pod's address. Other names in cluster.local are
/// NXDOMAIN at once; names outside it go to the host's resolvers.
public enum ClusterDNS {
    public static let zone = "cluster.local"
    public static let address = "10.96.0.10"
    /// The DNS server's configuration directory name for the cluster's names.
    static let network = "kubernetes"
    static let recordsFile = "names"
    /// Who may ask: pods (10.42.0.0/16) and the host itself (its source is the service address).
    static let clients = ["10.42.0.0/16", "10.96.0.0/16"]

    public struct Entry: Equatable, Sendable {
        public var ip: String
        public var names: [String]
    }

    public static func entries(services: [JSONValue], endpoints: [JSONValue], pods: [JSONValue]) -> [Entry] {
        var byService: [String: JSONValue] = [:]
        for object in endpoints {
            byService[(object.metadataString("namespace") ?? "") + "/" + (object.metadataString("name") ?? "")] = object
        }
        var entries: [Entry] = []
        for service in services {
            guard let spec = service[member: "spec"], let name = service.metadataString("name"),
                  let namespace = service.metadataString("namespace") else { continue }
            let fqdn = "\(name).\(namespace).svc.\(zone)"
            let clusterIP = spec[member: "clusterIP"]?.stringValue ?? ""
            if clusterIP == "None" {
                for subset in byService[namespace + "/" + name]?[member: "subsets"]?.arrayValue ?? [] {
                    for address in subset[member: "addresses"]?.arrayValue ?? [] {
                        guard let ip = address[member: "ip"]?.stringValue, IPv4Text.valid(ip) else { continue }
                        var names = [fqdn]
                        if let host = address[member: "hostname"]?.stringValue, !host.isEmpty { names.append("\(host).\(fqdn)") }
                        entries.append(Entry(ip: ip, names: names))
                    }
                }
            } else if IPv4Text.valid(clusterIP) {
                entries.append(Entry(ip: clusterIP, names: [fqdn]))
            }
        }
        for pod in pods {
            guard let namespace = pod.metadataString("namespace"), let ip = pod[member: "status"]?[member: "podIP"]?.stringValue,
                  IPv4Text.valid(ip) else { continue }
            entries.append(Entry(ip: ip, names: [ip.replacing(".", with: "-") + ".\(namespace).pod.\(zone)"]))
        }
        // Names made of what users wrote: only those the server can hold.
        return entries.compactMap { entry in
            let names = entry.names.filter { DNSName($0) != nil }
            return names.isEmpty ? nil : Entry(ip: entry.ip, names: names)
        }
    }

    /// Writes the names for the DNS server of this network namespace and makes sure it runs; the
    /// service address must be on a local link first (ServiceProxy puts it on `berth-svc0`).
    static func publish(_ entries: [Entry]) throws(NetworkError) {
        let directory = DNSRecords.directory
        do {
            try DNSConfig.secureDirectory(directory)
            try DNSConfig.setZone(dir: directory, network: network, zone: zone)
            try DNSConfig.setClients(dir: directory, network: network, subnets: clients)
            try DNSConfig.setRecords(dir: directory, network: network, containerID: recordsFile, entries: entries.map { ($0.ip, $0.names) })
            try DNSConfig.setListen(dir: directory, network: network, address: address)
        } catch {
            throw NetworkError("cluster DNS configuration in \(directory): \(error)")
        }
        guard let server = Executables.sibling("berth-dns") else { throw NetworkError("cluster DNS: berth-dns not found beside berth") }
        do { try DNSServerControl.ensureRunning(dir: directory, binary: server) } catch {
            throw NetworkError("cluster DNS: start \(server): \(error)")
        }
        DNSServerControl.reload(dir: directory)
    }
}
