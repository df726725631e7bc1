import ContainerNetwork
import ContainerSpec

/// `--link NAME[:ALIAS]`: the linked container's address under the alias in /etc/hosts (Docker puts
/// it there on the default bridge; on a user network its DNS answers the alias to the linking
/// container only, which a hosts entry gives here as well), and on the default bridge Docker's
/// legacy ALIAS_NAME, ALIAS_ENV_*, ALIAS_PORT* variables.
extension Engine {
    struct LinkSetup {
        /// /etc/hosts lines: "IP\talias hostname [name]".
        var hosts: [String] = []
        var environment: [String] = []
    }

    /// Create's checks: every linked container exists.
    func checkLinks(_ options: RunOptions) throws(EngineError) {
        for (name, _) in options.parsedLinks {
            do { _ = try container(name) } catch {
                throw EngineError(error.kind, "could not get container for \(name): \(error.message)", reportedByDaemon: true)
            }
        }
    }

    /// At start: each linked container must run, and on the default bridge be attached to it.
    func linkSetup(_ container: Container) throws(EngineError) -> LinkSetup {
        var setup = LinkSetup()
        let links = container.options.parsedLinks
        guard !links.isEmpty else { return setup }
        let networkID: String
        switch container.options.network {
        case .default: networkID = try defaultNetwork().id
        case .named(let name): networkID = try network(name).id
        default: return setup
        }
        let legacy = networkID == (try defaultNetwork().id)
        for (name, alias) in links {
            let target: Container
            do { target = try self.container(name) } catch {
                throw EngineError(error.kind, "could not get container for \(name): \(error.message)", reportedByDaemon: true)
            }
            guard runningPid(target) != nil else {
                throw .conflict("Cannot link to a non running container: /\(target.name) AS /\(container.name)/\(alias)", reportedByDaemon: true)
            }
            guard let ip = attachments(target).first(where: { $0.network.id == networkID })?.ipAddress else {
                if legacy { throw .conflict("Cannot link to /\(target.name), as it does not belong to the default network", reportedByDaemon: true) }
                continue
            }
            let hostname = target.options.hostname ?? target.shortID
            setup.hosts.append("\(ip)\t\(alias) \(hostname)" + (alias == target.name ? "" : " \(target.name)"))
            if legacy { setup.environment += Self.linkEnvironment(alias: alias, linking: container.name, target: target, ip: ip) }
        }
        return setup
    }

    /// Docker's legacy link variables (links.Link.ToEnv), without its grouping of port ranges.
    static func linkEnvironment(alias: String, linking: String, target: Container, ip: String) -> [String] {
        let prefix = String(alias.uppercased().map { $0 == "-" ? "_" : $0 })
        // Ports by number, tcp first on a tie; the first is the default port.
        let ports: [(port: Int, proto: String)] = (target.config.exposedPorts ?? [:]).keys.compactMap { key in
            let parts = key.split(separator: "/")
            guard let port = parts.first.flatMap({ Int($0) }) else { return nil }
            return (port, parts.count > 1 ? parts[1].lowercased() : "tcp")
        }.sorted { a, b in a.port != b.port ? a.port < b.port : (a.proto == "tcp" && b.proto != "tcp") }
        var environment: [String] = []
        if let first = ports.first { environment.append("\(prefix)_PORT=\(first.proto)://\(ip):\(first.port)") }
        for (port, proto) in ports {
            let key = "\(prefix)_PORT_\(port)_\(proto.uppercased())"
            environment += ["\(key)=\(proto)://\(ip):\(port)", "\(key)_ADDR=\(ip)", "\(key)_PORT=\(port)", "\(key)_PROTO=\(proto)"]
        }
        environment.append("\(prefix)_NAME=/\(linking)/\(alias)")
        for entry in target.config.env ?? [] {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            let key = entry[..<equals]
            if key == "HOME" || key == "PATH" { continue }
            environment.append("\(prefix)_ENV_\(key)=\(entry[entry.index(after: equals)...])")
        }
        return environment
    }
}
