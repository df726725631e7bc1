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
                let body = try NetworkDisconnectRequest(body: try call.bodyBytes())
                let network = try api.userNetwork(call.parameter("id"))
                let container = try api.engine.container(body.container ?? "")
                try api.engine.disconnect(container, from: network, force: body.force ?? false)
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
        let options = try NetworkCreateRequest(body: try call.bodyBytes()).createOptions()
        let network = try engine.createNetwork(options)
        call.writer.jsonText("{\"Id\":\"\(network.id)\",\"Warning\":\"\"}", status: .created)
    }

    /// `POST /networks/{id}/connect` (`NetworkConnect`): the container, its aliases and address.
    func connectNetwork(_ call: APICall) throws {
        let body = try NetworkConnectRequest(body: try call.bodyBytes())
        let text = call.parameter("id")
        if PredefinedNetwork.lookup(text) != nil {
            throw EngineError.forbidden("container cannot be disconnected from host network or connected to host network")
        }
        let network = try engine.network(text)
        let container = try engine.container(body.container ?? "")
        let attachment = try body.attachment(network: network.name)
        try engine.connect(container, to: network, aliases: attachment.aliases, ipv4: attachment.ipv4)
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
