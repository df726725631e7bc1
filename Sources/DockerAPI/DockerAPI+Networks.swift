import ContainerNetwork
import ContainerSpec
import DockerModel
import Engine
import HTTPServer
import Supervisor
import TextTemplate

extension DockerAPI {
    static var networkRoutes: [Route] {
        [
            Route(.GET, "networks") { api, call in try api.listNetworks(call) },
            Route(.GET, "networks/{id}") { api, call in
                let text = call.parameter("id")
                if let predefined = PredefinedNetwork.lookup(text) {
                    try call.writer.json(NetworkInspect(predefined, created: try api.engine.defaultNetwork().created))
                    return
                }
                try call.writer.json(NetworkInspect(try api.engine.network(text), engine: api.engine))
            },
            Route(.POST, "networks/create") { api, call in try api.createNetwork(call) },
            Route(.POST, "networks/{id}/connect") { api, call in try api.connectNetwork(call) },
            Route(.POST, "networks/{id}/disconnect") { api, call in
                let body = try BodyObject(try call.jsonBody(), typeName: "NetworkDisconnect")
                let network = try api.userNetwork(call.parameter("id"))
                let container = try api.engine.container(try body.string("Container") ?? "")
                try api.engine.disconnect(container, from: network, force: try body.bool("Force") ?? false)
                call.writer.send(status: .ok)
            },
            Route(.DELETE, "networks/{id}") { api, call in
                try api.engine.removeNetwork(try api.userNetwork(call.parameter("id")))
                call.writer.send(status: .noContent)
            },
            Route(.POST, "networks/prune") { api, call in try api.pruneNetworks(call) },
        ]
    }

    /// A bridge network by name, ID or ID prefix; `host` and `none` refused as Docker refuses them.
    func userNetwork(_ text: String) throws(EngineError) -> BridgeNetwork {
        if let predefined = PredefinedNetwork.lookup(text) {
            throw .forbidden("\(predefined.name) is a pre-defined network and cannot be removed")
        }
        return try engine.network(text)
    }

    /// `GET /networks`: every network (the default bridge, user bridges, host and none) by
    /// name, Containers left empty as dockerd lists them.
    func listNetworks(_ call: APICall) throws {
        let filters: NetworkFilters
        do { filters = try NetworkFilters(try QueryFilters.parse(call.query("filters"))) } catch let error as FilterError {
            throw EngineError.invalid(error.message)
        }
        let bridges = try engine.networks()
        let created = bridges.first { $0.name == Engine.defaultNetworkName }?.created ?? ""
        var listed: [(name: String, value: NetworkInspect)] = []
        for network in bridges where filters.accepts(name: network.name, id: network.id, driver: "bridge", labels: network.labels) {
            listed.append((network.name, NetworkInspect(network, members: [])))
        }
        for network in PredefinedNetwork.all where filters.accepts(name: network.name, id: network.id, driver: network.driver, labels: [:]) {
            listed.append((network.name, NetworkInspect(network, created: created)))
        }
        try call.writer.json(listed.sorted { $0.name < $1.name }.map(\.value))
    }

    /// `POST /networks/create` (`NetworkCreateRequest`): a bridge with at most one IPv4 subnet;
    /// 201 `{"Id","Warning"}`, 409 when the name is taken.
    func createNetwork(_ call: APICall) throws {
        let body = try BodyObject(try call.jsonBody(), typeName: "NetworkCreateRequest")
        var options = Engine.NetworkCreateOptions(name: try body.string("Name") ?? "")
        if let driver = try body.string("Driver"), !driver.isEmpty { options.driver = driver }
        if let scope = try body.string("Scope"), !scope.isEmpty, scope != "local" {
            throw EngineError.invalid("invalid scope \"\(scope)\": berth serves local networks only")
        }
        if try body.bool("EnableIPv6") == true { throw EngineError.invalid("berth networks are IPv4 only: EnableIPv6 is not supported") }
        if try body.bool("EnableIPv4") == false { throw EngineError.invalid("berth networks are IPv4 only: EnableIPv4 cannot be false") }
        if try body.bool("Ingress") == true || body.bool("ConfigOnly") == true {
            throw EngineError.invalid("ingress and config-only networks are swarm features that berth does not have")
        }
        options.internal = try body.bool("Internal") ?? false
        options.attachable = try body.bool("Attachable") ?? false
        for (key, value) in try body.stringMap("Labels") ?? [] { options.labels[key] = value }
        _ = try body.stringMap("Options")
        if let ipam = try body.object("IPAM", typeName: "IPAM") {
            if let driver = try ipam.string("Driver"), !driver.isEmpty, driver != "default" {
                throw EngineError.notFound("plugin \"\(driver)\" not found")
            }
            let configs = try ipam.objects("Config", typeName: "IPAMConfig") ?? []
            if configs.count > 1 { throw EngineError.invalid("only one IPv4 subnet is supported for now") }
            if let config = configs.first {
                let subnet = try config.string("Subnet").flatMap { $0.isEmpty ? nil : $0 }
                let gateway = try config.string("Gateway").flatMap { $0.isEmpty ? nil : $0 }
                let range = try config.string("IPRange").flatMap { $0.isEmpty ? nil : $0 }
                if let subnet, subnet.contains(":") { throw EngineError.invalid("berth networks are IPv4 only: \(subnet) is an IPv6 subnet") }
                if subnet == nil && (gateway != nil || range != nil) {
                    throw EngineError.invalid("every ip-range or gateway must have a corresponding subnet")
                }
                options.subnet = subnet
                options.gateway = gateway
                options.ipRange = range
            }
        }
        let network = try engine.createNetwork(options)
        call.writer.jsonText("{\"Id\":\"\(network.id)\",\"Warning\":\"\"}", status: .created)
    }

    /// `POST /networks/{id}/connect` (`NetworkConnect`): the container, its aliases and address.
    func connectNetwork(_ call: APICall) throws {
        let body = try BodyObject(try call.jsonBody(), typeName: "NetworkConnect")
        let text = call.parameter("id")
        if PredefinedNetwork.lookup(text) != nil {
            throw EngineError.forbidden("container cannot be disconnected from host network or connected to host network")
        }
        let network = try engine.network(text)
        let container = try engine.container(try body.string("Container") ?? "")
        var aliases: [String] = []
        var address: String?
        if let endpoint = try body.object("EndpointConfig", typeName: "EndpointSettings") {
            aliases = try endpoint.strings("Aliases") ?? []
            if let ipam = try endpoint.object("IPAMConfig", typeName: "EndpointIPAMConfig") {
                address = try ipam.string("IPv4Address").flatMap { $0.isEmpty ? nil : $0 }
                if let v6 = try ipam.string("IPv6Address"), !v6.isEmpty {
                    throw EngineError.invalid("berth networks are IPv4 only: IPv6Address is not supported")
                }
            }
        }
        if let address, IPv4Address(address) == nil { throw EngineError.invalid("invalid IPv4 address: \(address)") }
        try engine.connect(container, to: network, aliases: aliases, ipv4: address)
        call.writer.send(status: .ok)
    }

    /// `POST /networks/prune`: user networks no container is connected to, filtered by label
    /// and `until`; `{"NetworksDeleted":[names]}` (null when none).
    func pruneNetworks(_ call: APICall) throws {
        var labels: [(String, String?)] = [], notLabels: [(String, String?)] = []
        var until: String?
        for filter in try QueryFilters.parse(call.query("filters")) {
            let (key, value) = (String(filter.prefix { $0 != "=" }), String(filter.drop { $0 != "=" }.dropFirst()))
            func label() -> (String, String?) {
                let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts.first ?? "", parts.count > 1 ? parts[1] : nil)
            }
            switch key {
            case "label": labels.append(label())
            case "label!": notLabels.append(label())
            case "until": until = value
            default: throw EngineError.invalid("Invalid filter '\(key)'")
            }
        }
        let now = LogTimestamp.now()
        var cutoff: LogTimestamp?
        if let until {
            do { cutoff = try LogTimestamp.parse(userInput: until, now: now) } catch { throw EngineError.invalid("invalid filter 'until=\(until)'") }
        }
        var deleted: [String] = []
        for network in try engine.networks() where network.name != Engine.defaultNetworkName {
            guard labels.allSatisfy({ key, value in network.labels[key] != nil && (value == nil || network.labels[key] == value) }) else { continue }
            guard !notLabels.contains(where: { key, value in network.labels[key] != nil && (value == nil || network.labels[key] == value) }) else { continue }
            if let cutoff, let created = try? LogTimestamp.parse(userInput: network.created, now: now),
               created.nanosecondsSinceEpoch >= cutoff.nanosecondsSinceEpoch { continue }
            guard (try? engine.networkMembers(network))?.isEmpty ?? false else { continue }
            do { try engine.removeNetwork(network) } catch { continue }
            deleted.append(network.name)
        }
        let names = deleted.map { TemplateValue.string($0).json() }.joined(separator: ",")
        call.writer.jsonText(deleted.isEmpty ? "{\"NetworksDeleted\":null}" : "{\"NetworksDeleted\":[\(names)]}")
    }
}
