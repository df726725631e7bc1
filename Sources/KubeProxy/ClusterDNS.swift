import ContainerDNS
import ContainerNetwork
import GoCompat
import Kube
import LinuxSys

/// CoreDNS's role, served by `berth-dns`: the cluster's names as a network of its own in the DNS
/// server's configuration, answered on 10.96.0.10 (the address kubeadm gives kube-dns) to pods and
/// the host. `SERVICE.NAMESPACE.svc.cluster.local` is a Service's cluster IP, or for a headless one
/// its ready endpoints (and `HOSTNAME.SERVICE...` an endpoint with a hostname);
/// `A-B-C-D.NAMESPACE.pod.cluster.local` a Pod's address. An ExternalName Service's name is a
/// CNAME of its external name. A named port has SRV records, `_PORT._PROTO.SERVICE.NAMESPACE.svc…`:
/// the Service's name and port, or for a headless Service each ready endpoint's name
/// (its hostname, else its address with dashes, as CoreDNS names them) and target port. Other
/// names in cluster.local are NXDOMAIN at once; names outside it go to the host's resolvers.
public enum ClusterDNS {
    public static let zone = "cluster.local"
    public static let address = "10.96.0.10"
    /// The DNS server's configuration directory name for the cluster's names.
    static let network = "kubernetes"
    static let recordsFile = "names"
    static let servicesFile = "services"
    /// Who may ask: pods (10.42.0.0/16) and the host itself (its source is the service address).
    static let clients = ["10.42.0.0/16", "10.96.0.0/16"]

    public struct Entry: Equatable, Sendable {
        public var ip: String
        public var names: [String]
    }

    /// What is not an address: aliases and SRV records.
    public struct Names: Equatable, Sendable {
        public var aliases: [Alias] = []
        public var services: [Service] = []

        public struct Alias: Equatable, Sendable {
            public var name: String
            public var target: String
        }

        public struct Service: Equatable, Sendable {
            public var name: String
            public var port: Int
            public var target: String
        }
    }

    public static func names(services: [JSONValue], endpoints: [JSONValue]) -> Names {
        var byService: [String: JSONValue] = [:]
        for object in endpoints {
            byService[(object.metadataString("namespace") ?? "") + "/" + (object.metadataString("name") ?? "")] = object
        }
        var result = Names()
        for service in services {
            guard let spec = service[member: "spec"], let name = service.metadataString("name"),
                  let namespace = service.metadataString("namespace") else { continue }
            let fqdn = "\(name).\(namespace).svc.\(zone)"
            if spec[member: "type"]?.stringValue == "ExternalName" {
                let target = (spec[member: "externalName"]?.stringValue ?? "").lowercased()
                if !target.isEmpty && DNSName(target) != nil { result.aliases.append(Names.Alias(name: fqdn, target: target)) }
                continue
            }
            let headless = spec[member: "clusterIP"]?.stringValue == "None"
            for port in spec[member: "ports"]?.arrayValue ?? [] {
                guard let portName = port[member: "name"]?.stringValue, !portName.isEmpty, let number = port[member: "port"]?.intValue else { continue }
                let proto = (port[member: "protocol"]?.stringValue ?? "TCP").lowercased()
                let srv = "_\(portName)._\(proto).\(fqdn)"
                if !headless {
                    result.services.append(Names.Service(name: srv, port: number, target: fqdn))
                    continue
                }
                for subset in byService[namespace + "/" + name]?[member: "subsets"]?.arrayValue ?? [] {
                    guard let target = (subset[member: "ports"]?.arrayValue ?? []).first(where: { $0[member: "name"]?.stringValue == portName })?[member: "port"]?.intValue
                    else { continue }
                    for address in subset[member: "addresses"]?.arrayValue ?? [] {
                        guard let ip = address[member: "ip"]?.stringValue, IPv4Text.valid(ip) else { continue }
                        let host = address[member: "hostname"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? ip.replacing(".", with: "-")
                        result.services.append(Names.Service(name: srv, port: target, target: "\(host).\(fqdn)"))
                    }
                }
            }
        }
        result.aliases = result.aliases.filter { DNSName($0.name) != nil }
        result.services = result.services.filter { DNSName($0.name) != nil && DNSName($0.target) != nil && (0...65535).contains($0.port) }
        return result
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
                        if let host = address[member: "hostname"]?.stringValue, !host.isEmpty {
                            names.append("\(host).\(fqdn)")
                        } else {
                            // The name an SRV record of the Service points at.
                            names.append(ip.replacing(".", with: "-") + "." + fqdn)
                        }
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
    static func publish(_ entries: [Entry], names: Names = Names()) throws(NetworkError) {
        let directory = DNSRecords.directory
        do {
            try DNSConfig.secureDirectory(directory)
            try DNSConfig.setZone(dir: directory, network: network, zone: zone)
            try DNSConfig.setClients(dir: directory, network: network, subnets: clients)
            try DNSConfig.setRecords(dir: directory, network: network, containerID: recordsFile, entries: entries.map { ($0.ip, $0.names) })
            // The weight of each of a name's records is its share of 100, as CoreDNS gives them.
            var counts: [String: Int] = [:]
            for service in names.services { counts[service.name, default: 0] += 1 }
            let services = names.services.map { service in
                (service.name, DNSService(priority: 0, weight: UInt16(100 / max(1, counts[service.name] ?? 1)), port: UInt16(service.port), target: service.target))
            }
            try DNSConfig.setNameRecords(dir: directory, network: network, file: servicesFile, aliases: names.aliases.map { ($0.name, $0.target) },
                                         services: services)
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
